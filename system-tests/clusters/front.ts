/**
 * One address in front of the nodes of a cluster, as a Kubernetes Service puts one: each new
 * connection goes to the node `pick` names, and is refused when it names none. What the services
 * see on Kubernetes, reproduced on one machine:
 *
 * - `anyNode`: the RabbitMQ cluster operator's client Service (or Bitnami's Sentinel Service):
 *   kube-proxy sends each connection to one of the pods at random, a dead one included until
 *   its readiness probe fails (30 s with the operator's probe), so a connection may be refused
 *   and the client tries again.
 * - `onlyNode`: CloudNativePG's `<cluster>-rw` Service, whose one endpoint is the pod labelled
 *   primary: none while a failover is under way (connections refused), the new primary after.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'
import { freePort } from '@shop/testkit'

export type Front = { port: number; close(): Promise<void> }

export async function startFront(pick: () => Promise<number | undefined> | number | undefined): Promise<Front> {
  const port = await freePort()
  const sockets = new Set<Socket>()
  const server: Server = createServer(async (client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => client.destroy())
    client.pause() // nothing is read before the node is chosen
    const target = await Promise.resolve(pick()).catch(() => undefined)
    if (target === undefined || client.destroyed) return void client.destroy()
    const upstream = connect({ host: '127.0.0.1', port: target })
    sockets.add(upstream)
    upstream.on('close', () => {
      sockets.delete(upstream)
      client.destroy()
    })
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    client.pipe(upstream).pipe(client)
    client.resume()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  return {
    port,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** One of `ports` at random, alive or not: kube-proxy's choice among a Service's endpoints. */
export const anyNode = (ports: number[]) => () => ports[Math.floor(Math.random() * ports.length)]

/**
 * The node `find` names, asked again at most every `cacheMs`: an endpoints list that follows
 * the cluster with a short delay, as the endpoints controller does.
 */
export function onlyNode(find: () => Promise<number | undefined>, cacheMs = 500) {
  let known: { port: number | undefined; at: number } | undefined
  let asking: Promise<number | undefined> | undefined
  return async () => {
    if (known && performance.now() - known.at < cacheMs) return known.port
    asking ??= find()
      .catch(() => undefined)
      .then((port) => {
        known = { port, at: performance.now() }
        asking = undefined
        return port
      })
    return asking
  }
}
