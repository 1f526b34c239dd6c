/**
 * Issue 8's size and start-up targets. Builds the workspace packages (dist) and the `licensure` bundle, activates
 * a licence against the emulator once per client, closes the emulator, then times fresh processes, alternating
 * (forward, then reversed), medians over the runs; each figure is a delta against bare `node -e 0` measured in the
 * same rounds. Wall time is spawn to exit, measured outside; RSS is the process's own `maxRSS` at exit.
 *
 * - import + offline `check()` of the bundled Promise entry (`licensure`, copied alone to a temp dir): <= 50 ms
 * - the same through the Effect runtime package (`@licensure/node-runtime` from dist, its `createNodeLicensing`):
 *   <= 150 ms
 * - `licensure status` (the CLI from dist), offline: <= 150 ms wall and <= 80 MB RSS
 * - (floor, no target) the third-party modules the runtime package's import loads (effect, xstate, jose: listed
 *   by a resolve hook in a child process), imported alone: what the runtime cannot go under while effect is a
 *   peer dependency loaded from node_modules file by file
 * - sizes: the Node Promise bundle gzipped <= 200 KiB; core bundled + minified for a browser <= 150 KiB gz
 *
 * "Offline": the API host is a closed port (127.0.0.1:9) once the licence is stored; a check that asked the
 * network would fail, and the probes crash the bench unless the licence is `active`.
 *
 * `BENCH_RUNS` overrides the number of processes per case (default 15); `BENCH_KEEP=1` keeps the scratch directory.
 */
import { spawn, spawnSync } from "node:child_process"
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { gzipSync } from "node:zlib"
import { startEmulator } from "@licensure/emulator"
import * as esbuild from "esbuild"
import { benchRoot, median, printTable, writeResult } from "./Harness.ts"

const runs = Number(process.env.BENCH_RUNS ?? 15)
const root = join(benchRoot, "..")
const plainEnv = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" }
const node = (args: Array<string>, env: Record<string, string> = plainEnv) => {
  const run = spawnSync(process.execPath, args, { encoding: "utf8", env, cwd: tmp })
  if (run.status !== 0) throw new Error(`node ${args.join(" ")} failed (${run.status}): ${run.stderr}${run.stdout}`)
  return run.stdout
}
/** The same without blocking this process's event loop, for the steps that talk to the in-process emulator. */
const nodeAsync = (args: Array<string>, env: Record<string, string> = plainEnv) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, cwd: tmp })
    let err = ""
    child.stderr.on("data", (d) => (err += d))
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`node ${args[0]} failed (${code}): ${err.slice(-2000)}`))
    )
  })

