import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, launch, requireRedisServer } from './redisServer';

const run = promisify(execFile);

/** One node of a {@link RedisCluster}. */
export interface RedisClusterNode {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly url: string;
}

/** A Redis Cluster of redis-server children on 127.0.0.1 (masters only, no persistence). */
export interface RedisCluster {
  readonly nodes: readonly RedisClusterNode[];
  /** SIGKILL node `index` (a crash). Its slots stay unserved: there are no replicas. */
  kill(index: number): Promise<void>;
  /** Stop every node and remove their directories. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Start `size` (≥ 3) `redis-server --cluster-enabled yes` nodes, each with its own temp directory and
 * config file, join them with `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`, and
 * resolve once every node reports `cluster_state:ok`. Throws (never skips) without redis-server.
 */
export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  requireRedisServer();
  await run('redis-cli', ['--version']).catch(() => {
    throw new Error(
      'redis-cli is not installed (it comes with redis-server): apt-get install -y redis-server',
    );
  });
  const children: (ChildProcess | undefined)[] = [];
  const dirs: string[] = [];
  const nodes: RedisClusterNode[] = [];
  const stop = async () => {
    await Promise.all(children.map((_, index) => kill(index)));
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  };
  const kill = async (index: number) => {
    const child = children[index];
    children[index] = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  try {
    for (let i = 0; i < size; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'eka-redis-cluster-'));
      dirs.push(dir);
      const config = join(dir, 'redis.conf');
      // The bus port is set explicitly: port + 10000 (the default) may be taken or beyond 65535.
      const [port, busPort] = [await freePort(), await freePort()];
      await writeFile(
        config,
        [
          'cluster-enabled yes',
          `cluster-config-file ${join(dir, 'nodes.conf')}`,
          `cluster-port ${busPort}`,
          'cluster-node-timeout 2000',
          `dir ${dir}`,
        ].join('\n'),
      );
      children.push(await launch(port, [], config));
      nodes.push({ host: '127.0.0.1', port, url: `redis://127.0.0.1:${port}` });
    }
    const addresses = nodes.map((node) => `${node.host}:${node.port}`);
    await run(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      {
        timeout: 30_000,
      },
    ).catch((error: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(
        `redis-cli --cluster create failed: ${error.message}\n${error.stdout}\n${error.stderr}`,
      );
    });
    await waitForClusterOk(nodes);
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, kill, stop };
}

/** Poll `CLUSTER INFO` on every node until all say `cluster_state:ok` (gossip takes a moment). */
async function waitForClusterOk(nodes: readonly RedisClusterNode[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const states = await Promise.all(
      nodes.map(async (node) => {
        const { stdout } = await run('redis-cli', [
          '-h',
          node.host,
          '-p',
          String(node.port),
          'CLUSTER',
          'INFO',
        ]);
        return (
          /cluster_state:ok/.test(stdout) &&
          /cluster_known_nodes:(\d+)/.exec(stdout)?.[1] === String(nodes.length)
        );
      }),
    );
    if (states.every(Boolean)) return;
    if (Date.now() > deadline)
      throw new Error('the Redis Cluster did not reach cluster_state:ok within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
