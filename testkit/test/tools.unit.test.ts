import { describe, expect, it } from 'bun:test'
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { absent, denoExecutable, findChromium, missingToolsReport, onPath, type Registry } from '../src/tools.ts'

// What a suite does when a tool it needs is missing: a skip noted for the end of the run, or, with
// HARNESS_REQUIRE_TOOLS=1 as CI sets it, an error that names the tool and how to get it.
const bin = mkdtempSync(join(tmpdir(), 'tools-'))
const executable = (name: string) => {
  writeFileSync(join(bin, name), '#!/bin/sh\n')
  chmodSync(join(bin, name), 0o755)
  return join(bin, name)
}

describe('a missing tool', () => {
  it('when tools are not required, then the file is noted once per tool and the report names the files and how to get the tool', () => {
    const into: Registry = new Map()
    expect(absent('promtool', 'promtool is not on the PATH', '/repo/a.test.ts', { env: {}, into })).toBe(false)
    absent('promtool', 'promtool is not on the PATH', '/repo/b.test.ts', { env: {}, into })
    absent('chromium', 'no browser found', '/repo/c.test.ts', { env: {}, into })
    const report = missingToolsReport([...into.values()])
    expect(report).toHaveLength(3)
    expect(report[0]).toContain('HARNESS_REQUIRE_TOOLS=1')
    expect(report[1]).toMatch(/^ {2}promtool: .*a\.test\.ts, .*b\.test\.ts\. To get it: .*apt-get install prometheus/)
    expect(report[2]).toMatch(/^ {2}chromium: .*playwright-core install chromium/)
  })

  it('when tools are required, then it throws the name, the reason and how to get it, and notes nothing', () => {
    const into: Registry = new Map()
    expect(() => absent('rabbitmq management API', 'it answered 404', '/repo/x.test.ts', { env: { HARNESS_REQUIRE_TOOLS: '1' }, into })).toThrow(
      /needs rabbitmq management API: it answered 404\. To get it: .*rabbitmq-plugins enable rabbitmq_management/,
    )
    expect(into.size).toBe(0)
  })

  it('when nothing was missing, then the run ends with no report at all', () => {
    expect(missingToolsReport([])).toEqual([])
  })
})

describe('finding a tool', () => {
  it('when a name is on the PATH, then the first directory that has it wins', () => {
    const promtool = executable('promtool')
    expect(onPath(['promtool'], ['/nonexistent', bin].join(':'))).toBe(promtool)
    expect(onPath(['promtool'], '/nonexistent')).toBeUndefined()
  })

  it('when CHROMIUM_PATH names a file, then that is the browser; when it names nothing, then there is none, and why', async () => {
    const browser = executable('my-chrome')
    expect(await findChromium({ CHROMIUM_PATH: browser })).toEqual({ path: browser, tried: [] })
    expect(await findChromium({ CHROMIUM_PATH: join(bin, 'gone') })).toEqual({ tried: [`CHROMIUM_PATH=${join(bin, 'gone')}`] })
  })

  it('when a browser is on the PATH, then it is found by its usual names', async () => {
    const browser = executable('chromium-browser')
    expect((await findChromium({ PATH: bin })).path).toBe(browser)
  })

  it("when Deno is asked for, then it is the project's own binary, whatever the PATH holds", () => {
    const deno = denoExecutable()
    expect(deno).toContain('node_modules')
    const version = Bun.spawnSync([deno, '--version'], { env: { PATH: '' } })
    const pinned = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { workspaces: { catalog: Record<string, string> } }).workspaces.catalog.deno
    expect(version.stdout.toString()).toStartWith(`deno ${pinned} `)
  })
})
