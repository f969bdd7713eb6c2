import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { chromium, type Browser, type Locator, type Page, type Route } from 'playwright-core'
import type { OrderTimeline } from '@shop/contracts'
import { chromiumFor, eventually, mintToken } from '@shop/testkit'
import { buildStorefront, distDir, storefrontWorld, type StorefrontWorld } from './world.ts'

// The storefront as a person uses it, in Debian's Chromium, against the real services behind the
// real bff: staff makes a product, a customer orders and watches it settle live, cancels, meets
// the errors; order goes away and comes back. Each step leaves a screenshot in ./screenshots/.
// Without a browser on this machine the file is skipped and the run says so.
const executablePath = await chromiumFor(import.meta.path)
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-extensions', '--no-first-run']
const shots = join(import.meta.dir, 'screenshots')
mkdirSync(shots, { recursive: true })

let w: StorefrontWorld
let browser: Browser
let page: Page
const pageErrors: string[] = []
const offMachine: string[] = []
const ordersPosted: string[] = []
const staffToken = mintToken({ sub: 'staff-1', scope: 'products:write orders:read' })
const customerToken = mintToken({ sub: 'customer-1', scope: 'orders:write' })
const state = { productId: '', firstOrderId: '' }

beforeAll(async () => {
  if (!executablePath) return
  console.error(`[storefront] ${buildStorefront().trim().split('\n').at(-1)}`)
  ;[w, browser] = await Promise.all([storefrontWorld(), chromium.launch({ executablePath, args })])
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
  page.on('pageerror', (e) => pageErrors.push(String(e)))
  // the browser logs each failed load itself ("Failed to load resource"): only the page's own errors count
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && pageErrors.push(m.text()))
  page.on('request', (r) => {
    const url = new URL(r.url())
    if (!['data:', 'blob:'].includes(url.protocol) && !['127.0.0.1', 'localhost'].includes(url.hostname)) offMachine.push(r.url())
    if (r.method() === 'POST' && url.pathname === '/orders') ordersPosted.push(r.headers()['idempotency-key'] ?? '')
  })
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await w?.stop()
})

async function screenshot(name: string) {
  const path = join(shots, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  console.error(`[storefront] screenshot: ${path}`)
}

const productLine = (id = state.productId) => page.locator(`li.product[data-product-id="${id}"]`)
const orderCard = (id: string) => page.locator(`li.order[data-order-id="${id}"]`)
const stockShown = async (id = state.productId) => Number(await productLine(id).locator('.stock').getAttribute('data-qty'))

/** Types a quantity into a product's form and presses Order; returns the order the page placed and the trace it began. */
async function order(qty: number, id = state.productId, press: (button: Locator) => Promise<void> = (b) => b.click()) {
  const line = productLine(id)
  await line.getByLabel('Quantity').fill(String(qty))
  const placed = page.waitForResponse((r) => new URL(r.url()).pathname === '/orders' && r.request().method() === 'POST')
  await press(line.getByRole('button', { name: 'Order' }))
  const res = await placed
  return { ...((await res.json()) as { id: string; status: string }), traceparent: res.request().headers()['traceparent'] ?? '' }
}

/** Staff fills the New product form; returns the new product's id once the list shows it. */
async function createProduct(name: string, price: string, qty: number) {
  const form = page.locator('#create-product')
  await form.getByLabel('Name').fill(name)
  await form.getByLabel('Price').fill(price)
  await form.getByLabel('Stock').fill(String(qty))
  await form.getByRole('button', { name: 'Create product' }).click()
  const line = page.locator('li.product', { has: page.getByRole('heading', { name, exact: true }) })
  await line.waitFor({ timeout: 5000 })
  return (await line.getAttribute('data-product-id'))!
}

const waitForStatus = (id: string, status: string, timeout: number) =>
  page.waitForFunction(([id, status]) => document.querySelector(`li.order[data-order-id="${id}"]`)?.getAttribute('data-status') === status, [id, status], { timeout })
/** The kinds of the steps order recorded, read as staff through the bff. */
const timelineOf = async (id: string) => {
  const res = await fetch(`${w.url}/orders/${id}/timeline`, { headers: { authorization: `Bearer ${await staffToken}` } })
  return ((await res.json()) as OrderTimeline).steps.map((s) => s.kind)
}
const stepsOf = (id: string) => orderCard(id).locator('.timeline li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-kind')))
/**
 * The steps the card shows once it shows `count` of them (or after 5 s): polling, the page reads
 * an order and its timeline in two requests, so its status may show a moment before its steps.
 */
