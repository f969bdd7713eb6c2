/**
 * The storefront: products to order and the orders followed live for a customer, products and
 * stock for staff. Served by the bff at `/`; every call goes to the same origin.
 */
import { createAvailability } from './availability.ts'
import { createCatalog } from './catalog.ts'
import { byId } from './dom.ts'
import { createOrders } from './orders.ts'
import { createStaff } from './staff.ts'
import { createTokensDialog } from './tokens-dialog.ts'
import { takeTokensFromFragment } from './tokens.ts'

// first, before anything else can read or copy the address: the fragment's tokens leave it
takeTokensFromFragment()

const catalog = createCatalog(byId('products'), byId('products-status'), (product, qty, form) => orders.place(product, qty, form))
const orders = createOrders(byId('orders'), catalog)
catalog.onChange(() => orders.rename())
createStaff(catalog)
createTokensDialog(() => void orders.restore())
// a service back: read what may have changed meanwhile, and let the followed orders try at once
createAvailability(byId('availability'), (service) => {
  void catalog.refresh()
  if (service !== 'product') orders.wake()
})

await catalog.refresh()
await orders.restore()
// stock moves with everyone's orders: read it again every few seconds while the tab is seen
setInterval(() => document.visibilityState === 'visible' && void catalog.refresh(), 5000)
document.documentElement.dataset.ready = 'true'
