import { apiDocumentSuite } from '@shop/testkit/docs'
import { orderWorld } from './env.ts'

apiDocumentSuite(
  'order',
  async () => {
    const w = await orderWorld()
    return { api: w.orders, routes: w.inside().app.routes, stop: w.stop }
  },
  {
    operationIds: ['cancelOrder', 'getOrder', 'getOrderTimeline', 'health', 'listOrdersOfProduct', 'placeOrder', 'ready', 'streamOrderEvents'],
    schemas: ['Order', 'CreateOrder', 'OrderPage', 'OrderStatus', 'OrderTimeline', 'OrderStep', 'Problem', 'ValidationProblem', 'Health', 'Readiness'],
    events: ['send order.cancelled', 'send order.created', 'receive stock.rejected', 'receive stock.released', 'receive stock.reserved'],
  },
)
