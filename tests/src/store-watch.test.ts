/**
 * Several processes of one app agree about the licence (issue 12): a client made with `watchStore: true` notices
 * when another process changes the stored record and re-evaluates, without a call of its own. The other process is
 * real: `node` running the `licensure` CLI (`sync`) or a small script, against the emulator over real HTTP on
 * 127.0.0.1, sharing the store directory and the machine identity (a fake root holding `etc/machine-id`).
 *
 * Waiting here is on events (a view arriving, a process exiting), bounded by a deadline so that a regression fails
 * rather than hangs; no test sleeps to let something happen.
 */
import { spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import type { LicenseView, PromiseLicensing } from "@licensure/core"
import { type Emulator, startEmulator } from "@licensure/emulator"
import * as NodeFileStore from "@licensure/node-runtime/NodeFileStore"
import { createNodeLicensing, type NodeLicensingConfig } from "@licensure/node-runtime/NodeLicensing"

const cliBin = fileURLToPath(new URL("../../packages/cli/src/bin/licensure.ts", import.meta.url))
const hooks = fileURLToPath(new URL("../../scripts/workspace-sources.mjs", import.meta.url))

let emulator: Emulator
let productId: string
let publicKeyPem: string
let work: string
const opened: Array<PromiseLicensing> = []

beforeAll(async () => {
  emulator = await startEmulator()
  ;({ productId, publicKeyPem } = await emulator.createProduct())
  work = mkdtempSync(join(tmpdir(), "licensure-store-watch-"))
  writeFileSync(join(work, "public-key.pem"), publicKeyPem)
  mkdirSync(join(work, "machine", "etc"), { recursive: true })
  writeFileSync(join(work, "machine", "etc", "machine-id"), "5d2e1f0a9b8c47d6a5e4f3021c1b0a99\n")
})
afterEach(async () => {
  for (const licensing of opened.splice(0)) await licensing.close()
})
afterAll(async () => {
  await emulator?.close()
  rmSync(work, { recursive: true, force: true })
})

const storeDir = () => mkdtempSync(join(work, "store-"))

const open = (directory: string, extra: Partial<NodeLicensingConfig> = {}) => {
  const licensing = createNodeLicensing({
    productId,
    publicKeyPem,
    host: emulator.url,
    directory,
    fingerprint: { root: join(work, "machine") },
    http: { proxy: "none" },
    ...extra
  })
  opened.push(licensing)
  return licensing
}

/** Runs `node` to completion with the workspace's sources mapped, as the CLI tests do. */
const node = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH ?? "", HOME: work, NODE_OPTIONS: `--import=${hooks}`, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8")
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8")
    })
    child.once("close", (code) => resolve({ code, stdout, stderr }))
  })

/** `licensure <args>` in another process, on the same store and machine. */
const cliEnv = (directory: string) => ({
  LICENSURE_PRODUCT_ID: productId,
  LICENSURE_PUBLIC_KEY: join(work, "public-key.pem"),
  LICENSURE_HOST: emulator.url,
  LICENSURE_DIR: directory,
  LICENSURE_FINGERPRINT_ROOT: join(work, "machine")
})
const cliInOtherProcess = (directory: string, args: ReadonlyArray<string>) => node([cliBin, ...args], cliEnv(directory))

/** The first view that passes `test`, or a failure naming the last view seen once `millis` of real time went by. */
const viewWhere = (licensing: PromiseLicensing, test: (view: LicenseView) => boolean, millis = 15_000) =>
  new Promise<LicenseView>((resolve, reject) => {
    let last: LicenseView | undefined
    const timer = setTimeout(() => {
      unsubscribe()
      reject(new Error(`no such view within ${millis} ms; the last was ${JSON.stringify(last)}`))
    }, millis)
    const unsubscribe = licensing.subscribe(
      (view) => {
        last = view
        if (!test(view)) return
        clearTimeout(timer)
        queueMicrotask(() => unsubscribe())
        resolve(view)
      },
      { transient: true }
    )
  })

