import { afterAll } from 'bun:test'
import { missingToolsReport } from './tools.ts'

// Preloaded by bunfig.toml into every `bun test` run: after the last file, one line per tool a
// suite was skipped for, with how to get it (see tools.ts).
afterAll(() => {
  for (const line of missingToolsReport()) console.error(line)
})
