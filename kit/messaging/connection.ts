/**
 * One AMQP connection that stays up: opened until it works, reopened when it closes, moving
 * across the nodes of a cluster, and telling when the broker blocks it.
 */
import amqp, { type ChannelModel } from 'amqplib'
import { throttled, type Log } from '../observability/log.ts'
import { retrying } from '../core/retry.ts'

type Muxed = { connection?: { stream?: { cork(): void; uncork(): void }; muxer?: { _readIncoming(): void } } }

/**
 * amqplib hands every frame to the socket with a write of its own, and each is a syscall (on a
 * virtual machine a costly one); a burst of publishes or acks is many. The socket is corked while
 * amqplib's muxer drains its channels, so the burst leaves in one writev. Nothing else changes:
 * the same frames, in the same order, at the same moment. An amqplib without these internals
 * writes as it did.
 */
export function coalesceWrites(m: ChannelModel) {
  const { stream, muxer } = (m as unknown as Muxed).connection ?? {}
  if (typeof stream?.cork !== 'function' || typeof muxer?._readIncoming !== 'function') return false
  const drain = muxer._readIncoming.bind(muxer)
  muxer._readIncoming = () => {
    stream.cork()
    try {
      drain()
    } finally {
      stream.uncork()
    }
  }
  return true
}

/**
 * The broker's URLs: AMQP_URL names one, or the nodes of a cluster separated by commas (a comma
 * followed by another amqp:// or amqps://, so one inside a password stays where it is).
 */
export const amqpUrls = (url: string) => url.split(/,(?=\s*amqps?:\/\/)/).map((u) => u.trim())

const hostOf = (url: string) => url.replace(/^amqps?:\/\/(?:[^@/]*@)?/, '').replace(/\/.*$/, '')

export type BrokerConnection = ReturnType<typeof brokerConnection>

export type ConnectionOptions = {
  /** AMQP_URL: one node, or a cluster's nodes separated by commas */
  url: string
  /** what the connection is for: it is in its name on the broker and in the log */
  role: 'publish' | 'consume'
  /** the service's name and its exchange, for the connection's name on the broker */
  name: string
  exchange: string
  log: Log
  /** declarations and channels a connection needs before it counts as up; a failure is retried */
  setUp: (m: ChannelModel) => Promise<void>
  /** called each time the connection is up again */
  onUp?: () => void
}

/**
 * One connection, opened until it works and reopened when it closes. A connection that fails
 * half-way through its set-up is closed before the next try, so none is left open behind.
 */
export function brokerConnection({ url, role, name, exchange, log, setUp, onUp = () => {} }: ConnectionOptions) {
  const warnEvery = throttled(log.warn)
  let model: ChannelModel | undefined
  let blockedBy: string | undefined
  let closing = false
  const onBlock = new Set<(reason: string) => void>()
  // the nodes of a cluster in turn, from the first: a try that fails and a connection that is
  // lost move on to the next, so a dead or paused node is skipped and tried again last
  const nodes = amqpUrls(url)
  let turn = 0

  async function connect() {
    if (closing) return
    const node = nodes[turn++ % nodes.length]!
    const m = await amqp.connect(node, { clientProperties: { connection_name: `${name} ${role} ${exchange} pid ${process.pid}` } })
    coalesceWrites(m)
    let ready = false
    m.on('error', (err) => log.warn('amqp connection error', { role, err: err.message }))
    m.on('blocked', (reason) => {
      blockedBy = String(reason)
      log.warn('amqp connection blocked by the broker; publishing waits', { role, reason: blockedBy })
      for (const notify of onBlock) notify(blockedBy)
    })
    m.on('unblocked', () => {
      blockedBy = undefined
      log.info('amqp connection unblocked', { role })
    })
    m.on('close', () => {
      if (model === m) model = undefined
      blockedBy = undefined
      if (!ready || closing) return // a set-up that failed is retried by `open` itself
      log.warn('amqp connection closed; reconnecting', { role })
      up = open()
    })
    try {
      if (closing) throw new Error('closing') // closed while the connection was being opened
      await setUp(m)
    } catch (err) {
      await m.close().catch(() => {})
      throw err
    }
    ready = true
    model = m
    log.info('amqp connected', { exchange, role, node: hostOf(node) })
    onUp()
  }

  const open = () =>
    retrying(connect, {
      retryAll: true,
      stop: () => closing,
      onRetry: (err) => warnEvery(`connect ${role}`, 'amqp unavailable; retrying', { role, err: String(err) }),
    }).catch(() => {})
  let up = open()

  return {
    /** the open connection; undefined while it is being (re)opened */
    current: () => model,
    /** the broker's reason while it blocks this connection (a memory or disk alarm) */
    blocked: () => blockedBy,
    /** rejects when the broker blocks this connection, until `done` is called */
    untilBlocked() {
      let notify: (reason: string) => void = () => {}
      const blocked = new Promise<never>((_, reject) => {
        notify = (reason) => reject(new Error(`amqp publishing blocked by the broker (${reason})`))
        onBlock.add(notify)
      })
      blocked.catch(() => {})
      return { blocked, done: () => void onBlock.delete(notify) }
    },
    /** resolves once the connection is up (or closing gave up on it) */
    up: () => up,
    close: async () => {
      closing = true
      const m = model
      model = undefined
      await m?.close().catch(() => {})
    },
  }
}
