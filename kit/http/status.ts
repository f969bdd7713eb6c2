/**
 * The status each answered request got, for whoever observes requests after the fact (metrics,
 * traces). Its own module so that those observers and the HTTP shell that answers with problems
 * depend on it, not on each other.
 */
const answered = new WeakMap<Request, number>()

/** Notes the status a request is answered with where Elysia's `set` will not show it (a problem). */
export const noteStatus = (request: Request, status: number) => void answered.set(request, status)

/** The status a request was answered with (problems included, which Elysia's `set` does not show). */
export function statusOf(ctx: { request: Request; set: { status?: number | string }; response?: unknown }): number {
  if (ctx.response instanceof Response) return ctx.response.status
  return answered.get(ctx.request) ?? (typeof ctx.set.status === 'number' ? ctx.set.status : 200)
}
