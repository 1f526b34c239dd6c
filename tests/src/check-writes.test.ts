/**
 * `check()` is cheap on a loaded client: an evaluation that changed nothing but the clock high-water mark
 * (`lastSeenAt`) does not write the record again until the mark has moved a minute (`LastSeenPersistMillis`);
 * anything else it changed (a new token after a sync, a state that clears the record) is written at once. The
 * store here counts the writes it is given and keeps the record in memory; the client is the real `Licensing`
 * over the emulator in process, on one TestClock (`makeSim` with this store).
 */
import { assert, describe, it } from "@effect/vitest"
import { Fingerprint, LicenseStore, Licensing, type StoredRecord } from "@licensure/core"
import { LastSeenPersistMillis, unchangedButSeen } from "@licensure/core/RecordWriter"
import { emulatorLayer, identity, makeSim, type Sim, Start } from "@licensure/testing"
import { Context, Effect, Layer, Option } from "effect"
import { TestClock } from "effect/testing"

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

/** A second client over the same store, started and checked in a scope of its own: an application's start-up. */
const startUp = (sim: Sim, store: Layer.Layer<LicenseStore>) =>
  Effect.gen(function* () {
    const client = Licensing.layer({ productId: sim.productId, publicKeyPem: sim.publicKeyPem }).pipe(
      Layer.provideMerge(Layer.mergeAll(emulatorLayer(sim.emulator), store, Fingerprint.layerStatic(identity())))
    )
    const licensing = Context.get(yield* Layer.build(client), Licensing)
    const view = yield* licensing.check
    yield* licensing.flush
    return view
  }).pipe(Effect.scoped, Effect.orDie)

describe("check() and the store", () => {
  it.effect("a start-up over a stored record does not write it back until its mark is a minute old", () =>
    Effect.gen(function* () {
      const store = countingStore()
      const sim = yield* makeSim({ serverSyncInterval: 3600 }, {}, identity(), { store: store.layer })
      assert.isTrue((yield* sim.licensing.activate(sim.license.key)).licensed)
      yield* sim.licensing.flush
      const afterActivate = store.saves.length
      const stored = store.stored()

      // Started 30 s later: the record it read is what it would write, but for a mark moved less than a minute.
      yield* TestClock.adjust("30 seconds")
      assert.isTrue((yield* startUp(sim, store.layer)).licensed)
      assert.strictEqual(store.saves.length, afterActivate)
      assert.deepStrictEqual(store.stored(), stored)

      // Started two minutes on: the moved mark is written, once.
      yield* TestClock.adjust("90 seconds")
      assert.isTrue((yield* startUp(sim, store.layer)).licensed)
      assert.strictEqual(store.saves.length, afterActivate + 1)
      assert.strictEqual(store.saves.at(-1)?.lastSeenAt, Start + 120_000)
      assert.strictEqual(store.saves.at(-1)?.token, Option.getOrThrow(stored).token)
    }).pipe(Effect.scoped)
  )

  it.effect("writes the record once per minute of lastSeenAt, and at once when anything else changes", () =>
    Effect.gen(function* () {
      const store = countingStore()
      const sim = yield* makeSim({ serverSyncInterval: 3600 }, {}, identity(), { store: store.layer })
      const { licensing, license } = sim
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
