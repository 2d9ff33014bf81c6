import type { Attributes } from '@opentelemetry/api';
import {
  type DataPoint,
  type IMetricReader,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** A reader that collects on demand: what a periodic reader would hand its exporter. */
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** One data point, flattened: the instrument's name and unit with the point's attributes and value. */
export interface Point {
  name: string;
  unit: string;
  attributes: Attributes;
  value: DataPoint<unknown>['value'];
}

/** The real OpenTelemetry SDK with in-memory metrics and spans. */
export function createTelemetry(
  extra: { spanProcessors?: SpanProcessor[]; metricReaders?: IMetricReader[] } = {},
) {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader, ...(extra.metricReaders ?? [])] });
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    // Ours first: the SDK stops at the first processor that throws.
    spanProcessors: [new SimpleSpanProcessor(spanExporter), ...(extra.spanProcessors ?? [])],
  });
  const collect = async (): Promise<ResourceMetrics> => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length) throw new AggregateError(errors, 'metric collection failed');
    return resourceMetrics;
  };
  const points = async (name?: string): Promise<Point[]> =>
    (await collect()).scopeMetrics.flatMap((scope) =>
      scope.metrics
        .filter((metric) => name === undefined || metric.descriptor.name === name)
        .flatMap((metric) =>
          (metric.dataPoints as DataPoint<unknown>[]).map((point) => ({
            name: metric.descriptor.name,
            unit: metric.descriptor.unit,
            attributes: point.attributes,
            value: point.value,
          })),
        ),
    );
  /** The sum of the values of `name` whose attributes include `match`. */
  const sum = async (name: string, match: Attributes = {}): Promise<number> =>
    (await points(name))
      .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
      .reduce(
        (total, p) => total + (typeof p.value === 'number' ? p.value : (p.value as { count: number }).count),
        0,
      );
  return {
    meterProvider,
    tracerProvider,
    collect,
    points,
    sum,
    spans: (): ReadableSpan[] => spanExporter.getFinishedSpans(),
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

export type Telemetry = ReturnType<typeof createTelemetry>;
