/**
 * `bun run start`: the whole system on one machine with one command. Uses (or starts) the
 * infrastructure like the tests do, runs product, order and the bff in front of them as child
 * processes on their usual ports, prints where everything is, and on Ctrl-C stops what it started.
 */
import { startInfra, withDatabase, authEnv, serviceAuthEnv, spawnService, type Runtime, type ServiceProcess } from '@shop/testkit'
import { buildStorefront } from '@shop/bff/web-build'
import { devServiceKeys, devSigner, devTokens } from './dev-keys.ts'

const runtime: Runtime = process.argv.includes('--deno') || process.env.STACK_RUNTIME === 'deno' ? 'deno' : 'bun'
const productPort = Number(process.env.PRODUCT_PORT ?? 3000)
const orderPort = Number(process.env.ORDER_PORT ?? 8080)
const bffPort = Number(process.env.BFF_PORT ?? 5000)

const infra = await startInfra()
const signer = await devSigner()
const auth = process.env.AUTH === 'off' ? { AUTH: 'off' } : authEnv(signer)
// order calls product as itself, with its own local key that product trusts
const serviceKeys = process.env.AUTH === 'off' ? undefined : await devServiceKeys()
const serviceAuth = serviceKeys
  ? { product: serviceAuthEnv('product', serviceKeys), order: serviceAuthEnv('order', serviceKeys) }
  : { product: {}, order: {} }
// `--otlp <url>` (or OTEL_EXPORTER_OTLP_ENDPOINT) sends both services' traces to a collector
const otlpAt = process.argv.indexOf('--otlp')
const otlp = otlpAt > 0 ? process.argv[otlpAt + 1] : process.env.OTEL_EXPORTER_OTLP_ENDPOINT
const common = {
  REDIS_URL: infra.redisUrl,
  AMQP_URL: infra.amqpUrl,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  ...auth,
  ...(otlp ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlp } : {}),
}
const started: ServiceProcess[] = []
let stopping = false

async function stopAll(code: number) {
  if (stopping) return
  stopping = true
  for (const service of started.reverse()) await service.stop('SIGTERM')
  process.exit(code)
}
process.on('SIGINT', () => void stopAll(0))
process.on('SIGTERM', () => void stopAll(0))

/**
 * Tokens to paste into the Authorize button of Swagger UI or http/http-client.private.env.json, and
 * the storefront's link with both in its fragment (a fragment never reaches a server; the page
 * keeps them in sessionStorage and clears the address bar).
 */
async function tokenLines() {
  const { staff, customer } = await devTokens(signer)
  return [
    'storefront, signed in as both (the tokens ride in the fragment, never sent to a server):',
    `  http://localhost:${bffPort}/#customer=${customer}&staff=${staff}`,
    'staff token (products:write orders:read, 12 h):',
    `  ${staff}`,
    'customer token (orders:write, sub customer-1, 12 h):',
    `  ${customer}`,
    'more: bun run token -- --scope "orders:write" --sub alice',
    '',
  ]
}

try {
  // the storefront the bff serves at /, built from bff/web with Bun's bundler (under a second)
  await buildStorefront()
  const product = await spawnService(
    'product',
    { ...common, ...serviceAuth.product, DATABASE_URL: withDatabase(infra.databaseUrl, 'shop_product') },
    { runtime, port: productPort, quiet: false },
  )
  started.push(product)
  const order = await spawnService(
    'order',
    { ...common, ...serviceAuth.order, DATABASE_URL: withDatabase(infra.databaseUrl, 'shop_order'), PRODUCT_URL: product.url },
    { runtime, port: orderPort, quiet: false },
  )
  started.push(order)
  // the front door: no database, cache or broker of its own, only the two services behind it
  const bff = await spawnService(
    'bff',
    { LOG_LEVEL: common.LOG_LEVEL, ...auth, ...(otlp ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlp } : {}), PRODUCT_URL: product.url, ORDER_URL: order.url },
    { runtime, port: bffPort, quiet: false },
  )
  started.push(bff)
  const lines = [
    '',
    `bff       http://localhost:${bffPort}    Swagger UI http://localhost:${bffPort}/docs    metrics http://localhost:${bffPort}/metrics    (the front door: /products, /orders, /order-summary)`,
    `product   http://localhost:${productPort}    Swagger UI http://localhost:${productPort}/docs    metrics http://localhost:${productPort}/metrics`,
    `order     http://localhost:${orderPort}    Swagger UI http://localhost:${orderPort}/docs    metrics http://localhost:${orderPort}/metrics`,
    otlp ? `traces    OTLP/HTTP to ${otlp}` : 'traces    off (bun run start -- --otlp http://localhost:4318 sends them to a collector)',
    infra.managementUrl ? `rabbitmq  ${infra.managementUrl.replace(/\/\/[^@]*@/, '//')}   (guest / guest)` : undefined,
    '',
    ...(auth.AUTH === 'off' ? ['AUTH=off: no token needed.'] : await tokenLines()),
    `ready: infrastructure ${infra.source}, services on ${runtime}. Ctrl-C stops product, order and the bff.`,
    '',
  ]
  console.log(lines.filter((l) => l !== undefined).join('\n'))
  // a service dying on its own takes the stack down with it, loudly
  for (const s of started)
    void s.exited.then((code) => {
      if (stopping) return
      console.error(`${s.name} exited on its own with ${code}; stopping the stack`)
      void stopAll(1)
    })
} catch (err) {
  console.error(String(err))
  await stopAll(1)
}
