/**
 * The clusters start, fail over when a node is killed -9, and stop without a trace. Run alone:
 *   bun test --timeout 120000 system-tests/clusters/smoke.clusters.ts
 * (root, with rabbitmq-server, patroni, etcd-server, postgresql-15, redis-server/redis-sentinel
 * and nftables installed). Prints the measured start and recovery times at the end.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { execFileSync } from 'node:child_process'
import amqp, { type ChannelModel } from 'amqplib'
import postgres from 'postgres'
import { createSentinel } from 'redis'
import { eventually } from '@shop/testkit'
import { startRabbitCluster, type RabbitCluster } from './rabbitmq.ts'
import { startPostgresCluster, type PostgresCluster } from './postgres.ts'
import { startRedisSentinel, type RedisSentinel } from './redis.ts'
import { ownedPids, since } from './daemons.ts'

const timings: [string, number | string][] = []
const note = (what: string, value: number | string) => timings.push([what, value])
let rabbit: RabbitCluster | undefined
let pg: PostgresCluster | undefined
let redis: RedisSentinel | undefined

beforeAll(async () => {
  const started = performance.now()
  const [r, p, s] = await Promise.allSettled([startRabbitCluster(), startPostgresCluster({ sync: true }), startRedisSentinel()])
  if (r.status === 'fulfilled') rabbit = r.value
  if (p.status === 'fulfilled') pg = p.value
  if (s.status === 'fulfilled') redis = s.value
  const failed = [r, p, s].filter((x) => x.status === 'rejected').map((x) => String((x as PromiseRejectedResult).reason))
  if (failed.length) throw new Error(failed.join('\n'))
  note('start: all three clusters together, ms', since(started))
  note('start: rabbitmq 3 nodes, ms', rabbit!.startedInMs)
  note('start: postgres primary + sync standby, ms', pg!.startedInMs)
  note('start: redis master + replica + 3 sentinels, ms', redis!.startedInMs)
})

afterAll(async () => {
  await Promise.allSettled([rabbit?.stopAll(), pg?.stopAll(), redis?.stopAll()])
  console.log(`\nmeasured:\n${timings.map(([what, value]) => `  ${what.padEnd(72)} ${value}`).join('\n')}`)
})

const quiet = (conn: ChannelModel) => conn.on('error', () => {}) // a killed or paused node closes it

/** How a client connected to `url` learns that its node went away: the connection's error, or a plain close. */
async function watchConnection(url: string): Promise<{ ended: Promise<string> }> {
  const conn = await amqp.connect(url)
  const ended = new Promise<string>((resolve) => {
    const say = (e: Error & { code?: string | number }) => `${e.code ?? ''} ${e.message}`.trim()
    conn.once('error', (e: Error) => resolve(`error event: ${say(e)}`))
    conn.once('close', (e?: Error) => setTimeout(() => resolve(e ? `close event: ${say(e)}` : 'close event without an error'), 50))
  })
  return { ended }
}

async function declareQuorumQueue(url: string, queue: string) {
  const conn = quiet(await amqp.connect(url))
  const ch = await conn.createChannel()
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } })
  await conn.close()
}

/**
 * Publishes through `url` until the broker confirms, on a new channel each try: a channel that
 * first meets a quorum queue after its leader died keeps that leader and nacks every publish
 * (RabbitMQ 3.10), so a nack means "open another channel", not "try the same one again".
 */
async function publishConfirmed(url: string, queue: string, body: string): Promise<{ nacks: number }> {
  const conn = quiet(await amqp.connect(url))
  let nacks = 0
  try {
    await eventually(
      async () => {
        const ch = await conn.createConfirmChannel()
        ch.on('error', () => {})
        const confirmed = await new Promise<boolean>((resolve) =>
          ch.sendToQueue(queue, Buffer.from(body), { persistent: true }, (err: unknown) => resolve(!err)),
        )
        await ch.close().catch(() => {})
        if (!confirmed) nacks++
        return confirmed
      },
      { timeout: 30_000, interval: 100, what: `a confirmed publish to ${queue} through ${url}` },
    )
  } finally {
    await conn.close().catch(() => {})
  }
  return { nacks }
}

