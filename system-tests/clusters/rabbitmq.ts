/**
 * Three RabbitMQ nodes clustered on this machine: shop-r1@localhost.. on AMQP 127.0.0.1:5701..5703,
 * distribution on 25701..25703, their own epmd on 4391, data under <tmp>/shop-clusters/rabbitmq.
 * The system broker (rabbit@localhost on 5672, epmd 4369) is not touched: each node gets its own
 * rabbitmq-env.conf, config, plugin list (none) and a HOME holding this cluster's Erlang cookie.
 *
 * Cluster formation is classic_config peer discovery: r1 lists only itself and boots as the seed;
 * once it accepts connections r2 and r3 boot together, listing all three, and join it (no
 * stop_app/join_cluster round trips). cluster_partition_handling is pause_minority, as the
 * operator recommends for quorum queues.
 *
 * partition() is a real one (see partition.ts): nftables drops the node's distribution traffic to
 * and from the others; each node connects from its own address (127.0.0.11..13) so the rules can
 * tell who is who. net_ticktime is lowered to 8 s, so a partition is noticed after 6-10 s, and the
 * cut-off node pauses (its AMQP port closes) until heal().
 */
import { mkdirSync, writeFileSync, chmodSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { eventually } from '@shop/testkit'
import { accepts, baseEnv, killOwned, run, startDaemon, since, type Daemon } from './daemons.ts'
import { nftPartitions } from './partition.ts'
import { writeNodeConfig, type NodeSpec } from './rabbitmq-config.ts'

const BIN = '/usr/lib/rabbitmq/bin' // the scripts themselves, not /usr/sbin's wrappers that switch to the rabbitmq user

export type RabbitNode = {
  name: string
  port: number
  url: string
  kill9(): Promise<void>
  /** starts the node again on its data (after kill9 or stop) and waits for its AMQP port */
  start(): Promise<void>
  /** a graceful stop */
  stop(): Promise<void>
  /** cuts the node's links to the others; resolves once it paused as the minority (AMQP port closed) */
  partition(): Promise<void>
  /** gives the links back; resolves once the node is running in the cluster again */
  heal(): Promise<void>
}

export type RabbitCluster = {
  urls: string[]
  nodes: RabbitNode[]
  /** the node that leads a quorum queue, asked from the first node that answers */
  leaderOf(queue: string, vhost?: string): Promise<string | undefined>
  /** rabbitmqctl against a node of this cluster */
  ctl(node: string, ...args: string[]): Promise<string>
  startedInMs: number
  /** what it owns: every process working under dir or listening on ports is this cluster's */
  dir: string
  ports: number[]
  stopAll(opts?: { keepData?: boolean }): Promise<void>
}

export type RabbitOptions = { dir?: string; amqpPort?: number; epmdPort?: number; netTicktimeS?: number; timeout?: number }

export async function startRabbitCluster({
  dir = join(tmpdir(), 'shop-clusters', 'rabbitmq'),
  amqpPort = 5701,
  epmdPort = 4391,
  netTicktimeS = 8,
  timeout = 60_000,
}: RabbitOptions = {}): Promise<RabbitCluster> {
  const started = performance.now()
  const specs: NodeSpec[] = [1, 2, 3].map((i) => ({
    name: `shop-r${i}@localhost`,
    port: amqpPort + i - 1,
    distPort: amqpPort + i - 1 + 20_000,
    sourceAddress: `127.0.0.${10 + i}`,
    dir: join(dir, `r${i}`),
  }))
  const ports = [epmdPort, ...specs.flatMap((s) => [s.port, s.distPort])]
  const partitions = nftPartitions('shop_clusters_rabbitmq', specs)
  await partitions.clear().catch(() => {}) // rules an earlier run left; without nft there are none
  await killOwned(dir, ports)
  rmSync(dir, { recursive: true, force: true })

  const home = join(dir, 'home')
  mkdirSync(home, { recursive: true })
  writeFileSync(join(home, '.erlang.cookie'), randomBytes(15).toString('hex').toUpperCase())
  chmodSync(join(home, '.erlang.cookie'), 0o400)
  const erlEnv = { HOME: home, ERL_EPMD_PORT: String(epmdPort) }
  const epmd = startDaemon('epmd', 'epmd', ['-port', String(epmdPort), '-address', '127.0.0.1'], {
    dir,
    env: baseEnv(erlEnv),
    logFile: join(dir, 'epmd.log'),
  })
  await eventually(() => accepts(epmdPort), { timeout: 5000, what: `epmd on ${epmdPort}` })

  const ctl = (node: string, ...args: string[]) => run(`${BIN}/rabbitmqctl`, ['-n', node, ...args], { env: baseEnv(erlEnv) })

  const nodes = specs.map((spec, i) => {
    const peers = i === 0 ? [spec.name] : specs.map((s) => s.name)
    const env = writeNodeConfig(spec, peers, { netTicktimeS, erlEnv })
    let daemon: Daemon | undefined
    const launch = () => {
      daemon = startDaemon(spec.name, `${BIN}/rabbitmq-server`, [], { dir: spec.dir, env, logFile: join(spec.dir, 'server.log') })
    }
    const booted = () =>
      eventually(
        async () => {
          if (!daemon?.alive()) throw new Error(`${spec.name} exited:\n${daemon?.logTail()}`)
          return accepts(spec.port)
        },
        { timeout, interval: 100, what: `${spec.name} accepting AMQP on ${spec.port}` },
      )
    const node: RabbitNode & { launch(): void; booted(): Promise<unknown>; daemon(): Daemon | undefined } = {
      name: spec.name,
      port: spec.port,
      url: `amqp://guest:guest@127.0.0.1:${spec.port}`,
      launch,
      booted,
      daemon: () => daemon,
      async kill9() {
        await daemon?.kill9()
      },
      async start() {
        if (daemon?.alive()) return
        launch()
        await booted()
      },
      async stop() {
        await daemon?.stop(30_000)
      },
      async partition() {
        await partitions.isolate(spec)
        await eventually(async () => !(await accepts(spec.port)), { timeout: netTicktimeS * 2000 + 10_000, interval: 200, what: `${spec.name} paused` })
      },
      async heal() {
        await partitions.rejoin(spec)
        await eventually(async () => (await accepts(spec.port)) && (await runningNodes(ctl, spec.name)).length === specs.length, {
          timeout: 60_000,
          interval: 200,
          what: `${spec.name} back in the cluster`,
        })
      },
    }
    return node
  })

  try {
    // the seed first: started together, a joiner can take the discovery lock on all three nodes and
    // hold it while it waits for the seed's tables, which the seed cannot create without that lock
    const [seed, ...joiners] = nodes
    seed!.launch()
    await seed!.booted()
    for (const node of joiners) node.launch()
    await Promise.all(joiners.map((n) => n.booted()))
    await eventually(async () => (await runningNodes(ctl, nodes[0]!.name)).length === nodes.length, {
      timeout: 15_000,
      interval: 200,
      what: 'all three nodes running in one cluster',
    })
  } catch (e) {
    const logs = nodes.map((n) => `--- ${n.name} ---\n${n.daemon()?.logTail(15)}`).join('\n')
    await stopAll({ keepData: true }) // the logs stay for a look; the next start clears them
    throw new Error(`${String(e)}\n${logs}`)
  }

  async function stopAll({ keepData = false } = {}) {
    await partitions.clear().catch(() => {})
    await Promise.all(nodes.map((n) => n.daemon()?.kill9()))
    await epmd.kill9()
    await killOwned(dir, ports)
    if (!keepData) rmSync(dir, { recursive: true, force: true })
  }

  return {
    urls: nodes.map((n) => n.url),
    nodes,
    ctl,
    dir,
    ports,
    startedInMs: since(started),
    async leaderOf(queue, vhost = '/') {
      for (const node of nodes) {
        if (!node.daemon()?.alive()) continue
        const out = await ctl(node.name, 'list_queues', '-p', vhost, 'name', 'leader', '--formatter', 'json', '--silent').catch(() => undefined)
        if (out === undefined) continue // paused or still booting: ask the next
        const rows = JSON.parse(out) as { name: string; leader: string }[]
        return rows.find((r) => r.name === queue)?.leader
      }
      return undefined
    },
    stopAll,
  }
}

async function runningNodes(ctl: (node: string, ...args: string[]) => Promise<string>, node: string): Promise<string[]> {
  const status = JSON.parse(await ctl(node, 'cluster_status', '--formatter', 'json')) as { running_nodes: string[] }
  return status.running_nodes
}
