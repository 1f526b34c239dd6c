// The `licensure` bin as an esbuild bundle (issue 8: an offline `licensure status` within 150 ms over bare node and
// 80 MB RSS; loading some 250 separate ES modules, effect's alone ~112 ms, did not fit). Run by scripts/build.mjs
// after the CLI's tsc pass (`node scripts/build.mjs cli`), or alone (`node packages/cli/scripts/bundle.mjs`).
//
// src/bin/licensure.ts → dist/bin/licensure.js, ESM, platform node, target node22, with code splitting: the chunks
// sit in dist/bin/chunks/, and every command past parsing is a dynamic import() in cli/Cli.ts, so `status` loads
// the parser, the runtime and nothing else, while the emulator, demo, inspector, doctor, watch and chart (elkjs's
// 1.6 MB among them) wait in their own chunks. The workspace packages are inlined from their sources
// (scripts/workspace-paths.mjs), and so are the npm packages (effect, xstate, jose, elkjs); only `node:` built-ins
// and undici stay imports. The bin's first statement still turns on Node's compile cache before its chunks load.
//
// The inlined npm packages' licences go to dist/bin/THIRD-PARTY-LICENSES.txt (minifying drops their headers).
//
// The inspector's assets (src/inspector/Assets.ts reads them from beside itself) are inlined: that module is
// replaced here by one returning the files' texts, so the bundled bin needs no file next to its chunks.
//
// DECISION: the package keeps its `exports` ("./*" → the tsc build in dist/*.js) and its `dependencies`. The bin is
// self-contained and uses neither, but `@licensure/cli/Inspector` is a documented library entry (the README's
// `Inspector.start(licensing)` "in your own process"), as are ChartLayout, ChartSvg and Demo: they take the host's
// `Licensing` service and Effect values, so they must import the host's effect and @licensure packages, not
// private copies, and those have to be installed beside them. Moving the dependencies to devDependencies would
// break every exported module for a smaller install of the bin alone; splitting the bin into a package of its own
// is the way to that, not this build. `./bin/*` is closed in `exports` (the chunks are nobody's API).
//
// DECISION: undici stays out of the bundle, as in packages/licensure's bundle.mjs and for its reason: it is loaded
// only for a proxy, extra CAs or explicit timeouts, and inlined it is half the runtime's code. It is an optional
// peer of this package (node-runtime installs it today); when missing, NodeHttp says what to install.
import { builtinModules } from "node:module"
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import * as esbuild from "esbuild"
import { workspaceSources } from "../../../scripts/workspace-paths.mjs"

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..")
const out = join(pkg, "dist", "bin")
const inspector = join(pkg, "src", "inspector")
const started = performance.now()

/** Replaces src/inspector/Assets.ts by the same `readAsset` over the texts read now. */
const inlineAssets = {
  name: "licensure-inline-assets",
  setup(build) {
    const assetsModule = join(inspector, "Assets.ts")
    build.onLoad({ filter: /[\\/]inspector[\\/]Assets\.ts$/ }, (args) => {
      if (args.path !== assetsModule) return undefined
      const names = readdirSync(inspector).filter((f) => /\.(css|js)$/.test(f))
      const texts = Object.fromEntries(names.map((f) => [f, readFileSync(join(inspector, f), "utf8")]))
      return {
        contents: `const texts = ${JSON.stringify(texts)}
export const readAsset = (name) => {
  const text = texts[name]
  if (text === undefined) throw new Error("licensure: no inspector asset named " + name + " in this build")
  return text
}
`,
        loader: "js",
        watchFiles: names.map((f) => join(inspector, f))
      }
    })
  }
}

rmSync(out, { recursive: true, force: true })
const result = await esbuild.build({
  // Metafile paths relative to the package, wherever the script is run from.
  absWorkingDir: pkg,
  entryPoints: { licensure: join(pkg, "src/bin/licensure.ts") },
  outdir: out,
  entryNames: "[name]",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  // Minified, as packages/licensure's bundle: half the bytes (2.0 vs 4.4 MiB with elkjs) and about 6 ms less for
  // an offline `status` here (83 vs 88 ms over bare node, medians of 21); a stack under LICENSURE_DEBUG then names
  // minified functions, but still the chunk, line and column.
  minify: true,
  // Lines of at most about 500 characters, so an uncaught error prints a short line, not a whole chunk.
  lineLimit: 500,
  treeShaking: true,
  plugins: [workspaceSources, inlineAssets],
  // Bare built-in names ("fs", "crypto") in a dependency become `node:` imports, so the bundle names only those.
  alias: Object.fromEntries(
    builtinModules.filter((m) => !m.startsWith("_") && !m.startsWith("node:")).map((m) => [m, `node:${m}`])
  ),
  external: ["undici"],
  // A CommonJS dependency's require() of a built-in needs a real require in an ES module (every chunk gets one).
  banner: {
    js: 'import{createRequire as __licensureCreateRequire}from"node:module";const require=__licensureCreateRequire(import.meta.url);'
  },
  legalComments: "eof",
  logLevel: "warning",
  metafile: true
})
// esbuild's metafile (which source went into which chunk) beside dist/, not in it, so it never ships; the bundle
// test reads it.
writeFileSync(join(pkg, ".bundle-meta.json"), JSON.stringify(result.metafile))

// The inlined npm packages' licences (effect, xstate and jose are MIT, elkjs EPL-2.0), which minified code loses,
// shipped beside the bin in one file.
const inlined = [
  ...new Set(
    Object.keys(result.metafile.inputs).flatMap((input) => {
      const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)
      return match === null ? [] : [join(pkg, match[1])]
    })
  )
].sort()
const notices = inlined.map((dir) => {
  const { name, version } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f))
  if (file === undefined) throw new Error(`bundle: ${name} is inlined but ships no LICENSE file`)
  return `${name}@${version}\n\n${readFileSync(join(dir, file), "utf8").trim()}\n`
})
writeFileSync(
  join(out, "THIRD-PARTY-LICENSES.txt"),
  `The licensure bin (this folder) inlines these packages; their licences follow.\n\n${notices.join(`\n${"-".repeat(80)}\n\n`)}`
)

const outputs = Object.entries(result.metafile.outputs)
const bytes = outputs.reduce((sum, [, o]) => sum + o.bytes, 0)
console.log(
  `build: licensure bin bundled in ${Math.round(performance.now() - started)} ms (${outputs.length} files, ${Math.round(bytes / 1024)} KiB)`
)
