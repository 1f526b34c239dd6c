/**
 * The Promise face (`createLicensing`) as an application without Effect uses it: methods that resolve with views
 * or reject with a `LicensingError`, `subscribe` listeners (one of which throws), and `close()`. The platform is
 * core's API client over real HTTP to an emulator on 127.0.0.1, a memory store and a fixed machine identity; the
 * clock is the real one, and nothing here depends on time passing.
 *
 * Whether `close()` lets the process end is a question about a process, so it is asked of a child Node process
 * that runs the same steps and then has nothing left to do.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import {
  createLicensing,
  Fingerprint,
  LicenseApi,
  type LicenseCause,
  LicenseStore,
  type LicenseView,
  type PromiseLicensing,
  type StoredRecord
} from "@licensure/core"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { identity } from "@licensure/testing"
import { Effect, Layer, Option } from "effect"
import { FetchHttpClient } from "effect/http"

let emulator: Emulator
let productId: string
let publicKeyPem: string
const open: Array<PromiseLicensing> = []

beforeAll(async () => {
  emulator = await startEmulator()
  ;({ productId, publicKeyPem } = await emulator.createProduct())
})
afterEach(async () => {
  await Promise.all(open.splice(0).map((licensing) => licensing.close()))
})
afterAll(() => emulator?.close())

const platform = () =>
  Layer.mergeAll(
    LicenseApi.layer({ host: emulator.url }).pipe(Layer.provide(FetchHttpClient.layer)),
    LicenseStore.layerMemory,
    Fingerprint.layerStatic(identity())
  )

const client = () => {
  const licensing = createLicensing({ productId, publicKeyPem, layer: platform() })
  open.push(licensing)
  return licensing
}

/** Lets the event loop turn until `condition` holds (listener deliveries are asynchronous), at most 500 turns. */
const until = async (condition: () => boolean, what: string) => {
  for (let turn = 0; turn < 500 && !condition(); turn++) await new Promise<void>((resolve) => setImmediate(resolve))
  assert.isTrue(condition(), what)
}

