import { afterAll, describe, expect, it } from 'bun:test'
import { openLoop, percentile } from './open-loop.ts'

// a server that notes when each request arrived and answers after `delay` ms (or with 503)
const arrivals: number[] = []
let delay = 0
const server = Bun.serve({
  port: 0,
  async fetch(req) {
    arrivals.push(performance.now())
    const body = await req.text()
    if (delay) await Bun.sleep(delay)
    return Response.json({ echoed: body.length }, { status: new URL(req.url).pathname === '/fail' ? 503 : 201 })
  },
})
afterAll(() => server.stop(true))

describe('openLoop (the bench’s constant arrival rate)', () => {
  it('when run at 400/s for 2 s, then the requests arrive spread over the time, not in bursts', async () => {
    arrivals.length = 0
    delay = 0
    const r = await openLoop({ url: `http://127.0.0.1:${server.port}/orders`, method: 'POST', body: '{"qty":1}', rate: 400, seconds: 2 })
    expect(r.sent).toBe(800)
    expect(r.answered).toBe(800)
    expect(r.errors + r.timeouts + r.non2xx).toBe(0)
    // 400/s is 40 per 100 ms; autocannon's overallRate would put a whole second's share in the first few ms
    const windows = new Map<number, number>()
    for (const t of arrivals) windows.set(Math.floor((t - arrivals[0]!) / 100), (windows.get(Math.floor((t - arrivals[0]!) / 100)) ?? 0) + 1)
    expect(Math.max(...windows.values())).toBeLessThan(70)
    expect(windows.size).toBeGreaterThanOrEqual(19)
  })

  it('when the server is slower than the arrivals, then requests keep being sent and latency counts from when each was due', async () => {
    arrivals.length = 0
    delay = 50
    const r = await openLoop({ url: `http://127.0.0.1:${server.port}/orders`, rate: 200, seconds: 1 })
    expect(r.answered).toBe(200)
    // a closed loop of one connection would have managed 20; an open loop has ~10 in flight
    expect(arrivals.at(-1)! - arrivals[0]!).toBeLessThan(1500)
    expect(percentile(r.latencies, 0.5)).toBeGreaterThanOrEqual(50)
  })

  it('when the server answers with an error status, then it is counted as non-2xx', async () => {
    delay = 0
    const r = await openLoop({ url: `http://127.0.0.1:${server.port}/fail`, rate: 50, seconds: 0.5 })
    expect(r.answered).toBe(25)
    expect(r.non2xx).toBe(25)
  })
})
