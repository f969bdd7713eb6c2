import { failedToStart, serve } from '@shop/kit'
import { loadConfig } from './config.ts'
import { startOrder } from './start.ts'

const config = loadConfig(process.env)
serve(await startOrder(config).catch(failedToStart), config.port)