describe("createLicensing", () => {
  it("subscribe delivers distinct views, skipping working states by default; { transient: true } gives them all", async () => {
    const { key } = await emulator.createLicense({ productId })
    const licensing = client()
    await licensing.view()
    const quiet: Array<LicenseView> = []
    const all: Array<LicenseView> = []
    licensing.subscribe((v) => quiet.push(v))
    licensing.subscribe((v) => all.push(v), { transient: true })
    await licensing.activate(key)
    await licensing.check()
    await licensing.check()
    await until(() => quiet.at(-1)?.state === "active" && all.at(-1)?.state === "active", "both saw active")
    assert.includeMembers(
      all.map((v) => v.state),
      ["activating"],
      "every view includes the working state"
    )
    assert.notInclude(
      quiet.map((v) => v.state),
      "activating",
      "the default skips the working state"
    )
    for (const views of [quiet, all]) {
      for (let i = 1; i < views.length; i++) {
        assert.notDeepEqual(views[i], views[i - 1], "two equal views in a row")
      }
    }
  })

  it("subscribe says why each view came: the activate command, then the operation's outcome; a failed sync with its failure", async () => {
    const { id, key } = await emulator.createLicense({ productId })
    const licensing = client()
    await licensing.view()
    const moments: Array<{ state: string; cause: LicenseCause | undefined }> = []
    licensing.subscribe((view, cause) => moments.push({ state: view.state, cause }), { transient: true })
    await licensing.activate(key)
    await until(() => moments.at(-1)?.state === "active", "the listener saw the activation")
    const activating = moments.find((m) => m.state === "activating")
    assert.deepInclude(activating?.cause, { type: "command", command: "ACTIVATE" })
    assert.isTrue(
      moments.some(
        (m) => m.cause?.type === "operation" && m.cause.operation === "activate" && m.cause.outcome === "ok"
      ),
      JSON.stringify(moments.map((m) => m.cause))
    )
    // The licence is revoked on the server: the next sync fails, and its cause carries the server's code.
    await emulator.updateLicense(id, { revoked: true })
    await licensing.sync().catch(() => undefined)
    await until(
      () =>
        moments.some(
          (m) => m.cause?.type === "operation" && m.cause.operation === "sync" && m.cause.outcome === "failed"
        ),
      "the listener saw the failed sync"
    )
    const failed = moments.find((m) => m.cause?.type === "operation" && m.cause.outcome === "failed")!.cause
    assert.include(JSON.stringify(failed), "REVOKED_LICENSE")
  })

  it("activate resolves with the view; status, view, license and check answer from it", async () => {
    const { id, key } = await emulator.createLicense({ productId })
    const licensing = client()
    const view = await licensing.activate(key)
    assert.strictEqual(view.state, "active")
    assert.isTrue(view.licensed)
    assert.strictEqual(view.license?.key, key)
    assert.strictEqual(view.license?.licenseId, id)
    assert.deepStrictEqual(await licensing.status(), { name: "LA_OK", code: 0 })
    assert.strictEqual((await licensing.view()).license?.activationId, view.license?.activationId)
    assert.strictEqual((await licensing.license())?.licenseId, id)
    assert.strictEqual((await licensing.check()).state, "active")
    const onServer = await emulator.getLicense(id)
    assert.strictEqual(onServer.activations.length, 1)
  })

  it("subscribe delivers changes; a listener that throws breaks nothing; unsubscribe stops delivery", async () => {
    const { key } = await emulator.createLicense({ productId })
    const licensing = client()
    let thrown = 0
    const unsubscribeThrower = licensing.subscribe(() => {
      thrown++
      throw new Error("a listener's own bug")
    })
    const seen: Array<LicenseView> = []
    const unsubscribe = licensing.subscribe((view) => seen.push(view), { transient: true })

    await licensing.activate(key)
    await until(() => seen.some((v) => v.state === "active"), "the listener saw the activation")
    assert.isTrue(seen.some((v) => v.state === "activating"))
    assert.isAtLeast(thrown, 2, "the throwing listener kept being called after it threw")

    // The client still works after the listener threw.
    const synced = await licensing.sync()
    assert.strictEqual(synced.state, "active")
    await until(() => seen.some((v) => v.state === "renewDue"), "the listener saw the sync")

    unsubscribeThrower()
    unsubscribe()
    const delivered = seen.length
    const thrownBefore = thrown
    const after = await licensing.deactivate()
    assert.strictEqual(after.state, "unactivated")
    // Give any late delivery its chance before checking that none came.
    for (let turn = 0; turn < 50; turn++) await new Promise<void>((resolve) => setImmediate(resolve))
    assert.strictEqual(seen.length, delivered)
    assert.strictEqual(thrown, thrownBefore)
  })

  it("a failing activation rejects with a LicensingError: an Error with the server's code and LexActivator status", async () => {
    const licensing = client()
    const error: unknown = await licensing.activate("NO-SUCH-KEY").then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(error, Error)
    const e = error as Error & { _tag: string; code?: string; status: { name: string; code: number } }
    assert.strictEqual(e._tag, "LicensingError")
    assert.strictEqual(e.code, "INVALID_LICENSE_KEY")
    assert.deepStrictEqual(e.status, { name: "LA_E_LICENSE_KEY", code: 54 })
    assert.isAbove(e.message.length, 0)
    const status = await licensing.status()
    assert.notStrictEqual(status.code, 0)
    assert.strictEqual((await licensing.view()).state, "unactivated")
  })

  it("sync with no activation rejects with a LicensingError saying so", async () => {
    const licensing = client()
    const error = (await licensing.sync().then(
      () => undefined,
      (e: unknown) => e
    )) as Error & { kind: string }
    assert.instanceOf(error, Error)
    assert.strictEqual(error.kind, "NotActivated")
  })

  it("close() resolves, and a process that closed its client ends by itself", async () => {
    const script = `
      import { createLicensing, Fingerprint, LicenseApi, LicenseStore } from "@licensure/core"
      import { startEmulator } from "@licensure/emulator"
      import { identity } from "@licensure/testing"
      import { Layer } from "effect"
      import { FetchHttpClient } from "effect/http"
      const emulator = await startEmulator()
      const { productId, publicKeyPem } = await emulator.createProduct()
      const { key } = await emulator.createLicense({ productId, serverSyncInterval: 60 })
      const layer = Layer.mergeAll(
        LicenseApi.layer({ host: emulator.url }).pipe(Layer.provide(FetchHttpClient.layer)),
        LicenseStore.layerMemory,
        Fingerprint.layerStatic(identity())
      )
      const licensing = createLicensing({ productId, publicKeyPem, layer })
      const states = []
      licensing.subscribe((view) => states.push(view.state))
      const view = await licensing.activate(key)
      const closed = await licensing.close()
      await emulator.close()
      process.stdout.write(JSON.stringify({ state: view.state, nextSyncAt: view.nextSyncAt, closed: closed ?? null }))
    `
    const cwd = fileURLToPath(new URL("..", import.meta.url))
    const outcome = await new Promise<{ code: number | null; stdout: string; stderr: string; killed: boolean }>(
      (resolve) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd })
        let stdout = ""
        let stderr = ""
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString()
        })
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString()
        })
        // A safety net, not a measurement: a child still running this long after its work is one kept alive.
        let killed = false
        const guard = setTimeout(() => {
          killed = true
          child.kill("SIGKILL")
        }, 30_000)
        child.on("close", (code) => {
          clearTimeout(guard)
          resolve({ code, stdout, stderr, killed })
        })
      }
    )
    assert.isFalse(outcome.killed, `the child process was kept alive after close(); stderr: ${outcome.stderr}`)
    assert.strictEqual(outcome.code, 0, outcome.stderr)
    const result = JSON.parse(outcome.stdout) as { state: string; nextSyncAt: number | null; closed: null }
    assert.strictEqual(result.state, "active")
    // A sync timer was armed (a minute ahead), and close() still let the process end.
    assert.isNumber(result.nextSyncAt)
    assert.isNull(result.closed)
  })
})

