/**
 * A product's ETag is its version in quotes, a strong tag: the version grows with every change of
 * the row, so one tag always means one representation. RFC 9110 13.1: If-None-Match compares
 * weakly (`W/"3"` matches `"3"`), If-Match strongly (a weak tag matches nothing); both take `*`
 * or a comma-separated list. A value that does not parse names no tag, so it matches nothing.
 */
export const etagOf = (version: number) => `"${version}"`

type Tag = { weak: boolean; opaque: string }
const TAG = /(W\/)?"([^"]*)"/g

const tagsIn = (header: string): '*' | Tag[] =>
  header.trim() === '*' ? '*' : [...header.matchAll(TAG)].map((m) => ({ weak: Boolean(m[1]), opaque: m[2]! }))

/** If-None-Match: the client already holds this version, so a 304 will do. */
export function notModified(ifNoneMatch: string | undefined, version: number): boolean {
  if (ifNoneMatch === undefined) return false
  const tags = tagsIn(ifNoneMatch)
  return tags === '*' || tags.some((t) => t.opaque === String(version))
}

/**
 * If-Match as the versions a write may change: undefined when any existing product will do (no
 * header, or `*`), else the versions its strong tags name (possibly none, then nothing matches).
 */
export function versionsAllowed(ifMatch: string | undefined): number[] | undefined {
  if (ifMatch === undefined) return undefined
  const tags = tagsIn(ifMatch)
  if (tags === '*') return undefined
  return tags.filter((t) => !t.weak && /^[1-9][0-9]{0,9}$/.test(t.opaque) && Number(t.opaque) <= 2 ** 31 - 1).map((t) => Number(t.opaque))
}

/** A 304 carries the headers the 200 would have (ETag, X-Cache, request id) and no body, which Deno insists on. */
export const notModifiedResponse = (headers: Record<string, unknown>) =>
  new Response(null, {
    status: 304,
    headers: Object.entries(headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : [])),
  })
