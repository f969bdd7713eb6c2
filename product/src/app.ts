import { serviceApp, type AppPlatform } from '@shop/kit'
import { namedSchemas } from '@shop/contracts'
import type { Bucket } from './config.ts'
import type { Products } from './products.ts'
import { productRoutes } from './routes.ts'

/** The composition root of the HTTP side: plain objects in, an Elysia app out. */
export const createApp = (products: Products, platform: AppPlatform<Bucket>, queue: string) =>
  serviceApp(
    {
      title: 'product service',
      description: 'Products and stock of the shop.',
      port: 3000,
      schemas: namedSchemas.product,
      tags: [{ name: 'products', description: 'Products and their stock' }],
      events: { exchange: platform.exchange, queue },
    },
    platform,
    productRoutes(products, platform.access),
  )