const tmp = mkdtempSync(join(tmpdir(), "licensure-bench-"))
try {
  // Build: the CLI's closure (core, fingerprint, emulator, node-runtime, cli) and the bundle.
  node([join(root, "scripts/build.mjs"), "cli"], { ...plainEnv })
  node([join(root, "packages/licensure/scripts/bundle.mjs")], { ...plainEnv })
  const bundleFile = join(root, "packages/licensure/dist/index.js")
  copyFileSync(bundleFile, join(tmp, "licensure.mjs"))

  // Sizes.
  const bundle = readFileSync(bundleFile)
  const browser = await esbuild.build({
    entryPoints: [join(root, "packages/core/src/index.ts")],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    minify: true,

    write: false,
    legalComments: "none"
  })
  const core = browser.outputFiles[0]!.contents
  const kib = (n: number) => n / 1024
  const sizes = {
    nodeBundleMin: kib(bundle.length),
    nodeBundleGz: kib(gzipSync(bundle, { level: 9 }).length),
    coreBrowserMin: kib(core.length),
    coreBrowserGz: kib(gzipSync(core, { level: 9 }).length)
  }

  // One activation per client, then the emulator goes away.
  const emulator = await startEmulator()
  const { productId, publicKeyPem } = await emulator.createProduct()
  const fpRoot = join(tmp, "root")
  mkdirSync(join(fpRoot, "etc"), { recursive: true })
  writeFileSync(join(fpRoot, "etc", "machine-id"), "4c8f0e2a9b7d41c3a5e6f7081928374a\n")
  const config = (dir: string, host: string) => ({
    productId,
    publicKeyPem,
    host,
    directory: join(tmp, dir),
    fingerprint: { root: fpRoot, platform: "linux", env: {}, hostname: "bench", username: "bench" },
    http: { proxy: "none" }
  })
  const probe = (file: string, from: string) =>
    writeFileSync(
      join(tmp, file),
      `import { createNodeLicensing } from ${JSON.stringify(from)}
const [config, key] = JSON.parse(process.argv[2])
const l = createNodeLicensing(config)
const v = key ? await l.activate(key) : await l.check()
await l.close()
if (v.state !== "active") { console.error("not active: " + v.state); process.exit(1) }
console.log(JSON.stringify({ rss: process.resourceUsage().maxRSS / 1024 }))
`
    )
  probe("promise.mjs", "./licensure.mjs")
  probe("effect.mjs", join(root, "packages/node-runtime/dist/index.js"))
  for (const [file, dir] of [
    ["promise.mjs", "store-promise"],
    ["effect.mjs", "store-effect"]
  ] as const) {
    const { key } = await emulator.createLicense({ productId })
    await nodeAsync([file, JSON.stringify([config(dir, emulator.url), key])])
  }
  const cliEnv = {
    ...plainEnv,
    LICENSURE_PRODUCT_ID: productId,
    LICENSURE_PUBLIC_KEY_PEM: publicKeyPem,
    LICENSURE_DIR: join(tmp, "store-cli"),
    LICENSURE_FINGERPRINT_ROOT: fpRoot,
    LICENSURE_HOST: emulator.url
  }
  const cli = join(root, "packages/cli/dist/bin/licensure.js")
  await nodeAsync([cli, "activate", (await emulator.createLicense({ productId })).key], cliEnv)
  await emulator.close()
  const offline = "http://127.0.0.1:9"
  // The floor under the Effect runtime package: the third-party modules (effect, xstate, jose) its import loads,
  // found by a resolve hook in a child process, imported alone and in the same order. What the runtime's own
  // code, its start-up work and the check add is the difference.
  writeFileSync(
    join(tmp, "list-modules.mjs"),
    `import { registerHooks } from "node:module"
const seen = new Set()
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r } })
await import(${JSON.stringify(pathToFileURL(join(root, "packages/node-runtime/dist/index.js")).href)})
console.log(JSON.stringify([...seen].filter((u) => u.includes("/node_modules/"))))
`
  )
  const thirdParty: Array<string> = JSON.parse(node(["list-modules.mjs"]).trim())
  if (thirdParty.length === 0) throw new Error("the runtime's import loaded no third-party module")
  writeFileSync(join(tmp, "third-party.mjs"), thirdParty.map((u) => `import ${JSON.stringify(u)}\n`).join(""))
  const cases: Record<string, { args: Array<string>; env?: Record<string, string> }> = {
    "node -e 0": { args: ["-e", "0"] },
    "node, maxRSS print": { args: ["-e", "console.log(JSON.stringify({rss:process.resourceUsage().maxRSS/1024}))"] },
    "licensure bundle: import + check()": { args: ["promise.mjs", JSON.stringify([config("store-promise", offline)])] },
    "node-runtime dist: import + check()": { args: ["effect.mjs", JSON.stringify([config("store-effect", offline)])] },
    "(floor) the runtime's third-party modules alone": { args: ["third-party.mjs"] },
    "licensure status (cli dist)": {
      args: [cli, "status", "--json"],
      env: { ...cliEnv, LICENSURE_HOST: offline }
    },
    // The same run with Node's compile cache off (the CLI turns it on): what the cache saves, in the same rounds.
    "(info) licensure status, compile cache off": {
      args: [cli, "status", "--json"],
      env: { ...cliEnv, LICENSURE_HOST: offline, NODE_DISABLE_COMPILE_CACHE: "1" }
    }
  }
  const names = Object.keys(cases)
  // With `BENCH_KEEP=1`, each case's arguments and environment, to run (or profile) it by hand in the kept directory.
  if (process.env.BENCH_KEEP === "1") writeFileSync(join(tmp, "cases.json"), JSON.stringify(cases, null, 2))
  const wall: Record<string, Array<number>> = Object.fromEntries(names.map((n) => [n, []]))
  const rss: Record<string, Array<number>> = Object.fromEntries(names.map((n) => [n, []]))
  const once = (name: string) => {
    const c = cases[name]!
    const t0 = performance.now()
    const run = spawnSync(process.execPath, c.args, { encoding: "utf8", env: c.env ?? plainEnv, cwd: tmp })
    const ms = performance.now() - t0
    if (run.status !== 0)
      throw new Error(`${name} failed (${run.status}): ${run.stderr.slice(-2000)}${run.stdout.slice(-500)}`)
    return { ms, out: run.stdout }
  }
  for (const name of names) once(name)
  for (let round = 0; round < runs; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const { ms, out } = once(name)
      wall[name]!.push(ms)
      const last = out.trim().split("\n").at(-1) ?? ""
      if (last.startsWith('{"rss"')) rss[name]!.push(JSON.parse(last).rss)
    }
  }
  // The CLI prints its own output, so its RSS comes from a wrapper that runs it in-process after the fact.
  writeFileSync(
    join(tmp, "cli-rss.mjs"),
    `process.on("exit", () => process.stderr.write("RSS " + process.resourceUsage().maxRSS / 1024 + "\\n"))\nawait import(${JSON.stringify(cli)})\n`
  )
  const cliRss: Array<number> = []
  for (let i = 0; i < Math.min(runs, 7); i++) {
    const run = spawnSync(process.execPath, [join(tmp, "cli-rss.mjs"), "status", "--json"], {
      encoding: "utf8",
      env: { ...cliEnv, LICENSURE_HOST: offline },
      cwd: tmp
    })
    const m = /RSS ([\d.]+)/.exec(run.stderr)
    if (run.status !== 0 || m === null) throw new Error(`cli rss probe failed (${run.status}): ${run.stderr}`)
    cliRss.push(Number(m[1]))
  }
  const base = median(wall["node -e 0"]!)
  const baseRss = median(rss["node, maxRSS print"]!)
  const over = (name: string) => median(wall[name]!) - base
  const d = {
    promise: over("licensure bundle: import + check()"),
    effect: over("node-runtime dist: import + check()"),
    effectFloor: over("(floor) the runtime's third-party modules alone"),
    cli: over("licensure status (cli dist)"),
    cliRss: median(cliRss),
    cliRssOver: median(cliRss) - baseRss
  }
  const targets = {
    promise: d.promise <= 50,
    effect: d.effect <= 150,
    cliWall: d.cli <= 150,
    cliRss: d.cliRss <= 80,
    nodeBundleGz: sizes.nodeBundleGz <= 200,
    coreBrowserGz: sizes.coreBrowserGz <= 150
  }
  printTable(
    `Start-up, fresh processes (ms wall, spawn to exit; MiB maxRSS; ${runs} rounds, alternating)`,
    ["case", "median ms", "over node -e 0", "median RSS MiB"],
    names.map((n) => [n, median(wall[n]!), median(wall[n]!) - base, rss[n]!.length > 0 ? median(rss[n]!) : ""])
  )
  printTable(
    "Targets",
    ["what", "value", "target", "met"],
    [
      ["bundle import + offline check, over node -e 0 (ms)", d.promise, "<= 50", targets.promise],
      ["node-runtime import + offline check, over node -e 0 (ms)", d.effect, "<= 150", targets.effect],
      ["  (its third-party modules alone, over node -e 0, ms)", d.effectFloor, "", ""],
      ["licensure status offline, over node -e 0 (ms)", d.cli, "<= 150", targets.cliWall],
      ["licensure status offline, maxRSS (MiB)", d.cliRss, "<= 80", targets.cliRss],
      ["  (RSS over bare node, MiB)", d.cliRssOver, "", ""],
      ["Node Promise bundle, minified (KiB)", sizes.nodeBundleMin, "", ""],
      ["Node Promise bundle, gzipped (KiB)", sizes.nodeBundleGz, "<= 200", targets.nodeBundleGz],
      ["core for a browser, minified (KiB)", sizes.coreBrowserMin, "", ""],
      ["core for a browser, gzipped (KiB)", sizes.coreBrowserGz, "<= 150", targets.coreBrowserGz]
    ]
  )
  const path = writeResult(
    "bundle",
    {
      label: "licensure bundle import + offline check(), ms over node -e 0 (medians)",
      value: d.promise,
      unit: "ms",
      target: "<= 50 ms",
      met: targets.promise
    },
    {
      runs,
      unit: { wall: "ms", rss: "MiB", size: "KiB" },
      baseline: { wallMs: base, rssMiB: baseRss },
      deltas: d,
      sizes,
      targets,
      wall: Object.fromEntries(names.map((n) => [n, { median: median(wall[n]!), samples: wall[n] }])),
      rss: Object.fromEntries(names.map((n) => [n, rss[n]!.length > 0 ? median(rss[n]!) : null])),
      cliRss
    }
  )
  console.log(`wrote ${path}`)
} finally {
  // `BENCH_KEEP=1` keeps the scratch directory (probes, stores, the copied bundle) for profiling a case by hand.
  if (process.env.BENCH_KEEP === "1") console.log(`kept ${tmp}`)
  else rmSync(tmp, { recursive: true, force: true })
}
