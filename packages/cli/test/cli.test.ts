/**
 * The `licensure` CLI end to end, as real processes: an emulator process serves the Cryptlex API on 127.0.0.1,
 * and each command is a `node …/licensure.ts` child with its configuration in the environment, its store in a
 * temporary directory and a fake machine root for the fingerprint. Every process must end on its own (or on
 * SIGINT for `watch` and `emulator`) with the documented exit code, so a timer left running would show as a hang.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as NodeReadline from "node:readline"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { ExitCode } from "../src/cli/ExitCodes.ts"

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))
const cliBin = fileURLToPath(new URL("../src/bin/licensure.ts", import.meta.url))
const emulatorBin = fileURLToPath(new URL("../../emulator/src/bin/licensure-emulator.ts", import.meta.url))
const exampleApp = NodePath.join(repoRoot, "examples", "basic-app", "main.ts")

interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

interface Running {
  readonly child: ChildProcess
  readonly nextLine: (test: (line: string) => boolean) => Promise<string>
  readonly finished: Promise<Finished>
}

let work: string
let machineRoot: string
let emulator: ChildProcess | undefined
let emulatorUrl: string
let productId: string
let publicKeyPath: string

/** Only what the child needs: no proxy variables, no LICENSURE_* from the developer's shell. */
const baseEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? "",
  NODE_OPTIONS: `--import=${fileURLToPath(new URL("../../../scripts/workspace-sources.mjs", import.meta.url))}`,
  HOME: work,
  XDG_DATA_HOME: NodePath.join(work, "xdg")
})

const start = (script: string, args: ReadonlyArray<string>, env: Record<string, string>, cwd = work): Running => {
  const child = spawn(process.execPath, [script, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  const lines: Array<string> = []
  const waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = []
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8")
  })
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8")
  })
  NodeReadline.createInterface({ input: child.stdout! }).on("line", (line) => {
    lines.push(line)
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.test(line)) waiters.splice(i, 1)[0]!.resolve(line)
    }
  })
  const finished = new Promise<Finished>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  )
  const nextLine = (test: (line: string) => boolean) => {
    const seen = lines.find(test)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise<string>((resolve, reject) => {
      waiters.push({ test, resolve })
      finished.then((f) => reject(new Error(`exited with ${f.code} before the line came; stderr: ${f.stderr}`)))
    })
  }
  return { child, nextLine, finished }
}

const configured = (dir: string, extra: Record<string, string> = {}): Record<string, string> => ({
  ...baseEnv(),
  LICENSURE_PRODUCT_ID: productId,
  LICENSURE_PUBLIC_KEY: publicKeyPath,
  LICENSURE_HOST: emulatorUrl,
  LICENSURE_DIR: dir,
  LICENSURE_FINGERPRINT_ROOT: machineRoot,
  ...extra
})

/** Runs the CLI to completion. */
const cli = (args: ReadonlyArray<string>, env: Record<string, string>, cwd?: string) =>
  start(cliBin, args, env, cwd).finished

const admin = async (method: string, path: string, body?: unknown): Promise<any> => {
  const response = await fetch(new URL(path, emulatorUrl), {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  })
  assert.isTrue(response.ok, `${method} ${path} answered ${response.status}`)
  const text = await response.text()
  return text === "" ? undefined : JSON.parse(text)
}

const newLicense = (): Promise<{ id: string; key: string }> => admin("POST", "/__admin/licenses", { productId })

const storeDir = () => NodeFs.mkdtempSync(NodePath.join(work, "store-"))

/** A usage error is exactly one line on stderr, with no stack trace, and nothing on stdout. */
const assertOneLineError = (result: Finished, code: number, pattern: RegExp) => {
  assert.strictEqual(result.code, code, result.stderr)
  assert.strictEqual(result.stdout, "")
  const lines = result.stderr.trimEnd().split("\n")
  assert.strictEqual(lines.length, 1, result.stderr)
  assert.match(lines[0]!, /^licensure: /)
  assert.match(lines[0]!, pattern)
  assert.notMatch(result.stderr, /\n\s+at /)
}

/** stdout is exactly one line, and that line is JSON. */
const oneDocument = (run: Finished, what: string) => {
  assert.strictEqual(run.stdout.split("\n").filter((l) => l !== "").length, 1, `${what}: ${run.stdout}`)
  return JSON.parse(run.stdout) as Record<string, any>
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago, and is closed again). */
const closedPort = async (): Promise<number> => {
  const server = NodeNet.createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as NodeNet.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

beforeAll(async () => {
  work = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "licensure-cli-"))
  machineRoot = NodePath.join(work, "machine")
  NodeFs.mkdirSync(NodePath.join(machineRoot, "etc"), { recursive: true })
  NodeFs.writeFileSync(NodePath.join(machineRoot, "etc", "machine-id"), "4c1f0e5a9b2d4e7f8a6b3c2d1e0f9a8b\n")
  const running = start(emulatorBin, ["--port", "0"], baseEnv())
  emulator = running.child
  emulatorUrl = (JSON.parse(await running.nextLine(() => true)) as { url: string }).url
  const product = (await admin("POST", "/__admin/products", {})) as { productId: string; publicKeyPem: string }
  productId = product.productId
  publicKeyPath = NodePath.join(work, "public-key.pem")
  NodeFs.writeFileSync(publicKeyPath, product.publicKeyPem)
})

