import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import postgres from 'postgres'

export type Sql = postgres.Sql
export type Tx = postgres.TransactionSql

/** PostgreSQL said a unique key was already taken (SQLSTATE 23505). */
export const isUniqueViolation = (err: unknown) => (err as { code?: string } | undefined)?.code === '23505'

export function connectDb(url: string, max = 10): Sql {
  return postgres(url, { max, onnotice: () => {}, transform: postgres.camel, connect_timeout: 5 })
}

const kitMigrations = new URL('./migrations/', import.meta.url)

/**
 * Applies every `*.sql` file not applied yet, kit's first, then the service's, in name order,
 * in one transaction under an advisory lock: replicas starting together migrate once.
 */
export async function migrate(sql: Sql, serviceMigrations: URL): Promise<string[]> {
  const files = [kitMigrations, serviceMigrations].flatMap((dir) => {
    const path = fileURLToPath(dir)
    return readdirSync(path)
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((name) => ({ name, path: join(path, name) }))
  })
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('shop.migrations'))`
    await tx`create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())`
    const done = new Set((await tx<{ name: string }[]>`select name from schema_migrations`).map((r) => r.name))
    const applied: string[] = []
    for (const file of files) {
      if (done.has(file.name)) continue
      await tx.unsafe(readFileSync(file.path, 'utf8'))
      await tx`insert into schema_migrations (name) values (${file.name})`
      applied.push(file.name)
    }
    return applied
  })
}

/** Creates the service's database when it is missing, so a fresh server needs no manual step. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.slice(1))
  if (!name) return
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {}, connect_timeout: 5 })
  try {
    const [found] = await sql`select 1 from pg_database where datname = ${name}`
    if (!found) await sql.unsafe(`create database "${name.replaceAll('"', '""')}"`).catch((err) => {
      if (err?.code !== '42P04') throw err // created meanwhile by a replica
    })
  } finally {
    await sql.end()
  }
}

/** A service's database, created when missing and migrated, behind a pool of `max` connections. */
export async function openMigrated(url: string, max: number, migrations: URL) {
  await ensureDatabase(url)
  const sql = connectDb(url, max)
  return { sql, applied: await migrate(sql, migrations) }
}
