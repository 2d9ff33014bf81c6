import type { TestProject } from 'vitest/node';
import { startRedisServer } from './redisServer';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:<port>` of the redis-server shared by the tests of this package. */
    redisUrl: string;
  }
}

/** One real redis-server (no persistence) for the whole run; fails loudly when it is not installed. */
export default async function setup(project: TestProject) {
  const server = await startRedisServer();
  project.provide('redisUrl', server.url);
  return () => server.stop();
}
