/**
 * `check()` is cheap on a loaded client: an evaluation that changed nothing but the clock high-water mark
 * (`lastSeenAt`) does not write the record again until the mark has moved a minute (`LastSeenPersistMillis`);
 * anything else it changed (a new token after a sync, a state that clears the record) is written at once. The
 * store here counts the writes it is given and keeps the record in memory; the client is the real `Licensing`
 * over the emulator in process, on one TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Fingerprint, LicenseStore, Licensing, type StoredRecord } from "@licensure/core"
import { LastSeenPersistMillis, unchangedButSeen } from "@licensure/core/Licensing"
import { createEmulator, emulatorLayer, identity } from "@licensure/testing"
import { Clock, Context, Effect, Layer, Option } from "effect"
import { TestClock } from "effect/testing"

const Start = Date.parse("2026-01-01T00:00:00Z")

const countingStore = () => {
  const saves: Array<StoredRecord> = []
  let current: Option.Option<StoredRecord> = Option.none()
  const layer = Layer.succeed(
    LicenseStore,
    LicenseStore.of({
      load: Effect.sync(() => current),
      save: (record) =>
        Effect.sync(() => {
          saves.push(record)
          current = Option.some(record)
        }),
      clear: Effect.sync(() => {
        current = Option.none()
      })
    })
  )
  return { saves, layer, stored: () => current }
}

describe("check() and the store", () => {
  it.effect("writes the record once per minute of lastSeenAt, and at once when anything else changes", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Start)
      const clock = yield* Clock.Clock
      const emulator = createEmulator({ now: () => clock.currentTimeMillisUnsafe() })
      const product = yield* Effect.promise(() => emulator.createProduct())
      const license = yield* Effect.promise(() =>
        emulator.createLicense({ productId: product.productId, serverSyncInterval: 3600 })
      )
      const store = countingStore()
      const api = emulatorLayer(emulator)
      const context = yield* Layer.build(
        Licensing.layer({ productId: product.productId, publicKeyPem: product.publicKeyPem }).pipe(
          Layer.provideMerge(Layer.mergeAll(api, store.layer, Fingerprint.layerStatic(identity())))
        )
      )
      const licensing = Context.get(context, Licensing)
      assert.isTrue((yield* licensing.activate(license.key)).licensed)
      yield* licensing.flush
      const afterActivate = store.saves.length
      assert.isAtLeast(afterActivate, 1)
      const token = store.saves.at(-1)?.token

      // A thousand checks within the same minute: the view answers each, the store is not written again.
      for (let i = 0; i < 1000; i++) assert.isTrue((yield* licensing.check).licensed)
      yield* TestClock.adjust("30 seconds")
      for (let i = 0; i < 10; i++) assert.isTrue((yield* licensing.check).licensed)
      yield* licensing.flush
      assert.strictEqual(store.saves.length, afterActivate)

      // A minute on, the next check writes the advanced mark.
      yield* TestClock.adjust("31 seconds")
      yield* licensing.check
      yield* licensing.flush
      assert.strictEqual(store.saves.length, afterActivate + 1)
      assert.strictEqual(store.saves.at(-1)?.lastSeenAt, Start + 61_000)

      // A sync brings a new token: written at once, though the mark moved only a second.
      yield* TestClock.adjust("1 second")
      const before = store.saves.length
      yield* licensing.sync
      yield* licensing.flush
      assert.isAbove(store.saves.length, before)
      assert.notStrictEqual(store.saves.at(-1)?.token, token)
      const stored = store.stored()
      assert.isTrue(Option.isSome(stored) && stored.value.token === store.saves.at(-1)?.token)
      yield* Effect.promise(() => emulator.close())
    }).pipe(Effect.scoped)
  )

  it("unchangedButSeen compares every field but a lastSeenAt less than a minute later", () => {
    const base: StoredRecord = {
      version: 1,
      productId: "p",
      kind: "activation",
      key: "K",
      token: "t",
      fingerprint: "f",
      components: [],
      lastSeenAt: Start,
      lastSyncedAt: Start
    }
    assert.isFalse(unchangedButSeen(undefined, base))
    assert.isTrue(unchangedButSeen(base, { ...base, lastSeenAt: Start + LastSeenPersistMillis - 1 }))
    assert.isFalse(unchangedButSeen(base, { ...base, lastSeenAt: Start + LastSeenPersistMillis }))
    assert.isFalse(unchangedButSeen(base, { ...base, lastSeenAt: Start - 1 }))
    assert.isFalse(unchangedButSeen(base, { ...base, token: "u" }))
    assert.isFalse(unchangedButSeen(base, { ...base, lastSyncedAt: Start + 1 }))
    assert.isFalse(unchangedButSeen(base, { ...base, key: "L" }))
    assert.isFalse(unchangedButSeen(base, { ...base, components: [] }))
  })
})
