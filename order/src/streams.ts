import { DomainError, unavailable, type Log, type Signals } from '@shop/kit'
import type { Journey } from './store.ts'
import { sseEvent, sseHeartbeat, streamEnds, toStep } from './timeline.ts'

/**
 * The live event streams of orders (`GET /orders/:id/events`). A stream reads its order's steps
 * from the table, from the last one it sent, whenever it is woken: by a wake-up on Redis that
 * the writer of a step sends after its commit, whichever replica it runs on, and by a poll, every
 * `pollMs` while wake-ups do not arrive (Redis away) and every `quietPollMs` while they do (one
 * may be lost). So no writer ever waits for a reader, and nothing depends on Redis but how soon a
 * step shows. Each caller may hold `perCaller` streams at once (on this replica).
 */
export type StreamSettings = { perCaller: number; pollMs?: number; quietPollMs?: number; heartbeatMs?: number }

const topicOf = (orderId: string) => `order:${orderId}`
const encoder = new TextEncoder()

export function orderStreams({
  read,
  signals,
  log,
  settings: { perCaller, pollMs = 500, quietPollMs = 5000, heartbeatMs = 15_000 },
}: {
  /** the order's status and its steps after `after` (the store's journey) */
  read: (orderId: string, after: number) => Promise<Journey | undefined>
  signals: Signals
  log: Log
  settings: StreamSettings
}) {
  const open = new Set<() => void>()
  const held = new Map<string, number>()
  let closing = false

  /** One of a caller's streams: refused (429) when they hold all theirs; given back when it ends. */
  function take(caller: string): () => void {
    const n = held.get(caller) ?? 0
    if (n >= perCaller)
      throw new DomainError('TooManyRequests', `At most ${perCaller} event streams at once per caller; close one first`, [], 5)
    held.set(caller, n + 1)
    let given = false
    return () => {
      if (given) return
      given = true
      const left = (held.get(caller) ?? 1) - 1
      if (left) held.set(caller, left)
      else held.delete(caller)
    }
  }

  function stream(orderId: string, after: number, giveBack: () => void): ReadableStream<Uint8Array> {
    let last = after
    let ended = false
    let woken = true
    let poke: (() => void) | undefined
    let heartbeat: ReturnType<typeof setInterval> | undefined
    let out: ReadableStreamDefaultController<Uint8Array>
    const stopListening = signals.listen(topicOf(orderId), () => {
      woken = true
      poke?.()
    })
    const send = (text: string) => out.enqueue(encoder.encode(text))
    const end = () => {
      if (ended) return
      ended = true
      stopListening()
      clearInterval(heartbeat)
      poke?.()
      open.delete(end)
      giveBack()
      try {
        out.close()
      } catch {} // the client went away first
    }

    async function run() {
      let failures = 0
      while (!ended) {
        woken = false
        try {
          const journey = await read(orderId, last)
          if (ended) return
          if (!journey) return end()
          for (const step of journey.steps.map(toStep)) {
            send(sseEvent(step))
            last = step.seq
          }
          if (streamEnds(journey.status)) return end()
          failures = 0
        } catch (err) {
          if (failures++ % 20 === 0) log.warn('event stream could not read its order; trying again', { orderId, err: String(err) })
        }
        if (woken || ended) continue
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, signals.listening() ? quietPollMs : pollMs)
          poke = () => {
            clearTimeout(timer)
            resolve()
          }
        })
        poke = undefined
      }
    }

    return new ReadableStream<Uint8Array>({
      start(controller) {
        out = controller
        open.add(end)
        send('retry: 2000\n\n') // how long a browser waits before it reconnects (with Last-Event-ID)
        // a reader that does not keep up gets no more heartbeats: what waits for it stays small
        heartbeat = setInterval(() => (controller.desiredSize ?? 0) > 0 && send(sseHeartbeat), heartbeatMs)
        void run()
      },
      cancel: end,
    })
  }

  return {
    /**
     * The stream of an order's steps after `after` (its Last-Event-ID; 0: all), as a response
     * body. The caller checked that the order is theirs.
     */
    open({ orderId, caller, after }: { orderId: string; caller: string; after: number }): ReadableStream<Uint8Array> {
      if (closing) throw unavailable('This replica is shutting down; reconnect', 1)
      return stream(orderId, after, take(caller))
    },
    /** Wakes every replica's streams of these orders: called after the commit that wrote their steps. */
    stepsWritten(orderIds: string[]) {
      signals.notify(orderIds.map(topicOf))
    },
    /** Ends every stream now and refuses new ones (SIGTERM): the server can then close. */
    endAll() {
      closing = true
      for (const end of [...open]) end()
    },
    /** streams open on this replica */
    count: () => open.size,
  }
}

export type OrderStreams = ReturnType<typeof orderStreams>
