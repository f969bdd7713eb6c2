// `bun examples/notes/src/main.ts`: read the environment, connect, serve. docs/guides/add-a-service.md walks through this folder.
import { failedToStart, serve } from '@shop/kit'
import { loadConfig } from './config.ts'
import { startNotes } from './start.ts'

const config = loadConfig(process.env)
serve(await startNotes(config).catch(failedToStart), config.port)
