/**
 * Money as exact decimal strings: parsed, checked and compared without floating point.
 */
import { MoneyPattern } from '@shop/contracts'
import { invalid } from './errors.ts'

const pattern = new RegExp(MoneyPattern)

/** Accepts "19.99" or 19.99 and keeps it exact; 19.999 or 1e-7 are refused, not rounded. */
export function toMoney(value: string | number, field: string): string {
  const text = typeof value === 'number' ? String(value) : value
  if (!pattern.test(text)) throw invalid(field, 'must be a non-negative amount with at most 2 fraction digits')
  return text
}

/** Whole cents as a bigint: "19.9" and "19.90" are the same amount. */
export function cents(amount: string): bigint {
  const [whole, fraction = ''] = amount.split('.')
  return BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0'))
}
