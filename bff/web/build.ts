/**
 * Builds the storefront with Bun's bundler: `src/index.html` and what it links (the TypeScript,
 * the CSS) into `dist/`, minified, names hashed, nothing fetched from anywhere. The bff serves
 * `dist/` at `/`. Run it before starting the bff: `bun bff/web/build.ts [outdir]`.
 */
import { rmSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const distDir = join(here, 'dist')

export async function buildStorefront(outdir = distDir) {
  rmSync(outdir, { recursive: true, force: true })
  const result = await Bun.build({ entrypoints: [join(here, 'src/index.html')], outdir, target: 'browser', minify: true, sourcemap: 'none' })
  if (!result.success) throw new AggregateError(result.logs, 'the storefront did not build')
  return Promise.all(
    result.outputs.map(async (o) => ({ path: o.path, bytes: o.size, gzipped: Bun.gzipSync(new Uint8Array(await o.arrayBuffer())).length })),
  )
}

if (import.meta.main) {
  const files = await buildStorefront(process.argv[2] ?? distDir)
  for (const f of files) console.log(`${relative(process.cwd(), f.path)}  ${f.bytes} B, ${f.gzipped} B gzipped`)
  console.log(`storefront: ${files.reduce((n, f) => n + f.gzipped, 0)} B gzipped in all`)
}
