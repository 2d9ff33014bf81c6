// 1. The authorize() hot path: a valid cached token, no I/O. Each sample times one batch of calls
// (sized to last about `sampleSeconds`); variants are interleaved round by round.
import { createEkaAuth } from '@eka/auth-core';
import { interleave, summarise, timed } from './harness.mjs';

/** The throughput the issue asks of `await auth.authorize(url)`. */
export const AUTHORIZE_TARGET_OPS = 2_000_000;

const BASE_URL = 'https://api.eka.care';
const API_URL = `${BASE_URL}/mr/api/v1/patients/12345?include=visits`;

/**
 * Benchmark `auth.authorize()` with a valid cached token (bring-your-own-login mode, so nothing
 * touches the network), next to two references: the cost of awaiting an already-resolved promise
 * (the floor for any async API) and the synchronous `isAllowedUrl` check.
 *
 * @param {{ rounds?: number, ops?: number, sampleSeconds?: number, warmup?: number }} [options]
 *   `ops` is the batch size of the warm-up passes and the floor of the calibrated batch;
 *   `sampleSeconds: 0` keeps every batch at `ops`.
 */
export async function benchAuthorize({ rounds = 15, ops = 50_000, sampleSeconds = 0.1, warmup = 2 } = {}) {
  const auth = createEkaAuth({
    baseUrl: BASE_URL,
    clientId: 'bench-client',
    login: async () => ({ accessToken: 'bench-access-token', refreshToken: 'r', expiresIn: 3600 }),
  });
  try {
    const urlString = API_URL;
    const urlObject = new URL(API_URL);
    const first = await auth.authorize(urlString);
    if (!first.headers?.authorization) throw new Error('authorize() did not produce a token header');
    const resolved = Promise.resolve(first);

    const variants = [
      {
        name: 'await auth.authorize(string)',
        kind: 'await',
        run: async (n) => {
          for (let i = 0; i < n; i++) await auth.authorize(urlString);
        },
      },
      {
        name: 'await auth.authorize(URL)',
        kind: 'await',
        run: async (n) => {
          for (let i = 0; i < n; i++) await auth.authorize(urlObject);
        },
      },
      {
        name: 'auth.authorize(string), not awaited per call',
        kind: 'call',
        run: async (n) => {
          let last;
          for (let i = 0; i < n; i++) last = auth.authorize(urlString);
          await last;
        },
      },
      {
        name: 'auth.authorize(URL), not awaited per call',
        kind: 'call',
        run: async (n) => {
          let last;
          for (let i = 0; i < n; i++) last = auth.authorize(urlObject);
          await last;
        },
      },
      {
        name: 'reference: await of a resolved promise',
        kind: 'reference',
        run: async (n) => {
          for (let i = 0; i < n; i++) await resolved;
        },
      },
      {
        name: 'reference: auth.isAllowedUrl(string), sync',
        kind: 'reference',
        run: async (n) => {
          let allowed = 0;
          for (let i = 0; i < n; i++) if (auth.isAllowedUrl(urlString)) allowed++;
          if (allowed !== n) throw new Error('isAllowedUrl rejected the API URL');
        },
      },
    ];

    const { samples, size } = await interleave(
      variants,
      { rounds, warmup, size: ops, sampleSeconds },
      (variant, n) => timed(n, () => variant.run(n)),
    );
    const rows = summarise(samples).map((row) => ({
      ...row,
      kind: variants.find((v) => v.name === row.name).kind,
      nsPerOp: 1e9 / row.median,
      cpuNsPerOp: row.cpuUs * 1000,
      opsPerCpuSecond: 1e6 / row.cpuUs,
    }));
    const headline = rows[0];
    return {
      config: { rounds, opsPerSample: size, sampleSeconds, warmup, url: API_URL },
      targetOpsPerSec: AUTHORIZE_TARGET_OPS,
      meetsTarget: headline.median >= AUTHORIZE_TARGET_OPS,
      meetsTargetPerCpuSecond: headline.opsPerCpuSecond >= AUTHORIZE_TARGET_OPS,
      rows,
    };
  } finally {
    auth.dispose();
  }
}
