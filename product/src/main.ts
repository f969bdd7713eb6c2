import { failedToStart, serve } from '@shop/kit'
import { loadConfig } from './config.ts'
import { startProduct } from './start.ts'

const config = loadConfig(process.env)
serve(await startProduct(config).catch(failedToStart), config.port)
