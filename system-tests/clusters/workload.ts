/**
 * The workload and the check, Jepsen-style: a few clients place orders at a steady pace (each with
 * its own Idempotency-Key, so an answer that never came can be looked up afterwards), every
 * attempt is recorded with the fault phase it was sent in, and once the load stops every
 * acknowledged write is checked against both databases: each 201 order exists and is final,
 * stock was taken exactly once per confirmed order, nothing waits in a dead-letter queue.
 */
import { operatorToken, eventually } from '@shop/testkit'
import type { ClusterWorld } from './world.ts'

export type Attempt = {
  key: string
  productId: string
  phase: string
  sentAt: number
  doneAt: number
  /** the HTTP status, or `no answer` (timeout, connection reset): indeterminate */
  status: number | 'no answer'
  orderId?: string
  retryAfter?: string | null
}

export type Load = {
  attempts: Attempt[]
  /** later attempts are counted under `name` */
  phase(name: string): void
  stop(): Promise<Attempt[]>
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * `clients` loops, each placing one order at a time for one of `productIds` and then pausing
 * `pauseMs` (pacing, not waiting for a condition): a steady load that a fault cannot stall, as
 * each answer has its own deadline.
 */
export async function orderLoad(orderUrl: string, productIds: string[], { clients = 4, pauseMs = 40, timeoutMs = 20_000 } = {}): Promise<Load> {
  const token = await operatorToken()
  const attempts: Attempt[] = []
  let phase = 'steady'
  let stopped = false
  const loops = Array.from({ length: clients }, async (_, c) => {
    for (let i = 0; !stopped; i++) {
      const attempt: Attempt = { key: crypto.randomUUID(), productId: productIds[(c + i) % productIds.length]!, phase, sentAt: performance.now(), doneAt: 0, status: 'no answer' }
      attempts.push(attempt)
      try {
        const res = await fetch(`${orderUrl}/orders`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': attempt.key },
          body: JSON.stringify({ productId: attempt.productId, qty: 1 }),
          signal: AbortSignal.timeout(timeoutMs),
        })
        attempt.status = res.status
        attempt.retryAfter = res.headers.get('retry-after')
        const body = (await res.json().catch(() => undefined)) as { id?: string } | undefined
        if (res.status === 201) attempt.orderId = body?.id
      } catch {
        // no answer: indeterminate, resolved through its Idempotency-Key afterwards
      }
      attempt.doneAt = performance.now()
      await pause(pauseMs)
    }
  })
  return {
    attempts,
    phase: (name) => void (phase = name),
    async stop() {
      stopped = true
      await Promise.all(loops)
      return attempts
    },
  }
}

/** Reads while a fault happens: GET /products/:id and GET /orders/:id of accepted orders, each answer's status kept. */
export async function readLoad(productUrl: string, orderUrl: string, productIds: string[], load: Load, { pauseMs = 20 } = {}) {
  const token = await operatorToken()
  const statuses = new Map<string, number>()
  const fives: { path: string; status: number | string; at: number }[] = []
  let slowestMs = 0
  let stopped = false
  const note = (path: string, status: number | string) => {
    const key = `${path.split('/')[1]} ${status}`
    statuses.set(key, (statuses.get(key) ?? 0) + 1)
    if (typeof status !== 'number' || status >= 500) fives.push({ path, status, at: performance.now() })
  }
  const loops = [0, 1].map(async (c) => {
    for (let i = 0; !stopped; i++) {
      const accepted = load.attempts.filter((a) => a.orderId)
      const path =
        (c + i) % 2 === 0 || !accepted.length ? `/products/${productIds[i % productIds.length]}` : `/orders/${accepted[accepted.length - 1 - (i % Math.min(20, accepted.length))]!.orderId}`
      const base = path.startsWith('/products') ? productUrl : orderUrl
      const sent = performance.now()
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) }).catch((e: Error) => e)
      slowestMs = Math.max(slowestMs, Math.round(performance.now() - sent))
      if (res instanceof Error) note(path, res.name)
      else {
        note(path, res.status)
        await res.arrayBuffer()
      }
      await pause(pauseMs)
    }
  })
  return {
    statuses,
    fives,
    slowestMs: () => slowestMs,
    async stop() {
      stopped = true
      await Promise.all(loops)
    },
  }
}

export type Tally = {
  phase: string
  accepted: number
  refused: Record<string, number>
  /** 201 answered, but the order is not in the database or never became final */
  lost: number
  /** orders whose stock and confirmation disagree: confirmed without a reservation, or stock taken for one not confirmed */
  duplicated: number
  /** requests without an answer: stored or not, as their Idempotency-Key says */
  noAnswer: { stored: number; notStored: number }
  /** 503s that carried Retry-After / all 503s */
  retryAfter: string
  /** the slowest answer (or give-up) in ms */
  slowestMs: number
}

export type Verdict = {
  phases: Tally[]
  total: Tally
  /** units of stock taken minus units of confirmed orders, over every product (0: taken exactly once) */
  stockDrift: number
  pendingLeft: number
  /** orders in the database no request accounts for */
  phantoms: number
  parked: Record<string, number>
  lostOrders: string[]
  mismatched: string[]
}

/**
 * Waits until no order is pending (the saga finished everything it accepted), then compares what
 * the clients were told with both databases.
 */
