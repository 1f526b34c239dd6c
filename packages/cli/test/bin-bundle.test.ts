/**
 * The bundled `licensure` bin (issue 8: an offline `status` fast and small), as the package ships it: built by
 * `node scripts/build.mjs cli` (tsc, then packages/cli/scripts/bundle.mjs), run as real processes without the
 * workspace-sources hook. An emulator in this process issues the licence, the bin activates against it, then the
 * host becomes a closed port.
 *
 * What is checked: `status` loads only the bin's own files (no node_modules, no source) and none of the chunks
 * that hold the heavy commands (esbuild's metafile says which sources went into which chunk); and a copy of
 * dist/bin/ alone, with nothing beside it, still answers `status`, draws the chart with its stylesheet (elkjs and
 * the inspector's assets inlined), serves the inspector page with its script and runs the emulator.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as NodeReadline from "node:readline"
import { fileURLToPath, pathToFileURL } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { startEmulator } from "@licensure/emulator"
import { runDemo } from "../src/Demo.ts"

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))
const pkgDir = fileURLToPath(new URL("../", import.meta.url))
const distBin = NodePath.join(pkgDir, "dist", "bin")
const Offline = "http://127.0.0.1:9"

/** The sources (as the metafile names them, from packages/cli) a `status` must not load: the heavy commands. */
const Heavy = [
  /(^|\/)node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?elkjs\//,
  /^\.\.\/emulator\/src\//,
  /^\.\.\/testing\/src\//,
  /^src\/(Inspector|Demo|ChartLayout|ChartSvg|InspectionRecord)\.ts$/,
  /^src\/inspector\//,
  /^src\/cli\/(Doctor\.ts|doctor\/)/
]

let work: string
let copy: string
let env: Record<string, string>

/** A user's environment: no NODE_OPTIONS (so no workspace sources), no proxy variables. */
const plainEnv = (): Record<string, string> => ({ PATH: process.env.PATH ?? "", HOME: work })

interface Finished {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a child to its end without blocking this process (the emulator answers from here). */
const exec = (args: ReadonlyArray<string>, childEnv: Record<string, string>, cwd = work): Promise<Finished> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: childEnv, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`node ${args.join(" ")} did not end within 30 s: ${stderr}`))
    }, 30_000)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

/** Starts a long-running child; resolves with it and the first stdout line that passes `test`. */
const startUntil = (
  args: ReadonlyArray<string>,
  test: (line: string) => boolean
): Promise<{ child: ChildProcess; line: string; closed: Promise<number | null> }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: work, env: plainEnv(), stdio: ["ignore", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    const closed = new Promise<number | null>((done) => child.once("close", (code) => done(code)))
    void closed.then((code) => reject(new Error(`node ${args.join(" ")} exited ${code} early: ${stderr}`)))
    NodeReadline.createInterface({ input: child.stdout }).on("line", (line) => {
      if (test(line)) resolve({ child, line, closed })
    })
  })

const statusOf = (ran: Finished) => {
  assert.strictEqual(ran.code, 0, `status exited ${ran.code}: ${ran.stderr}`)
  return JSON.parse(ran.stdout.trim().split("\n").at(-1)!) as { state: string; exitCode: number }
}

beforeAll(async () => {
  work = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "licensure-bin-bundle-"))
  const built = spawnSync(process.execPath, [NodePath.join(repoRoot, "scripts", "build.mjs"), "cli"], {
    cwd: repoRoot,
    env: plainEnv(),
    encoding: "utf8"
  })
  if (built.status !== 0) throw new Error(`build failed (${built.status}): ${built.stderr}${built.stdout}`)
  copy = NodePath.join(work, "alone", "bin")
  NodeFs.cpSync(distBin, copy, { recursive: true })

  const machineRoot = NodePath.join(work, "root")
  NodeFs.mkdirSync(NodePath.join(machineRoot, "etc"), { recursive: true })
  NodeFs.writeFileSync(NodePath.join(machineRoot, "etc", "machine-id"), "0f1e2d3c4b5a69788796a5b4c3d2e1f0\n")
  const emulator = await startEmulator()
  try {
    const { productId, publicKeyPem } = await emulator.createProduct()
    const { key } = await emulator.createLicense({ productId })
    env = {
      ...plainEnv(),
      LICENSURE_PRODUCT_ID: productId,
      LICENSURE_PUBLIC_KEY_PEM: publicKeyPem,
      LICENSURE_DIR: NodePath.join(work, "store"),
      LICENSURE_FINGERPRINT_ROOT: machineRoot
    }
    const activated = await exec([NodePath.join(distBin, "licensure.js"), "activate", key, "--json"], {
      ...env,
      LICENSURE_HOST: emulator.url
    })
    assert.strictEqual(statusOf(activated).state, "active")
  } finally {
    await emulator.close()
  }
}, 180_000)

afterAll(() => {
  if (work !== undefined) NodeFs.rmSync(work, { recursive: true, force: true })
})

