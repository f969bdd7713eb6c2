/**
 * Follows one order as it happens: its steps from order's event stream
 * (`GET /orders/:id/events`, read with fetch so the bearer token goes along), resumed with
 * Last-Event-ID after a cut; where the stream route is missing (404: an order service from before
 * it) by polling `GET /orders/:id` and `GET /orders/:id/timeline`, and where the timeline is
 * missing too, by the order's own status. It keeps trying while order is away and stops once
 * `done` says nothing more is to come.
 */
import type { Order, OrderTimeline } from '@shop/contracts'
import { call, failureOf, isAway, open, sleep, type Failure } from './http.ts'
import { readEvents, sseParser } from './sse.ts'
import type { StepLike } from './steps.ts'

export type Mode = { kind: 'live' } | { kind: 'polling' } | { kind: 'waiting'; seconds: number; why: Failure } | { kind: 'done' } | { kind: 'stopped'; why: Failure }

export type WatchOptions = {
  /** the last step already shown: the stream resumes after it */
  after: number
  onOrder(order: Order): void
  onStep(step: StepLike): void
  onAbout(about: Omit<OrderTimeline, 'steps'>): void
  onMode(mode: Mode): void
  /**
   * true once nothing more is to be awaited (the order is final, its stock back after a cancel);
   * `timeline`: order tells the steps (else they are made from the status, and some never come)
   */
  done(order: Order, timeline: boolean): boolean
}

const POLL_MS = 400
const retryable = (f: Failure) => isAway(f.status) || f.status === 429

export function watchOrder(orderId: string, o: WatchOptions) {
  const stop = new AbortController()
  const signal = stop.signal
  let lastSeq = o.after
  let streamRoute = true
  let timelineRoute = true
  let wake = new AbortController()

  const take = (step: StepLike) => {
    if (typeof step?.seq !== 'number' || step.seq <= lastSeq) return
    lastSeq = step.seq
    o.onStep(step)
  }

  /** One connection to the stream, read until it ends. */
  async function stream(): Promise<Failure | 'missing' | 'ended'> {
    const headers: Record<string, string> = { accept: 'text/event-stream' }
    if (lastSeq > 0) headers['last-event-id'] = String(lastSeq)
    const res = await open('GET', `/orders/${orderId}/events`, { as: 'customer', headers, signal }).catch(() => 'ended' as const)
    if (res === 'ended' || !(res instanceof Response)) return res
    if (res.status === 404 || (res.ok && !res.headers.get('content-type')?.includes('text/event-stream'))) {
      void res.body?.cancel()
      return 'missing'
    }
    if (!res.ok || !res.body) return failureOf(res)
    o.onMode({ kind: 'live' })
    const parser = sseParser((e) => {
      try {
        take(JSON.parse(e.data) as StepLike)
      } catch {
        // not a step (a comment-like event): nothing to show
      }
    })
    await readEvents(res.body, parser, signal).catch(() => {}) // a cut: the order read below says whether order is away
    return 'ended'
  }

  /** One look at the timeline: its steps where the stream is not there, its facts in any case. */
  async function poll(): Promise<Failure | undefined> {
    if (!timelineRoute) return undefined
    const a = await call<OrderTimeline>('GET', `/orders/${orderId}/timeline`, { as: 'customer', signal })
    if (a.ok) {
      const { steps, ...about } = a.body
      o.onAbout(about)
      steps.forEach(take)
      return undefined
    }
    if (a.status === 404) timelineRoute = false // the order exists (we placed it): the route does not
    return a.status === 404 ? undefined : a
  }

  /** Without a timeline, the order's own status makes the steps: accepted, then where it went. */
  const seen = new Set<string>()
  function stepsFromStatus(order: Order) {
    const add = (kind: string, at: string, extra: object = {}) => {
      if (seen.has(kind)) return
      seen.add(kind)
      take({ seq: lastSeq + 1, kind, at, ...extra } as StepLike)
    }
    add('accepted', order.createdAt)
    if (order.status !== 'pending') add(order.status, order.updatedAt, order.rejectionReason ? { reason: order.rejectionReason } : {})
  }

  /** The order as it is now: `done` once nothing more is to come (the timeline then read a last time). */
  async function settle(): Promise<Failure | 'done' | undefined> {
    const read = await call<Order>('GET', `/orders/${orderId}`, { as: 'customer', signal })
    if (!read.ok) return read
    if (!timelineRoute) stepsFromStatus(read.body)
    o.onOrder(read.body)
    if (!o.done(read.body, streamRoute || timelineRoute)) return undefined
    await poll() // the last steps, and the facts (trace id, resends) the stream does not carry
    return 'done'
  }

  async function follow() {
    // an order already where it stays (placed before a reload, say) needs no stream: one look
    const first = await settle()
    if (first === 'done') return o.onMode({ kind: 'done' })
    if (first && !retryable(first)) return o.onMode({ kind: 'stopped', why: first })
    void poll() // the trace id from the start: the stream carries the steps only
    let backoff = 1
    let pollUntil = 0 // order holds as many streams of this customer as it allows (429): poll until then
    while (!signal.aborted) {
      let failed: Failure | undefined
      if (streamRoute && Date.now() >= pollUntil) {
        const outcome = await stream()
        if (outcome === 'missing') {
          streamRoute = false
          o.onMode({ kind: 'polling' })
          continue
        }
        if (outcome !== 'ended' && outcome.status === 429) pollUntil = Date.now() + (outcome.retryAfter ?? 5) * 1000
        else if (outcome !== 'ended') failed = outcome
      } else failed = await poll()
      if (signal.aborted) return
      const now = await settle()
      if (now === 'done') return o.onMode({ kind: 'done' })
      failed ??= now
      if (failed && !retryable(failed)) return o.onMode({ kind: 'stopped', why: failed })
      const polling = !streamRoute || Date.now() < pollUntil
      const seconds = failed ? (failed.retryAfter ?? backoff) : polling ? POLL_MS / 1000 : 1
      backoff = failed ? Math.min(backoff * 2, 10) : 1
      o.onMode(failed ? { kind: 'waiting', seconds, why: failed } : polling ? { kind: 'polling' } : { kind: 'live' })
      wake = new AbortController()
      await sleep(seconds * 1000, AbortSignal.any([signal, wake.signal]))
    }
  }
  void follow()

  return {
    /** Try again now (order is back), instead of at the next retry. */
    wake: () => wake.abort(),
    stop: () => stop.abort(),
  }
}
