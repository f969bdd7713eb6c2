/**
 * `bun run token -- --scope "orders:write" --sub alice [--hours 12]`: mints an access token with
 * the local development key (made on first use, see dev-keys.ts) and prints it.
 * `bun run token -- --write-env` writes the public key into .env, where `docker compose` reads it.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { devAuthEnv, devDir, devSigner } from './dev-keys.ts'
import { mintToken } from './tokens.ts'

const { values } = parseArgs({
  options: {
    scope: { type: 'string', default: 'orders:write' },
    sub: { type: 'string', default: 'customer-1' },
    hours: { type: 'string', default: '12' },
    'write-env': { type: 'boolean', default: false },
  },
})
const signer = await devSigner()

if (values['write-env']) {
  const path = fileURLToPath(new URL('../../.env', import.meta.url))
  const kept = (await readFile(path, 'utf8').catch(() => '')).split('\n').filter((l) => l && !/^(AUTH|JWT_[A-Z_]+)=/.test(l))
  const auth = Object.entries(devAuthEnv(signer)).map(([k, v]) => `${k}=${v.trim().replaceAll('\n', '\\n')}`)
  // the k6 containers of compose's `load` profile mint their tokens with it (local key only)
  auth.push(`JWT_PRIVATE_JWK=${await readFile(`${devDir}jwt-private.jwk.json`, 'utf8')}`)
  await writeFile(path, [...kept, ...auth, ''].join('\n'))
  console.error(`wrote the local public key to ${path} (docker compose reads it)`)
} else {
  console.log(await mintToken({ signer, sub: values.sub, scope: values.scope, expiresIn: Number(values.hours) * 3600 }))
}
