import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import amqp, { type ChannelModel } from 'amqplib'
import { startInfra } from '@shop/testkit'
import { coalesceWrites } from '@shop/kit/messaging'

/** Counts what reaches the connection's socket: one count per write or writev call. */
function countWrites(m: ChannelModel) {
  const socket = (m as unknown as { connection: { stream: Record<string, (...a: unknown[]) => unknown> } }).connection.stream
  const counts = { calls: 0 }
  for (const name of ['_write', '_writev'] as const) {
    const original = socket[name]
    if (typeof original === 'function')
      socket[name] = function (this: unknown, ...args: unknown[]) {
        counts.calls++
        return original.apply(this, args)
      }
  }
  return counts
}

async function burst(m: ChannelModel, queue: string, n: number) {
  const ch = await m.createConfirmChannel()
  await ch.assertQueue(queue, { exclusive: true })
  const writes = countWrites(m)
  for (let i = 0; i < n; i++) ch.publish('', queue, Buffer.from(`message ${i}`), { persistent: true })
  await ch.waitForConfirms()
  const { messageCount } = await ch.checkQueue(queue)
  await ch.close()
  return { writes: writes.calls, messageCount }
}

let url: string
const opened: ChannelModel[] = []
beforeAll(async () => void (url = (await startInfra()).amqpUrl))
afterAll(() => Promise.all(opened.map((m) => m.close().catch(() => {}))))
const connect = async () => {
  const m = await amqp.connect(url)
  opened.push(m)
  return m
}

describe('AMQP socket writes', () => {
  it('when a burst of 200 publishes is sent, then it leaves in a few socket writes instead of one per message, and every message arrives', async () => {
    const corked = await connect()
    expect(coalesceWrites(corked)).toBe(true) // an amqplib whose internals changed is noticed here
    const plain = await connect()
    const before = await burst(plain, `writes-plain-${crypto.randomUUID()}`, 200)
    const after = await burst(corked, `writes-corked-${crypto.randomUUID()}`, 200)
    expect(before.messageCount).toBe(200)
    expect(after.messageCount).toBe(200)
    // plain: about one write per message (a slow socket, as over a container network, lets Node join a few)
    expect(before.writes).toBeGreaterThan(100)
    expect(after.writes).toBeLessThan(20)
  })
})
