import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { exportJWK, exportSPKI, generateKeyPair, importJWK, type CryptoKey } from 'jose'
import { mintToken, newServiceKeys, type ServiceKeys, type Signer } from '@shop/testkit'

/**
 * The local development signing key: made on the first `bun run start` (or `bun run token`) in
 * `.shop-dev/` (git-ignored, the private key readable by its owner only) and reused afterwards,
 * so tokens printed once keep working across restarts. Never used outside this machine.
 */
export const devDir = fileURLToPath(new URL('../../.shop-dev/', import.meta.url))
const privatePath = `${devDir}jwt-private.jwk.json`
const publicPath = `${devDir}jwt-public.pem`

export async function devSigner(): Promise<Signer> {
  try {
    const jwk = JSON.parse(await readFile(privatePath, 'utf8'))
    return { privateKey: (await importJWK(jwk, 'ES256')) as CryptoKey, publicPem: await readFile(publicPath, 'utf8'), kid: jwk.kid }
  } catch {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const kid = `dev-${new Date().toISOString().slice(0, 10)}`
    await mkdir(devDir, { recursive: true })
    await writeFile(privatePath, JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'ES256' }), { mode: 0o600 })
    await chmod(privatePath, 0o600)
    const publicPem = await exportSPKI(publicKey)
    await writeFile(publicPath, publicPem)
    console.error(`[dev-keys] made a local signing key in ${devDir}`)
    return { privateKey, publicPem, kid }
  }
}

/** order's own key for its calls to product, made once beside the signing key and reused. */
export async function devServiceKeys(): Promise<ServiceKeys> {
  const path = `${devDir}service-order.json`
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ServiceKeys
  } catch {
    const keys = await newServiceKeys('order')
    await mkdir(devDir, { recursive: true })
    await writeFile(path, JSON.stringify(keys), { mode: 0o600 })
    await chmod(path, 0o600)
    return keys
  }
}

/** The two tokens a developer needs most, good for 12 hours. */
export const devTokens = async (s: Signer) => ({
  staff: await mintToken({ signer: s, sub: 'staff-1', scope: 'products:write orders:read', expiresIn: 12 * 3600 }),
  customer: await mintToken({ signer: s, sub: 'customer-1', scope: 'orders:write', expiresIn: 12 * 3600 }),
})