afterAll(async () => {
  if (emulator !== undefined && emulator.exitCode === null) {
    const exited = new Promise((resolve) => emulator!.once("close", resolve))
    emulator.kill("SIGTERM")
    await exited
  }
  NodeFs.rmSync(work, { recursive: true, force: true })
})

describe("licensure CLI (real processes against a real emulator)", () => {
  it("activates, shows status as JSON, syncs, deactivates, and then reports not activated", async () => {
    const license = await newLicense()
    const env = configured(storeDir())

    const activated = await cli(["activate", ` ${license.key}\n`], env) // pasted with a space and a newline
    assert.strictEqual(activated.code, ExitCode.licensed, activated.stderr)
    assert.match(activated.stdout, /^state\s+active$/m)
    assert.match(activated.stdout, /^status\s+LA_OK \(0\)$/m)
    assert.notInclude(activated.stdout, license.key, "the key is masked")
    assert.strictEqual(activated.stderr, "", "piped: no spinner, no progress lines")

    const status = await cli(["status", "--json"], env)
    assert.strictEqual(status.code, ExitCode.licensed, status.stderr)
    const view = JSON.parse(status.stdout)
    assert.strictEqual(view.state, "active")
    assert.strictEqual(view.licensed, true)
    assert.deepStrictEqual(view.status, { name: "LA_OK", code: 0 })
    assert.strictEqual(view.exitCode, 0)
    assert.strictEqual(view.license.licenseId, license.id)
    assert.strictEqual(
      view.license.key,
      `${license.key.slice(0, -4).replace(/[A-Z0-9]/g, "*")}${license.key.slice(-4)}`
    )
    const onServer = await admin("GET", `/__admin/licenses/${license.id}`)
    assert.strictEqual(onServer.activations.length, 1)
    assert.strictEqual(view.license.activationId, onServer.activations[0].id)

    await admin("DELETE", "/__admin/log")
    const synced = await cli(["sync"], env)
    assert.strictEqual(synced.code, ExitCode.licensed, synced.stderr)
    assert.match(synced.stdout, /^state\s+active$/m)
    const log = (await admin("GET", "/__admin/log")) as Array<{ method: string; path: string; status: number }>
    assert.deepStrictEqual(
      log.map((e) => `${e.method} ${e.path} ${e.status}`),
      // A sync, then the feature entitlements fetched after it (as LexActivator does after every sync).
      [
        `PATCH /v3/activations/${view.license.activationId} 200`,
        `GET /v3/activations/${view.license.activationId}/feature-entitlements 200`
      ]
    )

    const deactivated = await cli(["deactivate"], env)
    assert.strictEqual(deactivated.code, ExitCode.licensed, deactivated.stderr)
    assert.match(deactivated.stdout, /deactivated/)
    assert.strictEqual((await admin("GET", `/__admin/licenses/${license.id}`)).activations.length, 0)

    const after = await cli(["status", "--json"], env)
    assert.strictEqual(after.code, ExitCode.notActivated)
    assert.strictEqual(after.code, 20)
    const gone = JSON.parse(after.stdout)
    assert.strictEqual(gone.state, "unactivated")
    assert.strictEqual(gone.licensed, false)
    assert.strictEqual(gone.exitCode, 20)

    const table = await cli(["status"], env)
    assert.strictEqual(table.code, 20)
    assert.match(table.stdout, /^state\s+unactivated$/m)

    // A second deactivate (an uninstaller run twice) succeeds: there is nothing left to release.
    const again = await cli(["deactivate"], env)
    assert.strictEqual(again.code, ExitCode.licensed, again.stderr)
    assert.match(again.stdout, /no activation on this machine/)
  })

  it("answers configuration and usage mistakes with one line and exit 2", async () => {
    const corruptKey = NodePath.join(work, "corrupt.pem")
    NodeFs.writeFileSync(corruptKey, "-----BEGIN PUBLIC KEY-----\nnot base64 at all!\n-----END PUBLIC KEY-----\n")
    const { LICENSURE_PRODUCT_ID: _, ...withoutProduct } = configured(storeDir())
    const [missingProduct, unknownFlag, misplacedFlag, missingKey, badPem, badScope, badHost] = await Promise.all([
      cli(["status"], withoutProduct),
      cli(["status", "--bogus"], configured(storeDir())),
      cli(["chart", "--product-id", "x"], baseEnv()),
      cli(["activate"], configured(storeDir())),
      cli(["status"], configured(storeDir(), { LICENSURE_PUBLIC_KEY: corruptKey })),
      cli(["status", "--scope", "galaxy"], configured(storeDir())),
      cli(["status"], configured(storeDir(), { LICENSURE_HOST: "ftp://example.com" }))
    ])
    assertOneLineError(missingProduct, ExitCode.usage, /missing product id: give --product-id, LICENSURE_PRODUCT_ID/)
    assertOneLineError(unknownFlag, ExitCode.usage, /unknown flag "--bogus"/)
    assertOneLineError(misplacedFlag, ExitCode.usage, /--product-id is not an option of `chart`/)
    assertOneLineError(missingKey, ExitCode.usage, /activate expects a licence key/)
    assertOneLineError(
      badPem,
      ExitCode.usage,
      /LICENSURE_PUBLIC_KEY \(.*corrupt\.pem\): expected an RSA public key in PEM/
    )
    assertOneLineError(badScope, ExitCode.usage, /--scope: expected user, system or memory, got "galaxy"/)
    assertOneLineError(badHost, ExitCode.usage, /LICENSURE_HOST: expected an http or https URL/)
  })

  it("exits 31 naming the server's code for a wrong key, and 30 when the server cannot be reached", async () => {
    const license = await newLicense()
    const port = await closedPort()
    const [wrongKey, unreachable] = await Promise.all([
      cli(["activate", "000000-111111-222222-333333-444444-555555", "--json"], configured(storeDir())),
      cli(["activate", license.key, "--host", `http://127.0.0.1:${port}`], configured(storeDir()))
    ])
    assert.strictEqual(wrongKey.code, ExitCode.refused)
    assert.strictEqual(wrongKey.code, 31)
    assert.match(wrongKey.stderr, /^licensure: activate refused by the server: INVALID_LICENSE_KEY: .+LA_E_LICENSE_KEY/)
    // With --json, scripts get the failure on stdout too.
    const failure = JSON.parse(wrongKey.stdout)
    assert.strictEqual(failure.exitCode, 31)
    assert.strictEqual(failure.error.code, "INVALID_LICENSE_KEY")
    assert.deepStrictEqual(failure.error.status, { name: "LA_E_LICENSE_KEY", code: 54 })
    assert.strictEqual(unreachable.code, ExitCode.unreachable)
    assert.strictEqual(unreachable.code, 30)
    assert.match(unreachable.stderr, /^licensure: activate failed: the licence server could not be reached/)
    assert.match(unreachable.stderr, new RegExp(`NetworkFailure: .*127\\.0\\.0\\.1:${port}.*LA_E_INET`))
    // Neither attempt took a seat.
    assert.strictEqual((await admin("GET", `/__admin/licenses/${license.id}`)).activations.length, 0)
  })

  it("exits 24 for a licence locked to another OS user, naming the cause and the fix in text and JSON", async () => {
    const license = (await admin("POST", "/__admin/licenses", { productId, userLocked: true })) as { key: string }
    const dir = storeDir()
    const as = (user: string) => configured(dir, { LICENSURE_FINGERPRINT_USER: user })
    const activated = await cli(["activate", license.key], as("alice"))
    assert.strictEqual(activated.code, ExitCode.licensed, activated.stderr)
    assert.strictEqual((await cli(["status"], as("alice"))).code, ExitCode.licensed)

    const [text, json] = await Promise.all([cli(["status"], as("bob")), cli(["status", "--json"], as("bob"))])
    assert.strictEqual(text.code, ExitCode.osUserMismatch, text.stderr)
    assert.strictEqual(text.code, 24)
    assert.match(text.stdout, /^state\s+osUserMismatch$/m)
    assert.match(text.stdout, /^status\s+LA_E_OS_USER \(104\)$/m)
    assert.match(
      text.stdout,
      /^problem\s+the licence is locked to the OS user who activated it, and this process runs as another user$/m
    )
    assert.match(text.stdout, /^what to do\s+run the app as the user who activated it, or deactivate as that user/m)
    const view = oneDocument(json, "status --json")
    assert.strictEqual(json.code, 24)
    assert.strictEqual(view.exitCode, 24)
    assert.strictEqual(view.state, "osUserMismatch")
    assert.deepStrictEqual(view.status, { name: "LA_E_OS_USER", code: 104 })
    assert.strictEqual(view.problem.reason, "osUserMismatch")
    assert.match(view.problem.action, /run the app as the user who activated it/)
    // Nothing was lost: the user who activated is still licensed, with no problem to report.
    const back = await cli(["status", "--json"], as("alice"))
    assert.strictEqual(back.code, ExitCode.licensed)
    assert.isUndefined(oneDocument(back, "status --json").problem)
  })

  it("exits 14 for a release the licence does not cover, naming the version limit and the fix", async () => {
    const license = (await admin("POST", "/__admin/licenses", { productId, maxAllowedReleaseVersion: "1.9" })) as {
      key: string
    }
    const env = configured(storeDir())
    const activated = await cli(["activate", license.key, "--release-version", "1.5"], env)
    assert.strictEqual(activated.code, ExitCode.licensed, activated.stderr)

    const [text, json, covered] = await Promise.all([
      cli(["status", "--release-version", "2.0"], env),
      cli(["status", "--json"], { ...env, LICENSURE_RELEASE_VERSION: "2.0.1" }),
      cli(["status", "--json", "--release-version", "1.9"], env)
    ])
    assert.strictEqual(text.code, ExitCode.releaseNotAllowed, text.stderr)
    assert.strictEqual(text.code, 14)
    assert.match(text.stdout, /^state\s+releaseNotAllowed$/m)
    assert.match(text.stdout, /^status\s+LA_E_RELEASE_VERSION_NOT_ALLOWED \(77\)$/m)
    assert.match(text.stdout, /^problem\s+release 2\.0 is above the highest version the licence allows \(1\.9\)$/m)
    assert.match(text.stdout, /^what to do\s+run release 1\.9 or older, or get the licence extended to release 2\.0/m)
    const view = oneDocument(json, "status --json")
    assert.strictEqual(json.code, 14)
    assert.strictEqual(view.exitCode, 14)
    assert.deepStrictEqual(view.status, { name: "LA_E_RELEASE_VERSION_NOT_ALLOWED", code: 77 })
    assert.strictEqual(view.problem.reason, "aboveMaxAllowedVersion")
    assert.match(view.problem.cause, /release 2\.0\.1 is above the highest version the licence allows \(1\.9\)/)
    // The highest covered release is fine, and the stored activation is untouched by the refusal above.
    assert.strictEqual(covered.code, ExitCode.licensed, covered.stderr)
    assert.strictEqual(oneDocument(covered, "status --json").state, "active")
    assertOneLineError(
      await cli(["status", "--release-version", "v2"], env),
      ExitCode.usage,
      /--release-version: expected a release version x\.x to x\.x\.x\.x \(digits and dots\), got "v2"/
    )
  })

  it("exits 11 after a sync finds the licence suspended, 21 once it is revoked, and 20 after that", async () => {
    const license = await newLicense()
    const env = configured(storeDir())
    assert.strictEqual((await cli(["activate", license.key], env)).code, 0)

    await admin("PATCH", `/__admin/licenses/${license.id}`, { suspended: true })
    const suspended = await cli(["sync", "--json"], env)
    assert.strictEqual(suspended.code, ExitCode.suspended, suspended.stderr)
    assert.strictEqual(JSON.parse(suspended.stdout).state, "suspended")

    await admin("PATCH", `/__admin/licenses/${license.id}`, { suspended: false, revoked: true })
    const revoked = await cli(["sync"], env)
    assert.strictEqual(revoked.code, ExitCode.revoked)
    assert.strictEqual(revoked.code, 21)
    assert.match(revoked.stderr, /^licensure: sync refused by the server: REVOKED_LICENSE: .+LA_E_REVOKED 53/)

    // The revocation cleared the stored activation: this machine is no longer activated.
    const status = await cli(["status", "--json"], env)
    assert.strictEqual(status.code, ExitCode.notActivated)
    assert.strictEqual(JSON.parse(status.stdout).state, "unactivated")
  })

  it("starts a trial and reports it", async () => {
    const env = configured(storeDir(), { LICENSURE_FINGERPRINT_ROOT: NodePath.join(work, "trial-machine") })
    NodeFs.mkdirSync(NodePath.join(work, "trial-machine", "etc"), { recursive: true })
    NodeFs.writeFileSync(
      NodePath.join(work, "trial-machine", "etc", "machine-id"),
      "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b\n"
    )
    const trial = await cli(["trial", "--json"], env)
    assert.strictEqual(trial.code, ExitCode.licensed, trial.stderr)
    const view = JSON.parse(trial.stdout)
    assert.strictEqual(view.state, "trialActive")
    assert.strictEqual(view.license.type, "trial")
    assert.isAbove(view.license.expiresAt, Date.now())
    const status = await cli(["status"], env)
    assert.strictEqual(status.code, 0, status.stderr)
    assert.match(status.stdout, /^state\s+trialActive$/m)
  })

  it("takes its configuration from ./licensure.json, with flags over variables over the file", async () => {
    const license = await newLicense()
    const project = NodeFs.mkdtempSync(NodePath.join(work, "project-"))
    NodeFs.copyFileSync(publicKeyPath, NodePath.join(project, "key.pem"))
    NodeFs.writeFileSync(
      NodePath.join(project, "licensure.json"),
      JSON.stringify({ productId, publicKeyPath: "key.pem", host: "http://127.0.0.1:9", dir: "licence" })
    )
    const env = {
      ...baseEnv(),
      LICENSURE_FINGERPRINT_ROOT: machineRoot,
      // The variable beats the file's unreachable host; the flag beats the variable's product id.
      LICENSURE_HOST: emulatorUrl,
      LICENSURE_PRODUCT_ID: "not-this-product"
    }
    const activated = await cli(["activate", license.key, "--product-id", productId], env, project)
    assert.strictEqual(activated.code, 0, activated.stderr)
    // The file's relative `dir` is relative to the file: the licence landed next to it.
    assert.isTrue(NodeFs.readdirSync(NodePath.join(project, "licence")).some((name) => name.endsWith(".user.lic")))
    assert.strictEqual((await admin("GET", `/__admin/licenses/${license.id}`)).activations.length, 1)
  })

  it("prints the lifecycle chart as Mermaid, as a JSON graph, or into a file", async () => {
    const out = NodePath.join(work, "chart.mmd")
    const [mermaid, graph, written] = await Promise.all([
      cli(["chart"], baseEnv()),
      cli(["chart", "--json"], baseEnv()),
      cli(["chart", "--out", out], baseEnv())
    ])
    assert.strictEqual(mermaid.code, 0, mermaid.stderr)
    assert.match(mermaid.stdout, /^stateDiagram-v2\n {2}\[\*\] --> loading\n/)
    assert.match(mermaid.stdout, /activated --> deactivating: DEACTIVATE/)
    assert.strictEqual(graph.code, 0, graph.stderr)
    const parsed = JSON.parse(graph.stdout) as { initial: string; states: Array<string>; edges: Array<unknown> }
    assert.strictEqual(parsed.initial, "loading")
    assert.includeMembers(parsed.states, ["unactivated", "active", "grace", "revoked"])
    assert.isAbove(parsed.edges.length, 10)
    assert.strictEqual(written.code, 0, written.stderr)
    assert.strictEqual(written.stdout, "")
    assert.strictEqual(NodeFs.readFileSync(out, "utf8"), mermaid.stdout)
  })

  it("watch prints a line per change and exits 0 on SIGINT", async () => {
    const license = await newLicense()
    const env = configured(storeDir())
    assert.strictEqual((await cli(["activate", license.key], env)).code, 0)
    const watching = start(cliBin, ["watch"], env)
    const line = await watching.nextLine((l) => / active LA_OK$/.test(l))
    assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z active LA_OK$/)
    watching.child.kill("SIGINT")
    const done = await watching.finished
    assert.strictEqual(done.code, 0, done.stderr)
    assert.strictEqual(done.stderr, "")
    for (const printed of done.stdout.trimEnd().split("\n")) {
      assert.match(printed, /^\S+Z [a-zA-Z]+ LA_[A-Z_]+$/)
    }
  })

  it("watch --json follows a sync run in another process: the licence suspended there shows here, with no call of its own", async () => {
    const license = await newLicense()
    const env = configured(storeDir())
    assert.strictEqual((await cli(["activate", license.key], env)).code, 0)
    const watching = start(cliBin, ["watch", "--json"], env)
    const first = JSON.parse(await watching.nextLine((l) => l.includes('"state":"active"')))
    assert.strictEqual(first.status.name, "LA_OK")

    await admin("PATCH", `/__admin/licenses/${license.id}`, { suspended: true })
    await admin("DELETE", "/__admin/log")
    const synced = await cli(["sync", "--json"], env)
    assert.strictEqual(synced.code, ExitCode.suspended, synced.stderr)

    const seen = JSON.parse(await watching.nextLine((l) => l.includes('"state":"suspended"')))
    assert.strictEqual(seen.status.name, "LA_SUSPENDED")
    assert.strictEqual(seen.exitCode, ExitCode.suspended)
    const log = (await admin("GET", "/__admin/log")) as Array<{ method: string; path: string }>
    assert.deepStrictEqual(
      log.map((e) => `${e.method} ${e.path.replace(/^\/v3\/activations\/[^/]+/, "…")}`),
      ["PATCH …", "GET …/feature-entitlements"],
      "the only requests are the other process's sync and the entitlements fetch after it"
    )
    watching.child.kill("SIGINT")
    const done = await watching.finished
    assert.strictEqual(done.code, 0, done.stderr)
    // stdout stays JSON lines only.
    for (const printed of done.stdout.trimEnd().split("\n")) assert.doesNotThrow(() => JSON.parse(printed))
  })

  it("inspect --replay refuses a missing flag, a missing file and a line that is not an inspection event", async () => {
    assertOneLineError(await cli(["inspect"], baseEnv()), ExitCode.usage, /inspect expects --replay <file>/)
    const missing = NodePath.join(work, "no-such-recording.jsonl")
    assertOneLineError(
      await cli(["inspect", "--replay", missing], baseEnv()),
      ExitCode.usage,
      /cannot read the recording .*no-such-recording\.jsonl/
    )
    const bad = NodePath.join(work, "bad-recording.jsonl")
    NodeFs.writeFileSync(
      bad,
      '{"state":"active","time":1,"status":{"name":"LA_OK","code":0},"licensed":true,"settled":true}\n{"state":3}\n'
    )
    assertOneLineError(
      await cli(["inspect", "--replay", bad], baseEnv()),
      ExitCode.usage,
      /bad-recording\.jsonl:2: expected an inspection event \(a string "state"\), got/
    )
  })

  it("watch --inspect serves the live state-chart page and still exits 0 on SIGINT", async () => {
    const license = await newLicense()
    const env = configured(storeDir())
    assert.strictEqual((await cli(["activate", license.key], env)).code, 0)
    const watching = start(cliBin, ["watch", "--inspect"], env)
    const announced = await watching.nextLine((l) => l.startsWith("inspector: "))
    const url = announced.slice("inspector: ".length)
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/?$/)
    // The page is up before the stored record is read and its tokens verified: wait (bounded) for the load.
    let state = { state: "loading" }
    for (let attempt = 0; state.state === "loading" && attempt < 100; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100))
      state = (await (await fetch(new URL("/state.json", url))).json()) as { state: string }
    }
    assert.strictEqual(state.state, "active")
    const page = await (await fetch(url)).text()
    assert.include(page, "<svg")
    watching.child.kill("SIGINT")
    const done = await watching.finished
    assert.strictEqual(done.code, 0, done.stderr)
  })

  it("emulator --seed serves a product and a licence that the CLI and the example app can use", async () => {
    const seeded = start(cliBin, ["emulator", "--seed", "--port", "0"], baseEnv())
    const info = JSON.parse(await seeded.nextLine(() => true)) as {
      url: string
      productId: string
      publicKeyPath: string
      key: string
    }
    assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.isTrue(NodeFs.readFileSync(info.publicKeyPath, "utf8").startsWith("-----BEGIN PUBLIC KEY-----"))
    const env = {
      ...baseEnv(),
      LICENSURE_HOST: info.url,
      LICENSURE_PRODUCT_ID: info.productId,
      LICENSURE_PUBLIC_KEY: info.publicKeyPath,
      LICENSURE_DIR: storeDir()
    }
    // The example app activates with LICENSE_KEY on first run and gates its feature on the licence.
    const app = start(exampleApp, [], { ...env, LICENSE_KEY: info.key })
    await app.nextLine((l) => l === "premium features: enabled")
    app.child.kill("SIGINT")
    const appDone = await app.finished
    assert.strictEqual(appDone.code, 0, appDone.stderr)
    assert.match(appDone.stdout, /^licence: active \(LA_OK\)/m)
    assert.match(appDone.stdout, /bye\n$/)

    // The CLI, on the same machine and directory, sees the app's activation.
    const status = await cli(["status", "--json"], env)
    assert.strictEqual(status.code, 0, status.stderr)
    assert.strictEqual(JSON.parse(status.stdout).state, "active")

    seeded.child.kill("SIGINT")
    const done = await seeded.finished
    assert.strictEqual(done.code, 0, done.stderr)
    assert.match(done.stderr, /export LICENSURE_HOST=http:\/\/127\.0\.0\.1:\d+ LICENSURE_PRODUCT_ID=/)
    // The key file outlives the emulator, so the printed exports still work offline (issue 13).
    assert.isTrue(NodeFs.existsSync(info.publicKeyPath), "the seeded public key stays after exit")
    const offline = await cli(["status", "--json"], env)
    assert.strictEqual(offline.code, 0, offline.stderr)
    assert.strictEqual(JSON.parse(offline.stdout).state, "active")
    NodeFs.rmSync(NodePath.dirname(info.publicKeyPath), { recursive: true, force: true })
  })

  it("licensure emulator and licensure-emulator are one command: same help, same flags, same exit codes", async () => {
    const help = await Promise.all([
      cli(["emulator", "--help"], baseEnv()),
      start(emulatorBin, ["-h"], baseEnv()).finished
    ])
    for (const run of help) {
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stderr, "")
    }
    assert.strictEqual(
      help[0]!.stdout.replaceAll("licensure emulator", "NAME"),
      help[1]!.stdout.replaceAll("licensure-emulator", "NAME")
    )
    for (const flag of ["--port N", "--host H", "--manual-clock", "--seed", "Exit codes:", "Example:"]) {
      assert.include(help[0]!.stdout, flag)
    }

    // A busy port: one line on stderr, exit 1, from both.
    const taken = NodeNet.createServer()
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve))
    const port = String((taken.address() as NodeNet.AddressInfo).port)
    try {
      const busy = await Promise.all([
        cli(["emulator", "--port", port], baseEnv()),
        start(emulatorBin, ["--port", port], baseEnv()).finished
      ])
      for (const run of busy) {
        assert.strictEqual(run.code, 1, run.stderr)
        assert.strictEqual(run.stdout, "")
        assert.match(run.stderr.trimEnd(), /^licensure[ -]emulator: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/)
        assert.strictEqual(run.stderr.trimEnd().split("\n").length, 1)
      }
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()))
    }

    // A wrong flag: exit 2 from both; the emulator's flags are the CLI's (--manual-clock with --seed).
    const wrong = await Promise.all([
      cli(["emulator", "--bogus"], baseEnv()),
      start(emulatorBin, ["--bogus"], baseEnv()).finished
    ])
    for (const run of wrong) assert.strictEqual(run.code, 2, run.stderr)
    const seeded = start(emulatorBin, ["--seed", "--manual-clock", "--host", "127.0.0.1"], baseEnv())
    const info = JSON.parse(await seeded.nextLine(() => true)) as Record<string, string>
    assert.deepStrictEqual(Object.keys(info), ["url", "productId", "publicKeyPath", "key", "licenseId"])
    const moved = await fetch(new URL("/__admin/clock", info.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ advanceSeconds: 60 })
    })
    assert.strictEqual(moved.status, 200, "--manual-clock: the clock moves when told")
    seeded.child.kill("SIGTERM")
    assert.strictEqual((await seeded.finished).code, 0)
    assert.isTrue(NodeFs.existsSync(info.publicKeyPath ?? ""), "the seeded public key stays after exit")
    NodeFs.rmSync(NodePath.dirname(info.publicKeyPath ?? ""), { recursive: true, force: true })
  })

  it("every command has its own help, the same from `<command> --help` and `help <command>`", async () => {
    const { Commands } = await import("../src/cli/CommandLine.ts")
    const runs = await Promise.all(
      Commands.map(async (command) => ({
        command,
        flag: await cli([command, "--help"], baseEnv()),
        word: await cli(["help", command], baseEnv())
      }))
    )
    const overview = await cli(["--help"], baseEnv())
    for (const { command, flag, word } of runs) {
      for (const run of [flag, word]) {
        assert.strictEqual(run.code, 0, `${command}: ${run.stderr}`)
        assert.strictEqual(run.stderr, "", command)
        assert.match(run.stdout, new RegExp(`^usage: licensure ${command}\\b`), command)
        assert.notStrictEqual(run.stdout, overview.stdout, `${command} --help is not the overview`)
      }
      assert.strictEqual(flag.stdout, word.stdout, command)
    }
    // Each help ends with examples of that very command.
    for (const { command, flag } of runs) {
      assert.match(
        flag.stdout,
        new RegExp(`\n(examples|Example):\n  licensure[ -]${command === "emulator" ? "emulator" : `${command}\\b`}`),
        command
      )
    }
    // Every option a command accepts is described in its help.
    const status = runs.find((r) => r.command === "status")!.flag.stdout
    for (const option of ["--product-id", "--public-key", "--host", "--dir", "--json"]) assert.include(status, option)
  })

  it("a mistyped command or flag gets one line with a suggestion, exit 2", async () => {
    const cases: Array<[ReadonlyArray<string>, string]> = [
      [["statsu"], "did you mean status?"],
      [["deactivte"], "did you mean deactivate?"],
      [["status", "--jsno"], "did you mean --json?"],
      [["help", "acitvate"], "did you mean activate?"]
    ]
    for (const [args, hint] of cases) {
      const run = await cli(args, baseEnv())
      assert.strictEqual(run.code, 2, args.join(" "))
      assert.strictEqual(run.stdout, "")
      assert.strictEqual(run.stderr.trimEnd().split("\n").length, 1, run.stderr)
      assert.include(run.stderr, hint)
    }
    const far = await cli(["xyzzy"], baseEnv())
    assert.notInclude(far.stderr, "did you mean")
  })

  it("watch --inspect-port serves the page on that port, again after the watcher restarts", async () => {
    const license = await newLicense()
    const env = configured(storeDir())
    assert.strictEqual((await cli(["activate", license.key], env)).code, 0)
    const probe = NodeNet.createServer()
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve))
    const port = (probe.address() as NodeNet.AddressInfo).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    for (let round = 0; round < 2; round++) {
      // --inspect-port alone turns the inspector on.
      const watching = start(cliBin, ["watch", "--json", "--inspect-port", String(port)], env)
      const finished = watching.finished
      const state = await (async () => {
        for (let attempt = 0; ; attempt++) {
          try {
            const answer = (await (await fetch(`http://127.0.0.1:${port}/state.json`)).json()) as { state: string }
            // The page may be up before the stored record is read (and its tokens verified): wait for the load.
            if (answer.state !== "loading" || attempt > 100) return answer
          } catch (error) {
            if (attempt > 100) throw error
          }
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      })()
      assert.strictEqual(state.state, "active", `round ${round}`)
      watching.child.kill("SIGINT")
      const done = await finished
      assert.strictEqual(done.code, 0, done.stderr)
      assert.include(done.stderr, `inspector: http://127.0.0.1:${port}`)
    }
    const wrong = await cli(["watch", "--inspect-port", "70000"], env)
    assert.strictEqual(wrong.code, 2)
    assert.include(wrong.stderr, "--inspect-port expects an integer from 0 to 65535")
  })

  it("under --json every licensing command prints one JSON document on stdout, its diagnostics on stderr", {
    timeout: 120_000
  }, async () => {
    const license = await newLicense()
    const env = configured(storeDir())
    const port = await closedPort()
    const activated = await cli(["activate", license.key, "--json"], env)
    assert.strictEqual(activated.code, 0, activated.stderr)
    assert.strictEqual(oneDocument(activated, "activate").state, "active")
    for (const command of ["status", "sync", "doctor"]) {
      const run = await cli([command, "--json"], env)
      assert.strictEqual(run.code, 0, `${command}: ${run.stderr}`)
      oneDocument(run, command)
    }
    // A failure: the error document on stdout, the sentence for a person on stderr.
    const failed = await cli(["sync", "--json", "--host", `http://127.0.0.1:${port}`], env)
    assert.strictEqual(failed.code, ExitCode.unreachable)
    assert.strictEqual(oneDocument(failed, "failed sync").error.kind, "NetworkFailure")
    assert.match(failed.stderr, /^licensure: sync failed: the licence server could not be reached/)

    // Deactivate, then again: both exit 0 with one document (an uninstaller may run it twice).
    for (const round of ["first", "second"]) {
      const run = await cli(["deactivate", "--json"], env)
      assert.strictEqual(run.code, 0, `${round}: ${run.stderr}`)
      assert.strictEqual(oneDocument(run, `${round} deactivate`).state, "unactivated")
    }
  })

  it("under --json chart, --version, demo and the emulator print JSON alone on stdout too", {
    timeout: 240_000
  }, async () => {
    // The demo runs a year of virtual time in a fresh process (about 20 s of CPU through the TypeScript loader).
    const [chart, version, demo] = await Promise.all([
      cli(["chart", "--json"], baseEnv()),
      cli(["--version", "--json"], baseEnv()),
      cli(["demo", "--json", "--out", NodePath.join(work, "demo-json")], baseEnv())
    ])
    assert.strictEqual(JSON.parse(chart.stdout).initial, "loading")
    assert.match(oneDocument(version, "version").version, /^\d+\.\d+\.\d+/)
    assert.strictEqual(demo.code, 0, demo.stderr)
    const summary = oneDocument(demo, "demo")
    assert.isAbove(summary.syncs, 0)
    assert.isAbove(summary.hoursInState.active, 0)
    assert.match(demo.stderr, /\S/, "the demo's timeline goes to stderr under --json")

    // The emulator's ready line is its only stdout, --json or not.
    const emulating = start(cliBin, ["emulator", "--json", "--seed", "--port", "0"], baseEnv())
    const ready = JSON.parse(await emulating.nextLine(() => true)) as { url: string; publicKeyPath: string }
    emulating.child.kill("SIGINT")
    const stopped = await emulating.finished
    assert.strictEqual(stopped.code, 0, stopped.stderr)
    oneDocument(stopped, "emulator")
    assert.match(stopped.stderr, /export LICENSURE_HOST=/)
    NodeFs.rmSync(NodePath.dirname(ready.publicKeyPath), { recursive: true, force: true })
  })

  it("sync and the next status agree after a failed sync: grace and the same last error, until a sync succeeds", async () => {
    const license = await newLicense()
    const port = await closedPort()
    const online = configured(storeDir())
    const offline = { ...online, LICENSURE_HOST: `http://127.0.0.1:${port}` }
    assert.strictEqual((await cli(["activate", license.key], online)).code, 0)

    const failed = await cli(["sync", "--json"], offline)
    assert.strictEqual(failed.code, ExitCode.unreachable, failed.stderr)
    const error = JSON.parse(failed.stdout).error
    assert.strictEqual(error.state, "grace")

    const status = await cli(["status", "--json"], offline)
    assert.strictEqual(status.code, ExitCode.licensed, status.stderr)
    const view = JSON.parse(status.stdout)
    assert.strictEqual(view.state, "grace")
    assert.strictEqual(view.lastError.operation, "sync")
    assert.strictEqual(view.lastError.kind, error.kind)
    assert.strictEqual(view.lastError.message, error.message)
    const table = await cli(["status"], offline)
    assert.match(table.stdout, /^state\s+grace$/m)
    assert.match(table.stdout, new RegExp(`^last error\\s+sync: NetworkFailure: .*127\\.0\\.0\\.1:${port}`, "m"))

    assert.strictEqual((await cli(["sync"], online)).code, 0)
    const after = JSON.parse((await cli(["status", "--json"], offline)).stdout)
    assert.strictEqual(after.state, "active")
    assert.isUndefined(after.lastError)
  })

  it("the README's 'Try the CLI' blocks work as written in fresh shells, pasting what the emulator prints", async () => {
    const readme = NodeFs.readFileSync(NodePath.join(repoRoot, "README.md"), "utf8")
    const section = readme.slice(
      readme.indexOf("## Try the CLI"),
      readme.indexOf("\n## ", readme.indexOf("## Try the CLI") + 1)
    )
    const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!)
    assert.strictEqual(blocks.length, 2, section)
    const nodeDir = NodeFs.existsSync(NodePath.join(repoRoot, ".tools", "node", "bin", "node"))
      ? "/usr/bin:/bin" // the block's own PATH line must find node
      : `${NodePath.dirname(process.execPath)}:/usr/bin:/bin`
    const home = NodeFs.mkdtempSync(NodePath.join(work, "fresh-home-"))
    const shellEnv = { PATH: nodeDir, HOME: home }
    const shell = (script: string) => {
      const child = spawn("bash", ["-c", script], {
        cwd: repoRoot,
        env: shellEnv,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      const lines: Array<string> = []
      const waiting: Array<() => void> = []
      const collect = (chunk: Buffer, into: "out" | "err") => {
        const text = chunk.toString("utf8")
        if (into === "out") stdout += text
        else stderr += text
        lines.push(...text.split("\n"))
        for (const wake of waiting.splice(0)) wake()
      }
      child.stdout!.on("data", (chunk: Buffer) => collect(chunk, "out"))
      child.stderr!.on("data", (chunk: Buffer) => collect(chunk, "err"))
      const finished = new Promise<Finished>((resolve) =>
        child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
      )
      const line = async (test: (line: string) => boolean): Promise<string> => {
        for (;;) {
          const seen = lines.find(test)
          if (seen !== undefined) return seen
          const more = new Promise<void>((resolve) => waiting.push(resolve))
          const ended = await Promise.race([more.then(() => false), finished.then(() => true)])
          if (ended && lines.find(test) === undefined) throw new Error(`shell ended first: ${stderr}`)
        }
      }
      // The whole group: bash and the node it runs, as Ctrl-C in a terminal would.
      const interrupt = () => process.kill(-child.pid!, "SIGINT")
      return { line, finished, interrupt }
    }

    const first = shell(blocks[0]!)
    const exportLine = (await first.line((l) => /^\s+export LICENSURE_HOST=/.test(l))).trim()
    const activateLine = (await first.line((l) => /^\s+licensure activate /.test(l))).trim()
    const pasted = blocks[1]!
      .replace(/^# paste here the "export .*$/m, exportLine)
      .replace(/^# paste here the "licensure activate .*$/m, activateLine)
    assert.notInclude(pasted, "# paste here")

    const second = shell(pasted)
    await second.line((l) => l.startsWith("inspector: http://127.0.0.1:"))
    second.interrupt()
    const done = await second.finished
    assert.strictEqual(done.code, 0, done.stderr)
    assert.match(done.stdout, /^state\s+active$/m, "status after the pasted activate")
    assert.notMatch(done.stderr, /licensure: /, "no command complained")

    first.interrupt()
    assert.strictEqual((await first.finished).code, 0)
    // The emulator is gone; the second shell's definitions and exports still give an offline status.
    const definitions = pasted.split("\n").filter((l) => /^(export |licensure\(\))/.test(l))
    const later = shell([...definitions, "licensure status"].join("\n"))
    const offline = await later.finished
    assert.strictEqual(offline.code, 0, offline.stderr)
    assert.match(offline.stdout, /^state\s+active$/m)
    const keyPath = /LICENSURE_PUBLIC_KEY=(\S+)/.exec(exportLine)![1]!
    NodeFs.rmSync(NodePath.dirname(keyPath), { recursive: true, force: true })
  })
})
