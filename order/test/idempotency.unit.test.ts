import { describe, expect, it } from 'bun:test'
import type { CreateOrder } from '@shop/contracts'
import { requestHashOf } from '../src/idempotency.ts'

const PRODUCT = '0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d24'
const body = (over: Partial<CreateOrder> = {}): CreateOrder => ({ productId: PRODUCT, qty: 2, price: '19.99', ...over })

describe('the request hash an Idempotency-Key is stored with', () => {
  it('when the same body comes again, then it has the same hash', () => {
    expect(requestHashOf(body())).toBe(requestHashOf(body()))
  })

  it('when the price is sent as a JSON number instead of a string, then it is the same request', () => {
    expect(requestHashOf(body({ price: 19.99 }))).toBe(requestHashOf(body({ price: '19.99' })))
    expect(requestHashOf(body({ price: 20 }))).toBe(requestHashOf(body({ price: '20' })))
  })

  it("when the body's keys come in another order, then it is the same request", () => {
    const parsed = JSON.parse(`{"price":"19.99","qty":2,"productId":"${PRODUCT}"}`) as CreateOrder
    expect(requestHashOf(parsed)).toBe(requestHashOf(body()))
  })

  it('when the product, the qty or the price differs, or the price is left out, then it is another request', () => {
    const hashes = [
      body(),
      body({ productId: '0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d25' }),
      body({ qty: 3 }),
      body({ price: '19.98' }),
      { productId: PRODUCT, qty: 2 },
    ].map(requestHashOf)
    expect(new Set(hashes).size).toBe(hashes.length)
  })

  it('when a key stored by an earlier release is reused, then its hash is still the one the formula gave then', () => {
    // stored hashes live IDEMPOTENCY_TTL_HOURS across deploys: a changed formula would refuse honest retries with 422
    expect(requestHashOf(body())).toBe('ae46a12b07bae58b6bfcb910153528656040a5dd4700456523465bf55024800c')
    expect(requestHashOf({ productId: PRODUCT, qty: 1 })).toBe('94f4f1845df1fd9d4975e935f3d6cbee934f6b5987f9c00ea5ed2c81688bb8f4')
  })
})
