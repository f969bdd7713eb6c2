/**
 * One etcd member as Patroni's DCS, on 127.0.0.1 only, with short heartbeats so a single member
 * is leader of itself at once.
 */
import { join } from 'node:path'
import { baseEnv, startDaemon, type Daemon } from './daemons.ts'

export function startEtcd({ client, peer, dir }: { client: number; peer: number; dir: string }): Daemon {
  const url = `http://127.0.0.1:${client}`
  const peerUrl = `http://127.0.0.1:${peer}`
  const args = [
    '--name=shop-etcd',
    `--data-dir=${join(dir, 'data')}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=shop-etcd=${peerUrl}`,
    '--heartbeat-interval=50',
    '--election-timeout=250',
    '--log-level=warn',
  ]
  return startDaemon('etcd', 'etcd', args, { dir, env: baseEnv({}), logFile: join(dir, 'etcd.log') })
}

export async function etcdHealthy(client: number): Promise<boolean> {
  return (await fetch(`http://127.0.0.1:${client}/health`).catch(() => undefined))?.ok === true
}
