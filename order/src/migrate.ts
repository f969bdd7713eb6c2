// `bun order/src/migrate.ts`: create and migrate order's database, then exit (the Kubernetes init container)
import { migrateOnly } from '@shop/kit'
import { loadConfig } from './config.ts'

await migrateOnly('order', loadConfig(process.env), new URL('../migrations/', import.meta.url))
