/**
 * The few DOM helpers the page needs. Text goes in as text (textContent), never as HTML, so a
 * product named `<img onerror=…>` is shown, not run.
 */
type Child = Node | string | number | false | null | undefined
type Attrs = Record<string, string | number | boolean | undefined | EventListener>

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value)
    else if (value === true) el.setAttribute(name, '')
    else if (value !== false && value !== undefined) el.setAttribute(name, String(value))
  }
  el.append(...children.filter((c): c is Node | string | number => c !== false && c !== null && c !== undefined).map((c) => (typeof c === 'number' ? String(c) : c)))
  return el
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id)
  if (!el) throw new Error(`the page has no #${id}`)
  return el as T
}

/** Says something to screen readers without moving focus (the page's polite live region). */
export function announce(text: string) {
  const region = byId('announcer')
  region.textContent = ''
  // a change a moment later is read even when the text repeats
  setTimeout(() => (region.textContent = text), 50)
}

/**
 * A message line (a live region, role=status, always in the page so that screen readers hear
 * what is written into it); `kind` sets its look.
 */
export function tell(el: HTMLElement, text: string, kind: 'info' | 'ok' | 'error' | 'wait' = 'info') {
  el.textContent = text
  el.dataset.kind = kind
}

export const time = (iso: string) => {
  const d = new Date(iso)
  return h('time', { datetime: iso }, `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`)
}
