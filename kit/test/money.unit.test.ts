import { describe, expect, it } from 'bun:test'
import { cents, DomainError, toMoney } from '@shop/kit'

describe('money', () => {
  it.each([
    ['19.99', '19.99'],
    [19.99, '19.99'],
    [0.1, '0.1'],
    [20, '20'],
    ['0.05', '0.05'],
  ] as const)('when %p is given, then it is kept exactly as %p', (input, exact) => {
    expect(toMoney(input, 'body.price')).toBe(exact)
  })

  it.each([19.999, '1.999', '-1', 1e-7, '1e3', '01.00'])('when %p is given, then it is refused naming the field', (input) => {
    const error = (() => {
      try {
        toMoney(input as string | number, 'body.price')
      } catch (e) {
        return e
      }
    })() as DomainError
    expect(error).toBeInstanceOf(DomainError)
    expect(error.kind).toBe('Invalid')
    expect(error.fields[0]!.field).toBe('body.price')
  })

  it('when amounts are compared, then "19.9" and "19.90" are the same number of cents', () => {
    expect(cents('19.9')).toBe(1990n)
    expect(cents('19.90')).toBe(cents('19.9'))
    expect(cents('9999999999.99')).toBe(999999999999n)
  })
})
