import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** A redis-server child process on 127.0.0.1, without persistence. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL it (a crash: no clean shutdown). */
  kill(): Promise<void>;
  /** Start it again on the same port (empty: nothing is persisted). */
  restart(): Promise<void>;
  /** Stop it for good. Idempotent. */
  stop(): Promise<void>;
}

const MISSING =
  'redis-server is not installed, and these tests need a real one. Install it with: apt-get install -y redis-server';

/** Throws a clear error when `redis-server` is not on the PATH. Never skips. */
export function requireRedisServer(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error(MISSING);
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Start `redis-server --save '' --appendonly no` on a free port and wait until it accepts connections. */
export async function startRedisServer(): Promise<RedisServer> {
  requireRedisServer();
  let port = await freePort();
  let child: ChildProcess | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      child = await launch(port);
      break;
    } catch (error) {
      if (attempt >= 3) throw error;
      port = await freePort();
    }
  }
  const stopChild = async () => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill('SIGKILL');
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: stopChild,
    async restart() {
      await stopChild();
      child = await launch(port);
    },
    stop: stopChild,
  };
}

/**
 * Spawn `redis-server [configFile]` on `port` without persistence (plus `extraArgs`, which override
 * the file) and resolve once it accepts connections.
 */
export function launch(port: number, extraArgs: string[] = [], configFile?: string): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const file = configFile ? [configFile] : [];
  const child = spawn('redis-server', [...file, ...args, '--protected-mode', 'no', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`redis-server did not start on ${port}: ${output}`)),
      10_000,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Ready to accept connections/i.test(output)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (error) => fail(error.message.includes('ENOENT') ? new Error(MISSING) : error));
    child.once('exit', (code) => fail(new Error(`redis-server exited (${code}) on port ${port}: ${output}`)));
  });
}
