import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { createClient } from 'redis'

/**
 * A connection of the test's own to Redis, for the faults an operator can cause there. `ownServer`: the
 * server was started for this run (testcontainers), so nobody else uses it.
 */
export async function redisAdmin(url: string, { ownServer = false }: { ownServer?: boolean } = {}) {
  const redis = createClient({ url })
  await redis.connect()
  const own = await redis.clientId()
  return {
    /** `CLIENT PAUSE <ms> ALL`: every client's commands wait that long (this server's other users' too) */
    pause: (ms: number) => redis.sendCommand(['CLIENT', 'PAUSE', String(ms), 'ALL']),
    /**
     * `CLIENT KILL ID` for every connection this process opened to Redis but its own: the replicas'
     * connections, which all pass through this process's TCP hops (`tcpProxy`). Other users of the
     * same server keep theirs. On a server of this run's own, every connection but this one: its
     * published port hides the clients' ports behind Docker's proxy. Returns how many were killed.
     */
    async killProxied(): Promise<number> {
      const ours = localPortsTo(Number(new URL(url).port || 6379))
      const ids = clientList(await redis.sendCommand<string>(['CLIENT', 'LIST']))
        .filter((c) => c.id !== own && (ownServer || ours.has(c.port)))
        .map((c) => c.id)
      for (const id of ids) await redis.sendCommand(['CLIENT', 'KILL', 'ID', String(id)])
      return ids.length
    },
    close: () => redis.close(),
  }
}

/** `CLIENT LIST`'s lines as ids and client ports. */
const clientList = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => {
      const field = (name: string) => line.split(' ').find((f) => f.startsWith(`${name}=`))?.slice(name.length + 1) ?? ''
      const addr = field('addr')
      return { id: Number(field('id')), port: Number(addr.slice(addr.lastIndexOf(':') + 1)) }
    })

/** The local ports of this process's TCP connections to `port` (Linux: its fds, then /proc/net/tcp{,6}). */
function localPortsTo(port: number): Set<number> {
  const inodes = new Set<string>()
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))
      if (socket) inodes.add(socket[1]!)
    } catch {} // closed meanwhile
  }
  const ports = new Set<number>()
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length < 10) continue
      const local = parseInt(f[1]!.split(':')[1]!, 16)
      const remote = parseInt(f[2]!.split(':')[1]!, 16)
      if (remote === port && inodes.has(f[9]!)) ports.add(local)
    }
  }
  return ports
}

export type RedisAdmin = Awaited<ReturnType<typeof redisAdmin>>
