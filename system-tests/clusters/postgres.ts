/**
 * PostgreSQL 15, a primary and a standby managed by Patroni, with one etcd as the DCS, on this
 * machine: postgres on 127.0.0.1:5441/5442, Patroni's REST API on 8441/8442, etcd on 2441
 * (peer 2442), data under <tmp>/shop-clusters/postgres. The system cluster on 5432 is not touched.
 * Patroni and postgres run as the postgres OS user (postgres refuses root); trust auth on
 * 127.0.0.1, superuser postgres, so the URL needs no password.
 *
 * Failover: a kill -9 of the primary's node (Patroni and every postgres process of it, as a lost
 * machine would) leaves the leader key in etcd to expire after `ttl` (10 s; loop_wait 1,
 * retry_timeout 4), then the standby promotes itself: about 10-11 s here. Killing postgres alone is not
 * a failover, Patroni would just restart it. `sync: true` turns on synchronous_mode (the standby is
 * synchronous, a commit returns once it has the WAL, only it may be promoted); `strict` adds
 * synchronous_mode_strict (writes block while no standby is there, also after the failover).
 *
 * The URL says target_session_attrs=primary, not read-write: postgres.js 3.4.9 decides read-write
 * from default_transaction_read_only alone, which a PostgreSQL 14+ hot standby reports as off, so
 * with read-write it settles on a standby (and every write fails with 25006). With primary it
 * checks in_hot_standby and skips it; queries issued while there is no primary wait, without an
 * error and without a limit, until one is there.
 */
