import { Value } from '@sinclair/typebox/value'
import { Product } from '@shop/contracts'
import { mintToken } from '@shop/testkit'
import { createHistory, type Op } from './history.ts'

export type Replica = { name: string; url: string }

/**
 * Clients of product's replicas, each recording what it did into one history: a writer per
 * product changing it in turn (`PATCH` with `qtyDelta`, which bumps its version) through the
 * replicas in `writeVia`, one after the other, and `readers` reading random products, as many
 * readers on each replica (so a frozen replica holds up only its own readers, and the others go
 * on reading right after each write). It runs until `stop()`; the scenario awaits conditions on
 * `history` meanwhile.
 */
export async function startWorkload({
  replicas,
  writeVia = replicas,
  products = 3,
  readers = 24,
}: {
  replicas: Replica[]
  /** the replicas writes go through (reads go to all) */
  writeVia?: Replica[]
  products?: number
  readers?: number
}) {
  const history = createHistory()
  const staff = { authorization: `Bearer ${await mintToken({ sub: 'read-after-write', scope: 'products:write' })}`, 'content-type': 'application/json' }
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!

  /** One write, recorded; the version the answer carries, when it was acknowledged. */
  async function write(key: string, via: Replica, method: 'POST' | 'PATCH', body: unknown) {
    const start = performance.now()
    let version: number | undefined
    try {
      const res = await fetch(`${via.url}/products${method === 'POST' ? '' : `/${key}`}`, { method, headers: staff, body: JSON.stringify(body) })
      const got = (await res.json()) as unknown
      if ((res.status === 200 || res.status === 201) && Value.Check(Product, got)) version = got.version
      if (method === 'POST') key = (got as Product).id
    } catch {}
    history.write({ key, replica: via.name, start, end: performance.now(), version })
    return key
  }
  async function read(key: string, on: Replica) {
    const start = performance.now()
    let version: number | undefined
    let hit = false
    try {
      const res = await fetch(`${on.url}/products/${key}`)
      const got = (await res.json()) as unknown
      if (res.status === 200 && Value.Check(Product, got)) version = got.version
      hit = res.headers.get('x-cache') === 'HIT'
    } catch {}
    history.read({ key, replica: on.name, start, end: performance.now(), version, hit })
  }

  const keys: string[] = []
  for (let i = 0; i < products; i++) keys.push(await write('', writeVia[i % writeVia.length]!, 'POST', { name: `raw-${i}`, price: '1.00', qty: 0 }))
  let running = true
  const writers = keys.map(async (key, i) => {
    for (let n = i; running; n++) await write(key, writeVia[n % writeVia.length]!, 'PATCH', { qtyDelta: 1 })
  })
  const readerLoops = Array.from({ length: readers }, async (_, i) => {
    while (running) await read(pick(keys), replicas[i % replicas.length]!)
  })
  return {
    history,
    keys,
    /** how many operations that began at `t` (performance.now()) or later match `fn` */
    countSince: (t: number, fn: (o: Op) => boolean) => history.ops.reduce((n, o) => (o.start >= t && fn(o) ? n + 1 : n), 0),
    async stop() {
      running = false
      await Promise.all([...writers, ...readerLoops])
      return history.ops
    },
  }
}
