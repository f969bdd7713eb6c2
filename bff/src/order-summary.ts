import { Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { OrderPage, Product, type OrderSummary, type PageQuery, type SummaryPart } from '@shop/contracts'
import { DomainError, notFound, unavailable, type Log } from '@shop/kit'
import { retryAfterOf, type Caller, type Upstream } from './upstream.ts'

/**
 * The seed's `GET /order-summary/:productId`: the product from product and a page of its orders
 * from order, asked in parallel, with the count of all its orders. The product is the point of
 * the answer: unknown is a 404, product away a 503 with Retry-After. The orders are a part of
 * it: order away is still a 200, with `orders: null` and `partial: ['orders']`. `totalOrders` is
 * the page's `total`, which order counts with every page, whatever its cursor.
 */

// what the services answer may carry fields this release does not know (a newer service): kept
const isProduct = TypeCompiler.Compile(Type.Omit(Product, ['version'], { additionalProperties: true }))
// and a page without `total` is still a page: an order from before it, met during a rollout, whose
// summary gets `totalOrders: null` and `partial: ['totalOrders']` rather than a count of one page
const isOrderPage = TypeCompiler.Compile(
  Type.Object({ ...OrderPage.properties, total: Type.Optional(OrderPage.properties.total) }, { additionalProperties: true }),
)
type ProductAnswer = { id: string; name: string; price: string; qty: number }
type Page = { items: OrderSummary['orders'] & {}; nextCursor: string | null; total?: number }

/** 401 and 403 are the caller's own: passed on as the service said them. */
function refused(res: Response, title: string): DomainError | undefined {
  const headers: Record<string, string> = {}
  const challenge = res.headers.get('www-authenticate')
  if (challenge) headers['www-authenticate'] = challenge
  if (res.status === 401) return new DomainError('Unauthorized', title, [], undefined, headers)
  if (res.status === 403) return new DomainError('Forbidden', title, [], undefined, headers)
}

const titleOf = async (res: Response) => ((await res.json().catch(() => undefined)) as { title?: string } | undefined)?.title ?? `answered ${res.status}`

export function createOrderSummary({ product, order, log }: { product: Upstream; order: Upstream; log: Log }) {
  async function readProduct(id: string, caller: Caller): Promise<ProductAnswer> {
    const res = await product.call('GET', `/products/${id}`, caller, { span: 'GET /products/:id' })
    if (res.status === 404) {
      await res.body?.cancel()
      throw notFound(`product ${id}`)
    }
    if (res.status !== 200) {
      const title = await titleOf(res)
      const own = refused(res, title)
      if (own) throw own
      log.warn('product service answered the summary unexpectedly', { productId: id, requestId: caller.requestId, status: res.status, title })
      throw unavailable('The product service is not answering as it should; try again shortly.', retryAfterOf(res))
    }
    const body: unknown = await res.json().catch(() => undefined)
    if (!isProduct.Check(body)) {
      log.warn('product service answered the summary with something else than a product', { productId: id, requestId: caller.requestId })
      throw unavailable('The product service is not answering as it should; try again shortly.', 2)
    }
    return body as ProductAnswer
  }

  /** A page of the product's orders; undefined when order does not answer (or not with a page). */
  async function readOrders(productId: string, query: PageQuery, caller: Caller): Promise<Page | undefined> {
    const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined) as [string, string][])
    const path = `/orders/product/${productId}${search.size ? `?${search}` : ''}`
    let res: Response
    try {
      res = await order.call('GET', path, caller, { span: 'GET /orders/product/:productId' })
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'Unavailable') return undefined // logged by the call
      throw err
    }
    if (res.status !== 200) {
      const title = await titleOf(res)
      const own = refused(res, title)
      if (own) throw own
      log.warn('order service answered the summary unexpectedly', { productId, requestId: caller.requestId, status: res.status, title })
      return undefined
    }
    const body: unknown = await res.json().catch(() => undefined)
    if (isOrderPage.Check(body)) return body as Page
    log.warn('order service answered the summary with something else than a page of orders', { productId, requestId: caller.requestId })
  }

  return async function summarize(productId: string, query: PageQuery, caller: Caller): Promise<{ summary: OrderSummary; partial: SummaryPart[] }> {
    const [product, page] = await Promise.allSettled([readProduct(productId, caller), readOrders(productId, query, caller)])
    // the product decides first: unknown or away, the orders do not matter
    if (product.status === 'rejected') throw product.reason
    if (page.status === 'rejected') throw page.reason
    const { id, name, price, qty } = product.value
    const shown = { id, name, price, currentStock: qty }
    if (!page.value) return { summary: { product: shown, orders: null, nextCursor: null, totalOrders: null, partial: ['orders'] }, partial: ['orders'] }
    const { items, nextCursor, total } = page.value
    const partial: SummaryPart[] = total === undefined ? ['totalOrders'] : []
    return {
      summary: { product: shown, orders: items, nextCursor, totalOrders: total ?? null, ...(partial.length ? { partial } : {}) },
      partial,
    }
  }
}

export type OrderSummaryReader = ReturnType<typeof createOrderSummary>
