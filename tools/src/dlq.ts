/**
 * `bun run dlq -- list|show|replay|purge --queue <name> [--id <messageId>]`: the dead letters of a
 * consumer's queue (`<name>.dlq`), on the broker of AMQP_URL and the exchange of EVENTS_EXCHANGE.
 *   list     one line per message: id, event, why and when it died, request id
 *   show     the message(s) with headers and payload (JSON)
 *   replay   moves them (or the one --id names) back to <name>, ids and headers kept
 *   purge    drops them
 */
import { parseArgs } from 'node:util'
import { deadLetters } from '@shop/kit/messaging'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { queue: { type: 'string' }, id: { type: 'string', multiple: true } },
})
const command = positionals[0]
if (!values.queue || !['list', 'show', 'replay', 'purge'].includes(command ?? '')) {
  console.error('usage: bun run dlq -- list|show|replay|purge --queue <name> [--id <messageId> ...]')
  process.exit(2)
}
const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const exchange = process.env.EVENTS_EXCHANGE ?? 'shop.events'
const letters = await deadLetters(amqpUrl, exchange, values.queue)
try {
  if (command === 'list') {
    const all = await letters.list()
    for (const l of all) console.log([l.messageId, l.event, `${l.reason} x${l.count}`, l.diedAt, l.requestId ?? '-'].join('\t'))
    console.error(`${all.length} message(s) in ${letters.dlq}`)
  } else if (command === 'show') {
    const all = await letters.list()
    console.log(JSON.stringify(values.id ? all.filter((l) => values.id!.includes(l.messageId ?? '')) : all, null, 2))
  } else if (command === 'replay') {
    console.error(`moved ${await letters.replay(values.id)} message(s) from ${letters.dlq} back to ${values.queue}`)
  } else {
    console.error(`dropped ${await letters.purge()} message(s) from ${letters.dlq}`)
  }
} finally {
  await letters.close()
}
