/**
 * The acknowledgements of one consumer channel: acks in as few frames as possible, dead letters
 * at once.
 */
import type { Channel, ConsumeMessage } from 'amqplib'

/**
 * Acks in as few frames as possible: a delivery is marked done when handled, and one ack with
 * `multiple` settles the longest run of done deliveries from the oldest outstanding one.
 * Dead-lettering (nack) goes out at once, one message at a time.
 */
export function acknowledgements(ch: Channel) {
  const outstanding: ConsumeMessage[] = []
  const done = new Set<number>()
  const advance = () => {
    let last: ConsumeMessage | undefined
    while (outstanding.length && done.has(outstanding[0]!.fields.deliveryTag)) {
      last = outstanding.shift()!
      done.delete(last.fields.deliveryTag)
    }
    if (last) settle(() => ch.ack(last, true))
  }
  return {
    received: (msg: ConsumeMessage) => void outstanding.push(msg),
    ack(...msgs: ConsumeMessage[]) {
      for (const m of msgs) done.add(m.fields.deliveryTag)
      advance()
    },
    deadLetter(msg: ConsumeMessage) {
      settle(() => ch.nack(msg, false, false))
      const i = outstanding.indexOf(msg)
      if (i >= 0) outstanding.splice(i, 1)
      advance()
    },
  }
}
export type Acknowledgements = ReturnType<typeof acknowledgements>

/** An ack on a channel that died meanwhile throws; the broker redelivers, the handler is idempotent. */
function settle(fn: () => void) {
  try {
    fn()
  } catch {}
}
