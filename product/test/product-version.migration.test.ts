import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, copyFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { migrate } from '@shop/kit/data'
import { isolate, type Isolated } from '@shop/testkit'

// a database as the service left it before versions (001 only), with a product in it
const migrations = new URL('../migrations/', import.meta.url)
let iso: Isolated
let before: string
beforeAll(async () => {
  iso = await isolate('version')
  before = mkdtempSync(join(tmpdir(), 'product-001-'))
  copyFileSync(join(fileURLToPath(migrations), '001_init.sql'), join(before, '001_init.sql'))
})
afterAll(async () => {
  rmSync(before, { recursive: true, force: true })
  await iso.cleanup()
})

describe('migration 002_version.sql', () => {
  it('when products from before it are migrated, then each has version 1; run again, it changes nothing', async () => {
    const db = iso.db('product')
    await migrate(db, pathToFileURL(`${before}/`))
    const id = crypto.randomUUID()
    await db`insert into products (id, name, price, qty) values (${id}, 'old', 1.00, 4)`

    expect(await migrate(db, migrations)).toEqual(['002_version.sql'])
    expect((await db`select version from products where id = ${id}`)[0]).toEqual({ version: 1 })

    await db.unsafe(await Bun.file(new URL('002_version.sql', migrations)).text()) // idempotent by itself too
    expect((await db`select version from products where id = ${id}`)[0]).toEqual({ version: 1 })
  })
})
