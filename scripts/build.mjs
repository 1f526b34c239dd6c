// `pnpm build` (all public packages, in dependency order) or `node scripts/build.mjs <folder>…`: compiles each
// package's src/*.ts with tsc into dist/ as ESM `.js` + `.d.ts`, then (except the CLI, which nobody `require`s)
// a second CommonJS pass renamed to `.cjs` + `.d.cts` beside them, relative specifiers rewritten to match. The
// build resolves sibling packages through their built `types`, not their sources, so the order matters.
import { spawnSync } from "node:child_process"
import { copyFileSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, mkdirSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const order = ["core", "fingerprint", "emulator", "node-runtime", "testing", "cli"]
const esmOnly = new Set(["cli"])
const wanted = process.argv.slice(2)
if (wanted.some((n) => !order.includes(n))) {
  console.error(`build: unknown package in ${wanted.join(" ")} (known: ${order.join(" ")})`)
  process.exit(2)
}

// A package's build reads its siblings' built types, so building one (as its prepack does) builds the
// workspace packages it depends on first.
const needs = (name) =>
  Object.keys(JSON.parse(readFileSync(join(root, "packages", name, "package.json"), "utf8")).dependencies ?? {})
    .filter((dep) => dep.startsWith("@licensure/"))
    .map((dep) => dep.slice("@licensure/".length))
const closure = new Set()
const add = (name) => {
  if (closure.has(name)) return
  closure.add(name)
  for (const dep of needs(name)) add(dep)
}
for (const name of wanted) add(name)
const names = wanted.length === 0 ? order : order.filter((n) => closure.has(n))

const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })

const tsc = (cwd, args) => {
  const run = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), ...args], {
    cwd,
    stdio: "inherit"
  })
  if (run.status !== 0) process.exit(run.status ?? 1)
}

// `./X.js` → `./X.cjs` in require() calls and in declaration imports, relative specifiers only.
const toCjs = (text) => text.replace(/((?:require\(|from |import\()\s*["'])(\.{1,2}\/[^"']*?)\.js(["'])/g, "$1$2.cjs$3")

for (const name of names) {
  const started = performance.now()
  const dir = join(root, "packages", name)
  const dist = join(dir, "dist")
  rmSync(dist, { recursive: true, force: true })
  tsc(dir, ["-p", "tsconfig.build.json"])
  if (!esmOnly.has(name)) {
    const tmp = join(dist, ".cjs")
    // The bins stay ESM only (top-level await); everything else gets its CommonJS twin.
    const config = join(dist, "tsconfig.cjs.json")
    writeFileSync(
      config,
      JSON.stringify({
        extends: "../tsconfig.build.json",
        compilerOptions: {
          module: "commonjs",
          moduleResolution: "bundler",
          verbatimModuleSyntax: false,
          rootDir: "../src",
          outDir: ".cjs"
        },
        include: ["../src/**/*.ts"],
        exclude: ["../src/bin/**"]
      })
    )
    tsc(dir, ["-p", config])
    rmSync(config)
    for (const file of walk(tmp)) {
      const rel = relative(tmp, file)
      const target = join(dist, rel.replace(/\.js$/, ".cjs").replace(/\.d\.ts$/, ".d.cts"))
      mkdirSync(dirname(target), { recursive: true })
      writeFileSync(target, toCjs(readFileSync(file, "utf8")))
    }
    rmSync(tmp, { recursive: true, force: true })
  }
  // Files read at run time next to the module (the inspector page's css and js).
  for (const file of walk(join(dir, "src"))) {
    if (/\.(css|js|html)$/.test(file)) {
      const target = join(dist, relative(join(dir, "src"), file))
      mkdirSync(dirname(target), { recursive: true })
      copyFileSync(file, target)
    }
  }
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
  for (const bin of Object.values(pkg.bin ?? {})) chmodSync(join(dir, bin), 0o755)
  console.log(`build: @licensure/${name} in ${Math.round(performance.now() - started)} ms`)
}
