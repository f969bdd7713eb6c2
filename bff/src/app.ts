import { Elysia } from 'elysia'
import { namedSchemas } from '@shop/contracts'
import { docHeader, serviceApp, type HttpPlatform } from '@shop/kit'
import type { Bucket } from './config.ts'
import type { Forwarder } from './forward.ts'
import type { OrderSummaryReader } from './order-summary.ts'
import { bffRoutes } from './routes.ts'
import { storefront } from './storefront.ts'
import type { Upstream } from './upstream.ts'

type Parts = { summarize: OrderSummaryReader; forwarder: Forwarder; product: Upstream; order: Upstream; platform: HttpPlatform<Bucket>; web?: string }

/** The composition root of the HTTP side: plain objects in, an Elysia app out. */
export const createApp = ({ summarize, forwarder, product, order, platform, web }: Parts) =>
  serviceApp(
    {
      title: 'shop bff',
      description:
        "The shop's front door. It serves the seed's `GET /order-summary/{productId}` below, and passes `/products…` to product and " +
        '`/orders…` to order as they are (the same paths, methods, headers and bearer token; their answers as the services give them, ' +
        "event streams included): those routes are in product's and order's own API documents.",
      port: 5000,
      schemas: namedSchemas.bff,
      tags: [{ name: 'summary', description: "A product with its orders, from both services: the seed API's summary" }],
      headers: { 'X-Partial': docHeader('The parts of the answer that are missing (`orders`, `totalOrders`), comma-separated; absent when nothing is') },
    },
    platform,
    new Elysia().use(bffRoutes({ summarize, forwarder, product, order, platform })).use(storefront(web)),
  )
