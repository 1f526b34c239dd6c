import { assert, describe, it } from "@effect/vitest"
import { Fingerprint, LicenseStore, Licensing, matchComponents } from "@licensure/core"
import { createEmulator } from "@licensure/emulator"
import { emulatorLayer, identity, Start } from "@licensure/testing"
import { Clock, Context, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"

describe("background work never throws into the host", () => {
  it.effect("a defect inside an operation becomes an InternalError, and the machine keeps running", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Start)
      const clock = yield* Clock.Clock
      const emulator = createEmulator({ now: () => clock.currentTimeMillisUnsafe() })
      const product = yield* Effect.promise(() => emulator.createProduct())
      const license = yield* Effect.promise(() =>
        emulator.createLicense({ productId: product.productId, serverSyncInterval: 3600 })
      )
      let calls = 0
      const exploding = Layer.succeed(
        Fingerprint,
        Fingerprint.of({
          current: Effect.suspend(() => {
            calls++
            // The first call (activation) works; the next one throws as a buggy platform layer would.
            if (calls > 1) throw new Error("the fingerprint source blew up")
            return Effect.succeed(identity())
          }),
          match: matchComponents
        })
      )
      const context = yield* Layer.build(
        Licensing.layer({ productId: product.productId, publicKeyPem: product.publicKeyPem }).pipe(
          Layer.provide(Layer.mergeAll(emulatorLayer(emulator), LicenseStore.layerMemory, exploding))
        )
      )
      const licensing = Context.get(context, Licensing)
      const activated = yield* licensing.activate(license.key)
      assert.strictEqual(activated.state, "active")
      const error = yield* Effect.flip(licensing.sync)
      assert.strictEqual(error.kind, "InternalError")
      assert.include(error.message, "the fingerprint source blew up")
      const view = yield* licensing.current
      // The licence is still judged offline; the machine did not stop.
      assert.strictEqual(view.state, "active")
      assert.strictEqual(licensing.actor.getSnapshot().status, "active")
      const checked = yield* licensing.check
      assert.strictEqual(checked.state, "active")
    })
  )
})
