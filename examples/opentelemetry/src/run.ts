import { isEkaAuthError } from '@eka/auth-core';
import { createApp } from './app';
import { describeSpan, startTelemetry, type TelemetryOptions } from './telemetry';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

type App = ReturnType<typeof createApp>;
type Telemetry = ReturnType<typeof startTelemetry>;
type Cleanup = () => void | Promise<void>;

/**
 * The entry point's logic. With EKA_CLIENT_ID and EKA_CLIENT_SECRET it talks to the real gateway
 * (EKA_BASE_URL, EKA_API_PATH); without them it runs a short session on the embedded emulator: login,
 * a revoke storm and a short outage of the token endpoints. Then it prints the spans and exports the
 * metrics (to the console exporter unless `telemetryOptions.metricExporter` says otherwise). Returns
 * the exit code.
 */
export async function main(env: Env, io: Io, telemetryOptions: TelemetryOptions = {}): Promise<number> {
  const telemetry = startTelemetry(telemetryOptions);
  const cleanups: Cleanup[] = [];
  try {
    const code = env.EKA_CLIENT_ID
      ? await againstGateway(env, io, telemetry, cleanups)
      : await againstEmulator(io, telemetry, cleanups);
    for (const span of telemetry.spans()) io.out(describeSpan(span));
    io.out('metrics:');
    await telemetry.shutdown(); // the last export, before the cleanups: the observable instruments still see the session
    return code;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await telemetry.shutdown();
  }
}

async function againstEmulator(io: Io, telemetry: Telemetry, cleanups: Cleanup[]): Promise<number> {
  io.out('No EKA_CLIENT_ID set: using the embedded Eka gateway emulator.');
  const { startEkaGateway } = await import('@eka/auth-testing');
  const gateway = await startEkaGateway();
  cleanups.push(() => gateway.close());
  const app = createApp({
    baseUrl: gateway.url,
    clientId: gateway.credentials.clientId,
    clientSecret: gateway.credentials.clientSecret,
    apiPath: '/api/echo',
    credential: 'example',
    meterProvider: telemetry.meterProvider,
    tracerProvider: telemetry.tracerProvider,
    backoff: { baseMs: 20, maxMs: 100 },
  });
  cleanups.push(() => app.dispose());

  io.out('1. three calls: one login');
  for (let i = 0; i < 3; i++) await app.callApi();
  io.out('2. the gateway revokes every access token; 10 concurrent calls: one refresh, 10 re-sends');
  gateway.control.revokeAllAccessTokens();
  await Promise.all(Array.from({ length: 10 }, () => app.callApi()));
  io.out(
    '3. the token expires while the token endpoints are down: refresh and both logins after it answer 503',
  );
  gateway.control.expireAccessTokens();
  gateway.control.failNext('refresh', 1, { status: 503 });
  gateway.control.failNext('login', 2, { status: 503 });
  const status = await callUntilOk(app, io);
  const { logins, refreshes, injectedFailures, apiCalls } = gateway.stats;
  io.out(
    `emulator: ${logins.ok} login, ${refreshes.ok} refreshes ok, ${injectedFailures} × 503, ` +
      `${apiCalls.unauthorized} × 401; state ${app.auth.state}`,
  );
  return status === 200 && app.auth.state === 'valid' ? 0 : 1;
}

/** Calls the API until it answers (the outage is over); at most `tries` times. */
async function callUntilOk(app: App, io: Io, tries = 20): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await app.callApi();
    } catch (error) {
      if (attempt >= tries || !isEkaAuthError(error) || !error.transient) throw error;
      io.out(`  the call failed with ${error.code}; trying again`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function againstGateway(env: Env, io: Io, telemetry: Telemetry, cleanups: Cleanup[]): Promise<number> {
  if (!env.EKA_CLIENT_SECRET || !env.EKA_API_PATH) {
    io.err(
      'Set EKA_CLIENT_SECRET and EKA_API_PATH (a GET endpoint your client may call) with EKA_CLIENT_ID.',
    );
    return 1;
  }
  const baseUrl = env.EKA_BASE_URL || 'https://api.eka.care';
  io.out(`Using the real Eka gateway at ${baseUrl}.`);
  const app = createApp({
    baseUrl,
    clientId: env.EKA_CLIENT_ID!,
    clientSecret: env.EKA_CLIENT_SECRET,
    apiPath: env.EKA_API_PATH,
    credential: env.EKA_CREDENTIAL_LABEL || 'default',
    meterProvider: telemetry.meterProvider,
    tracerProvider: telemetry.tracerProvider,
  });
  cleanups.push(() => app.dispose());
  try {
    const statuses = [await app.callApi(), await app.callApi()];
    io.out(`GET ${env.EKA_API_PATH} → ${statuses.join(', ')}`);
    return statuses.every((s) => s < 300) ? 0 : 1;
  } catch (error) {
    // EkaAuthError messages never contain secrets or tokens.
    io.err(isEkaAuthError(error) ? `${error.code}: ${error.message}` : String(error));
    return 1;
  }
}
