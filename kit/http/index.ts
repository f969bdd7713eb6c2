/**
 * The HTTP shell: request ids, problem+json answers, liveness and readiness, and serving on Bun
 * or Deno with a bounded shutdown.
 */
export { problems, requestId } from './problems.ts'
export { health, dependencyStates, type HealthOptions } from './health.ts'
export { serve, failedToStart } from './serve.ts'
