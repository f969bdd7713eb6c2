import { createServer, connect, type Server, type Socket } from 'node:net'
import { freePort } from './processes.ts'

export type Proxy = {
  /** `url` with its host and port replaced by the proxy's */
  through(url: string): string
  /** an outage: open connections are dropped and new ones refused */
  cut(): Promise<void>
  /** the server is back, on the same port */
  restore(): Promise<void>
  close(): Promise<void>
}

/**
 * A TCP hop in front of a real server, so a test can take that server away from the services
 * and give it back, as a restart would, without touching the server the other runs share.
 */
export async function tcpProxy(targetUrl: string): Promise<Proxy> {
  const target = new URL(targetUrl)
  const targetPort = Number(target.port)
  const port = await freePort()
  const sockets = new Set<Socket>()
  let server: Server | undefined

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect({ host: target.hostname, port: targetPort })
        for (const s of [client, upstream]) {
          sockets.add(s)
          s.on('close', () => sockets.delete(s))
          s.on('error', () => {
            client.destroy()
            upstream.destroy()
          })
        }
        client.pipe(upstream).pipe(client)
      })
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      sockets.clear()
      if (!server) return resolve()
      server.close(() => resolve())
      server = undefined
    })

  await listen()
  return {
    through(url) {
      const u = new URL(url)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    cut: stop,
    restore: listen,
    close: stop,
  }
}
