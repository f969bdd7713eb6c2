// `bun product/src/migrate.ts`: create and migrate product's database, then exit (the Kubernetes init container)
import { migrateOnly } from '@shop/kit'
import { loadConfig } from './config.ts'

await migrateOnly('product', loadConfig(process.env), new URL('../migrations/', import.meta.url))
