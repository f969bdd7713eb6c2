import { spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { authEnv, eventually, freePort, serviceAuthEnv } from '@shop/testkit'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** `docker compose` (v2) where the plugin is there, else `docker-compose` (v1.29, Debian's). */
function composeCommand(): string[] {
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return ['docker', 'compose']
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose']
  throw new Error('neither `docker compose` nor `docker-compose` is installed')
}

function run(cmd: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 })
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} exited ${r.status}:\n${(r.stderr || r.stdout).slice(-4000)}`)
  return r.stdout
}

/** `count` consecutive ports nobody listens on, for a published range (replicas). */
async function freeRange(count: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000)
    const free = await Promise.all(Array.from({ length: count }, (_, i) => listenable(base + i)))
    if (free.every(Boolean)) return base
  }
}
const listenable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer().once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })

export type Stack = Awaited<ReturnType<typeof composeStack>>

/** the services built from this checkout, each with the port it serves in its container */
const ports = { product: 3000, order: 8080, bff: 5000 }

/**
 * compose.yml as a user runs it, under its own project name and on free host ports (this machine
 * may run its own PostgreSQL, Redis and RabbitMQ on the standard ones). COMPOSE_FILE, when set
 * (CI: compose.yml:.ci/compose.ci.yml), picks the files, as it does for compose itself.
 */
export async function composeStack() {
  const compose = composeCommand()
  const project = `shopci${Date.now().toString(36)}`
  const [product, order, bff] = [await freeRange(4), await freeRange(4), await freeRange(4)]
  const env = {
    POSTGRES_HOST_PORT: String(await freePort()),
    REDIS_HOST_PORT: String(await freePort()),
    RABBITMQ_HOST_PORT: String(await freePort()),
    RABBITMQ_UI_HOST_PORT: String(await freePort()),
    PRODUCT_HOST_PORTS: `${product}-${product + 3}`,
    ORDER_HOST_PORTS: `${order}-${order + 3}`,
    BFF_HOST_PORTS: `${bff}-${bff + 3}`,
    // the services accept this process's tokens, as `bun run token -- --write-env` sets it up for a user
    JWT_PUBLIC_KEY: authEnv().JWT_PUBLIC_KEY!.replaceAll('\n', '\\n'),
    // and order calls product with its own key, as the same command writes it
    ...serviceAuthEnv('order'),
    ...serviceAuthEnv('product'),
  }
  const files = (process.env.COMPOSE_FILE ?? 'compose.yml').split(':').flatMap((f) => ['-f', f])
  const dc = (...args: string[]) => run([...compose, ...files, '-p', project, ...args], env)
  const containers = (...service: string[]) => dc('ps', '-q', ...service).split('\n').filter(Boolean)

  return {
    compose: compose.join(' '),
    version: run([...compose, 'version']).split('\n')[0]!,
    build: () => dc('build'),
    up: (...args: string[]) => dc('up', '-d', ...args),
    down: () => dc('down', '-v', '--remove-orphans'),
    images: () => Object.fromEntries(Object.keys(ports).map((service) => [service, `${project}${compose.length > 1 ? '-' : '_'}${service}`])),
    /** the published host URL of every running container of a service */
    urls(service: keyof typeof ports): string[] {
      const port = ports[service]
      return containers(service).map((id) => {
        const bound = run(['docker', 'inspect', '-f', `{{range (index .NetworkSettings.Ports "${port}/tcp")}}{{.HostIp}}:{{.HostPort}} {{end}}`, id]).trim()
        if (bound) return `http://${bound.split(' ')[0]}`
        // diagnostics for a container without a published port (seen once: restarted by the engine)
        const state = run(['docker', 'inspect', '-f', '{{.State.Status}} restarts={{.RestartCount}} started={{.State.StartedAt}} exit={{.State.ExitCode}}', id]).trim()
        const logs = spawnSync('docker', ['logs', '--tail', '30', id], { encoding: 'utf8' })
        throw new Error(`${service} container ${id.slice(0, 12)} publishes no port ${port} (${state}):\n${logs.stdout}${logs.stderr}`)
      })
    },
    /** every container of the project reports healthy (the compose health checks, run by the engine) */
    healthy(timeout = 120_000) {
      return eventually(
        () => {
          const ids = containers()
          const states = run(['docker', 'inspect', '-f', '{{.Name}} {{.State.Health.Status}}', ...ids]).trim().split('\n')
          return ids.length > 0 && states.every((s) => s.endsWith(' healthy')) && states
        },
        { timeout, interval: 500, what: `every ${project} container healthy` },
      )
    },
    logs: () => dc('logs', '--no-color', '--tail', '50'),
    docker: (...args: string[]) => run(['docker', ...args]),
  }
}
