/**
 * The record's write queue on its own: writes land in order once the first one starts the queue's consumer, a
 * record a load read back is what the store holds (no write-back for a clock mark moved less than a minute), and
 * nothing is written once the writer's scope has closed.
 */
import { assert, describe, it } from "@effect/vitest"
import { Activity } from "@licensure/core/Activity"
import type { LicenseStore, StoredRecord } from "@licensure/core/LicenseStore"
import * as RecordWriter from "@licensure/core/RecordWriter"
import { Effect, Exit, Scope } from "effect"

// One components list, as a record built from loaded facts shares the loaded one (compared by reference).
const components: StoredRecord["components"] = []
const record = (lastSeenAt: number, token = "t"): StoredRecord => ({
  version: 1,
  productId: "p",
  kind: "activation",
  key: "K",
  token,
  fingerprint: "f",
  components,
  lastSeenAt,
  lastSyncedAt: 1
})

const recordingStore = () => {
  const log: Array<string> = []
  const store: LicenseStore["Service"] = {
    load: Effect.die("not used"),
    save: (r) => Effect.sync(() => void log.push(`save ${r.token}@${r.lastSeenAt}`)),
    clear: Effect.sync(() => void log.push("clear"))
  }
  return { log, store }
}

const writerIn = (scope: Scope.Scope, store: LicenseStore["Service"]) =>
  Scope.provide(RecordWriter.make(store, { report: () => {}, activity: new Activity() }), scope)

describe("RecordWriter", () => {
  it.effect("lands every queued write in order, the first one starting the queue", () =>
    Effect.gen(function* () {
      const { log, store } = recordingStore()
      const writer = yield* writerIn(yield* Effect.scope, store)
      writer.save(record(1, "a"))
      writer.clear()
      writer.save(record(2, "b"))
      yield* writer.flush
      assert.deepStrictEqual(log, ["save a@1", "clear", "save b@2"])
    }).pipe(Effect.scoped)
  )

  it.effect("does not write back a record a load read when only its mark moved less than a minute", () =>
    Effect.gen(function* () {
      const { log, store } = recordingStore()
      const writer = yield* writerIn(yield* Effect.scope, store)
      writer.stored(record(1_000))
      writer.save(record(1_000 + RecordWriter.LastSeenPersistMillis - 1))
      yield* writer.flush
      assert.deepStrictEqual(log, [])
      // A mark a minute on is written, as after any evaluation.
      writer.save(record(1_000 + RecordWriter.LastSeenPersistMillis))
      yield* writer.flush
      assert.deepStrictEqual(log, [`save t@${1_000 + RecordWriter.LastSeenPersistMillis}`])
    }).pipe(Effect.scoped)
  )

  it.effect("keeps comparing with a queued write when a load's record comes after it", () =>
    Effect.gen(function* () {
      const { log, store } = recordingStore()
      const writer = yield* writerIn(yield* Effect.scope, store)
      writer.save(record(5, "new"))
      writer.stored(record(1, "old"))
      writer.save(record(6, "new"))
      yield* writer.flush
      assert.deepStrictEqual(log, ["save new@5"])
    }).pipe(Effect.scoped)
  )

  it.effect("writes nothing once its scope has closed", () =>
    Effect.gen(function* () {
      const { log, store } = recordingStore()
      const scope = yield* Scope.make()
      const writer = yield* writerIn(scope, store)
      yield* Scope.close(scope, Exit.void)
      writer.save(record(1, "late"))
      yield* Effect.yieldNow
      yield* Effect.yieldNow
      assert.deepStrictEqual(log, [])
    })
  )
})
