import { createEkaAuth } from '@eka/auth-core';
import { createAuthFetch } from '@eka/auth-fetch';
import { redisStorage } from '@eka/auth-storage-redis';
import { Redis } from 'ioredis';
import type { WorkerSettings } from './config';
import type { FromWorker, ToWorker } from './messages';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One cluster worker: its own Redis connection, `EkaAuth` and authenticated fetch — and the same Eka
 * session as every other worker, because they all keep it in Redis.
 */
export async function runWorker(settings: WorkerSettings): Promise<void> {
  const send = (message: FromWorker) => process.connected && process.send?.(message);
  const client = new Redis(settings.redisUrl);
  client.on('error', () => {}); // the storage reports Redis trouble itself (onWarning)
  const storage = redisStorage(client, { onWarning: (w) => send({ type: 'warning', message: w.message }) });
  const auth = createEkaAuth({
    baseUrl: settings.baseUrl,
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    sharingKey: settings.sharingKey,
    storage,
    onEvent: (event) => {
      if (event.type === 'token') send({ type: 'token', source: event.source });
      if (event.type === 'warning') send({ type: 'warning', message: event.message });
    },
  });
  auth.subscribe(({ state }) => send({ type: 'state', state }));
  const authFetch = createAuthFetch(auth);

  let running = false;
  const outcome = { ok: 0, failed: 0, errors: [] as string[] };
  const once = async () => {
    if (!settings.url) return void (await auth.getAccessToken());
    const response = await authFetch(settings.url);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  };
  const loop = async () => {
    while (running) {
      try {
        await once();
        outcome.ok++;
      } catch (error) {
        outcome.failed++;
        if (outcome.errors.length < 3) outcome.errors.push(String((error as any)?.code ?? error));
      }
      await sleep(settings.url ? 20 : 1_000);
    }
  };

  let loops: Promise<void>[] = [];
  process.on('message', async (message: ToWorker) => {
    if (message.type === 'run') {
      running = true;
      loops = [loop(), loop()];
    } else if (message.type === 'stop') {
      running = false;
      await Promise.all(loops);
      send({ type: 'done', ...outcome });
    } else if (message.type === 'logout') {
      await auth.logout(); // deletes the session in Redis; every other worker hears of it
    } else if (message.type === 'exit') {
      auth.dispose();
      await storage.close();
      client.disconnect();
      process.disconnect();
    }
  });
  await client.ping(); // connected (the storage itself would carry on in memory without Redis)
  send({ type: 'ready' });
}
