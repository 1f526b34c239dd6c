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
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { Activity } from "./Activity.ts"
import type { LicenseStore, StoredRecord, StoreError, StoreUpdate } from "./LicenseStore.ts"
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

/**
 * True when two records hold the same licence as far as another process's news goes: the same kind, key, token,
 * last sync, sync failure (not when its next attempt is planned: each process plans its own) and entitlements
 * token. A record that differs in `lastSeenAt` alone (a check's clock mark) holds the same licence.
 */
export const sameLicence = (a: StoredRecord, b: StoredRecord): boolean =>
  a.kind === b.kind &&
  a.key === b.key &&
  a.token === b.token &&
  a.lastSyncedAt === b.lastSyncedAt &&
  a.lastSyncFailure?.kind === b.lastSyncFailure?.kind &&
  a.lastSyncFailure?.code === b.lastSyncFailure?.code &&
  a.lastSyncFailure?.message === b.lastSyncFailure?.message &&
  a.lastSyncFailure?.transient === b.lastSyncFailure?.transient &&
  a.featureEntitlementsToken === b.featureEntitlementsToken

/** {@link sameLicence} for what a store holds: nothing matches only nothing. */
export const sameHolding = (a: Option.Option<StoredRecord>, b: Option.Option<StoredRecord>): boolean =>
  Option.isNone(a) ? Option.isNone(b) : Option.isSome(b) && sameLicence(a.value, b.value)

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
   * Says the store holds `record`, or nothing (read by the start-up's load): the next save is compared with it, so
   * writing back what was just read, with only the clock mark moved a little, is skipped, and every write checks
   * that the store still holds it. Ignored once a write has been queued.
   */
  readonly stored: (record: StoredRecord | undefined) => void
  /**
   * Says a later read (a reload) found `current` in the store: the writes after it check that the store still
   * holds that, not what this writer last wrote. `undefined`: the read failed (an unusable file it moved aside, a
   * store that did not answer), so nothing is known and the next write goes ahead unchecked, as after a failed
   * start-up read: the licence this client holds is put back in place of a file that was no record.
   */
  readonly seen: (current: Option.Option<StoredRecord> | undefined) => void
}

export interface RecordWriterOptions {
  /** How the last write went: `undefined` once one lands, else what failed. */
  readonly report: (error: string | undefined) => void
  readonly activity: Activity
  /**
   * A write was not made because the store holds `current`, which another process wrote (or cleared) after this
   * writer last read or wrote the record: the client should take it up (`Licensing.reload`).
   */
  readonly conflict?: (current: Option.Option<StoredRecord>) => void
}

/** The message a write that was not made reports (the view's `storeError`) until a later write lands. */
export const conflictMessage = (what: "save" | "clear", current: Option.Option<StoredRecord>): string =>
  `did not ${what} the licence record: another process ${Option.isSome(current) ? (current.value.kind === "trial" ? "wrote a trial record" : "wrote an activation record") : "cleared it"} after this client last read or wrote it; this client takes up the stored record instead`

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
      <R>(write: Effect.Effect<string | undefined, { readonly message: string }, R>) =>
        Effect.andThen(Effect.sync(naps.working), write).pipe(
          Effect.retry({ schedule: RetryPolicy.observed(Schedule.exponential("200 millis"), naps), times: 2 }),
          Effect.matchEffect({
            onSuccess: (kept) =>
              kept === undefined
                ? Effect.sync(() => options.report(undefined))
                : Effect.logWarning(`licensure: ${kept}`).pipe(Effect.andThen(Effect.sync(() => options.report(kept)))),
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

    /**
     * What the store held when this writer last read or wrote it; `undefined` while it does not know (no read has
     * answered yet: a command after a failed start-up read), when a write goes ahead unchecked as before. A failed
     * write leaves it: the store keeps the old record then.
     */
    let base: Option.Option<StoredRecord> | undefined
    let queuedAny = false
    /**
     * DECISION ("nothing already stored is lost", DESIGN.md): a write never replaces a record another process
     * wrote or cleared after this writer last read or wrote it. Each write goes through the store's `update`, which
     * compares what the store holds with `base` by {@link sameLicence} (the news `Licensing.reload` takes up, not
     * the clock mark) and writes only when they match, the test and the write one step under the store's lock; on a
     * difference the write is not made, it is reported (a warning, the view's `storeError`), and the client takes
     * up the stored record. A store without `update` (a custom one) is written as before, unchecked: a `load`
     * before each write would leave the race open between the two all the same, and would hold every write behind
     * a read of a store that may not answer for the load's whole bound (30 s, startup-load.test.ts).
     */
    const checked = (what: "save" | "clear", next: Option.Option<StoredRecord>) =>
      Effect.suspend(() => {
        const expected = base
        const update: Effect.Effect<StoreUpdate, StoreError> =
          expected === undefined || store.update === undefined
            ? Effect.as(Option.isSome(next) ? store.save(next.value) : store.clear, { _tag: "Written" } as const)
            : store.update((current) => sameHolding(expected, current), next)
        return Effect.map(update, (outcome): string | undefined => {
          if (outcome._tag === "Written") {
            base = next
            return undefined
          }
          // The next save is written, whatever it changes: what this writer queued last is not what is stored.
          lastQueued = undefined
          options.conflict?.(outcome.current)
          return conflictMessage(what, outcome.current)
        })
      })

    const clear = () => {
      if (lastQueued === "cleared") return
      lastQueued = "cleared"
      queuedAny = true
      enqueue(attempt("clear")(checked("clear", Option.none())))
    }

    return {
      save: (record) => {
        if (lastQueued !== "cleared" && unchangedButSeen(lastQueued, record)) return
        lastQueued = record
        queuedAny = true
        enqueue(attempt("save")(checked("save", Option.some(record))))
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
        if (queuedAny) return
        if (lastQueued === undefined && record !== undefined) lastQueued = record
        base = Option.fromUndefinedOr(record)
      },
      seen: (current) => {
        base = current
      },
      flush: Effect.gen(function* () {
        const done = yield* Deferred.make<void>()
        enqueue(Deferred.succeed(done, undefined).pipe(Effect.asVoid))
        yield* Deferred.await(done)
      })
    }
  })
