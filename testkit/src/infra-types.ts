/** PostgreSQL, Redis and RabbitMQ as a test run reaches them: what infra.ts chooses and containers.ts starts. */
export type Infra = {
  databaseUrl: string
  redisUrl: string
  amqpUrl: string
  source: 'env' | 'testcontainers' | 'local'
  /** RabbitMQ management UI, when the chosen broker has one we know of */
  managementUrl?: string
  /** ids of the containers the testkit started for it (testcontainers only) */
  containers?: string[]
  /** why the first choice was not taken, when it was not */
  note?: string
}
