/**
 * Removes the containers a testkit process started once that process has ended, however it
 * ended (a clean exit, Ctrl-C, a crash, SIGKILL): the testkit keeps this process's stdin open
 * and writes one container id per line; stdin reaching its end means the testkit's process is gone.
 * Ryuk does the same where it runs; this is for TESTCONTAINERS_RYUK_DISABLED=true.
 */
import { getContainerRuntimeClient } from 'testcontainers'

const ids = new Set<string>()
let pending = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk: string) => {
  const lines = (pending + chunk).split('\n')
  pending = lines.pop() ?? ''
  for (const line of lines) if (line.trim()) ids.add(line.trim())
})
process.stdin.on('end', async () => {
  if (pending.trim()) ids.add(pending.trim())
  if (ids.size) {
    const client = await getContainerRuntimeClient()
    await Promise.all([...ids].map((id) => client.container.getById(id).remove({ force: true, v: true }).catch(() => {})))
  }
  process.exit(0)
})
