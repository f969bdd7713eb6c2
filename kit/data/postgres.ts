/**
 * PostgreSQL through porsager/postgres: pools whose sessions have statement and lock timeouts,
 * the database created when missing, and migrations: plain SQL files applied once under an
 * advisory lock and recorded with their checksums. A migration library would bring its own CLI
 * and table for what takes a page here.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import postgres from 'postgres'

export type Sql = postgres.Sql
export type Tx = postgres.TransactionSql

/** PostgreSQL said a unique key was already taken (SQLSTATE 23505). */
export const isUniqueViolation = (err: unknown) => (err as { code?: string } | undefined)?.code === '23505'

export type DbTimeouts = { statementMs: number; lockMs: number }

/**
 * A pool whose every session has a `statement_timeout` and a `lock_timeout` (sent as startup
 * parameters, so they hold from the first query): a statement stuck behind a lock or a slow
 * disk fails after a bound with 57014 or 55P03, both transient errors that are retried, instead of
 * holding a connection, a message or a request for ever.
 */
export function connectDb(url: string, max = 10, timeouts?: DbTimeouts): Sql {
  const connection = timeouts ? { statement_timeout: timeouts.statementMs, lock_timeout: timeouts.lockMs } : {}
  return postgres(url, { max, onnotice: () => {}, transform: postgres.camel, connect_timeout: 5, connection })
}

const kitMigrations = new URL('./migrations/', import.meta.url)

type MigrationFile = { name: string; folder: string; sql: string; checksum: string }
type AppliedMigration = { name: string; checksum: string | null }

/** The `*.sql` files of a folder in name order, each with the sha256 of its bytes as they are on disk. */
function readMigrations(dir: URL): MigrationFile[] {
  const folder = fileURLToPath(dir)
  return readdirSync(folder)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(folder, name))
      return { name, folder, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') }
    })
}

/**
 * Kit and service migrations share one record, keyed by the bare file name (`001_init.sql`), so a
 * name in both folders would let one pass for the other: the second would count as applied and
 * never run. Refusing such a pair keeps the names databases already hold valid as they are, so
 * upgrading needs no renaming of rows (prefixing names with `kit/` and `service/` was the other
 * choice; it needs a mapping of every existing row and cannot tell which of two same-named files
 * an old row meant).
 */
function refuseShadowing(kit: MigrationFile[], service: MigrationFile[]): void {
  const kitNames = new Set(kit.map((f) => f.name))
  const clash = service.find((f) => kitNames.has(f.name))
  if (clash)
    throw new Error(
      `migration ${clash.name} is in both ${fileURLToPath(kitMigrations)} and ${clash.folder}: kit and service migrations are recorded by name, so one would pass for the other; rename the one added last (the other one shadowed it, so it has not been applied)`,
    )
}

const short = (checksum: string) => `${checksum.slice(0, 12)}…`

/**
 * The first way the applied record and the files disagree, as one line, or undefined when they
 * agree. A recorded name after every file is not drift: the database is ahead of this release,
 * as it is during a rollback (`kubectl rollout undo`) or while old pods still run beside new ones,
 * and the old release must keep starting; migrations only ever add, so its code still works.
 */
function driftOf(files: MigrationFile[], applied: AppliedMigration[], folders: string[]): string | undefined {
  const byName = new Map(files.map((f) => [f.name, f]))
  const newest = files.map((f) => f.name).sort().at(-1) ?? ''
  const problems = applied.flatMap(({ name, checksum }) => {
    const file = byName.get(name)
    if (!file && name > newest) return []
    if (!file)
      return [`migration ${name} was applied but its file is missing from ${folders.join(' and ')}: applied migrations are never deleted or renamed; put it back`]
    if (checksum !== null && checksum !== file.checksum)
      return [`migration ${name} was applied with checksum ${short(checksum)} but the file now has ${short(file.checksum)}: migrations are never edited after they are applied; add a new one`]
    return []
  })
  if (problems.length) return problems.length > 1 ? `${problems[0]} (and ${problems.length - 1} more)` : problems[0]
}

