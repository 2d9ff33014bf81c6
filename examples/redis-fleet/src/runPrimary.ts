import cluster, { type Worker } from 'node:cluster';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import type { FleetConfig, WorkerSettings } from './config';
import type { FromWorker, ToWorker } from './messages';

/** What the run showed; `ok` when every expectation held. */
export interface FleetSummary {
  ok: boolean;
  gateway: 'emulator' | 'real';
  workers: number;
  requests: number;
  failed: number;
  /** Tokens each worker got by logging in / refreshing itself / adopting from Redis. */
  tokens: { login: number; refresh: number; storage: number };
  /** Counted by the emulator (emulator mode only). */
  logins?: number;
  refreshes?: number;
  reusedRefreshTokens?: number;
  /** Workers (other than the one that logged out) that saw the logout. */
  logoutSeenBy: number;
  errors: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The cluster primary: starts the emulator (unless a real gateway is configured), forks the workers,
 * lets them send requests for `durationMs`, then has worker 1 log out and checks the others saw it.
 */
export async function runPrimary(config: FleetConfig, write: (line: string) => void): Promise<FleetSummary> {
  let gateway: EkaGateway | undefined;
  let settings: WorkerSettings;
  if (config.real) {
    const { clientId, clientSecret, sharingKey, baseUrl, probeUrl } = config.real;
    settings = { redisUrl: config.redisUrl, baseUrl, clientId, clientSecret, sharingKey, url: probeUrl };
    write(`Real Eka gateway ${baseUrl}, client ${clientId.slice(0, 4)}…, Redis ${config.redisUrl}`);
  } else {
    gateway = await startEkaGateway({ accessTokenTtlSec: config.demoTtlSec });
    const { clientId, clientSecret } = gateway.credentials;
    settings = {
      redisUrl: config.redisUrl,
      baseUrl: gateway.url,
      clientId,
      clientSecret,
      url: `${gateway.url}/api/echo`,
    };
    write(
      `Eka gateway emulator ${gateway.url} (tokens live ${config.demoTtlSec} s), Redis ${config.redisUrl}`,
    );
  }
  const workers: Worker[] = [];
  const inbox: { worker: number; message: FromWorker }[] = [];
  const tell = (worker: Worker, message: ToWorker) => worker.send(message);
  const waitFor = async (match: (m: FromWorker, worker: number) => boolean, count: number, what: string) => {
    const deadline = Date.now() + 15_000;
    while (inbox.filter((e) => match(e.message, e.worker)).length < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  };
  try {
    for (let i = 0; i < config.workers; i++) {
      const worker = cluster.fork({ FLEET_WORKER: JSON.stringify(settings) });
      worker.on('message', (message: FromWorker) => {
        inbox.push({ worker: i, message });
        if (message.type === 'warning') write(`  worker ${i + 1}: ${message.message}`);
      });
      workers.push(worker);
    }
    await waitFor(
      (m) => m.type === 'ready',
      config.workers,
      `the workers to reach Redis at ${config.redisUrl}`,
    );
    write(`${config.workers} workers up; sending requests for ${config.durationMs / 1000} s`);
    for (const worker of workers) tell(worker, { type: 'run' });
    await sleep(config.durationMs);
    for (const worker of workers) tell(worker, { type: 'stop' });
    await waitFor((m) => m.type === 'done', config.workers, 'the workers to finish');
    const stats = gateway && structuredClone(gateway.stats);

    // A logout in one worker reaches the others through Redis pub/sub.
    const before = inbox.length;
    tell(workers[0]!, { type: 'logout' });
    const sawLogout = (m: FromWorker, worker: number) =>
      worker !== 0 && m.type === 'state' && m.state === 'unauthenticated';
    await waitFor(sawLogout, config.workers - 1, 'the logout to reach every worker').catch(() => {});
    const logoutSeenBy = new Set(
      inbox
        .slice(before)
        .filter((e) => sawLogout(e.message, e.worker))
        .map((e) => e.worker),
    ).size;

    const done = inbox.flatMap((e) => (e.message.type === 'done' ? [e.message] : []));
    const tokens = { login: 0, refresh: 0, storage: 0 };
    for (const { message } of inbox) if (message.type === 'token') tokens[message.source]++;
    const summary: FleetSummary = {
      ok: false,
      gateway: gateway ? 'emulator' : 'real',
      workers: config.workers,
      requests: done.reduce((n, d) => n + d.ok + d.failed, 0),
      failed: done.reduce((n, d) => n + d.failed, 0),
      tokens,
      logoutSeenBy,
      errors: done.flatMap((d) => d.errors),
    };
    if (stats) {
      summary.logins = stats.logins.ok;
      summary.refreshes = stats.refreshes.ok;
      summary.reusedRefreshTokens = stats.refreshes.reused;
    }
    summary.ok =
      summary.failed === 0 &&
      logoutSeenBy === config.workers - 1 &&
      (!stats || (stats.logins.ok === 1 && stats.refreshes.reused === 0));
    return summary;
  } finally {
    for (const worker of workers) if (worker.isConnected()) tell(worker, { type: 'exit' });
    await Promise.all(workers.map((w) => (w.isDead() ? undefined : new Promise((r) => w.once('exit', r)))));
    await gateway?.close();
  }
}
