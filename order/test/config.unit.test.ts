import { describe, expect, it } from 'bun:test'
import { loadConfig as orderConfig } from '../src/config.ts'

// order's configuration, read through the kit's readEnv and serviceEnv (product's: product/test)
describe('configuration', () => {
  it('when nothing is set, then the documented defaults apply', () => {
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
    expect(() => orderConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(/PORT.*LOG_LEVEL|LOG_LEVEL.*PORT/)
  })
})
