import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { isolate, operatorToken, spawnService, type Isolated, type ServiceProcess } from '@shop/testkit'

// product as its own process, so its memory can be read while clients push huge bodies at it
let iso: Isolated
let product: ServiceProcess
beforeAll(async () => {
  iso = await isolate('bodylimit')
  product = await spawnService('product', iso.env('product'))
})
afterAll(async () => {
  await product.stop()
  await iso.cleanup()
})

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024
const MB = 1024 * 1024

/**
 * Sends `POST /products` with a body of `size` bytes (announced, or chunked when `chunked`),
 * writing as long as the server reads, and resolves with the status line it answered with.
 */
function pushBody(port: number, token: string, size: number, chunked: boolean, announced = !chunked): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    let answer = ''
    let sent = 0
    const chunk = Buffer.alloc(256 * 1024, 'x')
    const head = [
      'POST /products HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      `Authorization: Bearer ${token}`,
      'Content-Type: application/json',
      ...(chunked ? ['Transfer-Encoding: chunked'] : []),
      ...(announced ? [`Content-Length: ${chunked ? 100 : size}`] : []),
      '',
      '',
    ].join('\r\n')
    const finish = () => {
      socket.destroy()
      resolve(answer.split('\r\n')[0] ?? '')
    }
    socket.on('data', (d) => {
      answer += d.toString()
      if (answer.includes('\r\n\r\n')) finish()
    })
    socket.on('error', finish)
    socket.on('close', finish)
    const pump = () => {
      while (sent < size && !socket.destroyed) {
        const part = chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk
        sent += chunk.length
        if (!socket.write(part)) return void socket.once('drain', pump)
      }
      if (chunked && !socket.destroyed) socket.write('0\r\n\r\n')
    }
    socket.once('connect', () => {
      socket.write(head)
      pump()
    })
  })
}

describe('bodies over MAX_BODY_BYTES', () => {
  it('when 20 clients each send 100 MB at once (announced or chunked), then each gets 413 and memory stays flat', async () => {
    const port = Number(new URL(product.url).port)
    const token = await operatorToken()
    const before = rssMb(product.pid)
    let peak = before
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(product.pid))), 20)
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => pushBody(port, token, 100 * MB, i % 2 === 1)))
    clearInterval(sampler)
    expect(answers).toEqual(Array(20).fill('HTTP/1.1 413 Payload Too Large'))
    console.error(`[body-limit] product RSS ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB at most during 20 x 100 MB`)
    expect(peak - before).toBeLessThan(64) // reading the bodies would have taken 2,000 MB
    const [row] = await iso.db('product')`select count(*)::int as n from products`
    expect(row!.n).toBe(0)
  }, 60_000)

  it('when a body is sent chunked under a small Content-Length as well, then it is refused (Bun closes the connection) and nothing is written', async () => {
    const port = Number(new URL(product.url).port)
    const status = await pushBody(port, await operatorToken(), 10 * MB, true, true)
    // ambiguous framing (RFC 9112 6.3): a 4xx, or the connection closed without an answer
    expect(status === '' || /^HTTP\/1\.1 4\d\d /.test(status)).toBe(true)
    const [row] = await iso.db('product')`select count(*)::int as n from products`
    expect(row!.n).toBe(0)
  })
})
