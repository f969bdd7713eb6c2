export { startRabbitCluster, type RabbitCluster, type RabbitNode, type RabbitOptions } from './rabbitmq.ts'
export { startPostgresCluster, type PostgresCluster, type PostgresOptions } from './postgres.ts'
export { startRedisSentinel, type RedisSentinel, type RedisOptions } from './redis.ts'
export { ownedPids } from './daemons.ts'
