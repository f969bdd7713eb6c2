import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { isolate, type Isolated } from '@shop/harness'

// the Kubernetes init container's command, run as it would run: migrate, then exit
const root = fileURLToPath(new URL('../../', import.meta.url))
let iso: Isolated
beforeAll(async () => (iso = await isolate('migrate')))
afterAll(() => iso.cleanup())

const migrate = () =>
  spawnSync('bun', ['product/src/migrate.ts'], { cwd: root, encoding: 'utf8', env: { ...process.env, ...iso.env('product', { LOG_LEVEL: 'info' }) } })

describe('bun product/src/migrate.ts', () => {
  it('when run on a new database, then it applies every migration and exits 0; run again, it finds nothing to do', async () => {
    const first = migrate()
    expect(first.status).toBe(0)
    const applied = (await iso.db('product')<{ name: string }[]>`select name from schema_migrations order by name`).map((r) => r.name)
    expect(applied).toEqual(expect.arrayContaining(['000_outbox.sql', '001_init.sql']))
    expect(JSON.parse(first.stdout.trim().split('\n').at(-1)!)).toMatchObject({ msg: 'migrated', applied })
    const again = migrate()
    expect(again.status).toBe(0)
    expect(JSON.parse(again.stdout.trim().split('\n').at(-1)!)).toMatchObject({ msg: 'migrated', applied: [] })
  })
})
