import { apiDocumentSuite } from '@shop/testkit/docs'
import { orderWorld } from './env.ts'

apiDocumentSuite(
  'order',
  async () => {
    const w = await orderWorld()
    return { api: w.orders, routes: w.inside().app.routes, stop: w.stop }
  },
  {
    operationIds: ['cancelOrder', 'getOrder', 'health', 'listOrdersOfProduct', 'placeOrder', 'ready'],
    schemas: ['Order', 'CreateOrder', 'OrderPage', 'OrderStatus', 'Problem', 'ValidationProblem', 'Health', 'Readiness'],
    events: ['send order.cancelled', 'send order.created', 'receive stock.rejected', 'receive stock.reserved'],
  },
)
