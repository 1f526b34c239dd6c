// `pnpm build` (all public packages, in dependency order) or `node scripts/build.mjs <folder>…`: compiles each
// package's src/*.ts with tsc into dist/ as ESM `.js` + `.d.ts`, then (except the CLI, which nobody `require`s)
// a second CommonJS pass renamed to `.cjs` + `.d.cts` beside them, relative specifiers rewritten to match; a
// package with a scripts/bundle.mjs (the CLI, whose bin is an esbuild bundle) runs it last. The
// build resolves sibling packages through their built `types`, not their sources, so the order matters.
import { spawnSync } from "node:child_process"
import {
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  chmodSync,
  mkdirSync
} from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

// One build at a time: two builds writing the same dist/ (the consumer test's and the bundle test's, run in
// parallel by vitest) would delete each other's files. A directory is the lock (mkdir is atomic); a lock older
// than two minutes (a whole build takes seconds) belongs to a build that died.
const lock = join(root, ".build.lock")
const lockedAt = Date.now()
for (;;) {
  try {
    mkdirSync(lock)
    break
  } catch (error) {
    if (error.code !== "EEXIST") throw error
    let age = 0
    try {
      age = Date.now() - statSync(lock).mtimeMs
    } catch {
      continue
    }
    if (age > 2 * 60_000) {
      rmSync(lock, { recursive: true, force: true })
      continue
    }
    if (Date.now() - lockedAt > 10 * 60_000) {
      console.error(`build: ${lock} held for ten minutes by another build; giving up`)
      process.exit(1)
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200)
  }
}
process.on("exit", () => rmSync(lock, { recursive: true, force: true }))
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

// `./X.js` → `./X.cjs` in require() calls and in declaration imports, relative specifiers only. tsc keeps a
// declaration's `./X.ts` as written, which from a .d.cts resolves to the ESM `X.d.ts` (TS1479 under `module:
// node16`/`node18`, where a CommonJS file cannot require an ES module), so `./X.ts` becomes `./X.cjs` too.
const toCjs = (text) =>
  text.replace(/((?:require\(|from |import\()\s*["'])(\.{1,2}\/[^"']*?)\.(?:js|ts)(["'])/g, "$1$2.cjs$3")

// A package is rebuilt only when something it is made from is newer than its last build (its src, package.json,
// tsconfig files, this script) or a dependency was rebuilt in this run; `--force` rebuilds everything. A second
// build right after a first (a test's prepack) then leaves dist/ alone instead of deleting it under a reader.
const force = process.env.LICENSURE_BUILD_FORCE === "1"
const rebuilt = new Set()
const newest = (dir) =>
  Math.max(
    ...walk(join(dir, "src")).map((f) => statSync(f).mtimeMs),
    ...(existsSync(join(dir, "scripts")) ? walk(join(dir, "scripts")).map((f) => statSync(f).mtimeMs) : []),
    ...readdirSync(dir)
      .filter((f) => f === "package.json" || /^tsconfig.*\.json$/.test(f))
      .map((f) => statSync(join(dir, f)).mtimeMs),
    statSync(fileURLToPath(import.meta.url)).mtimeMs
  )
// The stamp sits beside dist/, not in it, so it never ships.
const stampOf = (dir) => {
  try {
    return statSync(join(dir, ".build-stamp")).mtimeMs
  } catch {
    return -1
  }
}

for (const name of names) {
  const started = performance.now()
  const dir = join(root, "packages", name)
  const dist = join(dir, "dist")
  // A dependency built after this package (by an earlier `build.mjs <dep>`) also makes it stale: the CLI's bundle
  // inlines its dependencies' sources.
  const stamp = stampOf(dir)
  const depNewer = needs(name).some((dep) => rebuilt.has(dep) || stampOf(join(root, "packages", dep)) > stamp)
  if (!force && !depNewer && stamp > newest(dir)) {
    console.log(`build: @licensure/${name} is up to date`)
    continue
  }
  rebuilt.add(name)
  rmSync(join(dir, ".build-stamp"), { force: true })
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
  // A package with its own bundle step (the CLI's bin: packages/cli/scripts/bundle.mjs) runs it after tsc.
  const bundle = join(dir, "scripts", "bundle.mjs")
  if (existsSync(bundle)) {
    const run = spawnSync(process.execPath, [bundle], { cwd: dir, stdio: "inherit" })
    if (run.status !== 0) process.exit(run.status ?? 1)
  }
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
  for (const bin of Object.values(pkg.bin ?? {})) chmodSync(join(dir, bin), 0o755)
  writeFileSync(join(dir, ".build-stamp"), "")
  console.log(`build: @licensure/${name} in ${Math.round(performance.now() - started)} ms`)
}
