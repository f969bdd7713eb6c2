import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { appendFileSync, cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { migrate } from '@shop/kit/data'
import { isolate, type Isolated } from '@shop/testkit'

// the Kubernetes init container's command, run as it would run: migrate, then exit
const root = fileURLToPath(new URL('../../', import.meta.url))
const productMigrations = fileURLToPath(new URL('../migrations/', import.meta.url))
const kitMigrations = fileURLToPath(new URL('../../kit/data/migrations/', import.meta.url))
let iso: Isolated
beforeAll(async () => (iso = await isolate('migrate')))

// every other case gets a database of its own and a copy of the migrations to edit, so the real
// files stay as they are and the cases can run in any order
const leftovers: Array<() => unknown> = []
afterAll(async () => {
  await iso.cleanup()
  for (const cleanup of leftovers) await cleanup()
})
async function freshDatabase(label: string) {
  const own = await isolate(label)
  leftovers.push(() => own.cleanup())
  return own
}
function copyOfProductMigrations() {
  const dir = mkdtempSync(join(tmpdir(), 'product-migrations-'))
  leftovers.push(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(productMigrations, dir, { recursive: true })
  return dir
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')
const lastLine = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!)

const migrate_ts = (own: Isolated) =>
  spawnSync('bun', ['product/src/migrate.ts'], { cwd: root, encoding: 'utf8', env: { ...process.env, ...own.env('product', { LOG_LEVEL: 'info' }) } })

// the same start as migrate.ts (migrateOnly, failedToStart and all) but with a folder of migrations
// the case arranged; run from product/ so that @shop/kit resolves as it does for the service
const startWith = (own: Isolated, dir: string) =>
  spawnSync(
    'bun',
    ['-e', `import { migrateOnly } from '@shop/kit'; await migrateOnly('product', { databaseUrl: process.env.DATABASE_URL!, logLevel: 'info' }, new URL(${JSON.stringify(pathToFileURL(`${dir}/`).href)}))`],
    { cwd: join(root, 'product'), encoding: 'utf8', env: { ...process.env, ...own.env('product', { LOG_LEVEL: 'info' }) } },
  )

/** What a start that refused said: it must have exited 1 with one line on stderr and nothing on stdout. */
function refusal(run: ReturnType<typeof startWith>): string {
  expect(run.status).toBe(1)
  expect(run.stdout.trim()).toBe('')
  const lines = run.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  const line = JSON.parse(lines[0]!)
  expect(line).toMatchObject({ level: 'error', msg: 'failed to start' })
  return line.err
}

const names = async (own: Isolated) =>
  (await own.db('product')<{ name: string }[]>`select name from schema_migrations order by name`).map((r) => r.name)
const exists = async (own: Isolated, relation: string) =>
  (await own.db('product')<{ found: string | null }[]>`select to_regclass(${relation})::text as found`)[0]!.found !== null

describe('bun product/src/migrate.ts', () => {
  it('when run on a new database, then it applies every migration and exits 0; run again, it finds nothing to do', async () => {
    const first = migrate_ts(iso)
    expect(first.status).toBe(0)
    const applied = await names(iso)
    expect(applied).toEqual(expect.arrayContaining(['000_outbox.sql', '001_init.sql']))
    expect(lastLine(first.stdout)).toMatchObject({ msg: 'migrated', applied })
    const again = migrate_ts(iso)
    expect(again.status).toBe(0)
    expect(lastLine(again.stdout)).toMatchObject({ msg: 'migrated', applied: [] })
  })

  it('when two processes migrate a new database together, then each migration is applied once and recorded with the sha256 of its file', async () => {
    const own = await freshDatabase('migtwice')
    const env = { ...process.env, ...own.env('product', { LOG_LEVEL: 'info' }) }
    const both = [1, 2].map(() => Bun.spawn(['bun', 'product/src/migrate.ts'], { cwd: root, env, stdout: 'pipe', stderr: 'pipe' }))
    expect(await Promise.all(both.map((p) => p.exited))).toEqual([0, 0])
    const applied = (await Promise.all(both.map(async (p) => lastLine(await new Response(p.stdout).text()).applied as string[]))).flat()

    const recorded = await own.db('product')<{ name: string; checksum: string }[]>`select name, checksum from schema_migrations order by name`
    expect(applied.sort()).toEqual(recorded.map((r) => r.name)) // every one by one process, none twice
    for (const { name, checksum } of recorded)
      expect(checksum).toBe(sha256(join(name === '000_outbox.sql' ? kitMigrations : productMigrations, name)))
  })

  it('when a migration file is edited after it was applied, then the start fails with one line naming it and both checksums, and nothing is applied', async () => {
    const own = await freshDatabase('migedited')
    const dir = copyOfProductMigrations()
    await migrate(own.db('product'), pathToFileURL(`${dir}/`))
    const before = await names(own)
    const was = sha256(join(dir, '002_version.sql'))
    appendFileSync(join(dir, '002_version.sql'), '\nalter table products add column if not exists colour text;\n')
    writeFileSync(join(dir, '003_later.sql'), 'create table later (id integer);\n')

    expect(refusal(startWith(own, dir))).toBe(
      `Error: migration 002_version.sql was applied with checksum ${was.slice(0, 12)}… but the file now has ${sha256(join(dir, '002_version.sql')).slice(0, 12)}…: migrations are never edited after they are applied; add a new one`,
    )
    expect(await names(own)).toEqual(before)
    expect(await exists(own, 'later')).toBe(false)
    expect(await own.db('product')`select 1 from information_schema.columns where table_name = 'products' and column_name = 'colour'`).toHaveLength(0)
  })

  it('when an applied migration file is missing (renamed), then the start fails with one line naming it, and nothing is applied, the renamed copy included', async () => {
    const own = await freshDatabase('migmissing')
    const dir = copyOfProductMigrations()
    await migrate(own.db('product'), pathToFileURL(`${dir}/`))
    const before = await names(own)
    renameSync(join(dir, '002_version.sql'), join(dir, '002_product_version.sql'))
    writeFileSync(join(dir, '003_later.sql'), 'create table later (id integer);\n')

    expect(refusal(startWith(own, dir))).toBe(
      `Error: migration 002_version.sql was applied but its file is missing from ${kitMigrations} and ${dir}/: applied migrations are never deleted or renamed; put it back`,
    )
    expect(await names(own)).toEqual(before)
    expect(await exists(own, 'later')).toBe(false)
  })

  it('when the database holds a migration newer than every file (a rollback to the release before), then the start goes on and says so', async () => {
    const own = await freshDatabase('migahead')
    const dir = copyOfProductMigrations()
    await migrate(own.db('product'), pathToFileURL(`${dir}/`))
    await own.db('product')`insert into schema_migrations (name, checksum) values ('999_from_the_next_release.sql', 'x')`

    const run = startWith(own, dir)
    expect(run.status).toBe(0)
    const warning = run.stderr.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.level === 'warn')
    expect(warning).toMatchObject({ ahead: ['999_from_the_next_release.sql'] })
    expect(lastLine(run.stdout)).toMatchObject({ msg: 'migrated', applied: [] })
  })

  it('when the kit and the service hold a migration of the same name, then the start is refused with one line naming both folders, before anything is applied', async () => {
    const own = await freshDatabase('migshadow')
    const dir = copyOfProductMigrations()
    writeFileSync(join(dir, '000_outbox.sql'), 'create table service_outbox (id integer);\n')

    expect(refusal(startWith(own, dir))).toBe(
      `Error: migration 000_outbox.sql is in both ${kitMigrations} and ${dir}/: kit and service migrations are recorded by name, so one would pass for the other; rename the one added last (the other one shadowed it, so it has not been applied)`,
    )
    for (const relation of ['schema_migrations', 'outbox', 'service_outbox', 'products']) expect(await exists(own, relation)).toBe(false)
  })

  it('when a database recorded before checksums is migrated, then each row gets its file checksum once and only the new migration is applied', async () => {
    const own = await freshDatabase('migupgrade')
    const db = own.db('product')
    // what the release before checksums left: 000 and 001 applied, their names recorded, nothing else
    await db.begin(async (tx) => {
      await tx`create table schema_migrations (name text primary key, applied_at timestamptz not null default now())`
      for (const file of [join(kitMigrations, '000_outbox.sql'), join(productMigrations, '001_init.sql')]) {
        await tx.unsafe(readFileSync(file, 'utf8'))
        await tx`insert into schema_migrations (name) values (${file.split('/').at(-1)!})`
      }
    })
    const appliedAt = await db<{ name: string; appliedAt: Date }[]>`select name, applied_at from schema_migrations order by name`

    expect(await migrate(db, pathToFileURL(productMigrations))).toEqual(['002_version.sql'])
    const expected = [
      { name: '000_outbox.sql', checksum: sha256(join(kitMigrations, '000_outbox.sql')) },
      { name: '001_init.sql', checksum: sha256(join(productMigrations, '001_init.sql')) },
      { name: '002_version.sql', checksum: sha256(join(productMigrations, '002_version.sql')) },
    ]
    expect([...(await db`select name, checksum from schema_migrations order by name`)]).toEqual(expected)
    expect(await db`select name, applied_at from schema_migrations where name in ('000_outbox.sql', '001_init.sql') order by name`).toEqual(appliedAt)

    expect(await migrate(db, pathToFileURL(productMigrations))).toEqual([])
    expect([...(await db`select name, checksum from schema_migrations order by name`)]).toEqual(expected)
  })
})
