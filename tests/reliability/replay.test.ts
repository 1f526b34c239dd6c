/**
 * The restored-file replay (issue 10): a user keeps a copy of the licence file, lets the licence run on, restores
 * the old copy and sets the clock back to a time the old file still looks good at. The Node file store's second
 * record (the high-water mark, kept in another directory) remembers the later time, so the restore is caught as a
 * rollback; with the mark gone too, the client cannot tell (what a determined local user can still do).
 * Real files in a temp dir, the emulator in process, one TestClock.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Fingerprint, LicenseApi, Licensing, type MachineIdentity } from "@licensure/core"
import { createEmulator } from "@licensure/emulator"
import * as NodeFileStore from "@licensure/node-runtime/NodeFileStore"
import { Clock, Context, Effect, Layer, Scope, Exit } from "effect"
import { FetchHttpClient } from "effect/http"
import { TestClock } from "effect/testing"
import { report, tally } from "./Tally.ts"

const Start = Date.parse("2026-01-01T00:00:00Z")
const DAY = 86_400_000
const work = mkdtempSync(join(tmpdir(), "licensure-replay-"))
afterAll(() => {
  rmSync(work, { recursive: true, force: true })
  console.log(report())
})

const machine: MachineIdentity = {
  fingerprint: "d".repeat(64),
  components: [{ name: "machine-id", strength: "primary", hash: "d".repeat(64) }],
  vmName: undefined,
  container: false,
  os: "linux",
  osVersion: "6.1",
  hostname: "replay",
  userHash: "c".repeat(64),
  sources: ["test"]
}

const settle = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 30)))

const scenario = (withMark: boolean) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(Start)
    const clock = yield* Clock.Clock
    const emulator = createEmulator({ now: () => clock.currentTimeMillisUnsafe() })
    const product = yield* Effect.promise(() => emulator.createProduct())
    const { key } = yield* Effect.promise(() =>
      emulator.createLicense({ productId: product.productId, serverSyncInterval: 0 })
    )
    const directory = join(work, `store-${withMark}`)
    const storeOptions = { productId: product.productId, fingerprint: machine.fingerprint, directory }
    const api = LicenseApi.layer({ host: "http://emulator.invalid" }).pipe(
      Layer.provide(FetchHttpClient.layer),
      Layer.provide(Layer.succeed(FetchHttpClient.Fetch, emulator.fetch as typeof globalThis.fetch))
    )
    const open = Effect.gen(function* () {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        Licensing.layer({ productId: product.productId, publicKeyPem: product.publicKeyPem }).pipe(
          Layer.provide(Layer.mergeAll(api, NodeFileStore.layer(storeOptions), Fingerprint.layerStatic(machine)))
        ),
        scope
      )
      return { licensing: Context.get(context, Licensing), close: Scope.close(scope, Exit.void) }
    })
    const file = NodeFileStore.filePath(storeOptions)
    const first = yield* open
    yield* first.licensing.activate(key)
    yield* first.licensing.flush
    copyFileSync(file, `${file}.kept`)
    // Thirty days of use later, the store (and its mark) have seen day 30.
    yield* TestClock.setTime(Start + 30 * DAY)
    yield* first.licensing.check
    yield* first.licensing.flush
    yield* settle
    yield* first.close
    // The user restores the kept copy and sets the clock back to day 1.
    copyFileSync(`${file}.kept`, file)
    if (!withMark) rmSync(NodeFileStore.markPath(storeOptions)!, { force: true })
    yield* TestClock.setTime(Start + DAY)
    const second = yield* open
    const view = yield* second.licensing.check
    yield* second.close
    return view
  })

describe("reliability: the restored-file replay", () => {
  it.effect("an old licence file restored with the clock set back is caught while the mark survives", () =>
    Effect.gen(function* () {
      const counts = tally("clock (restored-file replay)")
      counts.tried++
      const view = yield* scenario(true)
      if (view.licensed) counts.wronglyAccepted++
      assert.strictEqual(view.state, "clockTampered")
      assert.strictEqual(view.status.name, "LA_E_TIME_MODIFIED")
    })
  )

  it.effect("with the mark removed as well, the old file is all there is: it loads (the limit, stated)", () =>
    Effect.gen(function* () {
      const view = yield* scenario(false)
      assert.strictEqual(view.state, "active")
    })
  )
})
