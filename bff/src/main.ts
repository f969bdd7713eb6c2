import { failedToStart, serve } from '@shop/kit'
import { loadConfig } from './config.ts'
import { startBff } from './start.ts'

const config = loadConfig(process.env)
serve(await startBff(config).catch(failedToStart), config.port)
