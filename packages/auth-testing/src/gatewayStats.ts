import type { GatewayStats } from './types';

/** A zeroed {@link GatewayStats} object. */
export function createGatewayStats(): GatewayStats {
  return {
    requests: 0,
    tokenEndpointCalls: 0,
    logins: { ok: 0, rejected: 0 },
    refreshes: { ok: 0, rejected: 0, reused: 0 },
    v1Refreshes: 0,
    apiCalls: { ok: 0, unauthorized: 0, forbidden: 0, byGeneration: {} },
    protocolViolations: [],
    wrongPlace: 0,
    tokenLeaks: 0,
    foreignRequests: 0,
    injectedFailures: 0,
  };
}

/** Zeroes `stats` in place, so references held by tests stay live. */
export function resetGatewayStats(stats: GatewayStats): void {
  const { logins, refreshes, apiCalls, protocolViolations, ...rest } = createGatewayStats();
  Object.assign(stats, rest);
  Object.assign(stats.logins, logins);
  Object.assign(stats.refreshes, refreshes);
  const { byGeneration } = stats.apiCalls;
  for (const key of Object.keys(byGeneration)) delete byGeneration[Number(key)];
  Object.assign(stats.apiCalls, { ...apiCalls, byGeneration });
  stats.protocolViolations.length = protocolViolations.length;
}
