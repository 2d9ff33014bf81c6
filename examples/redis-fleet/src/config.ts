/** Settings of the fleet example, from environment variables. */
export interface FleetConfig {
  /** `REDIS_URL`, default `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** `WORKERS`, default 4. */
  workers: number;
  /** `DURATION_MS` of request traffic, default 12 000. */
  durationMs: number;
  /** `FLEET_JSON=1`: print one JSON summary line instead of prose. */
  json: boolean;
  /** The real gateway (`EKA_CLIENT_ID` + `EKA_CLIENT_SECRET` set), or `undefined` for the emulator. */
  real?: {
    clientId: string;
    clientSecret: string;
    sharingKey?: string;
    baseUrl: string;
    /** `EKA_PROBE_URL`: an Eka API URL to GET; without it workers only keep the session fresh. */
    probeUrl?: string;
  };
  /** `EKA_DEMO_TTL_SEC`: access-token lifetime at the emulator, default 4. */
  demoTtlSec: number;
}

/** What a worker needs, passed to it in its environment as JSON (`FLEET_WORKER`). */
export interface WorkerSettings {
  redisUrl: string;
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  sharingKey?: string;
  /** GET this through the authenticated fetch; `undefined` = only `getAccessToken()`. */
  url?: string;
}

const number = (value: string | undefined, fallback: number, name: string): number => {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} must be a positive number`);
  return parsed;
};

/** Read the configuration; throws with a message naming the variable that is wrong. */
export function readConfig(env: Record<string, string | undefined>): FleetConfig {
  const config: FleetConfig = {
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    workers: Math.round(number(env.WORKERS, 4, 'WORKERS')),
    durationMs: number(env.DURATION_MS, 12_000, 'DURATION_MS'),
    json: env.FLEET_JSON === '1',
    demoTtlSec: number(env.EKA_DEMO_TTL_SEC, 4, 'EKA_DEMO_TTL_SEC'),
  };
  if (env.EKA_CLIENT_ID || env.EKA_CLIENT_SECRET) {
    if (!env.EKA_CLIENT_ID || !env.EKA_CLIENT_SECRET) {
      throw new Error(
        'set both EKA_CLIENT_ID and EKA_CLIENT_SECRET for the real gateway, or neither for the emulator',
      );
    }
    config.real = {
      clientId: env.EKA_CLIENT_ID,
      clientSecret: env.EKA_CLIENT_SECRET,
      sharingKey: env.EKA_SHARING_KEY || undefined,
      baseUrl: env.EKA_BASE_URL || 'https://api.eka.care',
      probeUrl: env.EKA_PROBE_URL || undefined,
    };
  }
  return config;
}