/** Every message in the queue, read and acknowledged through `url`. */
function drain(url: string, queue: string): Promise<string[]> {
  return eventually(
    async () => {
      const conn = quiet(await amqp.connect(url))
      try {
        const ch = await conn.createChannel()
        const got: string[] = []
        for (let m = await ch.get(queue); m; m = await ch.get(queue)) {
          got.push(m.content.toString())
          ch.ack(m)
        }
        await ch.close() // close-ok comes after the broker has taken the acks
        return got
      } finally {
        await conn.close().catch(() => {})
      }
    },
    { timeout: 15_000, interval: 200, what: `${queue} read through ${url}` },
  )
}

describe('rabbitmq, three nodes', () => {
  test('when the leader of a quorum queue is killed -9, then another node elects a new leader and publish/consume works through its URL', async () => {
    const queue = `smoke-kill-${Date.now()}`
    await declareQuorumQueue(rabbit!.urls[0]!, queue)
    await publishConfirmed(rabbit!.urls[0]!, queue, 'before')
    const leader = await eventually(() => rabbit!.leaderOf(queue), { what: `a leader for ${queue}` })
    const victim = rabbit!.nodes.find((n) => n.name === leader)!
    const survivor = rabbit!.nodes.find((n) => n !== victim)!
    const onVictim = await watchConnection(victim.url)
    try {
      await victim.kill9()
      const killed = performance.now()
      note('rabbitmq: a client on the killed node saw', await onVictim.ended)
      const { nacks } = await publishConfirmed(survivor.url, queue, 'after')
      note('rabbitmq: publish confirmed after the leader was killed -9, ms', since(killed))
      note('rabbitmq: nacks before that confirm (each on a new channel)', nacks)
      const newLeader = await eventually(
        async () => {
          const now = await rabbit!.leaderOf(queue)
          return now !== leader && now
        },
        { timeout: 30_000, what: 'a new leader' },
      )
      note('rabbitmq: new leader seen by rabbitmqctl, ms', since(killed))

      expect(newLeader).not.toBe(leader)
      expect(await drain(survivor.url, queue)).toEqual(['before', 'after'])
    } finally {
      const restarted = performance.now()
      await victim.start()
      note('rabbitmq: killed node restarted and back, ms', since(restarted))
    }
  })

  test('when a node is cut off from the other two, then it pauses as the minority while they serve its queue, and it rejoins after heal', async () => {
    await Promise.all(rabbit!.nodes.map((n) => n.start())) // no-op for running nodes
    const cut = rabbit!.nodes[2]!
    const other = rabbit!.nodes[0]!
    const queue = `smoke-partition-${Date.now()}`
    await declareQuorumQueue(cut.url, queue) // its leader starts on the node that is cut off
    await publishConfirmed(cut.url, queue, 'before')
    const onCut = await watchConnection(cut.url)
    try {
      const partitioned = performance.now()
      await cut.partition()
      note('rabbitmq: partition noticed, minority node paused, ms', since(partitioned))
      note('rabbitmq: a client on the paused node saw', await onCut.ended)
      const during = performance.now()
      const { nacks } = await publishConfirmed(other.url, queue, 'during')
      note('rabbitmq: majority confirmed a publish to the cut-off leader\'s queue, ms', since(during))
      note('rabbitmq: nacks before that confirm (each on a new channel)', nacks)
      expect(await rabbit!.leaderOf(queue)).not.toBe(cut.name)
      expect(await drain(other.url, queue)).toEqual(['before', 'during'])
    } finally {
      const healed = performance.now()
      await cut.heal()
      note('rabbitmq: healed, node running in the cluster again, ms', since(healed))
    }
    await publishConfirmed(cut.url, queue, 'after')
    expect(await drain(cut.url, queue)).toEqual(['after'])
  })
})

