import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { chromiumFor, mintToken } from '@shop/testkit'
import { shopWorld, type ShopWorld } from '../worlds.ts'

// a browser on this machine (CHROMIUM_PATH, the PATH, or Playwright's own); without one the file is skipped and the run says so
const executablePath = await chromiumFor(import.meta.path)
const shots = mkdtempSync(join(tmpdir(), 'swagger-ui-'))
let w: ShopWorld
let browser: Browser
beforeAll(async () => {
  if (!executablePath) return
  ;[w, browser] = await Promise.all([shopWorld(), chromium.launch({ executablePath, args: ['--no-sandbox'] })])
})
afterAll(async () => {
  await browser?.close()
  await w?.stop()
})

/** Opens /docs and keeps what the page complained about and every request that left this machine. */
async function openDocs(base: string) {
  const page = await browser.newPage()
  const consoleErrors: string[] = []
  const offMachine: string[] = []
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()))
  page.on('pageerror', (e) => consoleErrors.push(String(e)))
  page.on('request', (r) => {
    const url = new URL(r.url())
    if (!['data:', 'blob:'].includes(url.protocol) && !['127.0.0.1', 'localhost'].includes(url.hostname)) offMachine.push(r.url())
  })
  await page.goto(`${base}/docs`)
  await page.locator('.opblock').first().waitFor()
  return { page, consoleErrors, offMachine }
}

/** Pastes a token into the Authorize dialog, as `bun run start` tells a newcomer to. */
async function authorize(page: Page, token: string) {
  await page.locator('.auth-wrapper button.authorize').click()
  await page.locator('.modal-ux input[type=text]').fill(token)
  await page.locator('.modal-ux .auth-btn-wrapper button.authorize').click()
  await page.locator('.modal-ux button.btn-done').click()
}

/** Expands an operation, presses Try it out, lets `edit` change the inputs, executes, returns the status shown. */
async function tryItOut(page: Page, operationId: string, tag: string, edit: (op: ReturnType<Page['locator']>) => Promise<void> = async () => {}) {
  const op = page.locator(`#operations-${tag}-${operationId}`)
  await op.locator('.opblock-summary').first().click()
  await op.locator('button.try-out__btn').click()
  await edit(op)
  await op.locator('button.execute').click()
  const status = op.locator('.live-responses-table .response .response-col_status').first()
  await status.waitFor()
  const body = await op.locator('.live-responses-table .response-col_description pre').first().textContent()
  return { status: Number((await status.textContent())!.trim()), body: JSON.parse(body!) }
}

/** Follows the AsyncAPI link in the description (a new tab or the same one) and returns the document. */
async function followAsyncApiLink(page: Page) {
  const link = page.locator('.info a[href="/docs/asyncapi.json"]')
  const [popup] = await Promise.all([page.context().waitForEvent('page', { timeout: 3000 }).catch(() => undefined), link.click()])
  const target = popup ?? page
  await target.waitForLoadState()
  return JSON.parse((await target.locator('body').textContent())!)
}

async function screenshot(page: Page, name: string) {
  const path = join(shots, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  console.error(`[swagger-ui] screenshot: ${path}`)
}

describe.skipIf(!executablePath)('Swagger UI in a real browser', () => {
  it("when product's /docs is used as a newcomer would, then the prefilled POST /products gives 201 and GET /products/{id} 200", async () => {
    const { page, consoleErrors, offMachine } = await openDocs(w.products.base)
    await authorize(page, await mintToken({ sub: 'staff-1', scope: 'products:write orders:read' }))
    const created = await tryItOut(page, 'createProduct', 'products')
    expect(created.status).toBe(201)
    const got = await tryItOut(page, 'getProduct', 'products', (op) => op.locator('input[type=text]').first().fill(created.body.id))
    expect(got).toMatchObject({ status: 200, body: { id: created.body.id, name: created.body.name } })
    await screenshot(page, 'product')
    expect((await followAsyncApiLink(page)).asyncapi).toBe('3.0.0')
    expect(consoleErrors).toEqual([])
    expect(offMachine).toEqual([])
  }, 30_000)

  it("when order's /docs places an order for an existing product, then it shows 201 pending", async () => {
    const p = await w.product(5, '19.99')
    const { page, consoleErrors, offMachine } = await openDocs(w.orders.base)
    await authorize(page, await mintToken({ sub: 'customer-1', scope: 'orders:write' }))
    const placed = await tryItOut(page, 'placeOrder', 'orders', (op) =>
      op.locator('textarea.body-param__text').fill(JSON.stringify({ productId: p.id, qty: 2, price: '19.99' })),
    )
    expect(placed).toMatchObject({ status: 201, body: { productId: p.id, customerId: 'customer-1', status: 'pending', totalPrice: '39.98' } })
    await screenshot(page, 'order')
    expect((await followAsyncApiLink(page)).asyncapi).toBe('3.0.0')
    expect(consoleErrors).toEqual([])
    expect(offMachine).toEqual([])
  }, 30_000)
})
