import { serviceApp, type ServiceBase } from '@shop/kit'
import type { Products } from './products.ts'
import { productRoutes } from './routes.ts'

/** The composition root of the HTTP side: plain objects in, an Elysia app out. */
export const createApp = (products: Products, base: Pick<ServiceBase, 'log' | 'checks'>) =>
  serviceApp({ title: 'product service', description: 'Products and stock of the shop.' }, base).use(productRoutes(products))