import { mkdirSync, writeFileSync, rmSync, chownSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { eventually } from '@shop/testkit'
import { baseEnv, killOwned, startDaemon, since, type Daemon } from './daemons.ts'
import { startEtcd, etcdHealthy } from './etcd.ts'
import { patroniConfig, isPrimary, member, hasDatabase } from './patroni.ts'

export type PostgresCluster = {
  /** multi-host with target_session_attrs=primary: the primary, whichever node that is (see the top comment) */
  url: string
  /** the same with target_session_attrs=read-write, right for libpq (psql); postgres.js 3.4.9 takes a standby for it */
  readWriteUrl: string
  /** the same URL for a host alone, e.g. to read from the standby */
  urlOf(port: number): string
  hosts: { port: number; restPort: number }[]
  /** the port of the node Patroni calls primary and that is out of recovery (with strict and no standby, writes there still wait) */
  primary(timeoutMs?: number): Promise<number>
  /** kill -9 of the primary's Patroni and postgres; returns the port it had */
  kill9Primary(): Promise<number>
  /** another node is primary (Patroni says so, out of recovery); ms counted from the kill9Primary of oldPort (else from this call) */
  waitForNewPrimary(oldPort: number, timeoutMs?: number): Promise<{ port: number; ms: number }>
  startedInMs: number
  /** what it owns: every process working under dir or listening on ports is this cluster's */
  dir: string
  ports: number[]
  stopAll(opts?: { keepData?: boolean }): Promise<void>
}

export type PostgresOptions = {
  sync: boolean
  strict?: boolean
  dir?: string
  port?: number
  ttl?: number
  timeout?: number
  database?: string
}

export async function startPostgresCluster({
  sync,
  strict = false,
  dir = join(tmpdir(), 'shop-clusters', 'postgres'),
  port = 5441,
  ttl = 10,
  timeout = 60_000,
  database = 'shop',
}: PostgresOptions): Promise<PostgresCluster> {
  const started = performance.now()
  const hosts = [0, 1].map((i) => ({ name: `pg${i + 1}`, port: port + i, restPort: port + 3000 + i, dir: join(dir, `pg${i + 1}`) }))
  const etcd = { client: port - 3000, peer: port - 2999, dir: join(dir, 'etcd') }
  const ports = [etcd.client, etcd.peer, ...hosts.flatMap((h) => [h.port, h.restPort])]
  await killOwned(dir, ports)
  rmSync(dir, { recursive: true, force: true })
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString())
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString())
  for (const d of [etcd.dir, ...hosts.map((h) => h.dir)]) mkdirSync(d, { recursive: true })

  const daemons: Daemon[] = []
  daemons.push(startEtcd(etcd))

  const nodes = hosts.map((h) => {
    const config = patroniConfig({ ...h, etcd: `127.0.0.1:${etcd.client}`, sync, strict, ttl })
    const file = join(h.dir, 'patroni.yml')
    writeFileSync(file, JSON.stringify(config, null, 2)) // YAML is a superset of JSON
    chownSync(h.dir, uid, gid)
    chownSync(file, uid, gid)
    const env = baseEnv({ HOME: h.dir, USER: 'postgres' })
    return { ...h, daemon: startDaemon(h.name, 'patroni', [file], { dir: h.dir, env, logFile: join(h.dir, 'patroni.log'), uid, gid }) }
  })
  daemons.push(...nodes.map((n) => n.daemon))

  const primary = (timeoutMs = 15_000) =>
    eventually(
      async () => {
        for (const h of hosts) if (await isPrimary(h)) return h.port
        return undefined
      },
      { timeout: timeoutMs, interval: 100, what: 'a primary' },
    )
  const kills = new Map<number, number>()

  const multiHost = `postgres://postgres@${hosts.map((h) => `127.0.0.1:${h.port}`).join(',')}/${database}`
  try {
    await eventually(() => etcdHealthy(etcd.client), { timeout: 10_000, what: 'etcd healthy' })
    const first = await primary(timeout)
    const admin = postgres(`postgres://postgres@127.0.0.1:${first}/postgres`, { max: 1, onnotice: () => {} })
    await admin.unsafe(`create database "${database}"`).finally(() => admin.end())
    const standby = hosts.find((h) => h.port !== first)!
    await eventually(
      async () => {
        for (const n of nodes) if (!n.daemon.alive()) throw new Error(`${n.name} exited:\n${n.daemon.logTail()}`)
        const seen = await member(standby.restPort, standby.port)
        return seen?.state === 'running' && (!sync || seen.role === 'sync_standby') && (await hasDatabase(standby.port, database))
      },
      { timeout, interval: 100, what: `a ${sync ? 'synchronous' : 'streaming'} standby with database ${database}` },
    )
  } catch (e) {
    const logs = daemons.map((d) => `--- ${d.name} ---\n${d.logTail(15)}`).join('\n')
    await stopAll({ keepData: true })
    throw new Error(`${String(e)}\n${logs}`)
  }

  async function stopAll({ keepData = false } = {}) {
    await Promise.all(daemons.map((d) => d.kill9()))
    await killOwned(dir, ports)
    if (!keepData) rmSync(dir, { recursive: true, force: true })
  }

  return {
    url: `${multiHost}?target_session_attrs=primary`,
    readWriteUrl: `${multiHost}?target_session_attrs=read-write`,
    urlOf: (p) => `postgres://postgres@127.0.0.1:${p}/${database}`,
    hosts: hosts.map(({ port, restPort }) => ({ port, restPort })),
    primary,
    async kill9Primary() {
      const p = await primary()
      kills.set(p, performance.now())
      await nodes.find((n) => n.port === p)!.daemon.kill9()
      return p
    },
    async waitForNewPrimary(oldPort, timeoutMs = 30_000) {
      const from = kills.get(oldPort) ?? performance.now()
      const others = hosts.filter((h) => h.port !== oldPort)
      const p = await eventually(
        async () => {
          for (const h of others) if (await isPrimary(h)) return h.port
          return undefined
        },
        { timeout: timeoutMs, interval: 100, what: `a primary other than ${oldPort}` },
      )
      return { port: p, ms: since(from) }
    },
    startedInMs: since(started),
    dir,
    ports,
    stopAll,
  }
}
