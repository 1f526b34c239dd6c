/**
 * Two app processes on one licence file, without a store watch (the default): a client's write never replaces a
 * record another process wrote or cleared after this client last read or wrote it (DESIGN.md, "nothing already
 * stored is lost"). The stale client's routine write (its clock mark, persisted once a minute) is not made; it is
 * reported (the view's `storeError`) and the client takes up the record the other process wrote instead.
 *
 * Each scenario runs twice: with two clients in this process over two `NodeFileStore`s on one directory (the
 * in-process emulator, one TestClock), and with the other process real (the `licensure` CLI in a spawned `node`,
 * over HTTP on 127.0.0.1) while this process's client moves on the TestClock.
 */
import { spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Fingerprint, type LicenseView, Licensing } from "@licensure/core"
import { LicenseStore } from "@licensure/core/LicenseStore"
import { startEmulator } from "@licensure/emulator"
import * as NodeFileStore from "@licensure/node-runtime/NodeFileStore"
import * as NodeLicensing from "@licensure/node-runtime/NodeLicensing"
import { emulatorLayer, identity, makeSim, type Sim } from "@licensure/testing"
import { Context, Effect, Layer, Option, Stream } from "effect"
import { TestClock } from "effect/testing"

const cliBin = fileURLToPath(new URL("../../packages/cli/src/bin/licensure.ts", import.meta.url))
const hooks = fileURLToPath(new URL("../../scripts/workspace-sources.mjs", import.meta.url))

let work: string
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "licensure-stale-write-"))
  mkdirSync(join(work, "machine", "etc"), { recursive: true })
  writeFileSync(join(work, "machine", "etc", "machine-id"), "8e1d2c3b4a5f46e7a8b9c0d1e2f3a4b5\n")
})
afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

const storeDir = () => mkdtempSync(join(work, "store-"))

/** A client of the simulation's product on its own `NodeFileStore` over `directory`: one app process. */
const fileClient = (sim: Sim, directory: string) =>
  Effect.gen(function* () {
    const store = NodeFileStore.layer({ productId: sim.productId, fingerprint: identity().fingerprint, directory })
    const context = yield* Layer.build(
      Licensing.layer({ productId: sim.productId, publicKeyPem: sim.publicKeyPem }).pipe(
        Layer.provideMerge(Layer.mergeAll(emulatorLayer(sim.emulator), store, Fingerprint.layerStatic(identity())))
      )
    ).pipe(Effect.orDie)
    return Context.get(context, Licensing)
  })

/** What the licence file holds, read by a store of its own (a fresh process's read). */
const storedKey = (sim: Sim, directory: string) =>
  Effect.map(
    NodeFileStore.make({ productId: sim.productId, fingerprint: identity().fingerprint, directory }).load,
    Option.map((record) => record.key)
  ).pipe(Effect.orDie)

/** Every `storeError` the client's published views carry, from now on. */
const storeErrorsOf = (licensing: Licensing["Service"]) =>
  Effect.gen(function* () {
    const seen: Array<string> = []
    yield* Effect.forkScoped(
      Stream.runForEach(licensing.changes, (view: LicenseView) =>
        Effect.sync(() => {
          if (view.storeError !== undefined) seen.push(view.storeError)
        })
      )
    )
    return seen
  })

describe("two clients in one process over one licence file", () => {
  it.effect("a stale client's clock-mark write does not put back the key another client replaced", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 })
      const other = yield* Effect.promise(() =>
        sim.emulator.createLicense({ productId: sim.productId, serverSyncInterval: 3600 })
      )
      const directory = storeDir()
      const a = yield* fileClient(sim, directory)
      assert.isTrue((yield* a.activate(sim.license.key)).licensed)
      const b = yield* fileClient(sim, directory)
      assert.strictEqual((yield* b.check).license?.key, sim.license.key)
      const errors = yield* storeErrorsOf(b)

      yield* a.deactivate
      assert.isTrue((yield* a.activate(other.key)).licensed)
      assert.deepStrictEqual(yield* storedKey(sim, directory), Option.some(other.key))

      yield* TestClock.adjust("5 minutes")
      yield* b.check
      yield* b.flush
      assert.deepStrictEqual(
        yield* storedKey(sim, directory),
        Option.some(other.key),
        "the stale client wrote its old record over the other's"
      )
      const view = yield* b.idle
      assert.strictEqual(view.license?.key, other.key, "the stale client took up the record the other wrote")
      assert.isTrue(view.licensed)
      assert.isTrue(view.persisted, "the record it took up is written once taken up")
      yield* Effect.yieldNow
      assert.isTrue(
        errors.some((error) => /another process wrote an activation record/.test(error)),
        `the write not made was not reported: ${JSON.stringify(errors)}`
      )
      assert.deepStrictEqual(yield* storedKey(sim, directory), Option.some(other.key))
    }).pipe(Effect.scoped)
  )

  it.effect("a stale client's clock-mark write does not bring back an activation another client deactivated", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 })
      const directory = storeDir()
      const a = yield* fileClient(sim, directory)
      assert.isTrue((yield* a.activate(sim.license.key)).licensed)
      const b = yield* fileClient(sim, directory)
      assert.isTrue((yield* b.check).licensed)

      yield* a.deactivate
      assert.deepStrictEqual(yield* storedKey(sim, directory), Option.none())

      yield* TestClock.adjust("5 minutes")
      yield* b.check
      yield* b.flush
      assert.deepStrictEqual(
        yield* storedKey(sim, directory),
        Option.none(),
        "the stale client wrote back the activation the other deactivated"
      )
      const view = yield* b.idle
      assert.isFalse(view.licensed, "the stale client took up the deactivation")
      assert.strictEqual(view.state, "unactivated")
      // A process started now finds no licence, as the server has no activation.
      const fresh = yield* fileClient(sim, directory)
      assert.isFalse((yield* fresh.check).licensed)
    }).pipe(Effect.scoped)
  )
})

