// `pnpm build` in packages/licensure (and its prepack): bundles src/index.ts, the Promise face for Node, into
// dist/index.js (ESM) and dist/index.cjs (CJS) with esbuild: platform node, target node22, minified, tree-shaken,
// every package inlined (effect, jose, xstate and the workspace packages, read from their sources through
// scripts/workspace-paths.mjs, so no workspace build is needed first); only `node:` built-ins stay imports.
// Then the declarations: rollup-plugin-dts (on TypeScript 5.9's API; the repo's TypeScript 7 has no JS API)
// bundles the public types, effect's included, into dist/index.d.ts and dist/index.d.cts, importing nothing.
// Writes .bundle-meta.json (esbuild's metafile for the ESM bundle; beside dist/, not in the tarball) for the test.
import { spawnSync } from "node:child_process"
import { builtinModules } from "node:module"
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { workspaceSources } from "../../../scripts/workspace-paths.mjs"
import * as esbuild from "esbuild"
import { rollup } from "rollup"
import { dts } from "rollup-plugin-dts"
import { shadowedGlobals } from "./shadowed-globals.mjs"

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..")
// `LICENSURE_BUNDLE_OUT=<dir>` writes <dir>/dist and <dir>/.bundle-meta.json instead of this package's own: the
// consumer test builds a copy to pack there, so it never races the bundle test rewriting this package's dist.
const out = process.env.LICENSURE_BUNDLE_OUT || pkg
const dist = join(out, "dist")
const started = performance.now()
rmSync(dist, { recursive: true, force: true })
mkdirSync(dist, { recursive: true })

const common = {
  entryPoints: [join(pkg, "src/index.ts")],
  bundle: true,
  platform: "node",
  target: "node22",
  minify: true,
  // A line at most about 500 characters: an uncaught error prints its whole throwing line, which minified
  // without a limit is one line of about 165 KB. Costs a newline per line (under 1% of the bytes).
  lineLimit: 500,
  treeShaking: true,
  plugins: [workspaceSources],
  // Bare built-in names ("fs", "crypto") in a dependency become `node:` imports, so the bundle names only those.
  alias: Object.fromEntries(
    builtinModules.filter((m) => !m.startsWith("_") && !m.startsWith("node:")).map((m) => [m, `node:${m}`])
  ),
  // DECISION: undici stays out of the bundle. It is loaded only for proxies, extra CAs or explicit timeouts, yet
  // inlined it is half the file (736 of 1,403 KiB) and half the parse time at import. It is an optional peer
  // dependency: an app behind a proxy installs it; NodeHttp says so when it is missing.
  external: ["undici"],
  legalComments: "none",
  logLevel: "warning",
  metafile: true
}
const esm = await esbuild.build({
  ...common,
  format: "esm",
  outfile: join(dist, "index.js"),
  // A CJS dependency's require() of a built-in needs a real require in an ES module.
  // Only built-ins are ever required (everything else is inlined), so `process.getBuiltinModule` serves (Node
  // 22.3+, Bun, Deno); `createRequire(import.meta.url)` is the fallback for older Node 22. Not createRequire first:
  // an app that bundles this file again into CommonJS (esbuild --format=cjs, an Electron main process) has an
  // empty `import.meta`, and `createRequire(undefined)` throws at load (the consumer test caught it).
  banner: {
    js: 'import{createRequire as __licensureCreateRequire}from"node:module";const require=typeof globalThis.process?.getBuiltinModule==="function"?(id)=>globalThis.process.getBuiltinModule(id):__licensureCreateRequire(import.meta.url);'
  }
})
await esbuild.build({ ...common, format: "cjs", outfile: join(dist, "index.cjs") })
writeFileSync(join(out, ".bundle-meta.json"), JSON.stringify(esm.metafile))

// The declarations come from the workspace packages' built .d.ts (tsc 7 emits them; compiling their sources
// again with TypeScript 5.9 through pnpm's symlinks trips TS2742), so those are built first.
const built = spawnSync(process.execPath, [join(pkg, "../../scripts/build.mjs"), "node-runtime"], { stdio: "inherit" })
if (built.status !== 0) process.exit(built.status ?? 1)
// shadowedGlobals first: it rewrites effect's .d.ts text before rollup-plugin-dts reads it (see that file).
const shadowed = { rewritten: 0, files: 0 }
const bundle = await rollup({
  input: join(pkg, "src/index.ts"),
  plugins: [
    shadowedGlobals(shadowed),
    dts({
      respectExternal: true,
      tsconfig: join(pkg, "tsconfig.dts.json")
    })
  ],
  external: (id) => id.startsWith("node:"),
  onwarn: (warning, warn) => {
    if (warning.code !== "CIRCULAR_DEPENDENCY") warn(warning)
  }
})
await bundle.write({ file: join(dist, "index.d.ts"), format: "es" })
await bundle.close()
copyFileSync(join(dist, "index.d.ts"), join(dist, "index.d.cts"))

const size = (f) => readFileSync(join(dist, f)).length
console.log(
  `build: licensure in ${Math.round(performance.now() - started)} ms (index.js ${size("index.js")} B, index.cjs ${size("index.cjs")} B, index.d.ts ${size("index.d.ts")} B; ${shadowed.rewritten} shadowed global type references in ${shadowed.files} files kept global)`
)
