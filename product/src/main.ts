import { loadConfig } from './config.ts'
import { startProduct } from './start.ts'

// The only runtime-aware file: Bun serves with app.listen, Deno with Deno.serve(app.fetch).
const config = loadConfig(process.env)
const service = await startProduct(config)
declare const Deno: { serve(opts: { port: number; onListen?: () => void }, handler: (r: Request) => Response | Promise<Response>): { shutdown(): Promise<void> } } | undefined

let closeServer: () => Promise<void>
if (typeof Deno !== 'undefined') {
  const server = Deno.serve({ port: config.port, onListen: () => {} }, service.app.fetch)
  closeServer = () => server.shutdown()
} else {
  service.app.listen(config.port)
  closeServer = async () => {
    await service.app.stop()
  }
}
service.log.info('listening', { port: config.port, docs: `http://localhost:${config.port}/docs` })

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, async () => {
    if (stopping) return
    stopping = true
    service.log.info('shutting down', { signal })
    await closeServer()
    await service.stop()
    process.exit(0)
  })