/** Runs the `licensure` CLI in another process on `directory` and this machine's identity; its exit code and output. */
const cli = (env: Record<string, string>, args: ReadonlyArray<string>) =>
  Effect.promise(
    () =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [cliBin, ...args], {
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
  )

/**
 * An emulator on 127.0.0.1, a product with two licences, a store directory, and this process's client on it (the
 * Node layer, as an app has it, on the TestClock set to the wall clock the other process lives on).
 */
const twoProcesses = Effect.gen(function* () {
  yield* TestClock.setTime(Date.now())
  const emulator = yield* Effect.acquireRelease(
    Effect.promise(() => startEmulator()),
    (served) => Effect.promise(() => served.close())
  )
  const { productId, publicKeyPem } = yield* Effect.promise(() => emulator.createProduct())
  const first = yield* Effect.promise(() => emulator.createLicense({ productId, serverSyncInterval: 3600 }))
  const second = yield* Effect.promise(() => emulator.createLicense({ productId, serverSyncInterval: 3600 }))
  const directory = storeDir()
  writeFileSync(join(work, "public-key.pem"), publicKeyPem)
  const env = {
    LICENSURE_PRODUCT_ID: productId,
    LICENSURE_PUBLIC_KEY: join(work, "public-key.pem"),
    LICENSURE_HOST: emulator.url,
    LICENSURE_DIR: directory,
    LICENSURE_FINGERPRINT_ROOT: join(work, "machine")
  }
  const start = Effect.gen(function* () {
    const context = yield* Layer.build(
      NodeLicensing.layer({
        productId,
        publicKeyPem,
        host: emulator.url,
        directory,
        fingerprint: { root: join(work, "machine") },
        http: { proxy: "none" }
      })
    ).pipe(Effect.orDie)
    return { licensing: Context.get(context, Licensing), store: Context.get(context, LicenseStore) }
  })
  return { first, second, env, start }
})

const keyOf = (store: LicenseStore["Service"]) =>
  Effect.map(
    store.load,
    Option.map((record) => record.key)
  ).pipe(Effect.orDie)

describe("a client and another process (the licensure CLI) over one licence file", () => {
  it.effect(
    "the client's clock-mark write does not put back the key the other process replaced",
    () =>
      Effect.gen(function* () {
        const { first, second, env, start } = yield* twoProcesses
        const activated = yield* cli(env, ["activate", first.key, "--json"])
        assert.strictEqual(activated.code, 0, activated.stderr)
        const b = yield* start
        assert.strictEqual((yield* b.licensing.check).license?.key, first.key)

        const released = yield* cli(env, ["deactivate"])
        assert.strictEqual(released.code, 0, released.stderr)
        const replaced = yield* cli(env, ["activate", second.key, "--json"])
        assert.strictEqual(replaced.code, 0, replaced.stderr)
        assert.deepStrictEqual(yield* keyOf(b.store), Option.some(second.key))

        yield* TestClock.adjust("5 minutes")
        yield* b.licensing.check
        yield* b.licensing.flush
        assert.deepStrictEqual(
          yield* keyOf(b.store),
          Option.some(second.key),
          "the client wrote its old record over the other process's"
        )
        const view = yield* b.licensing.idle
        assert.strictEqual(view.license?.key, second.key)
        // A process started now is licensed with the activation the other process made (the CLI masks the key).
        const status = yield* cli(env, ["status", "--json"])
        assert.strictEqual(status.code, 0, status.stderr)
        assert.strictEqual(JSON.parse(status.stdout).license?.activationId, view.license?.activationId)
      }).pipe(Effect.scoped),
    60_000
  )

  it.effect(
    "the client's clock-mark write does not bring back the activation the other process deactivated",
    () =>
      Effect.gen(function* () {
        const { first, env, start } = yield* twoProcesses
        const activated = yield* cli(env, ["activate", first.key, "--json"])
        assert.strictEqual(activated.code, 0, activated.stderr)
        const b = yield* start
        assert.isTrue((yield* b.licensing.check).licensed)

        const released = yield* cli(env, ["deactivate"])
        assert.strictEqual(released.code, 0, released.stderr)
        assert.deepStrictEqual(yield* keyOf(b.store), Option.none())

        yield* TestClock.adjust("5 minutes")
        yield* b.licensing.check
        yield* b.licensing.flush
        assert.deepStrictEqual(
          yield* keyOf(b.store),
          Option.none(),
          "the client wrote back the activation the other process deactivated"
        )
        assert.isFalse((yield* b.licensing.idle).licensed)
        // A process started now is not licensed: the server has no activation either.
        const status = yield* cli(env, ["status", "--json"])
        assert.notStrictEqual(status.code, 0, "a fresh process started licensed")
        assert.isFalse(JSON.parse(status.stdout).licensed, status.stdout)
      }).pipe(Effect.scoped),
    60_000
  )
})
