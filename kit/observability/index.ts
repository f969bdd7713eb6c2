/**
 * What a running service tells its operators: JSON log lines, Prometheus metrics and
 * OpenTelemetry traces.
 */
export { createLog, type Log, type LogLevel } from './log.ts'
export { arrivedAt, createMetrics, metricsPlugin, type Metrics } from './metrics.ts'
export { createTracing, traceHeaders, traceIdOf, traceIdsOf, tracingPlugin, SpanKind, type Tracing, type TracingSettings, type Instruments } from './tracing.ts'
