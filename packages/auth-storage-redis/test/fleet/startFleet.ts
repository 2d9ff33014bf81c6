import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { EkaGateway } from '@eka/auth-testing';

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** Something a member reported, stamped with its wall-clock time and the member's index. */
export type FleetEvent = { member: number; at: number } & (
  | { type: 'ready' }
  | { type: 'token'; source: 'login' | 'refresh' | 'storage'; generation: number }
  | { type: 'token-call'; kind: string; phase: 'start' | 'end'; status?: number }
  | { type: 'warning'; code: string }
  | { type: 'failure'; code: string }
  | { type: 'api-401'; gen: number; attempt: number; local: number }
  | { type: 'core-warning'; message: string }
  | { type: 'result'; ok: number; failed: number; errors: string[] }
);

export interface FleetOptions {
  size: number;
  /** A single Redis; or give `clusterNodes`. */
  redisUrl?: string;
  /** The nodes of a Redis Cluster: members then connect with ioredis `Cluster` / node-redis `createCluster`. */
  clusterNodes?: readonly { host: string; port: number; url: string }[];
  /**
   * The client package of member i, cycled: `'ioredis'`, `'ioredis-6'` (ioredis), `'redis'`,
   * `'redis-6'` (node-redis). Default `['ioredis', 'redis']`.
   */
  clients?: readonly string[];
  gateway: EkaGateway;
  /** Redis key prefix, unique per test. */
  prefix: string;
  /** Clock offset of member i (ms), cycled. Default 0. */
  skewsMs?: number[];
  lockTtlMs?: number;
  commandTimeoutMs?: number;
  retryIntervalMs?: number;
  /** Concurrent request loops per member. Default 4. */
  concurrency?: number;
  /** Pause between two requests of one loop. Default 5 ms. */
  pauseMs?: number;
}

export interface Fleet {
  readonly events: FleetEvent[];
  /** Start every member's request loops at once. */
  run(): void;
  /** The first event (from now on or already seen) matching `match`. */
  waitFor(match: (event: FleetEvent) => boolean, timeoutMs?: number): Promise<FleetEvent>;
  /** SIGKILL member `index` (a crash: no cleanup of any kind). */
  kill(index: number): void;
  /** Stop the live members' loops; their results by member index. */
  stop(): Promise<Map<number, Extract<FleetEvent, { type: 'result' }>>>;
  /** Kill whatever is still running. */
  destroy(): void;
}

/**
 * Fork `size` worker processes, alternating ioredis and node-redis clients (by default), each with its own
 * EkaAuth over the built dist; resolves once all are connected and subscribed.
 */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  if (!existsSync(DIST)) {
    throw new Error(
      'the fleet runs the built package: run `pnpm --filter @eka/auth-storage-redis build` first',
    );
  }
  const events: FleetEvent[] = [];
  const watchers = new Set<(event: FleetEvent) => void>();
  const children: ChildProcess[] = [];
  const alive = new Set<number>();
  for (let member = 0; member < options.size; member++) {
    const config = {
      redisUrl: options.redisUrl,
      clusterNodes: options.clusterNodes,
      gatewayUrl: options.gateway.url,
      clientId: options.gateway.credentials.clientId,
      clientSecret: options.gateway.credentials.clientSecret,
      prefix: options.prefix,
      client: (options.clients ?? ['ioredis', 'redis'])[member % (options.clients?.length ?? 2)],
      skewMs: options.skewsMs?.[member % options.skewsMs.length] ?? 0,
      lockTtlMs: options.lockTtlMs,
      commandTimeoutMs: options.commandTimeoutMs,
      retryIntervalMs: options.retryIntervalMs,
      concurrency: options.concurrency ?? 4,
      pauseMs: options.pauseMs ?? 5,
    };
    const child = fork(WORKER, [], {
      env: { ...process.env, FLEET_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    alive.add(member);
    child.on('message', (message: object) => {
      const event = { ...message, member } as FleetEvent;
      events.push(event);
      for (const watcher of [...watchers]) watcher(event);
    });
    child.on('exit', () => alive.delete(member));
  }
  const waitFor: Fleet['waitFor'] = (match, timeoutMs = 10_000) => {
    const seen = events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(watcher);
        reject(new Error(`fleet: no matching event within ${timeoutMs} ms`));
      }, timeoutMs);
      const watcher = (event: FleetEvent) => {
        if (!match(event)) return;
        clearTimeout(timer);
        watchers.delete(watcher);
        resolve(event);
      };
      watchers.add(watcher);
    });
  };
  const destroy = () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
  try {
    await Promise.all(
      children.map((_, member) => waitFor((e) => e.type === 'ready' && e.member === member, 30_000)),
    );
  } catch (error) {
    destroy();
    throw error;
  }
  return {
    events,
    run: () => {
      for (const child of children) child.send({ type: 'run' });
    },
    waitFor,
    kill(index) {
      children[index]!.kill('SIGKILL');
      alive.delete(index);
    },
    async stop() {
      const members = [...alive];
      const results = await Promise.all(
        members.map((member) => {
          const result = waitFor((e) => e.type === 'result' && e.member === member, 15_000);
          children[member]!.send({ type: 'stop' });
          return result;
        }),
      );
      return new Map(results.map((r) => [r.member, r as Extract<FleetEvent, { type: 'result' }>]));
    },
    destroy,
  };
}

/** Successful refresh calls, in time order. */
export function refreshesOf(events: FleetEvent[]): FleetEvent[] {
  return events
    .filter((e) => e.type === 'token-call' && e.kind === 'refresh' && e.phase === 'end' && e.status === 200)
    .sort((a, b) => a.at - b.at);
}

/** How many members hold their `generation`-th token (local count: login = 1, each new token +1). */
export function holders(events: FleetEvent[], generation: number): number {
  const members = new Set<number>();
  for (const e of events) if (e.type === 'token' && e.generation >= generation) members.add(e.member);
  return members.size;
}

/** A compact, secret-free timeline of what the members reported (printed when a test fails). */
export function timeline(events: FleetEvent[], stats?: unknown): string {
  const t0 = events[0]?.at ?? 0;
  const lines = events
    .filter((e) => e.type !== 'ready' && !(e.type === 'api-401' && e.attempt === 1))
    .map((e) => {
      const { member, at, type, ...rest } = e as FleetEvent & Record<string, unknown>;
      return `${String(at - t0).padStart(6)} ms  #${member}  ${type} ${JSON.stringify(rest)}`;
    });
  if (stats) lines.push(`gateway stats: ${JSON.stringify(stats)}`);
  return lines.join('\n');
}
