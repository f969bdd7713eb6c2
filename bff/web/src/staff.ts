/**
 * The staff's side: a new product, and stock changed two ways. `qtyDelta` adds or takes units
 * relative to what the stock is when the change lands, so orders taking stock meanwhile are kept;
 * "set to" writes an absolute number only if the product is still as read (If-Match with the
 * ETag of the read), and a 412 shows that it changed meanwhile, with the value it has now.
 */
import type { Product } from '@shop/contracts'
import type { Catalog } from './catalog.ts'
import { byId, tell } from './dom.ts'
import { call, persist, problemText, type Failure } from './http.ts'

const waitText = (s: number, why: Failure) => `${problemText(why)} Trying again in ${s} s.`

export function createStaff(catalog: Catalog) {
  const create = byId<HTMLFormElement>('create-product')
  const createMessage = byId('create-message')
  const select = byId<HTMLSelectElement>('stock-product')
  const current = byId('stock-current')
  const deltaForm = byId<HTMLFormElement>('stock-delta')
  const setForm = byId<HTMLFormElement>('stock-set')
  const stockMessage = byId('stock-message')
  let read: { product: Product; etag: string } | undefined

  const busy = async (form: HTMLFormElement, work: () => Promise<unknown>) => {
    const button = form.querySelector('button')!
    if (button.disabled) return
    button.disabled = true
    try {
      await work()
    } finally {
      button.disabled = false
    }
  }

  create.addEventListener('submit', (e) => {
    e.preventDefault()
    const data = new FormData(create)
    const body = { name: String(data.get('name')).trim(), price: String(data.get('price')).trim(), qty: Number(data.get('qty')) }
    void busy(create, async () => {
      tell(createMessage, 'Creating…', 'wait')
      const answer = await persist(() => call<Product>('POST', '/products', { as: 'staff', body }), {
        repeat: 'unsafe',
        onWait: (s, why) => tell(createMessage, waitText(s, why), 'wait'),
      })
      if (!answer.ok) return tell(createMessage, problemText(answer), 'error')
      tell(createMessage, `Created ${answer.body.name}: ${answer.body.price}, ${answer.body.qty} in stock.`, 'ok')
      create.reset()
      await catalog.refresh()
      select.value = answer.body.id
      await readSelected()
    })
  })

  function showRead(note = '') {
    current.textContent = read ? `${note}${read.product.qty} in stock (version ${read.product.version}).` : ''
    current.dataset.qty = read ? String(read.product.qty) : ''
  }

  /** Reads the chosen product: its stock to show, its ETag for "set to". */
  async function readSelected(note = '') {
    if (!select.value) return void ((read = undefined), showRead())
    const answer = await call<Product>('GET', `/products/${select.value}`)
    if (!answer.ok) return tell(stockMessage, problemText(answer), 'error')
    read = { product: answer.body, etag: answer.headers.get('etag') ?? `"${answer.body.version}"` }
    showRead(note)
  }

  function fillSelect() {
    const products = catalog.products()
    const chosen = select.value
    const wanted = products.map((p) => `${p.id}:${p.name}`).join('|')
    if (select.dataset.list === wanted) return
    select.dataset.list = wanted
    select.replaceChildren(...products.map((p) => new Option(p.name, p.id)))
    if (products.some((p) => p.id === chosen)) select.value = chosen
    if (select.value !== read?.product.id) void readSelected()
  }
  catalog.onChange(fillSelect)
  select.addEventListener('change', () => {
    tell(stockMessage, '')
    void readSelected()
  })

  deltaForm.addEventListener('submit', (e) => {
    e.preventDefault()
    const qtyDelta = Number(new FormData(deltaForm).get('qtyDelta'))
    if (!select.value) return tell(stockMessage, 'Choose a product first.', 'error')
    void busy(deltaForm, async () => {
      tell(stockMessage, 'Changing…', 'wait')
      const answer = await persist(() => call<Product>('PATCH', `/products/${select.value}`, { as: 'staff', body: { qtyDelta } }), {
        repeat: 'unsafe',
        onWait: (s, why) => tell(stockMessage, waitText(s, why), 'wait'),
      })
      if (!answer.ok) return tell(stockMessage, problemText(answer), 'error')
      tell(stockMessage, `Stock changed by ${qtyDelta > 0 ? '+' : ''}${qtyDelta}: now ${answer.body.qty}.`, 'ok')
      deltaForm.reset()
      await Promise.all([readSelected(), catalog.refreshOne(answer.body.id)])
    })
  })

  setForm.addEventListener('submit', (e) => {
    e.preventDefault()
    const qty = Number(new FormData(setForm).get('qty'))
    if (!read) return tell(stockMessage, 'Choose a product first.', 'error')
    const { product, etag } = read
    void busy(setForm, async () => {
      tell(stockMessage, 'Setting…', 'wait')
      const answer = await persist(() => call<Product>('PATCH', `/products/${product.id}`, { as: 'staff', body: { qty }, headers: { 'if-match': etag } }), {
        repeat: 'safe',
        onWait: (s, why) => tell(stockMessage, waitText(s, why), 'wait'),
      })
      if (answer.ok) {
        tell(stockMessage, `Stock set to ${answer.body.qty}.`, 'ok')
        setForm.reset()
        await Promise.all([readSelected(), catalog.refreshOne(product.id)])
        return
      }
      if (answer.status !== 412) return tell(stockMessage, problemText(answer), 'error')
      await readSelected()
      tell(
        stockMessage,
        `Changed meanwhile: the stock is now ${read?.product.qty ?? 'unknown'} (you had read ${product.qty}). Nothing was written; check it and set again.`,
        'error',
      )
      await catalog.refreshOne(product.id)
    })
  })

  return { readSelected }
}
