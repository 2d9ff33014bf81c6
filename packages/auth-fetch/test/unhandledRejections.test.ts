import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('./fixtures/abortAfter401.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('createAuthFetch under --unhandled-rejections=strict', () => {
  it('survives a caller that aborts while its request waits for the refresh after a 401', async () => {
    // The child loads the built package (turbo builds it before `test`).
    expect(existsSync(dist), 'build @eka/auth-fetch first').toBe(true);
    const { stdout } = await run(process.execPath, ['--unhandled-rejections=strict', fixture], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      timeout: 15_000,
    });
    expect(JSON.parse(stdout.trim())).toEqual({ outcome: 'AbortError', survived: true });
  });
});
