import type { GatewayClient, GatewayCredentials } from './types';

/** The demo credentials, with every optional kind present. */
export interface DemoCredentials extends GatewayCredentials {
  /** The demo sharing key. */
  readonly sharingKey: string;
  /** The workspace the demo sharing key acts on. */
  readonly sharedWorkspaceId: string;
  /** The demo long-lived token. */
  readonly longLivedToken: string;
}

const clients: readonly GatewayClient[] = Object.freeze([
  Object.freeze({ clientId: 'demo-client', clientSecret: 'demo-secret' }),
]);

/**
 * The credentials a gateway accepts when none are configured: client `demo-client` /
 * `demo-secret`, sharing key `demo-sharing-key` (workspace `ws-partner`) and long-lived token
 * `demo-long-lived-token`. Deeply frozen.
 */
export const DEMO_CREDENTIALS: DemoCredentials = Object.freeze({
  clientId: 'demo-client',
  clientSecret: 'demo-secret',
  sharingKey: 'demo-sharing-key',
  sharedWorkspaceId: 'ws-partner',
  longLivedToken: 'demo-long-lived-token',
  clients,
  sharingKeys: Object.freeze({ 'demo-sharing-key': 'ws-partner' }),
  longLivedTokens: Object.freeze(['demo-long-lived-token']),
});

/** The {@link GatewayCredentials} view of a configuration (first client, key and token first). */
export function describeCredentials(
  clientList: readonly GatewayClient[],
  sharingKeys: Readonly<Record<string, string>>,
  longLivedTokens: readonly string[],
): GatewayCredentials {
  const [first] = clientList;
  if (!first) throw new TypeError('@eka/auth-testing: `clients` must not be empty');
  const [sharingKey] = Object.keys(sharingKeys);
  return Object.freeze({
    clientId: first.clientId,
    clientSecret: first.clientSecret,
    sharingKey,
    sharedWorkspaceId: sharingKey === undefined ? undefined : sharingKeys[sharingKey],
    longLivedToken: longLivedTokens[0],
    clients: clientList,
    sharingKeys,
    longLivedTokens,
  });
}