/**
 * Applies every `*.sql` file not applied yet, kit's first, then the service's, in name order,
 * in one transaction under an advisory lock: replicas starting together migrate once. Each is
 * recorded with the sha256 of its file; a recorded file that was edited or removed since stops
 * the start with one line saying so, and nothing is applied (the transaction rolls back).
 */
export async function migrate(sql: Sql, serviceMigrations: URL): Promise<string[]> {
  return (await migrateAndTell(sql, serviceMigrations)).applied
}

/** `migrate`, also naming the applied migrations this release does not know (the database is ahead). */
export async function migrateAndTell(sql: Sql, serviceMigrations: URL): Promise<{ applied: string[]; ahead: string[] }> {
  const kit = readMigrations(kitMigrations)
  const service = readMigrations(serviceMigrations)
  refuseShadowing(kit, service)
  const files = [...kit, ...service]
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('shop.migrations'))`
    await tx`create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())`
    // The upgrade path for databases migrated before checksums were recorded: their rows get the
    // column with nulls, and each null is filled once from the file as it is now (what was
    // applied then cannot be known; from here on, any edit is caught).
    await tx`alter table schema_migrations add column if not exists checksum text`
    const recorded = await tx<AppliedMigration[]>`select name, checksum from schema_migrations order by name`
    for (const row of recorded) {
      const file = files.find((f) => f.name === row.name)
      if (row.checksum !== null || !file) continue
      await tx`update schema_migrations set checksum = ${file.checksum} where name = ${row.name}`
      row.checksum = file.checksum
    }
    const drift = driftOf(files, recorded, [kitMigrations, serviceMigrations].map((dir) => fileURLToPath(dir)))
    if (drift) throw new Error(drift)
    const done = new Set(recorded.map((r) => r.name))
    const applied: string[] = []
    for (const file of files) {
      if (done.has(file.name)) continue
      await tx.unsafe(file.sql)
      await tx`insert into schema_migrations (name, checksum) values (${file.name}, ${file.checksum})`
      applied.push(file.name)
    }
    const known = new Set(files.map((f) => f.name))
    return { applied, ahead: recorded.map((r) => r.name).filter((name) => !known.has(name)) }
  })
}

/**
 * A URL's database and the same URL naming another, taken apart as a string: `new URL` cannot
 * parse a multi-host URL (`postgres://u@h1:5432,h2:5432/db?target_session_attrs=primary`).
 */
const URL_PARTS = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(?:\/([^?#]*))?(.*)$/i
const databaseIn = (url: string) => decodeURIComponent(URL_PARTS.exec(url)?.[2] ?? '')
const withDatabase = (url: string, name: string) => url.replace(URL_PARTS, (_, server: string, _db, rest: string) => `${server}/${encodeURIComponent(name)}${rest}`)

/**
 * Creates the service's database when it is missing, so a fresh server needs no manual step.
 * Asked through the same URL (every host, the same target_session_attrs), so it is created on
 * the primary.
 */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseIn(url)
  if (!name) return
  const sql = postgres(withDatabase(url, 'postgres'), { max: 1, onnotice: () => {}, connect_timeout: 5 })
  try {
    const [found] = await sql`select 1 from pg_database where datname = ${name}`
    if (!found) await sql.unsafe(`create database "${name.replaceAll('"', '""')}"`).catch((err) => {
      if (err?.code !== '42P04') throw err // created meanwhile by a replica
    })
  } finally {
    await sql.end()
  }
}

/** A service's database, created when missing and migrated, behind a pool of `poolMax` connections. */
export async function openMigrated({ url, poolMax, migrations, timeouts }: { url: string; poolMax: number; migrations: URL; timeouts?: DbTimeouts }) {
  await ensureDatabase(url)
  // migrations run on a session of their own without the timeouts: building an index on a big
  // table may take long, and replicas starting together wait on the advisory lock
  const migrator = connectDb(url, 1)
  try {
    const { applied, ahead } = await migrateAndTell(migrator, migrations)
    return { sql: connectDb(url, poolMax, timeouts), applied, ahead }
  } finally {
    await migrator.end({ timeout: 5 })
  }
}
