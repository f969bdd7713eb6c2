/**
 * A service assembled from the kit: its configuration read from the environment, its
 * connections, relay and consumers, its HTTP app, and the migrate-only entry of its init container.
 */
export { connectService, migrateOnly, serviceApp, type AppPlatform, type ServicePlatform, type ServiceManifest } from './service.ts'
export { limitEnv, readEnv, serviceConfig, serviceEnv, type Buckets, type LimitSettings, type AuthSettings } from './config.ts'
