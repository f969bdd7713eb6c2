import { describe, expect, it } from 'bun:test'
import { loadConfig as productConfig } from '../src/config.ts'

// product's configuration, read through the kit's readEnv and serviceEnv (order's: order/test)
describe('configuration', () => {
  it('when nothing is set, then the documented defaults apply', () => {
    expect(productConfig({})).toMatchObject({ port: 3000, queue: 'product.order-events', prefetch: 200, dbPoolMax: 10 })
  })

  it('when a variable is wrong, then start-up fails naming every bad one', () => {
    expect(() => productConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(/PORT.*LOG_LEVEL|LOG_LEVEL.*PORT/)
  })
})
