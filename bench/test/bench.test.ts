import { describe, expect, it } from 'vitest';
import { benchAuthorize } from '../src/authorize.mjs';
import { benchAxiosGot } from '../src/axiosGot.mjs';
import { benchFetch } from '../src/fetch.mjs';
import { benchHerd, HERD_OURS_AXIOS } from '../src/herd.mjs';

interface Row {
  name: string;
  median: number;
  min: number;
  max: number;
  ratio?: number;
  cpuUs: number;
  addedCpuUs?: number;
  samples: number[];
}

/** Rows must hold finite, positive rates and finite CPU figures — nothing is said about how fast. */
function expectSaneRows(rows: Row[], withRatios: boolean) {
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) {
    for (const value of [row.median, row.min, row.max, ...row.samples]) {
      expect(Number.isFinite(value), `${row.name}: ${value}`).toBe(true);
      expect(value, row.name).toBeGreaterThan(0);
    }
    expect(Number.isFinite(row.cpuUs), `${row.name} CPU`).toBe(true);
    expect(row.cpuUs, `${row.name} CPU`).toBeGreaterThanOrEqual(0);
    if (withRatios) {
      expect(Number.isFinite(row.ratio), `${row.name} ratio`).toBe(true);
      expect(row.ratio, row.name).toBeGreaterThan(0);
      expect(Number.isFinite(row.addedCpuUs), `${row.name} added CPU`).toBe(true);
    }
  }
}

describe('bench', () => {
  it('authorize: every variant reports a finite, positive rate', async () => {
    const result = await benchAuthorize({ rounds: 2, ops: 2_000, sampleSeconds: 0, warmup: 1 });
    expectSaneRows(result.rows, false);
    for (const row of result.rows) expect(row.nsPerOp).toBeGreaterThan(0);
  });

  it('fetch: bare, createAuthFetch and OAuth2Fetch all get 200s and sane rates', async () => {
    const result = await benchFetch({
      rounds: 1,
      emulatorRounds: 1,
      requests: 20,
      sampleSeconds: 0,
      concurrency: 4,
      warmup: 0,
      stub: { rounds: 1, ops: 20, sampleSeconds: 0, warmup: 0 },
    });
    expect(Object.keys(result.servers)).toEqual(['tiny', 'emulator']);
    expectSaneRows(result.servers.tiny!.rows, true);
    expectSaneRows(result.servers.emulator!.rows, true);
    expect(result.servers.tiny!.rows).toHaveLength(4);
    expect(result.servers.tiny!.server401s).toBe(0);
    expectSaneRows(result.stub.rows, true);
    expectSaneRows(result.openapiStub.rows, true);
    expect(result.openapiStub.rows).toHaveLength(3);
  });

  it('axios/got: bare clients, our adapters and axios-auth-refresh all get 200s and sane rates', async () => {
    const result = await benchAxiosGot({
      rounds: 1,
      requests: 20,
      sampleSeconds: 0,
      concurrency: 4,
      warmup: 0,
      stub: { rounds: 1, ops: 20, sampleSeconds: 0, warmup: 0 },
    });
    expect(result.axios.skipped).toBeUndefined();
    expect(result.got.skipped).toBeUndefined();
    expectSaneRows(result.axios.rows!, true);
    expect(result.axios.rows).toHaveLength(4);
    expect(result.axiosStub.skipped).toBeUndefined();
    expectSaneRows(result.axiosStub.rows!, true);
    expect(result.gotStub.skipped).toBeUndefined();
    expectSaneRows(result.gotStub.rows!, true);
    expectSaneRows(result.got.rows!, true);
    expect(result.server401s).toBe(0);
  });

  it('concurrent 401s: our axios adapter makes exactly one refresh and fails nothing', async () => {
    const result = await benchHerd({ trials: 1 });
    for (const row of result.rows) {
      expect(row.skipped, row.setup).toBeUndefined();
      for (const key of [
        'refreshCalls',
        'logins',
        'tokenEndpointCalls',
        'unauthorizedServed',
        'failed',
      ] as const) {
        expect(Number.isInteger(row[key]!.median), `${row.setup} ${key}`).toBe(true);
        expect(row[key]!.min, `${row.setup} ${key}`).toBeGreaterThanOrEqual(0);
      }
      expect(row.elapsedMs).toBeGreaterThan(0);
    }
    const ours = result.rows.filter((row) => row.setup === HERD_OURS_AXIOS);
    expect(ours.map((row) => row.scenario)).toEqual(['burst', 'staggered']);
    for (const row of ours) {
      expect(row.refreshCalls!.values, row.scenario).toEqual([1]);
      expect(row.tokenEndpointCalls!.values, row.scenario).toEqual([1]);
      expect(row.logins!.values, row.scenario).toEqual([0]);
      expect(row.failedTotal, row.scenario).toBe(0);
    }
  });
});
