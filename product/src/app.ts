import { Elysia } from 'elysia'
import { docs, health, problems, requestId, type Log } from '@shop/kit'
import type { Products } from './products.ts'
import { productRoutes } from './routes.ts'

export type Deps = {
  products: Products
  log: Log
  checks: { postgres: () => Promise<unknown>; redis: () => Promise<unknown>; rabbitmq: () => Promise<unknown> }
}

/** The composition root of the HTTP side: plain objects in, an Elysia app out. */
export const createApp = ({ products, log, checks }: Deps) =>
  // normalize: false -> unknown body fields are a 400 naming them, not silently dropped
  new Elysia({ normalize: false })
    .use(requestId())
    .use(problems(log))
    .use(docs({ title: 'product service', version: '1.0.0', description: 'Products and stock of the shop.' }))
    .use(health(checks))
    .use(productRoutes(products))

export type ProductApp = ReturnType<typeof createApp>
