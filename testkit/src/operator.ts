import { spawnSync } from 'node:child_process'
import amqp from 'amqplib'
import type { Infra } from './infra.ts'
import type { Isolated } from './isolate.ts'
import { eventually } from './wait.ts'

/**
 * What an operator does to a running broker, for the suites that prove the services survive it:
 * `rabbitmqctl` on the broker's own node (the local server, or inside the testcontainers one),
 * the management API, and AMQP itself. Nothing here is a stand-in: the broker does the work.
 */

/** `rabbitmqctl ARGS` against this run's broker; its output, or an error saying why not. */
export function rabbitmqctl(infra: Infra, ...args: string[]): string {
  const command = infra.source === 'testcontainers' ? ['docker', 'exec', rabbitContainer(infra), 'rabbitmqctl', ...args] : ['rabbitmqctl', ...args]
  if (infra.source === 'env') throw new Error('rabbitmqctl needs the broker on this machine (local) or in a container the testkit started')
  const run = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: 30_000 })
  if (run.status !== 0) throw new Error(`${command.join(' ')} failed: ${run.error?.message ?? ''}${run.stderr}${run.stdout}`)
  return run.stdout
}

function rabbitContainer(infra: Infra): string {
  for (const id of infra.containers ?? []) {
    const image = spawnSync('docker', ['inspect', '--format', '{{.Config.Image}}', id], { encoding: 'utf8' }).stdout
    if (image.includes('rabbitmq')) return id
  }
  throw new Error('no RabbitMQ container among the ones the testkit started')
}

/** Evaluates an Erlang expression on the broker node (`rabbitmqctl eval`). */
export const brokerEval = (infra: Infra, expression: string) => rabbitmqctl(infra, 'eval', expression).trim()

/**
 * Lowers RabbitMQ's delivery acknowledgement timeout (`consumer_timeout`, 30 min by default) to
 * `ms` and checks it every half second, as a channel's tick does once a minute by default: a
 * consumer that holds a delivery longer has its channel closed by the broker (406
 * PRECONDITION_FAILED). Applies to channels opened afterwards; returns the undo.
 */
export function consumerTimeout(infra: Infra, ms: number) {
  const was = { timeout: brokerEval(infra, 'application:get_env(rabbit, consumer_timeout).'), tick: brokerEval(infra, 'application:get_env(rabbit, channel_tick_interval).') }
  const value = (text: string, otherwise: number) => Number(/\{ok,(\d+)\}/.exec(text)?.[1] ?? otherwise)
  brokerEval(infra, `application:set_env(rabbit, consumer_timeout, ${ms}), application:set_env(rabbit, channel_tick_interval, 500).`)
  return () =>
    void brokerEval(
      infra,
      `application:set_env(rabbit, consumer_timeout, ${value(was.timeout, 1_800_000)}), application:set_env(rabbit, channel_tick_interval, ${value(was.tick, 60_000)}).`,
    )
}

/**
 * Raises a memory alarm (`set_vm_memory_high_watermark` far below what the node uses): RabbitMQ
 * blocks every publishing connection until it is cleared. Returns the clearing, which puts the
 * watermark back where it was.
 */
export function memoryAlarm(infra: Infra) {
  const was = brokerEval(infra, 'vm_memory_monitor:get_vm_memory_high_watermark().')
  rabbitmqctl(infra, 'set_vm_memory_high_watermark', '0.00001')
  return () => void rabbitmqctl(infra, 'set_vm_memory_high_watermark', /^[\d.]+$/.test(was) ? was : '0.4')
}

/** The management API of this run's broker: its origin and the basic auth it takes. */
export function management(iso: Isolated) {
  const api = iso.infra.managementUrl
  if (!api) throw new Error('this needs the RabbitMQ management API (rabbitmq_management)')
  return managementApi(api)
}

/** A management URL (`http://user:password@host:port`) as the origin and the basic auth it takes. */
export function managementApi(url: string) {
  const { origin, username, password } = new URL(url)
  const headers = { authorization: `Basic ${btoa(`${decodeURIComponent(username || 'guest')}:${decodeURIComponent(password || 'guest')}`)}` }
  return { origin, headers }
}

/** The connections the broker lists for this run's services (their names carry the run's exchange). */
export async function brokerConnections(iso: Isolated): Promise<{ name: string }[]> {
  const { origin, headers } = management(iso)
  const all = (await (await fetch(`${origin}/api/connections`, { headers })).json()) as { name: string; client_properties?: { connection_name?: string } }[]
  return all.filter((c) => c.client_properties?.connection_name?.includes(` ${iso.exchange} `))
}

/** Deletes a queue through the management API, as `rabbitmqctl delete_queue` or the UI would. */
export async function deleteQueue(iso: Isolated, queue: string) {
  const { origin, headers } = management(iso)
  const res = await fetch(`${origin}/api/queues/%2F/${encodeURIComponent(queue)}`, { method: 'DELETE', headers })
  if (!res.ok) throw new Error(`deleting ${queue}: ${res.status} ${await res.text()}`)
}

/** How many consumers the broker has on a queue (0 when the queue is missing). */
export async function consumersOn(iso: Isolated, queue: string): Promise<number> {
  const { origin, headers } = management(iso)
  const res = await fetch(`${origin}/api/queues/%2F/${encodeURIComponent(queue)}`, { headers })
  if (res.status === 404) return 0
  return ((await res.json()) as { consumers?: number }).consumers ?? 0
}

/**
 * An operator's queue that the service cannot take back: the queue deleted and declared again as
 * a classic queue, where the service declares a quorum one, so the service's declaration fails
 * (406 inequivalent arg) for as long as it stays. Returns the undo (the queue deleted again, for
 * the service to declare as it should).
 */
export async function jamQueue(iso: Isolated, queue: string) {
  const broker = await amqp.connect(iso.infra.amqpUrl)
  try {
    await eventually(
      async () => {
        await deleteQueue(iso, queue)
        // the service re-declares within milliseconds; a lost race is simply tried again
        const ch = await broker.createChannel()
        ch.on('error', () => {})
        const ok = await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'classic' } }).then(
          () => true,
          () => false,
        )
        await ch.close().catch(() => {})
        return ok
      },
      { timeout: 10_000, what: `${queue} declared as a classic queue` },
    )
  } finally {
    await broker.close().catch(() => {})
  }
  return () => deleteQueue(iso, queue)
}