describe("the bundled licensure bin", () => {
  it("answers an offline `status` loading only its own chunks, none of the heavy commands' sources", async () => {
    // A preload that records every module Node loads (ESM and CommonJS) and writes the list out at exit.
    const tracer = NodePath.join(work, "trace.mjs")
    const traced = NodePath.join(work, "loaded.json")
    NodeFs.writeFileSync(
      tracer,
      `import { registerHooks } from "node:module"
import { writeFileSync } from "node:fs"
const loaded = []
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context) } })
process.on("exit", () => writeFileSync(${JSON.stringify(traced)}, JSON.stringify(loaded)))
`
    )
    const ran = await exec(
      ["--import", pathToFileURL(tracer).href, NodePath.join(distBin, "licensure.js"), "status", "--json"],
      { ...env, LICENSURE_HOST: Offline }
    )
    assert.strictEqual(statusOf(ran).state, "active")
    const loaded = (JSON.parse(NodeFs.readFileSync(traced, "utf8")) as Array<string>)
      .filter((url) => url.startsWith("file:") && url !== pathToFileURL(tracer).href)
      .map((url) => fileURLToPath(url))
    const outside = loaded.filter((file) => !file.startsWith(distBin + NodePath.sep))
    assert.deepStrictEqual(outside, [], "every file loaded is the bundle's")
    assert.include(loaded, NodePath.join(distBin, "licensure.js"))
    assert.isAbove(loaded.length, 1, "the commands sit in chunks behind the entry")

    const meta = JSON.parse(NodeFs.readFileSync(NodePath.join(pkgDir, ".bundle-meta.json"), "utf8")) as {
      outputs: Record<string, { inputs: Record<string, unknown> }>
    }
    const inputsOf = (file: string) => {
      const output = meta.outputs[NodePath.relative(pkgDir, file).split(NodePath.sep).join("/")]
      assert.isDefined(output, `${file} is in the metafile`)
      return Object.keys(output!.inputs)
    }
    const heavyLoaded = loaded.flatMap((file) =>
      inputsOf(file)
        .filter((input) => Heavy.some((re) => re.test(input)))
        .map((input) => `${NodePath.basename(file)} ← ${input}`)
    )
    assert.deepStrictEqual(heavyLoaded, [], "status loads none of the heavy commands' code")
    // ... while the bundle does hold them, in chunks of their own.
    const all = Object.values(meta.outputs).flatMap((o) => Object.keys(o.inputs))
    for (const re of Heavy.slice(0, 3))
      assert.isTrue(
        all.some((input) => re.test(input)),
        `bundled: ${re}`
      )
  })

  it("has short lines (lineLimit): an uncaught error prints its throwing line, not a whole minified chunk", () => {
    const files = NodeFs.readdirSync(distBin, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"))
    assert.isAbove(files.length, 1)
    for (const file of files) {
      const lines = NodeFs.readFileSync(NodePath.join(distBin, file), "utf8").split("\n")
      const longest = Math.max(...lines.map((l) => l.length))
      // esbuild breaks lines only between tokens: a long string literal stays whole (under 4 KB here).
      assert.isAtMost(longest, 8_000, `${file}: its longest line has ${longest} characters`)
    }
  })

  it("ships the licence of every npm package it inlines", () => {
    const meta = JSON.parse(NodeFs.readFileSync(NodePath.join(pkgDir, ".bundle-meta.json"), "utf8")) as {
      inputs: Record<string, unknown>
    }
    const names = new Set(
      Object.keys(meta.inputs).flatMap((input) => {
        const parts = input.split("/")
        const at = parts.lastIndexOf("node_modules")
        if (at < 0) return []
        return [parts[at + 1]!.startsWith("@") ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1]!]
      })
    )
    assert.includeMembers([...names], ["effect", "xstate", "jose", "elkjs"])
    const notices = NodeFs.readFileSync(NodePath.join(distBin, "THIRD-PARTY-LICENSES.txt"), "utf8")
    for (const name of names) assert.match(notices, new RegExp(`^${name}@\\d+\\.\\d+\\.\\d+\\n\\n\\S`, "m"), name)
    assert.include(notices, "Eclipse Public License")
  })

  it("runs from a copy of dist/bin alone: status, and the chart drawn with its stylesheet", async () => {
    const bin = NodePath.join(copy, "licensure.js")
    assert.strictEqual(statusOf(await exec([bin, "status", "--json"], { ...env, LICENSURE_HOST: Offline })).exitCode, 0)
    const chart = await exec([bin, "chart", "--format", "svg"], plainEnv())
    assert.strictEqual(chart.code, 0, chart.stderr)
    assert.match(chart.stdout, /^<\?xml[^\n]*\n<svg /)
    const css = NodeFs.readFileSync(NodePath.join(pkgDir, "src", "inspector", "chart.css"), "utf8")
    // Embedded as XML text: the five-character escapes of `&`, `<`, `>` and `"`.
    const escaped = css
      .replaceAll("&", "&amp;")
      .replaceAll("<", "&lt;")
      .replaceAll(">", "&gt;")
      .replaceAll('"', "&quot;")
    assert.include(chart.stdout, `<style>${escaped}</style>`)
    assert.include(chart.stdout, 'data-state="active"')
  })

  it("serves the inspector page, its script and stylesheets inlined, from a copy of dist/bin alone", async () => {
    const recording = NodePath.join(work, "year.jsonl")
    await runDemo({ write: () => {}, outDir: NodePath.join(work, "demo"), syncIntervalHours: 24, record: recording })
    const { child, line, closed } = await startUntil(
      [NodePath.join(copy, "licensure.js"), "inspect", "--replay", recording],
      (l) => l.startsWith("inspector: ")
    )
    try {
      const page = await (await fetch(line.slice("inspector: ".length))).text()
      const asset = (name: string) => NodeFs.readFileSync(NodePath.join(pkgDir, "src", "inspector", name), "utf8")
      assert.include(page, asset("page.js"))
      assert.include(page, asset("page.css"))
      assert.include(page, "<svg ")
    } finally {
      child.kill("SIGTERM")
    }
    assert.strictEqual(await closed, 0)
  })

  it("runs the emulator from a copy of dist/bin alone (one JSON line, SIGTERM exits 0)", async () => {
    const { child, line, closed } = await startUntil([NodePath.join(copy, "licensure.js"), "emulator"], (l) =>
      l.startsWith("{")
    )
    const { url } = JSON.parse(line) as { url: string }
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
    child.kill("SIGTERM")
    assert.strictEqual(await closed, 0)
  })
})
