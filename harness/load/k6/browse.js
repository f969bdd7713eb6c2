// k6: a read-mostly mix: product reads (cache hits), product lists, order lists, a few orders.
//   k6 run -e ORDER_URL=http://localhost:8080 -e PRODUCT_URL=http://localhost:3000 harness/load/k6/browse.js
// or in containers: docker compose --profile load run --rm k6-browse
import http from 'k6/http'
import { check, fail } from 'k6'

const PRODUCT_URL = __ENV.PRODUCT_URL || 'http://localhost:3000'
const ORDER_URL = __ENV.ORDER_URL || 'http://localhost:8080'
const json = { headers: { 'content-type': 'application/json' } }

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

export function setup() {
  /** @type {string[]} */
  const ids = []
  for (let i = 0; i < 20; i++) {
    const res = http.post(`${PRODUCT_URL}/products`, JSON.stringify({ name: `browse ${i}`, price: '2.50', qty: 1000000 }), json)
    if (res.status !== 201) fail(`could not create a product: ${res.status}`)
    ids.push(/** @type {{ id: string }} */ (res.json()).id)
  }
  return { ids }
}

/** @param {{ ids: string[] }} data */
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
    const res = http.get(`${ORDER_URL}/orders/product/${id}?limit=20`, { tags: { name: 'GET /orders/product/:id' } })
    check(res, { 'orders 200': (r) => r.status === 200 })
  } else {
    const res = http.post(`${ORDER_URL}/orders`, JSON.stringify({ productId: id, qty: 1 }), { ...json, tags: { name: 'POST /orders' } })
    check(res, { 'order 201': (r) => r.status === 201 })
  }
}
