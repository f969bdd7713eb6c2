/**
 * The Tokens dialog, as Swagger UI's Authorize: one field for the customer's token, one for
 * staff's, kept in sessionStorage; the header says who the page acts as.
 */
import { byId } from './dom.ts'
import { describeToken, ROLES, setToken, tokenOf } from './tokens.ts'

export function createTokensDialog(onSaved: () => void) {
  const dialog = byId<HTMLDialogElement>('tokens-dialog')
  const form = byId<HTMLFormElement>('tokens-form')
  const who = byId('who')
  const field = (role: string) => byId<HTMLTextAreaElement>(`token-${role}`)

  function showWho() {
    who.textContent = ROLES.map((role) => `${role}: ${describeToken(tokenOf(role))}`).join(' · ')
    for (const role of ROLES) byId(`token-${role}-about`).textContent = `Now: ${describeToken(tokenOf(role))}`
  }

  byId('tokens-open').addEventListener('click', () => {
    for (const role of ROLES) field(role).value = tokenOf(role) ?? ''
    showWho()
    dialog.showModal()
  })
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    for (const role of ROLES) setToken(role, field(role).value)
    showWho()
    dialog.close()
    onSaved()
  })
  byId('tokens-forget').addEventListener('click', () => {
    for (const role of ROLES) (setToken(role, undefined), (field(role).value = ''))
    showWho()
  })
  byId('tokens-close').addEventListener('click', () => dialog.close())
  showWho()
  return { showWho }
}
