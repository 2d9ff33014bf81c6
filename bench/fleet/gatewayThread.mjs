// The gateway emulator on its own thread (its own event loop, as a real gateway would be), so the
// member processes, not the measuring parent, are what is being timed. Answers 'stats' and 'close'.
import { parentPort, workerData } from 'node:worker_threads';
import { startEkaGateway } from '@eka/auth-testing';

const gateway = await startEkaGateway({ accessTokenTtlSec: workerData.ttlSec });
gateway.control.setLatency('login', workerData.tokenLatencyMs);
gateway.control.setLatency('refresh', workerData.tokenLatencyMs);
parentPort.on('message', async (message) => {
  if (message === 'stats') parentPort.postMessage({ stats: structuredClone(gateway.stats) });
  if (message === 'close') {
    await gateway.close();
    parentPort.close();
  }
});
parentPort.postMessage({ url: gateway.url, credentials: { ...gateway.credentials } });