export async function verify(world: ClusterWorld, attempts: Attempt[], initialStock: Map<string, number>, { settleMs = 60_000 } = {}): Promise<Verdict> {
  const pendingLeft = await eventually(
    async () => {
      const [row] = await world.query('order', (sql) => sql<{ pending: number }[]>`select count(*)::int as pending from orders where status = 'pending'`)
      return row?.pending === 0 ? 0 : false
    },
    { timeout: settleMs, interval: 500, what: 'no order left pending' },
  ).catch(async () => (await world.query('order', (sql) => sql<{ n: number }[]>`select count(*)::int as n from orders where status = 'pending'`))[0]!.n)

  const orders = await world.query('order', (sql) => sql<{ id: string; status: string; qty: number; product_id: string }[]>`select id, status, qty, product_id from orders`)
  const keys = await world.query('order', (sql) => sql<{ key: string; order_id: string }[]>`select key, order_id from idempotency_keys`)
  const products = await world.query('product', (sql) => sql<{ id: string; qty: number }[]>`select id, qty from products`)
  const reservations = await world.query('product', (sql) => sql<{ order_id: string; qty: number; status: string }[]>`select order_id, qty, status from reservations`)

  const byId = new Map(orders.map((o) => [o.id, o]))
  const stored = new Map(keys.map((k) => [k.key, k.order_id]))
  const reserved = new Map(reservations.filter((r) => r.status === 'reserved').map((r) => [r.order_id, r.qty]))
  const accountedFor = new Set(attempts.flatMap((a) => (a.orderId ? [a.orderId] : stored.has(a.key) ? [stored.get(a.key)!] : [])))

  const lostOrders: string[] = []
  const mismatched: string[] = []
  const phaseOf = new Map<string, string>()
  for (const a of attempts) {
    const id = a.orderId ?? stored.get(a.key)
    if (id) phaseOf.set(id, a.phase)
    if (a.orderId && (!byId.has(a.orderId) || byId.get(a.orderId)!.status === 'pending')) lostOrders.push(a.orderId)
  }
  for (const o of orders) if ((o.status === 'confirmed') !== reserved.has(o.id) || (reserved.has(o.id) && reserved.get(o.id) !== o.qty)) mismatched.push(o.id)
  for (const id of reserved.keys()) if (!byId.has(id)) mismatched.push(id)

  const taken = products.reduce((sum, p) => sum + (initialStock.get(p.id) ?? p.qty) - p.qty, 0)
  const confirmedUnits = orders.filter((o) => o.status === 'confirmed').reduce((a, o) => a + o.qty, 0)

  const tally = (phase: string, of: Attempt[]): Tally => {
    const refused: Record<string, number> = {}
    for (const a of of) if (a.status !== 201 && a.status !== 'no answer') refused[a.status] = (refused[a.status] ?? 0) + 1
    const unanswered = of.filter((a) => a.status === 'no answer')
    const in503 = of.filter((a) => a.status === 503)
    const ids = new Set(of.flatMap((a) => (a.orderId ? [a.orderId] : stored.has(a.key) ? [stored.get(a.key)!] : [])))
    return {
      phase,
      accepted: of.filter((a) => a.status === 201).length,
      refused,
      lost: lostOrders.filter((id) => ids.has(id)).length,
      duplicated: mismatched.filter((id) => ids.has(id)).length,
      noAnswer: { stored: unanswered.filter((a) => stored.has(a.key)).length, notStored: unanswered.filter((a) => !stored.has(a.key)).length },
      retryAfter: `${in503.filter((a) => a.retryAfter).length}/${in503.length}`,
      slowestMs: Math.round(Math.max(0, ...of.map((a) => a.doneAt - a.sentAt))),
    }
  }
  const phases = [...new Set(attempts.map((a) => a.phase))].map((p) => tally(p, attempts.filter((a) => a.phase === p)))
  return {
    phases,
    total: { ...tally('total', attempts), duplicated: mismatched.length },
    stockDrift: taken - confirmedUnits,
    pendingLeft,
    phantoms: orders.filter((o) => !accountedFor.has(o.id)).length,
    parked: await world.parked(),
    lostOrders,
    mismatched,
  }
}

const results: string[] = []

/** One scenario's verdict and recovery times as lines, printed now and again at the end of the run. */
export function report(scenario: string, verdict: Verdict, recovery: Record<string, Record<string, number | string>>) {
  const refused = (r: Record<string, number>) => Object.entries(r).map(([s, n]) => `${n}x${s}`).join(' ') || '0'
  const lines = [`${scenario}`]
  for (const t of [...verdict.phases, verdict.total]) {
    const times = Object.entries(recovery[t.phase] ?? {}).map(([k, v]) => `${k} ${v}${typeof v === 'number' && !/^(accepted|misses)/.test(k) ? ' ms' : ''}`).join(', ')
    lines.push(
      `  ${t.phase.padEnd(26)} accepted ${String(t.accepted).padStart(5)}  refused ${refused(t.refused).padEnd(10)} lost ${t.lost}  duplicated ${t.duplicated}` +
        `  no answer ${t.noAnswer.stored + t.noAnswer.notStored} (stored ${t.noAnswer.stored})  503 with Retry-After ${t.retryAfter}  slowest ${t.slowestMs} ms${times ? `  | ${times}` : ''}`,
    )
  }
  lines.push(`  stock drift ${verdict.stockDrift}, pending left ${verdict.pendingLeft}, orders no request accounts for ${verdict.phantoms}, parked ${JSON.stringify(verdict.parked)}`)
  results.push(lines.join('\n'))
  console.log(lines.join('\n'))
}

export const allReports = () => results.join('\n')
