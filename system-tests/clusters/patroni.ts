/**
 * A Patroni node as the PostgreSQL cluster needs it: its configuration (written as JSON, which
 * YAML reads) and the questions the cluster asks of it.
 */
import { join } from 'node:path'
import postgres from 'postgres'
import { accepts } from './daemons.ts'

const BIN_DIR = '/usr/lib/postgresql/15/bin'

export type Member = { name: string; role: string; state: string; port: number }

export async function hasDatabase(port: number, database: string): Promise<boolean> {
  const sql = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, connect_timeout: 2, onnotice: () => {} })
  try {
    return (await sql`select 1 from pg_database where datname = ${database}`).length === 1
  } catch {
    return false
  } finally {
    await sql.end({ timeout: 1 })
  }
}

/** Whether postgres on `port` answers and is out of recovery. */
export async function writable(port: number): Promise<boolean> {
  if (!(await accepts(port))) return false
  const sql = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, connect_timeout: 2, idle_timeout: 1, onnotice: () => {} })
  try {
    const [row] = await sql`select pg_is_in_recovery() as recovering`
    return row?.recovering === false
  } catch {
    return false
  } finally {
    await sql.end({ timeout: 1 })
  }
}

export function patroniConfig(o: { name: string; port: number; restPort: number; dir: string; etcd: string; sync: boolean; strict: boolean; ttl: number }) {
  const loopWait = 1
  return {
    scope: 'shop',
    namespace: '/shop-clusters/',
    name: o.name,
    log: { level: 'INFO' },
    restapi: { listen: `127.0.0.1:${o.restPort}`, connect_address: `127.0.0.1:${o.restPort}` },
    etcd3: { hosts: [o.etcd] },
    bootstrap: {
      dcs: {
        ttl: o.ttl,
        loop_wait: loopWait,
        retry_timeout: Math.floor((o.ttl - loopWait) / 2), // Patroni wants loop_wait + 2 * retry_timeout <= ttl
        maximum_lag_on_failover: 16 * 1024 * 1024,
        synchronous_mode: o.sync,
        synchronous_mode_strict: o.strict,
        postgresql: {
          use_pg_rewind: true,
          parameters: {
            wal_keep_size: '64MB',
            max_wal_senders: 5,
            max_replication_slots: 5,
            wal_log_hints: 'on',
            // a standby that asked before the leader made its slot asks again soon, not in 5 s
            wal_retrieve_retry_interval: '500ms',
          },
        },
      },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C.UTF-8' }, 'no-sync'],
    },
    postgresql: {
      listen: `127.0.0.1:${o.port}`,
      connect_address: `127.0.0.1:${o.port}`,
      data_dir: join(o.dir, 'data'),
      bin_dir: BIN_DIR,
      pgpass: join(o.dir, 'pgpass'),
      authentication: {
        superuser: { username: 'postgres' },
        replication: { username: 'replicator' },
        rewind: { username: 'postgres' },
      },
      parameters: { unix_socket_directories: o.dir },
      pg_hba: ['local all all trust', 'host all all 127.0.0.1/32 trust', 'host replication all 127.0.0.1/32 trust'],
      basebackup: [{ checkpoint: 'fast' }],
    },
  }
}

/** Patroni calls the node primary and postgres on it is out of recovery. */
export async function isPrimary(h: { port: number; restPort: number }): Promise<boolean> {
  const answer = await fetch(`http://127.0.0.1:${h.restPort}/primary`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined)
  return answer?.status === 200 && (await writable(h.port))
}

/** How Patroni (asked on `restPort`) sees the member on `port`. */
export async function member(restPort: number, port: number): Promise<Member | undefined> {
  const cluster = (await (await fetch(`http://127.0.0.1:${restPort}/cluster`, { signal: AbortSignal.timeout(1000) })).json()) as { members: Member[] }
  return cluster.members.find((m) => m.port === port)
}
