/**
 * The products, with price and stock, each with its order form. The list is updated in place
 * (a product's line is never rebuilt), so a quantity being typed or a focused button survive a
 * refresh; it refreshes every few seconds, on every step that moves stock, and when product is back.
 */
import type { Product, ProductPage } from '@shop/contracts'
import { h, tell } from './dom.ts'
import { call, persist, problemText, sleep } from './http.ts'

export type OrderForm = { button: HTMLButtonElement; message: HTMLElement }
type Line = { product: Product; li: HTMLLIElement; price: HTMLElement; stock: HTMLElement } & OrderForm

export function createCatalog(list: HTMLElement, status: HTMLElement, order: (product: Product, qty: number, form: OrderForm) => Promise<void>) {
  const lines = new Map<string, Line>()
  const changed: (() => void)[] = []

  function lineFor(p: Product): Line {
    const known = lines.get(p.id)
    if (known) return known
    const ids = { name: `product-${p.id}-name`, qty: `product-${p.id}-qty` }
    const price = h('span', { class: 'price' })
    const stock = h('span', { class: 'stock' })
    const qty = h('input', { id: ids.qty, name: 'qty', type: 'number', min: 1, step: 1, value: 1, inputmode: 'numeric', required: true })
    const button = h('button', { type: 'submit', 'aria-describedby': ids.name }, 'Order')
    const message = h('p', { class: 'message', role: 'status' })
    const form = h(
      'form',
      { class: 'order-form', 'aria-labelledby': ids.name },
      h('label', { for: ids.qty }, 'Quantity'),
      qty,
      button,
    )
    form.addEventListener('submit', (e) => {
      e.preventDefault()
      if (!button.disabled) void order(lines.get(p.id)!.product, qty.valueAsNumber, { button, message })
    })
    const li = h(
      'li',
      { class: 'product', 'data-product-id': p.id },
      h('h3', { id: ids.name }, p.name),
      h('p', { class: 'facts' }, 'Price ', price, ' · ', stock),
      form,
      message,
    )
    list.append(li)
    const line = { product: p, li, price, stock, button, message }
    lines.set(p.id, line)
    return line
  }

  function show(p: Product) {
    const line = lineFor(p)
    line.product = p
    line.li.querySelector('h3')!.textContent = p.name
    line.price.textContent = p.price
    line.stock.textContent = p.qty > 0 ? `${p.qty} in stock` : 'out of stock'
    line.stock.dataset.qty = String(p.qty)
  }

  function forget(id: string) {
    lines.get(id)?.li.remove()
    lines.delete(id)
  }

  const notify = () => changed.forEach((l) => l())

  /** Every product (pages of 100, oldest first). */
  async function refresh() {
    const seen = new Set<string>()
    let cursor: string | null = null
    for (let page = 0; page < 20; page++) {
      const answer = await persist(() => call<ProductPage>('GET', `/products?limit=100${cursor ? `&cursor=${cursor}` : ''}`), {
        repeat: 'safe',
        attempts: 2,
      })
      if (!answer.ok) return tell(status, `The products could not be loaded. ${problemText(answer)}`, 'error')
      for (const p of answer.body.items) {
        seen.add(p.id)
        show(p)
      }
      cursor = answer.body.nextCursor
      if (!cursor) break
    }
    for (const id of [...lines.keys()]) if (!seen.has(id)) forget(id)
    tell(status, lines.size ? '' : 'No products yet.', 'info')
    notify()
  }

  /** One product again (its stock moved); a product gone is taken off the list. */
  async function refreshOne(id: string): Promise<Product | undefined> {
    const answer = await call<Product>('GET', `/products/${id}`)
    if (answer.ok) show(answer.body)
    else if (answer.status === 404) forget(id)
    notify()
    return answer.ok ? answer.body : undefined
  }

  /** Reads a product until its version moves past `version` (its stock came back after a cancel). */
  async function refreshUntilChanged(id: string, version: number, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const p = await refreshOne(id)
      if (!p || p.version > version) return
      await sleep(500)
    }
  }

  return {
    refresh,
    refreshOne,
    refreshUntilChanged,
    products: () => [...lines.values()].map((l) => l.product),
    product: (id: string) => lines.get(id)?.product,
    onChange: (listener: () => void) => void changed.push(listener),
  }
}

export type Catalog = ReturnType<typeof createCatalog>
