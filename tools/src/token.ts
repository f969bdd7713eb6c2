/**
 * `bun run token -- --scope "orders:write" --sub alice [--hours 12]`: mints an access token with
 * the local development key (made on first use, see dev-keys.ts) and prints it.
 * `bun run token -- --write-env` writes the public key into .env, where `docker compose` reads it,
 * with order's own key pair for its calls to product.
 * `bun run token -- --service-keys` prints a new key pair for order's calls to product: the
 * private JWK for order's SERVICE_PRIVATE_JWK, the JWKS for product's SERVICE_JWKS (for a
 * cluster's Secrets; made fresh each time, kept nowhere).
 */
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { devDir, devServiceKeys, devSigner } from './dev-keys.ts'
import { authEnv, mintToken, newServiceKeys } from '@shop/testkit'

const { values } = parseArgs({
  options: {
    scope: { type: 'string', default: 'orders:write' },
    sub: { type: 'string', default: 'customer-1' },
    hours: { type: 'string', default: '12' },
    'write-env': { type: 'boolean', default: false },
    'service-keys': { type: 'boolean', default: false },
  },
})
const signer = await devSigner()

if (values['service-keys']) {
  const keys = await newServiceKeys('order')
  console.log(`SERVICE_PRIVATE_JWK (order, secret):\n${keys.privateJwk}\nSERVICE_JWKS (product, public):\n${keys.jwks}`)
} else if (values['write-env']) {
  const path = fileURLToPath(new URL('../../.env', import.meta.url))
  const kept = (await readFile(path, 'utf8').catch(() => '')).split('\n').filter((l) => l && !/^(AUTH|JWT_[A-Z_]+|SERVICE_[A-Z_]+)=/.test(l))
  const auth = Object.entries(authEnv(signer)).map(([k, v]) => `${k}=${v.trim().replaceAll('\n', '\\n')}`)
  // the k6 containers of compose's `load` profile mint their tokens with it (local key only)
  auth.push(`JWT_PRIVATE_JWK=${await readFile(`${devDir}jwt-private.jwk.json`, 'utf8')}`)
  // order calls product as itself (compose.yml hands each service its half)
  const service = await devServiceKeys()
  auth.push(`SERVICE_PRIVATE_JWK=${service.privateJwk}`, `SERVICE_JWKS=${service.jwks}`)
  await writeFile(path, [...kept, ...auth, ''].join('\n'))
  console.error(`wrote the local public key to ${path} (docker compose reads it)`)
} else {
  console.log(await mintToken({ signer, sub: values.sub, scope: values.scope, expiresIn: Number(values.hours) * 3600 }))
}
