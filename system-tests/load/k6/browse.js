// k6: a read-mostly mix: product reads (cache hits), product lists, order lists, a few orders.
//   k6 run -e ORDER_URL=http://localhost:8080 -e PRODUCT_URL=http://localhost:3000 \
//          -e JWT_PRIVATE_JWK="$(cat .shop-dev/jwt-private.jwk.json)" system-tests/load/k6/browse.js
// or in containers: docker compose --profile load run --rm k6-browse
import http from 'k6/http'
import { check, fail } from 'k6'
import { mintToken } from './token.js'

const PRODUCT_URL = __ENV.PRODUCT_URL || 'http://localhost:3000'
const ORDER_URL = __ENV.ORDER_URL || 'http://localhost:8080'
/** @param {string} token */
const as = (token) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` })

/** @type {import('k6/options').Options} */
export const options = {
  vus: Number(__ENV.VUS || 50),
  duration: __ENV.DURATION || '30s',
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{name:GET /products/:id}': ['p(95)<20'],
    'http_req_duration{name:GET /orders/product/:id}': ['p(95)<50'],
  },
}

/** Products to browse, and the tokens of a member of staff and of a customer. */
export async function setup() {
  const staff = await mintToken({ sub: 'k6-staff', scope: 'products:write orders:read' })
  const customer = await mintToken({ sub: 'k6-customer', scope: 'orders:write' })
  /** @type {string[]} */
  const ids = []
  for (let i = 0; i < 20; i++) {
    const body = JSON.stringify({ name: `browse ${i}`, price: '2.50', qty: 1000000 })
    const res = http.post(`${PRODUCT_URL}/products`, body, { headers: as(staff) })
    if (res.status !== 201) fail(`could not create a product: ${res.status}`)
    ids.push(/** @type {{ id: string }} */ (res.json()).id)
  }
  return { ids, staff, customer }
}

/** @param {{ ids: string[], staff: string, customer: string }} data */
export default function (data) {
  const id = data.ids[Math.floor(Math.random() * data.ids.length)]
  const roll = Math.random()
  if (roll < 0.7) {
    const res = http.get(`${PRODUCT_URL}/products/${id}`, { tags: { name: 'GET /products/:id' } })
    check(res, { 'product 200': (r) => r.status === 200 })
  } else if (roll < 0.8) {
    const res = http.get(`${PRODUCT_URL}/products?limit=20`, { tags: { name: 'GET /products' } })
    check(res, { 'list 200': (r) => r.status === 200 })
  } else if (roll < 0.95) {
    const res = http.get(`${ORDER_URL}/orders/product/${id}?limit=20`, { headers: as(data.staff), tags: { name: 'GET /orders/product/:id' } })
    check(res, { 'orders 200': (r) => r.status === 200 })
  } else {
    const res = http.post(`${ORDER_URL}/orders`, JSON.stringify({ productId: id, qty: 1 }), { headers: as(data.customer), tags: { name: 'POST /orders' } })
    check(res, { 'order 201': (r) => r.status === 201 })
  }
}
