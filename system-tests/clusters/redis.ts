/**
 * Redis 7 with Sentinel on this machine: a master on 127.0.0.1:6391, its replica on 6392, three
 * sentinels on 26391..26393 watching it as "shop" (quorum 2, down-after 1000 ms, failover-timeout
 * 2000 ms), data under <tmp>/shop-clusters/redis. The system Redis on 6379 is not touched.
 * No persistence: a killed master is not restarted, so an empty restart cannot wipe the replica.
 * A kill -9 of the master is followed by a promoted replica in about 2-4 s.
 */
import { mkdirSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from 'redis'
import { eventually } from '@shop/testkit'
import { accepts, baseEnv, killOwned, startDaemon, since, type Daemon } from './daemons.ts'

export type RedisSentinel = {
  sentinels: { host: string; port: number }[]
  masterName: string
  /** the master's port as the sentinels name it */
  master(): Promise<number>
  /** kill -9 of the master; returns its port */
  kill9Master(): Promise<number>
  /** the sentinels name another master and it takes writes; ms counted from kill9Master (else from this call) */
  waitForNewMaster(oldPort: number, timeoutMs?: number): Promise<{ port: number; ms: number }>
  startedInMs: number
  /** what it owns: every process working under dir or listening on ports is this cluster's */
  dir: string
  ports: number[]
  stopAll(opts?: { keepData?: boolean }): Promise<void>
}

export type RedisOptions = { dir?: string; port?: number; sentinelPort?: number; masterName?: string; downAfterMs?: number; timeout?: number }

export async function startRedisSentinel({
  dir = join(tmpdir(), 'shop-clusters', 'redis'),
  port = 6391,
  sentinelPort = 26391,
  masterName = 'shop',
  downAfterMs = 1000,
  timeout = 30_000,
}: RedisOptions = {}): Promise<RedisSentinel> {
  const started = performance.now()
  const servers = [port, port + 1]
  const sentinelPorts = [sentinelPort, sentinelPort + 1, sentinelPort + 2]
  const ports = [...servers, ...sentinelPorts]
  await killOwned(dir, ports)
  rmSync(dir, { recursive: true, force: true })

  const daemons = new Map<number, Daemon>()
  const launch = (name: string, p: number, config: string[], sentinel = false) => {
    const d = join(dir, name)
    mkdirSync(d, { recursive: true })
    const file = join(d, 'redis.conf')
    writeFileSync(file, [`port ${p}`, 'bind 127.0.0.1', `dir ${d}`, 'save ""', 'appendonly no', ...config, ''].join('\n'))
    const args = sentinel ? [file, '--sentinel'] : [file]
    daemons.set(p, startDaemon(name, 'redis-server', args, { dir: d, env: baseEnv({}), logFile: join(d, 'redis.log') }))
  }
  launch('master', port, [])
  launch('replica', port + 1, [`replicaof 127.0.0.1 ${port}`])
  for (const [i, p] of sentinelPorts.entries())
    launch(`sentinel${i + 1}`, p, [
      `sentinel monitor ${masterName} 127.0.0.1 ${port} 2`,
      `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
      `sentinel failover-timeout ${masterName} 2000`,
      `sentinel parallel-syncs ${masterName} 1`,
    ], true)

  const ask = async <T>(p: number, command: string[]): Promise<T> => {
    const client = createClient({ socket: { host: '127.0.0.1', port: p, connectTimeout: 1000, reconnectStrategy: false } })
    client.on('error', () => {})
    await client.connect()
    try {
      return (await client.sendCommand(command)) as T
    } finally {
      client.destroy()
    }
  }
  const master = async () => {
    for (const p of sentinelPorts) {
      const addr = await ask<string[] | null>(p, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName]).catch(() => null)
      if (addr) return Number(addr[1])
    }
    throw new Error('no sentinel answers')
  }
  const isMaster = async (p: number) =>
    (await accepts(p)) && (await ask<string>(p, ['INFO', 'replication']).catch(() => '')).includes('role:master')

  try {
    await eventually(
      async () => {
        for (const [p, d] of daemons) if (!d.alive()) throw new Error(`redis on ${p} exited:\n${d.logTail()}`)
        // every sentinel knows the other two (they meet through the master's hello channel) and the replica is in sync
        for (const p of sentinelPorts) {
          const info = toRecord(await ask<string[]>(p, ['SENTINEL', 'MASTER', masterName]))
          if (info['num-other-sentinels'] !== '2' || info['num-slaves'] !== '1') return false
        }
        return (await ask<string>(port + 1, ['INFO', 'replication'])).includes('master_link_status:up')
      },
      { timeout, interval: 100, what: 'master, replica and three sentinels that know each other' },
    )
  } catch (e) {
    const logs = [...daemons.values()].map((d) => `--- ${d.name} ---\n${d.logTail(10)}`).join('\n')
    await stopAll({ keepData: true })
    throw new Error(`${String(e)}\n${logs}`)
  }

  const kills = new Map<number, number>()
  async function stopAll({ keepData = false } = {}) {
    await Promise.all([...daemons.values()].map((d) => d.kill9()))
    await killOwned(dir, ports)
    if (!keepData) rmSync(dir, { recursive: true, force: true })
  }

  return {
    sentinels: sentinelPorts.map((p) => ({ host: '127.0.0.1', port: p })),
    masterName,
    master,
    async kill9Master() {
      const p = await master()
      kills.set(p, performance.now())
      await daemons.get(p)!.kill9()
      return p
    },
    async waitForNewMaster(oldPort, timeoutMs = 30_000) {
      const from = kills.get(oldPort) ?? performance.now()
      const p = await eventually(
        async () => {
          const now = await master()
          return now !== oldPort && (await isMaster(now)) && now
        },
        { timeout: timeoutMs, interval: 50, what: `a master other than ${oldPort}` },
      )
      return { port: p, ms: since(from) }
    },
    startedInMs: since(started),
    dir,
    ports,
    stopAll,
  }
}

/** SENTINEL MASTER answers a flat [key, value, ...] list (RESP2) or a map (RESP3). */
function toRecord(reply: unknown): Record<string, string> {
  if (!Array.isArray(reply)) return Object.fromEntries(Object.entries(reply as object).map(([k, v]) => [k, String(v)]))
  const record: Record<string, string> = {}
  for (let i = 0; i + 1 < reply.length; i += 2) record[String(reply[i])] = String(reply[i + 1])
  return record
}
