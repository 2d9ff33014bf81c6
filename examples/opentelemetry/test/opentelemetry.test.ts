import { metricNames as M } from '@eka/auth-opentelemetry';
import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import { AggregationTemporality, type DataPoint, InMemoryMetricExporter } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/run';

/** Every data point of the last export, flattened. */
function exported(exporter: InMemoryMetricExporter) {
  const last = exporter.getMetrics().at(-1)!;
  return last.scopeMetrics.flatMap((scope) =>
    scope.metrics.flatMap((metric) =>
      (metric.dataPoints as DataPoint<unknown>[]).map((p) => ({
        name: metric.descriptor.name,
        attributes: p.attributes,
        value: p.value,
      })),
    ),
  );
}

function capture() {
  const lines: string[] = [];
  return { lines, io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) } };
}

describe('opentelemetry example', () => {
  let gateway: EkaGateway;
  beforeEach(async () => {
    gateway = await startEkaGateway();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await gateway.close();
  });

  it('main() with no EKA_* variables runs login, revoke storm and outage on the emulator and exports the metrics', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const { lines, io } = capture();
    expect(await main({}, io, { metricExporter: exporter })).toBe(0);

    const points = exported(exporter);
    expect(new Set(points.map((p) => p.name))).toEqual(new Set(Object.values(M)));
    for (const p of points) expect(p.attributes['eka.auth.credential']).toBe('example');
    const value = (name: string, match: Record<string, unknown>) =>
      points
        .filter((p) => p.name === name && Object.entries(match).every(([k, v]) => p.attributes[k] === v))
        .map((p) => p.value);
    expect(
      value(M.tokenRequests, { 'eka.auth.request.kind': 'login', 'eka.auth.request.outcome': 'ok' }),
    ).toEqual([2]);
    // The outage: the refresh and the two login attempts of the same flight after it (never the spent
    // refresh token again); then the flight gives up once and the next attempt logs in.
    const transient = value(M.tokenRequests, {
      'eka.auth.request.outcome': 'transient',
      'http.response.status_code': 503,
    }) as number[];
    expect(transient.reduce((a, b) => a + b, 0)).toBe(3);
    expect(value(M.failures, { 'error.type': 'TRANSIENT' })).toEqual([1]);
    expect(
      value(M.tokenRequests, { 'eka.auth.request.kind': 'refresh', 'eka.auth.request.outcome': 'ok' }),
    ).toEqual([1]);
    const retries = value(M.unauthorizedResponses, { 'eka.auth.unauthorized.action': 'retry' }) as number[];
    expect(retries[0]).toBeGreaterThanOrEqual(11); // the revoke storm's 10 and the expired token's 1
    expect(value(M.sessionCount, { 'eka.auth.session.state': 'valid' })).toEqual([1]);
    expect(value(M.sessionCount, { 'eka.auth.session.state': 'failed' })).toEqual([0]);

    const text = lines.join('\n');
    expect(text).toContain('span POST /connect-auth/v1/account/login → 200');
    expect(text).toContain('span POST /connect-auth/v1/account/refresh-token → 503 TRANSIENT');
    expect(text).toMatch(/emulator: 2 login, 1 refreshes ok, 3 × 503, \d+ × 401; state valid/);
  });

  it('main() prints the metrics with the console exporter by default, and no secret', async () => {
    const printed: unknown[] = [];
    vi.spyOn(console, 'dir').mockImplementation((item) => void printed.push(item));
    const { lines, io } = capture();
    expect(await main({}, io)).toBe(0);

    const names = printed.map((item) => (item as { descriptor: { name: string } }).descriptor.name);
    expect(new Set(names)).toEqual(new Set(Object.values(M)));
    const everything = JSON.stringify(printed) + lines.join('\n');
    expect(everything).not.toContain(gateway.credentials.clientSecret); // demo-secret
    expect(everything).not.toMatch(/eyJ[\w-]{10,}/); // no JWT (access tokens)
  });

  it('main() with EKA_CLIENT_ID talks to the configured gateway', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const { lines, io } = capture();
    const env = {
      EKA_CLIENT_ID: gateway.credentials.clientId,
      EKA_CLIENT_SECRET: gateway.credentials.clientSecret,
      EKA_BASE_URL: gateway.url,
      EKA_API_PATH: '/api/echo',
      EKA_CREDENTIAL_LABEL: 'ci',
    };
    expect(await main(env, io, { metricExporter: exporter })).toBe(0);
    expect(lines).toContain('GET /api/echo → 200, 200');
    expect(gateway.stats.logins.ok).toBe(1);
    const requests = exported(exporter).filter((p) => p.name === M.tokenRequests);
    expect(requests).toMatchObject([{ attributes: { 'eka.auth.credential': 'ci' }, value: 1 }]);

    expect(
      await main({ ...env, EKA_CLIENT_SECRET: 'wrong-secret-4711' }, io, { metricExporter: exporter }),
    ).toBe(1);
    const text = lines.join('\n');
    expect(text).toMatch(/span POST \/connect-auth\/v1\/account\/login → 500 CREDENTIALS_REJECTED in \d+ ms/);
    expect(text).toMatch(/^CREDENTIALS_REJECTED: /m);
    expect(text).not.toContain('wrong-secret-4711');
  });

  it('main() without EKA_CLIENT_SECRET or EKA_API_PATH explains what to set', async () => {
    const { lines, io } = capture();
    expect(await main({ EKA_CLIENT_ID: 'x' }, io, { metricExporter: new InMemoryMetricExporter(0) })).toBe(1);
    expect(lines.join('\n')).toMatch(/Set EKA_CLIENT_SECRET and EKA_API_PATH/);
  });
});
