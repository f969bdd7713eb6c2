import { apiDocumentSuite } from '@shop/testkit/docs'
import { productWorld } from './env.ts'

apiDocumentSuite(
  'product',
  async () => {
    const w = await productWorld()
    return { api: w.api, routes: w.service!.app.routes, stop: w.stop }
  },
  {
    operationIds: ['createProduct', 'deleteProduct', 'getProduct', 'health', 'listProducts', 'ready', 'updateProduct'],
    schemas: ['Product', 'CreateProduct', 'UpdateProduct', 'ProductPage', 'Problem', 'ValidationProblem', 'Health', 'Readiness'],
    events: ['receive order.cancelled', 'receive order.created', 'send stock.rejected', 'send stock.released', 'send stock.reserved'],
  },
)
