// k6: POST /orders at a constant arrival rate.
//   k6 run -e ORDER_URL=http://localhost:8080 -e PRODUCT_URL=http://localhost:3000 \
//          -e RATE=1000 -e DURATION=30s -e JWT_PRIVATE_JWK="$(cat .shop-dev/jwt-private.jwk.json)" \
//          system-tests/load/k6/orders.js
// or in containers: docker compose --profile load run --rm k6-orders
import http from 'k6/http'
import { check, fail } from 'k6'
import { mintToken } from './token.js'

const RATE = Number(__ENV.RATE || 1000)
const DURATION = __ENV.DURATION || '30s'
const PRODUCT_URL = __ENV.PRODUCT_URL || 'http://localhost:3000'
const ORDER_URL = __ENV.ORDER_URL || 'http://localhost:8080'

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    orders: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: Math.max(50, Math.ceil(RATE / 10)),
      maxVUs: Math.max(200, RATE),
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{expected_response:true}': ['p(95)<50', 'p(99)<100'],
    checks: ['rate>0.99'],
  },
}

/** One product with stock for every order of the run, and a customer's token. */
export async function setup() {
  const seconds = parseInt(DURATION, 10) || 30
  const staff = await mintToken({ sub: 'k6-staff', scope: 'products:write' })
  const res = http.post(
    `${PRODUCT_URL}/products`,
    JSON.stringify({ name: `k6 ${Date.now()}`, price: '1.00', qty: RATE * seconds * 2 }),
    { headers: { 'content-type': 'application/json', authorization: `Bearer ${staff}` } },
  )
  if (res.status !== 201) fail(`could not create the product: ${res.status} ${res.body}`)
  const customer = await mintToken({ sub: 'k6-customer', scope: 'orders:write', seconds: seconds + 600 })
  return { productId: /** @type {{ id: string }} */ (res.json()).id, customer }
}

/** @param {{ productId: string, customer: string }} data */
export default function (data) {
  const res = http.post(`${ORDER_URL}/orders`, JSON.stringify({ productId: data.productId, qty: 1 }), {
    headers: { 'content-type': 'application/json', authorization: `Bearer ${data.customer}` },
    tags: { name: 'POST /orders' },
  })
  check(res, {
    'status is 201': (r) => r.status === 201,
    'order is pending': (r) => r.status === 201 && /** @type {{ status: string }} */ (r.json()).status === 'pending',
  })
}
