/**
 * A service assembled from the kit: its configuration read from the environment, its
 * connections, relay and consumers (or, for one that only serves HTTP, the light start), its
 * HTTP app, and the migrate-only entry of its init container.
 */
export { connectService, migrateOnly, serviceApp, type AppPlatform, type AppShell, type ServicePlatform, type ServiceManifest } from './service.ts'
export { connectHttpService, type Checks, type HttpPlatform, type HttpServiceManifest } from './http-service.ts'
export {
  httpServiceConfig,
  httpServiceEnv,
  limitEnv,
  readEnv,
  serviceConfig,
  serviceEnv,
  type Buckets,
  type LimitSettings,
  type AuthSettings,
} from './config.ts'
