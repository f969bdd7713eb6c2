import { serviceApp, type AppBase } from '@shop/kit'
import { namedSchemas } from '@shop/contracts'
import type { Bucket } from './config.ts'
import type { Products } from './products.ts'
import { productRoutes } from './routes.ts'

/** The composition root of the HTTP side: plain objects in, an Elysia app out. */
export const createApp = (products: Products, base: AppBase<Bucket>, queue: string) =>
  serviceApp(
    {
      title: 'product service',
      description: 'Products and stock of the shop.',
      port: 3000,
      schemas: namedSchemas.product,
      tags: [{ name: 'products', description: 'Products and their stock' }],
      events: { exchange: base.exchange, queue },
    },
    base,
    productRoutes(products, base.access),
  )
