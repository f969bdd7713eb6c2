/**
 * Traces with OpenTelemetry's own packages, used directly rather than through
 * @elysiajs/opentelemetry (docs/decisions/0002): W3C trace context in and out of HTTP and AMQP, a
 * span per request and message.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type ContextManager,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { Elysia } from 'elysia'
import { statusOf } from '../http/status.ts'
import type { RequestClient } from '../security/client-address.ts'
import type { Metrics } from './metrics.ts'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions'
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace'

/**
 * OpenTelemetry traces, W3C Trace Context on the wire. Off (no provider, no context manager, no
 * hooks: nothing spent) unless OTEL_EXPORTER_OTLP_ENDPOINT is set; then spans go over OTLP/HTTP.
 * The context rides on AsyncLocalStorage, entered once per request, so the product check, the
 * outbox row and every log line of that request see the request's span without being told.
 */
export type TracingSettings = {
  serviceName: string
  endpoint?: string
  sampler: string
  samplerArg?: string
  scheduleDelayMs: number
}

/** OpenTelemetry's context manager on AsyncLocalStorage, plus `enter`, which a request hook needs. */
class RequestContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>()
  active = () => this.storage.getStore() ?? ROOT_CONTEXT
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A) {
    return this.storage.run(ctx, () => fn.apply(thisArg, args))
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target
    return ((...args: unknown[]) => this.with(ctx, () => (target as (...a: unknown[]) => unknown)(...args))) as T
  }
  enable = () => this
  disable = () => this
  /** makes `ctx` the active context for the rest of the current asynchronous flow */
  enter(ctx: Context) {
    this.storage.enterWith(ctx)
  }
}

const manager = new RequestContextManager()
let managerInstalled = false
const propagator = new W3CTraceContextPropagator()
const headerSetter = { set: (carrier: Record<string, string>, key: string, value: string) => void (carrier[key] = value) }
const headerGetter = {
  get: (carrier: Record<string, unknown>, key: string) => (typeof carrier[key] === 'string' ? (carrier[key] as string) : undefined),
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
}

/** `traceparent`/`tracestate` of the active span (or of `ctx`); empty when nothing is traced. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {}
  if (trace.getSpanContext(ctx)) propagator.inject(ctx, headers, headerSetter)
  return headers
}

/** The context a message or request carries in its `traceparent`/`tracestate`. */
export const contextFrom = (headers: Record<string, unknown>): Context => propagator.extract(ROOT_CONTEXT, headers, headerGetter)

const idsOf = (ctx: Context): { traceId: string; spanId: string } | {} => {
  const span = trace.getSpanContext(ctx)
  return span ? { traceId: span.traceId, spanId: span.spanId } : {}
}

/** The trace and span a message's headers name: a line about one message of a batch carries its own. */
export const traceIdsOf = (headers: Record<string, string>) => idsOf(contextFrom(headers))

/**
 * The trace a request belongs to: its server span's while tracing is on, else the one the
 * `traceparent` it came with names; undefined without either.
 */
export function traceIdOf(request: Request): string | undefined {
  const active = trace.getSpanContext(context.active())
  if (active) return active.traceId
  const traceparent = request.headers.get('traceparent')
  return traceparent ? trace.getSpanContext(contextFrom({ traceparent }))?.traceId : undefined
}

/** The ids a log line carries, when a span is active. */
export const activeTraceIds = () => idsOf(context.active())

function samplerOf(name: string, arg?: string): Sampler {
  const ratio = new TraceIdRatioBasedSampler(arg === undefined ? 1 : Number(arg))
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler()
    case 'always_off':
      return new AlwaysOffSampler()
    case 'traceidratio':
      return ratio
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio })
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() })
  }
}

export type Tracing = ReturnType<typeof createTracing>
type SpanOptions = {
  kind: SpanKind
  parentFrom?: Record<string, unknown>
  linksFrom?: Record<string, unknown>[]
  attributes?: Record<string, string | number>
}

export function createTracing(settings: TracingSettings) {
  const enabled = Boolean(settings.endpoint)
  const provider = enabled
    ? new TracerProvider({
        resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }),
        sampler: samplerOf(settings.sampler, settings.samplerArg),
        spanProcessors: [
          new BatchSpanProcessor({
            exporter: new OTLPTraceExporter({ url: `${settings.endpoint!.replace(/\/$/, '')}/v1/traces` }),
            scheduledDelayMillis: settings.scheduleDelayMs,
          }),
        ],
      })
    : undefined
  if (provider && !managerInstalled) managerInstalled = context.setGlobalContextManager(manager)
  const tracer: Tracer | undefined = provider?.getTracer('shop', '1.0.0')

  /**
   * A span that is not made active; its context goes wherever the caller puts it. The parent is
   * the context `parentFrom` (a message's headers) carries, else the active one; `linksFrom`
   * links the contexts other headers carry. Nothing is parsed while tracing is off.
   */
  function startSpan(name: string, options: SpanOptions) {
    if (!tracer) return undefined
    const parent = options.parentFrom ? contextFrom(options.parentFrom) : context.active()
    const links = options.linksFrom?.flatMap((headers): Link[] => {
      const linked = trace.getSpanContext(contextFrom(headers))
      return linked ? [{ context: linked }] : []
    })
    const span = tracer.startSpan(name, { kind: options.kind, links, attributes: options.attributes }, parent)
    return { span, ctx: trace.setSpan(parent, span) }
  }

  /** Runs `fn` inside a new span, made active (ended, with its error status, when `fn` settles). */
  async function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span | undefined, ctx: Context) => Promise<T>): Promise<T> {
    const started = startSpan(name, options)
    if (!started) return fn(undefined, context.active())
    const { span, ctx } = started
    try {
      return await context.with(ctx, () => fn(span, ctx))
    } catch (err) {
      span.recordException(err as Error)
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) })
      throw err
    } finally {
      span.end()
    }
  }

  return {
    enabled,
    inSpan,
    /** A server span for an incoming request, made the active context for the rest of it. */
    startServerSpan(method: string, path: string, headers: Headers): Span | undefined {
      if (!tracer) return undefined
      const carrier: Record<string, string> = {}
      headers.forEach((value, key) => (carrier[key] = value))
      const started = startSpan(method, { kind: SpanKind.SERVER, parentFrom: carrier, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_PATH]: path } })
      manager.enter(started!.ctx)
      return started!.span
    },
    startSpan,
    shutdown: async () => provider?.shutdown(),
  }
}

/** What the plumbing (bus, relay, cache) reports to: traces and metrics of its service. */
export type Instruments = { tracing: Tracing; metrics: Metrics }

/** A server span per request, named after the route template, with the status it was answered with. */
export function tracingPlugin(tracing: Tracing, clientOf?: RequestClient) {
  const plugin = new Elysia({ name: 'tracing' })
  if (!tracing.enabled) return plugin
  const spans = new WeakMap<Request, Span>()
  return plugin
    .onRequest(({ request, server }) => {
      const span = tracing.startServerSpan(request.method, new URL(request.url).pathname, request.headers)
      if (!span) return
      spans.set(request, span)
      // the client as TRUSTED_PROXIES make it out, not the last proxy's address
      if (clientOf) span.setAttribute(ATTR_CLIENT_ADDRESS, clientOf(request, server))
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, set, response }) => {
      const span = spans.get(request)
      if (!span) return
      const status = statusOf({ request, set, response } as never)
      if (route) span.updateName(`${request.method} ${route}`).setAttribute(ATTR_HTTP_ROUTE, route)
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status)
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
      span.end()
    })
}

export { SpanKind, SpanStatusCode }
