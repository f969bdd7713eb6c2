/**
 * Redis: the one connection a process keeps (directly or through Sentinel), and the cache-aside
 * entries with their near cache in process memory.
 */
export { createCache, type Cache } from './cache.ts'
export { connectRedis, sentinelAddress, sentinelOf, type Redis, type RedisSentinelTarget } from './redis.ts'