describe("subscribe on a machine with a stored activation", () => {
  /** A memory store that outlives its client: what a second run of the app finds. */
  const sharedStore = () => {
    let current: Option.Option<StoredRecord> = Option.none()
    return Layer.succeed(
      LicenseStore,
      LicenseStore.of({
        load: Effect.sync(() => current),
        save: (record) =>
          Effect.sync(() => {
            current = Option.some(record)
          }),
        clear: Effect.sync(() => {
          current = Option.none()
        })
      })
    )
  }
  const onStore = (store: Layer.Layer<LicenseStore>) => {
    const layer = Layer.mergeAll(
      LicenseApi.layer({ host: emulator.url }).pipe(Layer.provide(FetchHttpClient.layer)),
      store,
      Fingerprint.layerStatic(identity())
    )
    const licensing = createLicensing({ productId, publicKeyPem, layer })
    open.push(licensing)
    return licensing
  }

  it("the default delivers the stored licence first, never the start-up `loading`; { transient: true } still does", async () => {
    const { key } = await emulator.createLicense({ productId })
    const store = sharedStore()
    const first = onStore(store)
    await first.activate(key)
    await first.use((l) => l.flush)
    await first.close()

    const second = onStore(store)
    const quiet: Array<LicenseView> = []
    const all: Array<LicenseView> = []
    second.subscribe((v) => quiet.push(v))
    second.subscribe((v) => all.push(v), { transient: true })
    await until(() => quiet.length > 0 && all.at(-1)?.state === "active", "both listeners saw the licence")
    assert.strictEqual(all[0]?.state, "loading", "every transition includes the start-up load")
    assert.deepStrictEqual(
      quiet.map((v) => v.state),
      ["active"],
      "the default shows the licence as it stands, without flashing unlicensed"
    )
    assert.isTrue(quiet[0]?.licensed)
  })
})

describe("closing mid-call", () => {
  it("a call still running when close() is called rejects with a typed Closed error", async () => {
    const { key } = await emulator.createLicense({ productId })
    // Hold the activation request on the server so that close() lands while it is in flight.
    await emulator.addFault({ kind: "delay", delayMs: 2_000, count: 1, match: { method: "POST" } })
    const licensing = createLicensing({ productId, publicKeyPem, layer: platform() })
    const pending = licensing.activate(key)
    await new Promise((resolve) => setTimeout(resolve, 100))
    await licensing.close()
    const error = (await pending.then(
      () => undefined,
      (e: unknown) => e
    )) as { _tag?: string; kind?: string } | undefined
    await emulator.clearFaults()
    assert.strictEqual(error?._tag, "LicensingError")
    assert.strictEqual(error?.kind, "Closed")
  })
})

describe("after close()", () => {
  const closedKind = async (call: () => Promise<unknown>) => {
    const error = await call().then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(error, Error, `rejected with ${String(error)}`)
    assert.strictEqual((error as { _tag?: string })._tag, "LicensingError")
    assert.strictEqual((error as { reason?: { _tag?: string } }).reason?._tag, "Closed")
    assert.strictEqual((error as { kind?: string }).kind, "Closed")
    return error as Error
  }

  it("every command rejects with a LicensingError of reason Closed; view() resolves with the last view", async () => {
    const { key } = await emulator.createLicense({ productId })
    const licensing = createLicensing({ productId, publicKeyPem, layer: platform() })
    const activated = await licensing.activate(key)
    await licensing.close()
    const calls: Record<string, () => Promise<unknown>> = {
      activate: () => licensing.activate(key),
      activateTrial: () => licensing.activateTrial(),
      deactivate: () => licensing.deactivate(),
      sync: () => licensing.sync(),
      check: () => licensing.check(),
      incrementMeter: () => licensing.incrementMeter("uses", 1),
      reload: () => licensing.reload(),
      status: () => licensing.status(),
      license: () => licensing.license(),
      features: () => licensing.features(),
      feature: () => licensing.feature("pro"),
      use: () => licensing.use(() => Effect.void)
    }
    for (const [name, call] of Object.entries(calls)) {
      const error = await closedKind(call)
      assert.include(error.message, "close()", name)
    }
    const last = await licensing.view()
    assert.strictEqual(last.state, "active")
    assert.strictEqual(last.license?.activationId, activated.license?.activationId)
    // Subscribing to a closed client delivers nothing and throws nothing.
    const seen: Array<LicenseView> = []
    licensing.subscribe((v) => seen.push(v))()
    await licensing.close()
    assert.deepStrictEqual(seen, [])
  })

  it("view() of a client closed before it loaded anything rejects with Closed, not a bare string", async () => {
    const licensing = createLicensing({ productId, publicKeyPem, layer: platform() })
    await licensing.close()
    await closedKind(() => licensing.view())
  })
})