describe('postgres, primary and standby under patroni', () => {
  test('when the URL says target_session_attrs=read-write and names the standby first, then postgres.js connects to the standby', async () => {
    const primary = await pg!.primary()
    const standby = pg!.hosts.find((h) => h.port !== primary)!.port
    const reversed = pg!.readWriteUrl.replace(`127.0.0.1:${primary},127.0.0.1:${standby}`, `127.0.0.1:${standby},127.0.0.1:${primary}`)
    const readWrite = postgres(reversed, { max: 1, onnotice: () => {} })
    const viaPrimaryAttr = postgres(pg!.url.replace(`127.0.0.1:${primary},127.0.0.1:${standby}`, `127.0.0.1:${standby},127.0.0.1:${primary}`), { max: 1 })
    try {
      expect((await readWrite`select inet_server_port() as port`)[0]!.port).toBe(standby)
      expect((await viaPrimaryAttr`select inet_server_port() as port`)[0]!.port).toBe(primary)
    } finally {
      await Promise.all([readWrite.end(), viaPrimaryAttr.end()])
    }
  })

  test('when the synchronous primary is killed -9, then the standby takes over with every committed row and the same pool writes to it', async () => {
    const sql = postgres(pg!.url, { max: 4, onnotice: () => {} })
    try {
      await sql`create table smoke (id int primary key, note text)`
      await sql`insert into smoke values (1, 'committed before the kill')`
      const inFlight = sql`select pg_sleep(10)`.then(() => 'no error', (e: { code?: string }) => e.code ?? String(e))
      await eventually(async () => (await sql`select 1 from pg_stat_activity where query like 'select pg_sleep(10)%'`).length === 1)

      const old = await pg!.kill9Primary()
      const killed = performance.now()
      const write = sql`insert into smoke values (2, 'written through the failover') returning inet_server_port() as port`
      const { port, ms } = await pg!.waitForNewPrimary(old, 30_000)
      note('postgres sync: new primary writable after kill -9, ms', ms)
      const [written] = await write
      note('postgres sync: existing pool wrote again (query waited, no error), ms', since(killed))
      note('postgres sync: query in flight at the kill failed with', await inFlight)

      expect(port).not.toBe(old)
      expect(written!.port).toBe(port)
      expect((await sql`select id from smoke order by id`).map((r) => r.id)).toEqual([1, 2])
      expect(await inFlight).toBe('CONNECTION_CLOSED')
    } finally {
      await sql.end({ timeout: 1 })
    }
  })

  test('when the asynchronous primary is killed -9, then the standby is promoted and a new pool reaches it through the multi-host URL', async () => {
    await pg!.stopAll()
    pg = await startPostgresCluster({ sync: false })
    note('start: postgres primary + async standby, ms', pg.startedInMs)
    const before = postgres(pg.url, { max: 1, onnotice: () => {} })
    await before`create table smoke (id int primary key)`
    await before`insert into smoke values (1)`
    await before.end()

    const old = await pg.kill9Primary()
    const { port, ms } = await pg.waitForNewPrimary(old, 30_000)
    note('postgres async: new primary writable after kill -9, ms', ms)

    const after = postgres(pg.url, { max: 1, onnotice: () => {} })
    try {
      const [row] = await after`insert into smoke values (2) returning inet_server_port() as port`
      expect(row!.port).toBe(port)
      const ids = (await after`select id from smoke order by id`).map((r) => r.id)
      note('postgres async: rows found after failover (1 was committed before)', ids.join(','))
      expect(ids).toContain(2)
    } finally {
      await after.end()
    }
  })
})

describe('redis with sentinel', () => {
  test('when the master is killed -9, then the sentinel-aware client writes again to the promoted replica', async () => {
    const client = createSentinel({ name: redis!.masterName, sentinelRootNodes: redis!.sentinels })
    client.on('error', () => {}) // the lost master's connections report here
    await client.connect()
    try {
      await client.set('smoke:before', '1')
      expect(await client.wait(1, 2000)).toBe(1) // on the replica too

      const old = await redis!.kill9Master()
      const killed = performance.now()
      await client.set('smoke:after', '1') // waits through the failover
      note('redis: sentinel client wrote again after master kill -9, ms', since(killed))
      const { port, ms } = await redis!.waitForNewMaster(old)
      note('redis: sentinels named the promoted replica, ms', ms)

      expect(port).not.toBe(old)
      expect(await client.get('smoke:before')).toBe('1')
      expect(await client.get('smoke:after')).toBe('1')
    } finally {
      await client.close().catch(() => {})
    }
  })
})

describe('stopping', () => {
  test('when every cluster is stopped, then none of their processes is left', async () => {
    const owned = [rabbit!, pg!, redis!].map((c) => ({ dir: c.dir, ports: c.ports }))
    const stopped = performance.now()
    await Promise.all([rabbit!.stopAll(), pg!.stopAll(), redis!.stopAll()])
    note('stop: all three, ms', since(stopped))

    expect(owned.flatMap(({ dir, ports }) => ownedPids(dir, ports))).toEqual([])
    const ps = execFileSync('ps', ['-eo', 'pid,stat,args'], { encoding: 'utf8' }).split('\n')
    const ours = ps.filter((line) => /shop-clusters|shop-r\d@|127\.0\.0\.1:(639[12]|2639[1-3])\b/.test(line) && !/ Z/.test(line))
    expect(ours).toEqual([])
  })
})
