import { spawnService, type Runtime } from './processes.ts'
type Servable = {
  app: { listen(port: number): unknown; server: { port?: number } | null; stop(): Promise<unknown> }
  stop(): Promise<void>
  /** ends the responses that stay open (event streams), as `serve` does on SIGTERM */
  endStreams?(): void
}

export type Running<S> = { url: string; service: S; stop(): Promise<void> }

/** Boots a service in this process on a free port: the tests' way, with real infra behind it. */
export async function bootInProcess<S extends Servable>(start: () => Promise<S>): Promise<Running<S>> {
  const service = await start()
  service.app.listen(0)
  const port = service.app.server?.port
  if (!port) throw new Error('service did not start listening')
  let stopped = false
  return {
    url: `http://127.0.0.1:${port}`,
    service,
    async stop() {
      if (stopped) return
      stopped = true
      service.endStreams?.()
      await service.app.stop()
      await service.stop()
    },
  }
}

/**
 * Boots a service for a suite on the runtime asked for: on Bun in this process (the suite can
 * reach into `service`), on Deno as a child process serving the same code through `Deno.serve`.
 */
export async function bootOn<S extends Servable>(
  runtime: Runtime,
  name: 'product' | 'order',
  env: Record<string, string>,
  start: () => Promise<S>,
): Promise<Running<S | undefined>> {
  if (runtime === 'bun') return bootInProcess(start)
  const child = await spawnService(name, env, { runtime })
  return { url: child.url, service: undefined, stop: async () => void (await child.stop()) }
}

/** Contract suites run once per runtime the services support. */
export const runtimes: Runtime[] = ['bun', 'deno']