const stepsShown = async (id: string, count: number) => {
  await page
    .waitForFunction(([id, count]) => document.querySelectorAll(`li.order[data-order-id="${id}"] .timeline li`).length >= count, [id, count] as const, { timeout: 5000 })
    .catch(() => {}) // the assertion that follows says what is missing
  return stepsOf(id)
}

describe.skipIf(!executablePath)('the storefront in a real browser', () => {
  it('when the page opens from a link with tokens, then it keeps them in this tab and takes them off the address bar', async () => {
    await page.goto(`${w.url}/#customer=${await customerToken}&staff=${await staffToken}`)
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true')
    expect(new URL(page.url()).hash).toBe('')
    const kept = await page.evaluate(() => [sessionStorage.getItem('shop.token.customer'), sessionStorage.getItem('shop.token.staff')])
    expect(kept).toEqual([await customerToken, await staffToken])
    expect(await page.locator('#who').textContent()).toContain('customer-1 (orders:write)')
    await screenshot('01-opened')
  })

  it('when staff creates a product, then the list shows it with its price and stock', async () => {
    state.productId = await createProduct(`Coffee beans ${crypto.randomUUID().slice(0, 6)}`, '19.99', 10)
    await expect(productLine().locator('.price').textContent()).resolves.toBe('19.99')
    expect(await stockShown()).toBe(10)
    expect(await page.locator('#create-message').textContent()).toContain('Created')
    await screenshot('02-product-created')
  })

  it('when a customer orders, then within 2 s the page shows it confirmed, with its steps as they happened', async () => {
    const placed = await order(2)
    state.firstOrderId = placed.id
    expect(placed.status).toBe('pending')
    // the deadline counts from the answer to the click: the order is then pending, the rest is live
    await page.waitForFunction(
      (id) => {
        const card = document.querySelector(`li.order[data-order-id="${id}"]`)
        return card?.getAttribute('data-status') === 'confirmed' && card.querySelectorAll('.timeline li').length >= 4
      },
      placed.id,
      { timeout: 2000 },
    )
    expect(await stepsShown(placed.id, 4)).toEqual(['accepted', 'published', 'stock.reserved', 'confirmed'])
    // the trace the page began with its traceparent is the one order recorded
    expect(await orderCard(placed.id).locator('.about').textContent()).toBe(`Trace ${placed.traceparent.split('-')[1]}`)
    await eventually(async () => (await stockShown()) === 8, { timeout: 5000, what: 'the stock shown taken' })
    await screenshot('03-order-confirmed')
  })

  it('when the Order button is double-clicked, then one order is placed with one Idempotency-Key', async () => {
    const before = ordersPosted.length
    const placed = await order(1, state.productId, (b) => b.dblclick())
    await waitForStatus(placed.id, 'confirmed', 5000)
    expect(await productLine().getByRole('button', { name: 'Order' }).isEnabled()).toBe(true)
    expect(ordersPosted.length - before).toBe(1)
    const rows = await w.orderDb<{ id: string }[]>`select id from orders where product_id = ${state.productId}`
    expect(rows.map((r) => r.id).sort()).toEqual([state.firstOrderId, placed.id].sort())
    await eventually(async () => (await stockShown()) === 7, { timeout: 5000, what: 'the stock shown taken once' })
  })

  it('when a customer orders more than the stock shown, then the page shows the problem and places nothing', async () => {
    const line = productLine()
    await line.getByLabel('Quantity').fill('8')
    await line.getByRole('button', { name: 'Order' }).click()
    const message = line.locator('.message[data-kind="error"]')
    await message.waitFor({ timeout: 5000 })
    expect(await message.textContent()).toContain('Only 7 in stock')
    expect(await w.stockOf(state.productId)).toBe(7)
    await screenshot('04-order-refused')
  })

  it('when a confirmed order is cancelled, then the page shows it cancelled and the stock back', async () => {
    const card = orderCard(state.firstOrderId)
    await card.getByRole('button', { name: 'Cancel order' }).click()
    await waitForStatus(state.firstOrderId, 'cancelled', 5000)
    await eventually(async () => (await stockShown()) === 9, { timeout: 5000, what: 'the stock shown back' })
    await eventually(async () => (await stepsOf(state.firstOrderId)).includes('stock.released'), { timeout: 5000, what: 'the stock released step' })
    expect(await stepsShown(state.firstOrderId, 7)).toEqual(['accepted', 'published', 'stock.reserved', 'confirmed', 'cancelled', 'published', 'stock.released'])
    await screenshot('05-order-cancelled')
  })

  it('when staff sets the stock from a read that another change overtook, then the page says it changed meanwhile and shows the value now', async () => {
    await page.locator('#stock-product').selectOption(state.productId)
    await page.waitForFunction(() => document.querySelector('#stock-current')?.getAttribute('data-qty') === '9')
    // someone else adds three meanwhile
    const res = await fetch(`${w.url}/products/${state.productId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${await staffToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ qtyDelta: 3 }),
    })
    expect(res.status).toBe(200)
    const set = page.locator('#stock-set')
    await set.getByLabel(/Set to/).fill('50')
    await set.getByRole('button', { name: 'Set stock' }).click()
    const message = page.locator('#stock-message[data-kind="error"]')
    await message.waitFor({ timeout: 5000 })
    expect(await message.textContent()).toContain('Changed meanwhile: the stock is now 12')
    expect(await page.locator('#stock-current').getAttribute('data-qty')).toBe('12')
    expect(await w.stockOf(state.productId)).toBe(12)
    await screenshot('06-stock-changed-meanwhile')
    // read again now: the second try lands
    await set.getByLabel(/Set to/).fill('50')
    await set.getByRole('button', { name: 'Set stock' }).click()
    await page.locator('#stock-message[data-kind="ok"]').waitFor({ timeout: 5000 })
    expect(await w.stockOf(state.productId)).toBe(50)
  })

  it('when the stock is gone before product takes it, then the order shows rejected with the reason', async () => {
    const id = await createProduct(`Tea ${crypto.randomUUID().slice(0, 6)}`, '4.50', 3)
    await w.relay().stop()
    let placed: { id: string }
    try {
      placed = await order(3, id)
      await waitForStatus(placed.id, 'pending', 2000)
      // staff takes one away through the page while product has not heard of the order
      await page.locator('#stock-product').selectOption(id)
      await page.locator('#stock-delta').getByLabel(/Change by/).fill('-1')
      await page.locator('#stock-delta').getByRole('button', { name: 'Apply change' }).click()
      await page.locator('#stock-message[data-kind="ok"]').waitFor({ timeout: 5000 })
    } finally {
      w.relay().start()
    }
    await waitForStatus(placed.id, 'rejected', 5000)
    expect(await orderCard(placed.id).locator('.status').textContent()).toBe('rejected: not enough stock')
    expect(await stepsShown(placed.id, 4)).toEqual(['accepted', 'published', 'stock.rejected', 'rejected'])
    expect(await orderCard(placed.id).getByRole('button', { name: 'Cancel order' }).isVisible()).toBe(false)
    await screenshot('07-order-rejected')
  })

  it('when order has no event stream, or no timeline either (an order from before them), then the page polls and still shows the order settle', async () => {
    const missing = (route: Route) => route.fulfill({ status: 404, contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: 'No route', status: 404 }) })
    await page.route('**/orders/*/events', missing)
    try {
      const polled = await order(1)
      await waitForStatus(polled.id, 'confirmed', 5000)
      expect(await stepsShown(polled.id, 4)).toEqual(['accepted', 'published', 'stock.reserved', 'confirmed'])
      await page.route('**/orders/*/timeline', missing)
      const bare = await order(1)
      await waitForStatus(bare.id, 'confirmed', 5000)
      expect(await stepsShown(bare.id, 2)).toEqual(['accepted', 'confirmed'])
    } finally {
      await page.unrouteAll()
    }
  })

  it('when order stops, then the page says so, and an order placed before settles on the page once order is back', async () => {
    await w.relay().stop() // accepted, not yet announced: it can only settle after the restart
    const resumedFrom: string[] = []
    page.on('request', (r) => r.url().endsWith('/events') && resumedFrom.push(r.headers()['last-event-id'] ?? ''))
    const placed = await order(1)
    await waitForStatus(placed.id, 'pending', 2000)
    await orderCard(placed.id).locator('.timeline li[data-kind="accepted"]').waitFor({ timeout: 2000 })
    await w.stopOrder()
    await page.locator('#availability [data-service="order"]').waitFor({ timeout: 10_000 })
    expect(await page.locator('#availability').textContent()).toContain('order service is not answering')
    await screenshot('08-order-away')
    await w.startOrder()
    await waitForStatus(placed.id, 'confirmed', 20_000)
    await page.waitForFunction(() => !document.querySelector('#availability [data-service]'), null, { timeout: 10_000 })
    // the stream was taken up again after the step the page had shown
    expect(resumedFrom).toContain('1')
    // every step order recorded, in its order (which steps: order's business, not the page's)
    const recorded = await timelineOf(placed.id)
    expect(recorded).toEqual(expect.arrayContaining(['accepted', 'stock.reserved', 'confirmed']))
    await eventually(async () => Bun.deepEquals(await stepsOf(placed.id), recorded), { timeout: 3000, what: 'the page showing every recorded step' })
    await screenshot('09-order-back')
  }, 60_000)

  it('when the page is checked with axe-core, then it has no serious or critical violation, the Tokens dialog open or not', async () => {
    // from node_modules, never a CDN
    await page.addScriptTag({ content: readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8') })
    const serious = () =>
      page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe
        const { violations } = await axe.run()
        return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
      })
    expect(await serious()).toEqual([])
    await page.getByRole('button', { name: 'Tokens' }).click()
    await page.getByRole('dialog').waitFor()
    expect(await serious()).toEqual([])
    await screenshot('10-tokens-dialog')
    await page.keyboard.press('Escape')
    expect(await page.getByRole('dialog').isVisible()).toBe(false)
  })

  it('when the page is 375 px wide, then nothing overflows and an order can be placed with the keyboard alone', async () => {
    await page.setViewportSize({ width: 375, height: 800 })
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    const before = ordersPosted.length
    const quantity = productLine().getByLabel('Quantity')
    await page.locator('body').focus()
    // Tab along the page until the product's quantity field has the focus
    for (let i = 0; i < 60 && !(await quantity.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab')
    expect(await quantity.evaluate((el) => el === document.activeElement)).toBe(true)
    await page.keyboard.press('Control+A')
    await page.keyboard.type('1')
    const placed = page.waitForResponse((r) => new URL(r.url()).pathname === '/orders' && r.request().method() === 'POST')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Enter')
    await waitForStatus(((await (await placed).json()) as { id: string }).id, 'confirmed', 5000)
    expect(ordersPosted.length - before).toBe(1)
    await screenshot('11-375px')
  })

  it('when the storefront is built, then its files come to less than 100 KB compressed', () => {
    const gzipped = readdirSync(distDir).reduce((sum, f) => sum + Bun.gzipSync(readFileSync(join(distDir, f))).length, 0)
    console.error(`[storefront] ${gzipped} B gzipped`)
    expect(gzipped).toBeLessThan(100 * 1024)
  })

  it('when the whole journey is done, then nothing was loaded from off this machine and the page raised no error', () => {
    expect(offMachine).toEqual([])
    expect(pageErrors).toEqual([])
  })
})
