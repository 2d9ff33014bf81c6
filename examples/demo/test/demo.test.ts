import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/runDemo';
import { realCredentialsProblem } from '../src/runReal';

describe('runDemo', () => {
  it('drives every adapter through the session and every expectation holds', async () => {
    const lines: string[] = [];
    const { ok, summaries } = await runDemo({ write: (l) => lines.push(l), accessTokenTtlSec: 3 });
    expect(ok, lines.join('\n')).toBe(true);
    for (const s of summaries) {
      // Logins: the first, the fallback after a rejected refresh, the retry after a refresh's 503, the recovery.
      expect(s).toMatchObject({ stepsFailed: 0, stepsPassed: 6, logins: 4, refreshes: 2 });
      // The call made during the injected outage (and at most one more if its back-off ran late).
      expect(s.failed).toBeGreaterThanOrEqual(1);
      expect(s.failed).toBeLessThanOrEqual(3);
    }
    const text = lines.join('\n');
    expect(text).toContain('unauthenticated → refreshing');
    expect(text).toContain('→ 1 refresh → 20 × 200');
    expect(text).not.toContain('demo-secret');
    expect(text).not.toContain('\u001b['); // no colours when not asked
  });
});

describe('real-gateway mode', () => {
  it('explains half-set variables and stays on the emulator when none are set', () => {
    expect(realCredentialsProblem({})).toBeUndefined();
    expect(realCredentialsProblem({ EKA_CLIENT_ID: 'x' })).toMatch(/EKA_CLIENT_SECRET/);
    expect(realCredentialsProblem({ EKA_CLIENT_SECRET: 'x' })).toMatch(/EKA_CLIENT_ID/);
    expect(realCredentialsProblem({ EKA_CLIENT_ID: 'x', EKA_CLIENT_SECRET: 'y' })).toBe('');
  });

  it('the built demo exits 1 with a clear message on half-set credentials, printing no secret', () => {
    const demo = fileURLToPath(new URL('../dist/demo.js', import.meta.url));
    const child = spawnSync(process.execPath, [demo], {
      env: { ...process.env, EKA_CLIENT_ID: '', EKA_CLIENT_SECRET: 'very-secret-value' },
      encoding: 'utf8',
    });
    expect(child.status).toBe(1);
    expect(child.stderr).toMatch(/EKA_CLIENT_ID is not/);
    expect(child.stdout + child.stderr).not.toContain('very-secret-value');
  });
});
