import { fork } from 'node:child_process';

/** The fixed access token the tiny server issues and expects. */
export const TINY_TOKEN = 'bench-access-token-0123456789abcdef';

/**
 * Start the tiny loopback server as a child process.
 *
 * @returns `{ url, stats(), close() }`; `stats()` resolves to `{ ok, unauthorized, tokenCalls }`.
 */
export async function startTinyServer() {
  const { child, message } = await spawn('./tinyServer.child.mjs', { BENCH_TOKEN: TINY_TOKEN });
  return {
    url: message.url,
    stats: () =>
      new Promise((resolve) => {
        const onMessage = (reply) => {
          if (!reply?.stats) return;
          child.off('message', onMessage);
          resolve(reply.stats);
        };
        child.on('message', onMessage);
        child.send('stats');
      }),
    close: () => stop(child),
  };
}

/**
 * Start the Eka gateway emulator as a child process (its stats stay there).
 *
 * @returns `{ url, credentials, close() }`.
 */
export async function startGatewayProcess() {
  const { child, message } = await spawn('./gateway.child.mjs', {});
  return { ...message, close: () => stop(child) };
}

async function spawn(file, env) {
  // No inherited execArgv: the child is plain ESM whatever runner (node -e, vitest) started us.
  const child = fork(new URL(file, import.meta.url), {
    execArgv: [],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const message = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${file} exited early (code ${code})`)));
  });
  child.removeAllListeners('error');
  child.removeAllListeners('exit');
  return { child, message };
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill();
  });
}
