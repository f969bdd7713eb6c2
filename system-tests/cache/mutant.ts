import { mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

/**
 * A copy of this repository (its work tree as it is, without .git) with one line of one file
 * removed, for a mutation test: the services spawned from it (`spawnService(…, { from })`) run
 * exactly this code but for that line. The copy is hard links, made in a second or two; the
 * changed file is unlinked and written anew, since writing into a hard link would change this
 * tree's file too.
 */
export function mutantTree(file: string, line: string): { root: string; remove(): void } {
  const original = readFileSync(join(root, file), 'utf8')
  const lines = original.split('\n')
  const at = lines.filter((l) => l.trim() === line)
  if (at.length !== 1) throw new Error(`${file} has ${at.length} lines \`${line}\`, not one: the mutation no longer applies`)
  const copy = mkdtempSync(join(tmpdir(), 'shop-mutant-'))
  const entries = readdirSync(root).filter((e) => e !== '.git')
  const cp = Bun.spawnSync(['cp', '-al', ...entries.map((e) => join(root, e)), copy])
  if (cp.exitCode !== 0) throw new Error(`cp -al failed: ${cp.stderr.toString()}`)
  unlinkSync(join(copy, file))
  writeFileSync(join(copy, file), lines.filter((l) => l.trim() !== line).join('\n'))
  if (readFileSync(join(root, file), 'utf8') !== original) throw new Error(`${file} changed in this tree: the copy was not a copy`)
  return { root: copy, remove: () => rmSync(copy, { recursive: true, force: true }) }
}
