/**
 * Says when a part of the shop is not answering, and when it is back. Two sources: the bff's
 * `GET /ready` (its `checks` name the services it forwards to), asked every few seconds, and
 * every call the page makes (a 502, 503, 504 or no answer at all). When a service is back,
 * `onBack` lets the page catch up: the products read again, the orders followed try at once.
 */
import type { Readiness } from '@shop/contracts'
import { announce } from './dom.ts'
import { onReachability, type Service } from './http.ts'

const what: Record<Service, string> = {
  shop: 'The shop is not answering. The page keeps trying and catches up by itself.',
  product: 'The product service is not answering: products and stock may be out of date, and orders wait until it is back.',
  order: 'The order service is not answering: orders you placed are kept, and their progress shows here once it is back.',
}
const names: Record<Service, string> = { shop: 'The shop', product: 'The product service', order: 'The order service' }

export function createAvailability(banner: HTMLElement, onBack: (service: Service) => void) {
  const away = new Map<Service, Date>()

  function render() {
    banner.replaceChildren(
      ...[...away].map(([service, since]) => {
        const p = document.createElement('p')
        p.dataset.service = service
        p.textContent = `${what[service]} (since ${since.toLocaleTimeString([], { hour12: false })})`
        return p
      }),
    )
    banner.dataset.away = [...away.keys()].join(' ')
  }

  function mark(service: Service, answered: boolean) {
    if (answered && away.has(service)) {
      away.delete(service)
      render()
      announce(`${names[service]} is back.`)
      onBack(service)
    } else if (!answered && !away.has(service)) {
      away.set(service, new Date())
      render()
    }
  }
  onReachability(mark)

  async function askReady() {
    try {
      const res = await fetch('/ready', { cache: 'no-store', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(4000) })
      mark('shop', true)
      if (res.status === 404) return // a front without /ready: the calls tell
      const body = (await res.json().catch(() => undefined)) as Partial<Readiness> | undefined
      for (const service of ['product', 'order'] as const) {
        const state = body?.checks?.[service]
        if (state) mark(service, state !== 'down')
      }
    } catch {
      mark('shop', false)
    }
  }

  async function watch() {
    for (;;) {
      await askReady()
      await new Promise((r) => setTimeout(r, away.size ? 1000 : 5000))
    }
  }
  void watch()

  return { isAway: (service: Service) => away.has(service) }
}
