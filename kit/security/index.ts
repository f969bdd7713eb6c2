/**
 * Who may call: bearer tokens checked, scopes and rate limits declared on each route, the client
 * behind trusted proxies, and the token a service sends when it calls another as itself.
 */
export { access, type Access } from './access.ts'
export { createVerifier, type Caller, type Verifier } from './verify-token.ts'
export { clientAddress, requestClient, trustedProxies, type ClientAddress, type RequestClient } from './client-address.ts'
export { serviceCredential, type ServiceCredential, type ServiceCredentialSettings } from './service-token.ts'
export { batchedCount, exactCounts, localCounts, type Counts } from './rate-counts.ts'
