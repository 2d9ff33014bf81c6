import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export interface TelemetryOptions {
  /** Where the metrics go. Default: the SDK's `ConsoleMetricExporter` (prints with `console.dir`). */
  metricExporter?: PushMetricExporter;
}

/**
 * A minimal OpenTelemetry SDK setup: metrics exported every minute and on `shutdown()`, spans kept in
 * memory for a summary. In a service you would use `@opentelemetry/sdk-node` with an OTLP exporter.
 */
export function startTelemetry(options: TelemetryOptions = {}) {
  const reader = new PeriodicExportingMetricReader({
    exporter: options.metricExporter ?? new ConsoleMetricExporter(),
    exportIntervalMillis: 60_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  let shutdown: Promise<void> | undefined;
  return {
    meterProvider,
    tracerProvider,
    /** The spans ended so far. */
    spans: (): ReadableSpan[] => spanExporter.getFinishedSpans(),
    /** Exports the metrics a last time and stops. Calling it again does nothing. */
    shutdown: () =>
      (shutdown ??= Promise.all([meterProvider.shutdown(), tracerProvider.shutdown()]).then(() => {})),
  };
}

/** One line per span: `POST /connect-auth/v1/account/login → 200 in 3 ms (apigw-requestid …)`. */
export function describeSpan(span: ReadableSpan): string {
  const a = span.attributes;
  const durationMs = Math.round(span.duration[0] * 1000 + span.duration[1] / 1e6);
  const status = a['http.response.status_code'] ?? 'no answer';
  const requestId = (a['http.response.header.apigw-requestid'] as string[] | undefined)?.[0];
  return (
    `span ${span.name} → ${status}${a['error.type'] ? ` ${a['error.type']}` : ''} in ${durationMs} ms` +
    (requestId ? ` (apigw-requestid ${requestId})` : '')
  );
}
