/**
 * The customer's side: placing an order (one Idempotency-Key per press of the button, the button
 * disabled while the call is out, so a double click is one order) and the orders placed from this
 * tab, each followed live to its end: status, timeline, and Cancel once it is confirmed. The ids
 * are kept in sessionStorage, so a reload picks them up again.
 */
import type { Order, OrderStatus, OrderTimeline, Product } from '@shop/contracts'
import type { Catalog, OrderForm } from './catalog.ts'
import { announce, h, tell, time } from './dom.ts'
import { call, newKey, newTraceparent, persist, problemText } from './http.ts'
import { watchOrder, type Mode } from './order-watch.ts'
import { reasonText, statusAfter, stepText, type StepLike } from './steps.ts'

const KEPT = 'shop.orders'
const rank: Record<OrderStatus, number> = { pending: 0, confirmed: 1, rejected: 1, cancelled: 2 }
const moved = new Set(['stock.reserved', 'stock.rejected', 'stock.released', 'confirmed', 'rejected'])

type Card = {
  order: Order
  status: OrderStatus
  lastSeq: number
  kinds: Set<string>
  li: HTMLLIElement
  watcher?: ReturnType<typeof watchOrder>
}

export function createOrders(list: HTMLElement, catalog: Catalog) {
  const cards = new Map<string, Card>()
  const kept = (): string[] => JSON.parse(sessionStorage.getItem(KEPT) ?? '[]') as string[]
  const keep = () => sessionStorage.setItem(KEPT, JSON.stringify([...cards.keys()].slice(-20)))

  const nameOf = (order: Order) => catalog.product(order.productId)?.name ?? `product ${order.productId.slice(0, 8)}…`
  const part = (card: Card, name: string) => card.li.querySelector<HTMLElement>(`[data-part="${name}"]`)!

  function render(card: Card) {
    const { order, status } = card
    card.li.dataset.status = status
    part(card, 'title').textContent = `${order.qty} × ${nameOf(order)}`
    part(card, 'total').textContent = order.totalPrice
    const badge = part(card, 'status')
    badge.textContent = status === 'rejected' && order.rejectionReason ? `rejected: ${reasonText(order.rejectionReason)}` : status
    badge.dataset.status = status
    part(card, 'cancel').hidden = status !== 'confirmed'
  }

  function setStatus(card: Card, status: OrderStatus) {
    if (rank[status] < rank[card.status] || status === card.status) return
    card.status = status
    render(card)
    announce(`Order of ${card.order.qty} × ${nameOf(card.order)}: ${part(card, 'status').textContent}`)
  }

  function showMode(card: Card, mode: Mode) {
    const text =
      mode.kind === 'live'
        ? 'followed live'
        : mode.kind === 'polling'
          ? 'checked every moment'
          : mode.kind === 'waiting'
            ? `${problemText(mode.why)} Trying again in ${mode.seconds} s.`
            : mode.kind === 'stopped'
              ? `Not followed any more: ${problemText(mode.why)}`
              : ''
    tell(part(card, 'mode'), text, mode.kind === 'waiting' || mode.kind === 'stopped' ? 'wait' : 'info')
  }

  function addStep(card: Card, step: StepLike) {
    card.lastSeq = Math.max(card.lastSeq, step.seq)
    card.kinds.add(step.kind)
    const steps = part(card, 'steps')
    steps.append(h('li', { 'data-kind': step.kind, 'data-seq': step.seq }, time(step.at), ' ', stepText(step)))
    if ('reason' in step && step.kind === 'rejected') card.order = { ...card.order, rejectionReason: step.reason }
    const status = statusAfter(step)
    if (status) setStatus(card, status)
    render(card)
    if (step.kind === 'stock.released') tell(part(card, 'message'), `Cancelled; ${'qty' in step ? step.qty : card.order.qty} back in stock.`, 'ok')
    if (moved.has(step.kind)) void catalog.refreshOne(card.order.productId)
  }

  function showAbout(card: Card, about: Omit<OrderTimeline, 'steps'>) {
    const extra = [about.resends ? `sent again ${about.resends}×` : '', about.retries ? `${about.retries} repeated answers` : ''].filter(Boolean).join(', ')
    part(card, 'about').textContent = `${about.traceId ? `Trace ${about.traceId}` : 'No trace id'}${extra ? ` · ${extra}` : ''}`
  }

  /** Follows a card's order until `done`; again after a cancel, from the last step shown. */
  function follow(card: Card, done: (order: Order, timeline: boolean) => boolean) {
    card.watcher?.stop()
    card.watcher = watchOrder(card.order.id, {
      after: card.lastSeq,
      onOrder: (order) => {
        card.order = order
        setStatus(card, order.status)
        render(card)
      },
      onStep: (step) => addStep(card, step),
      onAbout: (about) => showAbout(card, about),
      onMode: (mode) => showMode(card, mode),
      done,
    })
  }

  async function cancel(card: Card, button: HTMLButtonElement) {
    const message = part(card, 'message')
    button.disabled = true
    tell(message, 'Cancelling…', 'wait')
    const before = await catalog.refreshOne(card.order.productId)
    const answer = await persist(() => call<Order>('DELETE', `/orders/${card.order.id}`, { as: 'customer' }), {
      repeat: 'safe',
      onWait: (s, why) => tell(message, `${problemText(why)} Trying again in ${s} s.`, 'wait'),
    })
    button.disabled = false
    if (!answer.ok) return tell(message, problemText(answer), 'error')
    tell(message, 'Cancelled; the stock goes back once product has it.', 'ok')
    card.order = answer.body
    setStatus(card, 'cancelled')
    // followed until product gave the stock back (a timeline says so; without one, the product does),
    // for a minute at most: product may be away longer, and the product line shows it when it is back
    const until = Date.now() + 60_000
    follow(card, (order, timeline) => order.status === 'cancelled' && (!timeline || card.kinds.has('stock.released') || Date.now() > until))
    if (before) void catalog.refreshUntilChanged(before.id, before.version)
  }

  function track(order: Order) {
    if (cards.has(order.id)) return
    const cancelButton = h('button', { type: 'button', class: 'secondary', 'data-part': 'cancel', hidden: true }, 'Cancel order')
    const titleId = `order-${order.id}-title`
    const li = h(
      'li',
      { class: 'order', 'data-order-id': order.id, 'aria-labelledby': titleId },
      h('h3', { id: titleId, 'data-part': 'title' }),
      h('p', { class: 'facts' }, 'Total ', h('span', { 'data-part': 'total' }), ' · ', h('strong', { class: 'status', 'data-part': 'status' })),
      h('p', { class: 'mode', 'data-part': 'mode' }),
      h('ol', { class: 'timeline', 'data-part': 'steps', 'aria-label': 'Timeline' }),
      h('p', { class: 'about', 'data-part': 'about' }),
      cancelButton,
      h('p', { class: 'message', role: 'status', 'data-part': 'message' }),
    )
    const card: Card = { order, status: order.status, lastSeq: 0, kinds: new Set(), li }
    cancelButton.addEventListener('click', () => void cancel(card, cancelButton))
    cards.set(order.id, card)
    list.prepend(li)
    keep()
    render(card)
    follow(card, (o) => o.status !== 'pending')
  }

  /** Places one order per press; a retry after a 503 or a lost connection sends the same key. */
  async function place(product: Product, qty: number, { button, message }: OrderForm) {
    if (!Number.isInteger(qty) || qty < 1) return tell(message, 'The quantity is a whole number, 1 or more.', 'error')
    button.disabled = true
    // one press, one key and one trace: retries of this press send both again
    const headers = { 'idempotency-key': newKey(), traceparent: newTraceparent() }
    tell(message, 'Placing the order…', 'wait')
    try {
      const answer = await persist(
        () => call<Order>('POST', '/orders', { as: 'customer', body: { productId: product.id, qty, price: product.price }, headers }),
        { repeat: 'safe', onWait: (s, why) => tell(message, `${problemText(why)} Trying again in ${s} s.`, 'wait') },
      )
      if (!answer.ok) return tell(message, problemText(answer), 'error')
      tell(message, `Order placed: ${answer.body.qty} × ${product.name}, ${answer.body.totalPrice}.`, 'ok')
      track(answer.body)
    } finally {
      const hadFocus = document.activeElement === document.body
      button.disabled = false
      if (hadFocus) button.focus() // disabling it dropped the keyboard's focus: give it back
    }
  }

  /** The orders this tab placed before a reload. */
  async function restore() {
    for (const id of kept()) {
      const answer = await call<Order>('GET', `/orders/${id}`, { as: 'customer' })
      if (answer.ok) track(answer.body)
    }
    keep()
  }

  return {
    place,
    restore,
    /** order (or the shop) is back: every order still followed tries at once */
    wake: () => cards.forEach((c) => c.watcher?.wake()),
    /** names may have come with the catalog after the cards */
    rename: () => cards.forEach(render),
  }
}