describe("watchStore: several processes agree about the licence", () => {
  it("a licence suspended on the server and synced by another process shows as suspended here, with no call of its own", async () => {
    const { id, key } = await emulator.createLicense({ productId })
    const directory = storeDir()
    const watching = open(directory, { watchStore: true })
    const unwatched = open(directory)
    assert.strictEqual((await watching.activate(key)).state, "active")
    assert.strictEqual((await unwatched.check()).state, "active")

    await emulator.updateLicense(id, { suspended: true })
    await emulator.clearLog()
    const synced = await cliInOtherProcess(directory, ["sync", "--json"])
    assert.strictEqual(synced.code, 11, synced.stderr)
    assert.strictEqual(JSON.parse(synced.stdout).state, "suspended")

    const seen = await viewWhere(watching, (view) => view.state === "suspended")
    assert.strictEqual(seen.status.name, "LA_SUSPENDED")
    assert.isFalse(seen.licensed)
    // The only requests the server saw are the other process's sync and the entitlements fetch after it: this
    // client asked nothing.
    const log = await emulator.log()
    assert.deepStrictEqual(
      log.map((entry) => `${entry.method} ${entry.path.replace(/^\/v3\/activations\/[^/]+/, "…")}`),
      ["PATCH …", "GET …/feature-entitlements"]
    )
    // Without the option a client keeps what it loaded.
    assert.strictEqual((await unwatched.view()).state, "active")
  })

  it("another process's failed sync shows here as the same last error, and its next good sync clears it", async () => {
    const { key } = await emulator.createLicense({ productId })
    const directory = storeDir()
    const watching = open(directory, { watchStore: true })
    assert.strictEqual((await watching.activate(key)).state, "active")

    // The other process syncs against a server that is not there (a port nobody listens on).
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const port = (probe.address() as AddressInfo).port
        probe.close(() => resolve(port))
      })
    })
    const failed = await node([cliBin, "sync", "--json"], {
      ...cliEnv(directory),
      LICENSURE_HOST: `http://127.0.0.1:${closed}`
    })
    // `sync --json` that fails prints the error (and the state it leaves) as one document.
    const reported = JSON.parse(failed.stdout) as { error: { operation: string; kind: string; state: string } }
    assert.strictEqual(reported.error.operation, "sync", failed.stderr)

    const seen = await viewWhere(watching, (view) => view.lastError !== undefined)
    assert.strictEqual(seen.lastError?.operation, "sync")
    assert.strictEqual(seen.lastError?.kind, reported.error.kind)
    // Both processes now say the same: grace, until a sync succeeds.
    assert.strictEqual(reported.error.state, "grace")
    assert.strictEqual(seen.state, reported.error.state)

    const recovered = await cliInOtherProcess(directory, ["sync", "--json"])
    assert.strictEqual(recovered.code, 0, recovered.stderr)
    const cleared = await viewWhere(watching, (view) => view.lastError === undefined)
    assert.strictEqual(cleared.state, "active")
  })

  it("a licence activated by another process is taken up by a watching client that had none", async () => {
    const { key } = await emulator.createLicense({ productId })
    const directory = storeDir()
    const watching = open(directory, { watchStore: true })
    assert.strictEqual((await watching.check()).state, "unactivated")
    const activated = await cliInOtherProcess(directory, ["activate", key, "--json"])
    assert.strictEqual(activated.code, 0, activated.stderr)
    const seen = await viewWhere(watching, (view) => view.state === "active")
    assert.strictEqual(seen.license?.key?.slice(-4), key.slice(-4))
    // And a deactivation there is one here: the licence must not stay usable in this process.
    const released = await cliInOtherProcess(directory, ["deactivate"])
    assert.strictEqual(released.code, 0, released.stderr)
    const gone = await viewWhere(watching, (view) => view.state === "unactivated")
    assert.isUndefined(gone.license)
  })

  it("a corrupt record written by another process is a typed error, keeps the last good view, and the good record is written back", async () => {
    const { key } = await emulator.createLicense({ productId })
    const directory = storeDir()
    const watching = open(directory, { watchStore: true })
    const good = await watching.activate(key)
    assert.strictEqual(good.state, "active")
    const file = NodeFileStore.filePath({ productId, directory })

    const wrote = await node(["-e", `require("node:fs").writeFileSync(${JSON.stringify(file)}, "not a licence")`])
    assert.strictEqual(wrote.code, 0, wrote.stderr)
    const seen = await viewWhere(watching, (view) => view.lastError?.operation === "load")
    assert.strictEqual(seen.lastError?.kind, "StoreFailure")
    assert.match(seen.lastError!.message, /moved aside/)
    assert.strictEqual(seen.state, "active")
    assert.isTrue(seen.licensed)
    assert.deepStrictEqual(seen.license, good.license)

    // The good record is back in place: a fresh process-like client loads it offline.
    await watching.reload()
    assert.notStrictEqual(readFileSync(file, "utf8"), "not a licence")
    const fresh = open(directory)
    assert.strictEqual((await fresh.check()).state, "active")

    // Asked directly (the watching client closed, so no watch gets there first), a reload of an
    // unusable record rejects with the typed error and changes nothing held.
    // Its own first write (the clock mark of that check) lands before the other process's damage.
    await fresh.reload()
    opened.splice(opened.indexOf(watching), 1)
    await watching.close()
    writeFileSync(file, "garbage again")
    const refused = await fresh.reload().then(
      () => undefined,
      (error: unknown) => error as { _tag: string; operation: string; kind: string; message: string }
    )
    assert.strictEqual(refused?._tag, "LicensingError")
    assert.strictEqual(refused?.operation, "load")
    assert.strictEqual(refused?.kind, "StoreFailure")
    assert.strictEqual((await fresh.view()).state, "active")
    assert.strictEqual((await fresh.view()).lastError?.kind, "StoreFailure")
  })

  it("its own writes are no news: a reload after its own sync changes nothing, writes nothing and asks the server nothing", async () => {
    const { key } = await emulator.createLicense({ productId })
    const directory = storeDir()
    const watching = open(directory, { watchStore: true })
    await watching.activate(key)
    const synced = await watching.sync()
    await emulator.clearLog()
    const file = NodeFileStore.filePath({ productId, directory })
    const before = readFileSync(file)
    const again = await watching.reload()
    // Not even written again (every save is encrypted afresh, so a rewrite would change the bytes).
    assert.isTrue(readFileSync(file).equals(before))
    assert.strictEqual(again.state, "active")
    assert.deepStrictEqual(again.license, synced.license)
    assert.isUndefined(again.lastError)
    assert.deepStrictEqual(await emulator.log(), [])
  })
})
