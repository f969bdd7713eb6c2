import { serve } from '@shop/kit'
import { loadConfig } from './config.ts'
import { startOrder } from './start.ts'

const config = loadConfig(process.env)
serve(await startOrder(config), config.port)
