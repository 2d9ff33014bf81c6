// Where the fleet bench finds what bench/package.json does not (yet) list: the Redis storage from its
// build, and the Redis clients from the storage package's own devDependencies. Once bench/package.json
// has `@eka/auth-storage-redis`, `ioredis` and `redis`, the bench's own copies are used.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const fromBench = createRequire(import.meta.url);
const fromStorage = createRequire(new URL('../../packages/auth-storage-redis/package.json', import.meta.url));
const STORAGE_DIST = new URL('../../packages/auth-storage-redis/dist/index.js', import.meta.url);

/** Import `name` as the bench resolves it, else as the storage package does. */
export async function load(name) {
  for (const require of [fromBench, fromStorage]) {
    let path;
    try {
      path = require.resolve(name);
    } catch {
      continue;
    }
    return import(pathToFileURL(path).href);
  }
  if (name === '@eka/auth-storage-redis') return import(STORAGE_DIST.href);
  throw new Error(
    `${name} is not installed: add it to bench/package.json devDependencies and run pnpm install`,
  );
}

/** The Redis storage, or a clear error when it has not been built. */
export async function loadStorage() {
  try {
    return await load('@eka/auth-storage-redis');
  } catch (error) {
    throw new Error(
      'build the Redis storage first: pnpm turbo run build --filter=@eka/auth-storage-redis...',
      { cause: error },
    );
  }
}
