import { OrderSummary, SummaryPart, SummaryProduct } from './bff.ts'
import { Money, MoneyInput } from './common.ts'
import { StockRejectionReason } from './events.ts'
import { Health, Readiness } from './ops.ts'
import { CreateOrder, Order, OrderPage, OrderStatus } from './order.ts'
import { OrderStep, OrderTimeline } from './timeline.ts'
import { FieldError, Problem, ValidationProblem } from './problem.ts'
import { CreateProduct, Product, ProductPage, UpdateProduct } from './product.ts'

/**
 * The schemas that have a name in the API documents (`components.schemas`), so that generated
 * clients get `Product` and `Order` types instead of anonymous ones. Each service's document
 * lists the ones its routes use.
 */
export const namedSchemas = {
  common: { Money, MoneyInput, Problem, ValidationProblem, FieldError, Health, Readiness },
  product: { Product, CreateProduct, UpdateProduct, ProductPage },
  order: { Order, CreateOrder, OrderPage, OrderStatus, StockRejectionReason, OrderTimeline, OrderStep },
  bff: { OrderSummary, SummaryProduct, SummaryPart, Order, OrderStatus, StockRejectionReason },
}
