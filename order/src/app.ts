import { docHeader, serviceApp, type AppPlatform } from '@shop/kit'
import { namedSchemas } from '@shop/contracts'
import type { Bucket } from './config.ts'
import type { Orders } from './orders.ts'
import { orderRoutes } from './routes.ts'
import type { SagaMetrics } from './saga-metrics.ts'
import type { OrderStreams } from './streams.ts'

/** The composition root of the HTTP side: plain objects in, an Elysia app out. */
export const createApp = ({
  orders,
  saga,
  streams,
  platform,
  queue,
}: {
  orders: Orders
  saga: SagaMetrics
  streams: OrderStreams
  platform: AppPlatform<Bucket>
  queue: string
}) =>
  serviceApp(
    {
      title: 'order service',
      description: 'Orders of the shop and their lifecycle.',
      port: 8080,
      schemas: namedSchemas.order,
      tags: [{ name: 'orders', description: 'Orders and their lifecycle: pending, then confirmed or rejected; cancelled' }],
      headers: {
        'Idempotent-Replayed': docHeader('Present (`true`) when this is the stored answer to an earlier request with the same Idempotency-Key', {
          type: 'string',
          enum: ['true'],
        }),
      },
      events: { exchange: platform.exchange, queue },
    },
    platform,
    orderRoutes({ orders, saga, streams, platform }),
  )
