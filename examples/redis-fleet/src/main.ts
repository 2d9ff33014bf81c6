import cluster from 'node:cluster';
import { readConfig, type WorkerSettings } from './config';
import { runPrimary } from './runPrimary';
import { runWorker } from './runWorker';

if (cluster.isPrimary) {
  const write = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const config = readConfig(process.env);
    const summary = await runPrimary(config, config.json ? () => {} : write);
    if (config.json) write(JSON.stringify(summary));
    else {
      const { tokens } = summary;
      write(`requests: ${summary.requests}, failed: ${summary.failed}`);
      write(
        `tokens: ${tokens.login} by login, ${tokens.refresh} by refresh, ${tokens.storage} adopted from Redis`,
      );
      if (summary.logins !== undefined) {
        write(
          `the gateway saw ${summary.logins} login(s), ${summary.refreshes} refresh(es), ${summary.reusedRefreshTokens} reused refresh token(s)`,
        );
      }
      write(`logout in worker 1 seen by ${summary.logoutSeenBy} of ${summary.workers - 1} other workers`);
      write(summary.ok ? 'OK: one shared session for the whole fleet' : 'NOT OK');
    }
    process.exitCode = summary.ok ? 0 : 1;
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
} else {
  await runWorker(JSON.parse(process.env.FLEET_WORKER!) as WorkerSettings);
}
