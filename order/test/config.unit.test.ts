import { describe, expect, it } from 'bun:test'
import { loadConfig as productConfig } from '@shop/product/config'
import { loadConfig as orderConfig } from '../src/config.ts'

// each service's configuration, read through the kit's readEnv and serviceEnv
describe('configuration', () => {
  it('when nothing is set, then the documented defaults apply', () => {
    expect(productConfig({})).toMatchObject({ port: 3000, queue: 'product.order-events', prefetch: 200, dbPoolMax: 10 })
    expect(orderConfig({})).toMatchObject({ port: 8080, productUrl: 'http://127.0.0.1:3000', idempotencyTtlHours: 24 })
  })

  it('when variables are set, then they are converted to their types', () => {
    expect(orderConfig({ PORT: '9090', PRODUCT_URL: 'http://product:3000/', LOG_LEVEL: 'warn' })).toMatchObject({
      port: 9090,
      productUrl: 'http://product:3000',
      logLevel: 'warn',
    })
  })

  it('when a variable is wrong, then start-up fails naming every bad one', () => {
    expect(() => productConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(/PORT.*LOG_LEVEL|LOG_LEVEL.*PORT/)
  })
})
