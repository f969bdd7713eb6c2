/**
 * What one RabbitMQ node of the test cluster is told, all of it inside its own directory so that
 * nothing from the system broker's /etc/rabbitmq applies: an empty rabbitmq-env.conf, no plugins,
 * its listener, classic_config peers, pause_minority, and in advanced.config the kernel settings
 * the partitions rely on (net_ticktime, distribution on 127.0.0.1, its own source address).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { baseEnv } from './daemons.ts'

export type NodeSpec = { name: string; port: number; distPort: number; sourceAddress: string; dir: string }

/** Writes the node's files and returns the environment rabbitmq-server and rabbitmqctl need for it. */
export function writeNodeConfig(
  spec: NodeSpec,
  peers: string[],
  { netTicktimeS, erlEnv }: { netTicktimeS: number; erlEnv: Record<string, string> },
): Record<string, string> {
  mkdirSync(spec.dir, { recursive: true })
  writeFileSync(join(spec.dir, 'rabbitmq-env.conf'), '')
  writeFileSync(join(spec.dir, 'enabled_plugins'), '[].\n')
  writeFileSync(
    join(spec.dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${spec.port}`,
      'cluster_partition_handling = pause_minority',
      'cluster_formation.peer_discovery_backend = classic_config',
      'cluster_formation.discovery_retry_interval = 200',
      'cluster_formation.discovery_retry_limit = 50',
      ...peers.map((p, n) => `cluster_formation.classic_config.nodes.${n + 1} = ${p}`),
      '',
    ].join('\n'),
  )
  const ip = spec.sourceAddress.split('.').join(',')
  writeFileSync(
    join(spec.dir, 'advanced.config'),
    `[{kernel, [{net_ticktime, ${netTicktimeS}}, {inet_dist_use_interface, {127,0,0,1}}, {inet_dist_connect_options, [{ip, {${ip}}}]}]}].\n`,
  )
  return baseEnv({
    ...erlEnv,
    RABBITMQ_NODENAME: spec.name,
    RABBITMQ_NODE_PORT: String(spec.port),
    RABBITMQ_DIST_PORT: String(spec.distPort),
    RABBITMQ_CONF_ENV_FILE: join(spec.dir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: join(spec.dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(spec.dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(spec.dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(spec.dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(spec.dir, 'log'),
    RABBITMQ_PID_FILE: join(spec.dir, 'rabbitmq.pid'),
  })
}
