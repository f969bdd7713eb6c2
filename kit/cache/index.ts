/**
 * Redis: the one connection a process keeps (directly or through Sentinel), the cache-aside
 * entries with their near cache in process memory, and wake-ups across replicas (pub/sub).
 */
export { createCache, type Cache } from './cache.ts'
export { connectRedis, sentinelAddress, sentinelOf, type Redis, type RedisSentinelTarget } from './redis.ts'
export { createSignals, type Signals } from './signals.ts'
