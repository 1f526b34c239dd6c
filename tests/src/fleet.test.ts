/**
 * No global state: many independent clients in one process, each with its own layers, store and identity, on one
 * TestClock and one emulator. A change to one licence reaches exactly one client.
 */
import { assert, describe, it } from "@effect/vitest"
import { Fingerprint, LicenseStore, Licensing } from "@licensure/core"
import { createEmulator } from "@licensure/emulator"
import { emulatorLayer, HOUR, identity, Start, settled } from "@licensure/testing"
import { Clock, Context, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"

const Clients = 20

describe("a fleet in one process", () => {
  it.effect("twenty clients sync independently; suspending one licence changes one client", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Start)
      const clock = yield* Clock.Clock
      const emulator = createEmulator({ now: () => clock.currentTimeMillisUnsafe() })
      const product = yield* Effect.promise(() => emulator.createProduct())
      const fleet = yield* Effect.forEach(
        Array.from({ length: Clients }, (_, i) => i),
        (i) =>
          Effect.gen(function* () {
            const license = yield* Effect.promise(() =>
              emulator.createLicense({ productId: product.productId, serverSyncInterval: 3600 })
            )
            const machine = identity(i.toString(16).padStart(2, "0").repeat(32), `host-${i}`)
            const context = yield* Layer.build(
              Licensing.layer({ productId: product.productId, publicKeyPem: product.publicKeyPem }).pipe(
                Layer.provideMerge(
                  Layer.mergeAll(emulatorLayer(emulator), LicenseStore.layerMemory, Fingerprint.layerStatic(machine))
                )
              )
            )
            const licensing = Context.get(context, Licensing)
            yield* licensing.activate(license.key)
            return { license, licensing }
          })
      )
      const settleAll = Effect.forEach(fleet, (c) => settled(c.licensing))
      for (let hour = 1; hour <= 24; hour++) {
        if (hour === 12) yield* Effect.promise(() => emulator.updateLicense(fleet[7]!.license.id, { suspended: true }))
        yield* TestClock.adjust(HOUR)
        yield* settleAll
      }
      const views = yield* settleAll
      for (const [i, view] of views.entries()) {
        assert.strictEqual(view.state, i === 7 ? "suspended" : "active", `client ${i}`)
      }
      // Each client made its own 24 hourly syncs against its own activation.
      const log = yield* Effect.promise(() => emulator.log())
      const ids = new Set(views.map((v) => v.license!.activationId))
      assert.strictEqual(ids.size, Clients)
      for (const id of ids) {
        const syncs = log.filter((e) => e.method === "PATCH" && e.path.endsWith(id) && e.status === 200).length
        assert.strictEqual(syncs, 24, `activation ${id}`)
      }
    })
  )
})
