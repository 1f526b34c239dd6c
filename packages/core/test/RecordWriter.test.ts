/**
 * The record's write queue on its own: writes land in order once the first one starts the queue's consumer, a
 * record a load read back is what the store holds (no write-back for a clock mark moved less than a minute), and
 * nothing is written once the writer's scope has closed.
 */
import { assert, describe, it } from "@effect/vitest"
import { Activity } from "@licensure/core/Activity"
import type { LicenseStore, StoredRecord } from "@licensure/core/LicenseStore"
import * as RecordWriter from "@licensure/core/RecordWriter"
import { Effect, Exit, Option, Scope } from "effect"

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

/** The plain operations over `held`, for a store that adds `update` of its own. */
const LicenseStoreMemory = (held: { current: Option.Option<StoredRecord> }): LicenseStore["Service"] => ({
  load: Effect.sync(() => held.current),
  save: (r) =>
    Effect.sync(() => {
      held.current = Option.some(r)
    }),
  clear: Effect.sync(() => {
    held.current = Option.none()
  })
})

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

  it.effect("does not write over a record another process wrote after the one it read, and says so", () =>
    Effect.gen(function* () {
      const held = { current: Option.some(record(1, "ours")) }
      const store: LicenseStore["Service"] = {
        ...LicenseStoreMemory(held),
        update: (expected, next) =>
          Effect.sync(() => {
            if (!expected(held.current)) return { _tag: "Kept", current: held.current } as const
            held.current = next
            return { _tag: "Written" } as const
          })
      }
      const reports: Array<string | undefined> = []
      const conflicts: Array<Option.Option<StoredRecord>> = []
      const writer = yield* Scope.provide(
        RecordWriter.make(store, {
          report: (error) => reports.push(error),
          activity: new Activity(),
          conflict: (current) => conflicts.push(current)
        }),
        yield* Effect.scope
      )
      writer.stored(record(1, "ours"))
      // Another process replaces the record; only the clock mark of ours moved, a minute on.
      held.current = Option.some(record(2, "theirs"))
      writer.save(record(1 + RecordWriter.LastSeenPersistMillis, "ours"))
      yield* writer.flush
      assert.deepStrictEqual(held.current, Option.some(record(2, "theirs")))
      assert.deepStrictEqual(conflicts, [Option.some(record(2, "theirs"))])
      assert.match(reports.at(-1) ?? "", /did not save the licence record: another process wrote an activation record/)
      // Nor is it cleared; once the client has seen the other record, its writes go ahead again.
      writer.clear()
      yield* writer.flush
      assert.deepStrictEqual(held.current, Option.some(record(2, "theirs")))
      writer.seen(held.current)
      writer.save(record(3, "theirs"))
      yield* writer.flush
      assert.deepStrictEqual(held.current, Option.some(record(3, "theirs")))
      assert.isUndefined(reports.at(-1))
      // A record differing in its clock mark alone is the same licence: written over.
      held.current = Option.some(record(50, "theirs"))
      writer.save(record(3 + RecordWriter.LastSeenPersistMillis, "theirs"))
      yield* writer.flush
      assert.deepStrictEqual(held.current, Option.some(record(3 + RecordWriter.LastSeenPersistMillis, "theirs")))
      assert.strictEqual(conflicts.length, 2)
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
