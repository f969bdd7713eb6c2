import { productWorld } from '../product/test/env.ts'
import { shopWorld } from '../order/test/env.ts'
const w = await shopWorld('bun')
const p = (await w.products.get('/docs/json')).body
const o = (await w.orders.get('/docs/json')).body
await Bun.write('/tmp/docs/product.json', JSON.stringify(p, null, 2))
await Bun.write('/tmp/docs/order.json', JSON.stringify(o, null, 2))
await Bun.write('/tmp/docs/product-async.json', JSON.stringify((await w.products.get('/docs/asyncapi.json')).body, null, 2))
await Bun.write('/tmp/docs/order-async.json', JSON.stringify((await w.orders.get('/docs/asyncapi.json')).body, null, 2))
await w.stop()
process.exit(0)
