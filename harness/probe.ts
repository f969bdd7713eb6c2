import { isolate, spawnService, client } from './src/index.ts'
import autocannon from 'autocannon'
const iso = await isolate('probe')
const product = await spawnService('product', iso.env('product', { LOG_LEVEL: 'warn' }))
const order = await spawnService('order', iso.env('order', { LOG_LEVEL: 'warn', PRODUCT_URL: product.url }), { quiet: false })
const { body: p } = await client(product.url).post('/products', { name: 'x', price: '1.00', qty: 10000000 })
console.log('pids', product.pid, order.pid)
const which = process.argv[2] ?? 'orders'
const opts = which === 'orders' ? { url: `${order.url}/orders`, method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productId: p.id, qty: 1 }) } : { url: `${order.url}/orders/${'0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d24'}` }
const r = await autocannon({ ...opts, connections: 50, duration: 8 })
console.log(which, r.requests.average, r.latency.p50, r.non2xx)
await order.stop(); await product.stop(); await iso.cleanup()
