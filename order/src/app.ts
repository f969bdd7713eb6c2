import { serviceApp, type ServiceBase } from '@shop/kit'
import type { Orders } from './orders.ts'
import { orderRoutes } from './routes.ts'

/** The composition root of the HTTP side: plain objects in, an Elysia app out. */
export const createApp = (orders: Orders, base: Pick<ServiceBase, 'log' | 'checks'>) =>
  serviceApp({ title: 'order service', description: 'Orders of the shop and their lifecycle.' }, base).use(orderRoutes(orders))
