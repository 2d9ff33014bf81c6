import { createEkaAuth } from '@eka/auth-core';
import { createAuthFetch } from '@eka/auth-fetch';
import { instrumentEkaAuth } from '@eka/auth-opentelemetry';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';

export interface AppConfig {
  /** Eka gateway, e.g. https://api.eka.care (or the emulator's URL). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** The Eka API path the app reads. */
  apiPath: string;
  /** A label for this credential on every data point and span (never a secret). */
  credential: string;
  meterProvider: MeterProvider;
  tracerProvider: TracerProvider;
  /** Back-off after a failed login/refresh (short in the demo run). */
  backoff?: { baseMs?: number; maxMs?: number };
}

/** An Eka client whose token lifecycle is reported to OpenTelemetry. */
export function createApp(config: AppConfig) {
  const auth = createEkaAuth({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    baseUrl: config.baseUrl,
    backoff: config.backoff,
  });
  const uninstrument = instrumentEkaAuth(auth, {
    meterProvider: config.meterProvider,
    tracerProvider: config.tracerProvider,
    attributes: { 'eka.auth.credential': config.credential },
  });
  const ekaFetch = createAuthFetch(auth);
  return {
    auth,
    /** One API call; resolves with the HTTP status. */
    async callApi(): Promise<number> {
      const response = await ekaFetch(new URL(config.apiPath, config.baseUrl));
      await response.body?.cancel().catch(() => {});
      return response.status;
    },
    dispose() {
      uninstrument();
      auth.dispose();
    },
  };
}
