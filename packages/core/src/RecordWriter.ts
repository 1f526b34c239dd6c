/**
 * The licence record's writer: every save and clear goes through one ordered queue (a clear is never overtaken by
 * an older save), a save that changes nothing but the clock mark is skipped, and a failed write is tried three
 * times and then reported (never silent), to be tried again by the next evaluation.
 *
 * @since 0.3.0
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { Activity } from "./Activity.ts"
import type { LicenseStore, StoredRecord } from "./LicenseStore.ts"
import * as RetryPolicy from "./RetryPolicy.ts"

/**
 * How far `lastSeenAt` (the clock high-water mark) may run ahead of the stored one before an evaluation that
 * changed nothing else writes the record again.
 *
 * DECISION: a minute. Every `check()` evaluates, and each evaluation used to write the record (a durable
 * `NodeFileStore` save is about 1.2 ms of fsyncs: bench `store`); `check()` is called per feature use in some
 * apps. The mark only guards against clocks set back by more than the rollback tolerance (3800 s, Validation.ts,
 * from LexActivator), so a stored mark up to a minute old changes no verdict after a restart.
 */
export const LastSeenPersistMillis = 60_000

/** True when `next` differs from `previous` only by a `lastSeenAt` less than {@link LastSeenPersistMillis} later. */
export const unchangedButSeen = (previous: StoredRecord | undefined, next: StoredRecord): boolean =>
  previous !== undefined &&
  previous.kind === next.kind &&
  previous.key === next.key &&
  previous.token === next.token &&
  previous.fingerprint === next.fingerprint &&
  previous.components === next.components &&
  previous.lastSyncedAt === next.lastSyncedAt &&
  JSON.stringify(previous.lastSyncFailure) === JSON.stringify(next.lastSyncFailure) &&
  previous.featureEntitlementsToken === next.featureEntitlementsToken &&
  next.lastSeenAt >= previous.lastSeenAt &&
  next.lastSeenAt - previous.lastSeenAt < LastSeenPersistMillis

export interface RecordWriter {
  /** Queues a save (synchronous, for the machine's actions); skipped when only the clock mark moved a little. */
  readonly save: (record: StoredRecord) => void
  /** Queues the removal of the record, unless the last queued write already was one. */
  readonly clear: () => void
  /** Resolves once every write queued before it has landed (or failed and been reported). */
  readonly flush: Effect.Effect<void>
  /**
   * Says the stored record is no longer the last one queued (another process wrote or damaged it): the next save
   * is written even when it changes nothing but the clock mark.
   */
  readonly forget: () => void
  /**
   * Says the store holds `record` (read by a load): the next save is compared with it, so writing back what was
   * just read, with only the clock mark moved a little, is skipped. Ignored once a write has been queued.
   */
  readonly stored: (record: StoredRecord) => void
}

export interface RecordWriterOptions {
  /** How the last write went: `undefined` once one lands, else what failed. */
  readonly report: (error: string | undefined) => void
  readonly activity: Activity
}

export const make = (
  store: LicenseStore["Service"],
  options: RecordWriterOptions
): Effect.Effect<RecordWriter, never, Scope.Scope> =>
  Effect.gen(function* () {
    const writes = yield* Queue.unbounded<Effect.Effect<void>>()
    const drain = Effect.forever(
      Effect.flatMap(Queue.take(writes), (write) =>
        Effect.ensuring(
          write,
          Effect.sync(() => options.activity.written())
        )
      )
    )
    // The queue's one consumer starts with the first write: a client that only loads and checks (an app's
    // start-up, once the record it read is not written back) never forks it, nor interrupts it when it closes.
    const context = yield* Effect.context<never>()
    let consumer: Fiber.Fiber<never> | undefined
    let closed = false
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closed = true
        return consumer === undefined ? Effect.void : Fiber.interrupt(consumer)
      })
    )
    const enqueue = (write: Effect.Effect<void>) => {
      options.activity.queued()
      Queue.offerUnsafe(writes, write)
      if (consumer === undefined && !closed) consumer = Effect.runForkWith(context)(drain)
    }

    /** The record last handed to the queue, or its clearing; see {@link unchangedButSeen}. */
    let lastQueued: StoredRecord | "cleared" | undefined
    const naps = options.activity.writes.observer
    /**
     * A write is tried three times (0.2 s, 0.4 s apart on Effect's clock); if it still fails, the report says so
     * (the view's `persisted: false`, `storeError`) until a later write lands, a warning is logged, and the next
     * evaluation writes again whatever it changed.
     */
    const attempt =
      (what: string) =>
      <R>(write: Effect.Effect<void, { readonly message: string }, R>) =>
        Effect.andThen(Effect.sync(naps.working), write).pipe(
          Effect.retry({ schedule: RetryPolicy.observed(Schedule.exponential("200 millis"), naps), times: 2 }),
          Effect.matchEffect({
            onSuccess: () => Effect.sync(() => options.report(undefined)),
            onFailure: (error) =>
              Effect.logWarning(`licensure: could not ${what} the licence record: ${error.message}`).pipe(
                Effect.andThen(
                  Effect.sync(() => {
                    lastQueued = undefined
                    options.report(`could not ${what} the licence record: ${error.message}`)
                  })
                )
              )
          })
        )

    const clear = () => {
      if (lastQueued === "cleared") return
      lastQueued = "cleared"
      enqueue(attempt("clear")(store.clear))
    }

    return {
      save: (record) => {
        if (lastQueued !== "cleared" && unchangedButSeen(lastQueued, record)) return
        lastQueued = record
        enqueue(attempt("save")(store.save(record)))
      },
      clear,
      forget: () => {
        lastQueued = undefined
      },
      stored: (record) => {
        // DECISION: a record a load read back is what the store holds, as one this writer queued would be
        // (`unchangedButSeen` rests on the same fact); without this every start-up wrote the record it had just
        // read (a durable save, about 1.2 ms of fsyncs, bench `store`) and a start-up closed at once left the
        // save interrupted. A write already queued is newer than the read and stays the comparison.
        if (lastQueued === undefined) lastQueued = record
      },
      flush: Effect.gen(function* () {
        const done = yield* Deferred.make<void>()
        enqueue(Deferred.succeed(done, undefined).pipe(Effect.asVoid))
        yield* Deferred.await(done)
      })
    }
  })
