/**
 * `check()` is cheap on a loaded client: an evaluation that changed nothing but the clock high-water mark
 * (`lastSeenAt`) does not write the record again until the mark has moved a minute (`LastSeenPersistMillis`);
 * anything else it changed (a new token after a sync, a state that clears the record) is written at once. The
 * store here counts the writes it is given and keeps the record in memory; the client is the real `Licensing`
 * over the emulator in process, on one TestClock (`makeSim` with this store).
 */
import { assert, describe, it } from "@effect/vitest"
import { LicenseStore, type StoredRecord } from "@licensure/core"
import { LastSeenPersistMillis, unchangedButSeen } from "@licensure/core/RecordWriter"
import { identity, makeSim, Start } from "@licensure/testing"
import { Effect, Layer, Option } from "effect"
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

describe("check() and the store", () => {
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
