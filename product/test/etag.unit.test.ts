import { describe, expect, it } from 'bun:test'
import { etagOf, notModified, versionsAllowed } from '../src/etag.ts'

describe('a product ETag', () => {
  it('when a version is sent as an ETag, then it is the version in quotes, a strong tag', () => {
    expect(etagOf(3)).toBe('"3"')
  })

  it('when the ETag a read gave comes back, then both preconditions read the same version from it', () => {
    for (const version of [1, 42, 2 ** 31 - 1]) {
      expect(notModified(etagOf(version), version)).toBe(true)
      expect(versionsAllowed(etagOf(version))).toEqual([version])
    }
  })
})

describe('If-None-Match (weak comparison)', () => {
  it('when there is no header, then the product is sent', () => {
    expect(notModified(undefined, 3)).toBe(false)
  })

  it('when the tag names the current version, strong or weak, then it is not modified', () => {
    expect(notModified('"3"', 3)).toBe(true)
    expect(notModified('W/"3"', 3)).toBe(true)
  })

  it('when the tag names another version, then the product is sent', () => {
    expect(notModified('"2"', 3)).toBe(false)
    expect(notModified('W/"4"', 3)).toBe(false)
  })

  it('when the header is *, then any existing product is not modified', () => {
    expect(notModified('*', 3)).toBe(true)
    expect(notModified(' * ', 3)).toBe(true)
  })

  it('when a list names the current version anywhere, then it is not modified', () => {
    expect(notModified('"1", W/"2", "3"', 3)).toBe(true)
    expect(notModified('"1",W/"3"', 3)).toBe(true)
    expect(notModified('"1", "2"', 3)).toBe(false)
  })

  it('when the header does not parse as tags, then it names nothing and the product is sent', () => {
    for (const garbage of ['', '3', 'W/3', 'abc', '"*"', '**', 'W/"', '"3'])
      expect({ garbage, notModified: notModified(garbage, 3) }).toEqual({ garbage, notModified: false })
  })
})

describe('If-Match (strong comparison)', () => {
  it('when there is no header or it is *, then any version may be written', () => {
    expect(versionsAllowed(undefined)).toBeUndefined()
    expect(versionsAllowed('*')).toBeUndefined()
  })

  it('when the header names strong tags, then those versions may be written', () => {
    expect(versionsAllowed('"3"')).toEqual([3])
    expect(versionsAllowed('"1", "7"')).toEqual([1, 7])
  })

  it('when a tag is weak, then it allows nothing', () => {
    expect(versionsAllowed('W/"3"')).toEqual([])
    expect(versionsAllowed('W/"3", "4"')).toEqual([4])
  })

  it('when a tag names no version a product can have, then it allows nothing', () => {
    for (const tag of ['"0"', '"-1"', '"01"', '"1.5"', '"1e3"', '"abc"', '""', '"2147483648"', '"99999999999"'])
      expect({ tag, allowed: versionsAllowed(tag) }).toEqual({ tag, allowed: [] })
    expect(versionsAllowed('"2147483647"')).toEqual([2147483647])
  })

  it('when the header does not parse as tags, then it allows nothing (so the write gets 412, not a blind overwrite)', () => {
    for (const garbage of ['', '3', 'abc', 'W/3', '"3'])
      expect({ garbage, allowed: versionsAllowed(garbage) }).toEqual({ garbage, allowed: [] })
  })
})
