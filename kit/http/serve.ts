/**
 * Serving an app on Bun or Deno, and the shutdown on SIGTERM: bounded step by step, and as a
 * whole by SHUTDOWN_TIMEOUT_SECONDS.
 */
import { notePeerAddress } from '../security/client-address.ts'
import type { Log } from '../observability/log.ts'

type Service = {
  /** after SIGTERM the process exits within this, whatever it was waiting for */
  shutdownTimeoutSeconds?: number
  app: { fetch: (r: Request) => Response | Promise<Response>; listen(port: number): unknown; stop(): Promise<unknown> }
  log: Log
  stop(): Promise<void>
  /**
   * Ends the responses that stay open (event streams) and refuses new ones: the server closes
   * only once every response has ended, so they end first.
   */
  endStreams?(): void
}

declare const Deno:
  | {
      serve(
        opts: { port: number; onListen?: () => void },
        handler: (r: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
      ): { shutdown(): Promise<void> }
    }
  | undefined

/**
 * The only runtime-aware code: Bun serves with `app.listen`, Deno with `Deno.serve(app.fetch)`.
 * On SIGINT/SIGTERM: end the open event streams at once, stop accepting and finish in-flight
 * requests, then the service's own stop (consumers drain, the relay finishes its batch,
 * connections close).
 */
export function serve(service: Service, port: number): void {
  let closeServer: () => Promise<unknown>
  if (typeof Deno !== 'undefined') {
    const server = Deno.serve({ port, onListen: () => {} }, (request, info) => {
      notePeerAddress(request, info.remoteAddr.hostname) // Bun's server tells Elysia itself
      return service.app.fetch(request)
    })
    closeServer = () => server.shutdown()
  } else {
    service.app.listen(port)
    closeServer = () => service.app.stop()
  }
  const runtime = typeof Deno !== 'undefined' ? 'deno' : 'bun'
  service.log.info('listening', { port, runtime, docs: `http://localhost:${port}/docs` })

  let stopping = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, async () => {
      if (stopping) return
      stopping = true
      service.log.info('shutting down', { signal })
      // every step below has its own bound; this one is the backstop for the sum, inside the
      // orchestrator's grace period (Kubernetes 30 s less the preStop pause, compose 20 s)
      const limit = (service.shutdownTimeoutSeconds ?? 15) * 1000
      setTimeout(() => {
        service.log.error('shutdown did not finish in time; exiting', { afterSeconds: limit / 1000 })
        process.exit(1)
      }, limit).unref()
      service.endStreams?.()
      await closeServer()
      await service.stop()
      process.exit(0)
    })
}

/** A service that cannot start says why in one log line and exits, instead of hanging half-open. */
export function failedToStart(err: unknown): never {
  console.error(JSON.stringify({ t: new Date().toISOString(), level: 'error', msg: 'failed to start', err: String(err) }))
  process.exit(1)
}
