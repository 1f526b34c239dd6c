/**
 * The Effect face of the library: a `Licensing` service that runs the lifecycle machine on the current runtime.
 *
 * The parts it is made of each live in a module of their own: the configuration and its check
 * (`LicensingConfig.ts`), the operations over the API, the store and the fingerprint (`LicenseOperations.ts`),
 * the record's ordered write queue (`RecordWriter.ts`), the view (`LicenseView.ts`), the error
 * (`LicensingError.ts`) and the XState-to-Effect bridge (`ActorBridge.ts`), on an XState clock made of Effect
 * fibers (`XStateClock.ts`, so `TestClock` drives every timer). This module wires them and answers commands.
 *
 * Background work never throws into the application: failures become states, `lastError` and `clearedBecause`.
 * The commands (`activate`, `deactivate`, …) fail with a typed {@link LicensingError} when the operation they
 * asked for failed. No command waits on I/O it did not ask for: `check`, `current` and `status` answer at once,
 * also while a sync runs, and `activate`, `deactivate` and `close` cancel a sync in flight.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { fromPromise } from "xstate"
import * as ActorBridge from "./ActorBridge.ts"
import { Activity } from "./Activity.ts"
import type { Fingerprint } from "./Fingerprint.ts"
import { lexStatus, lexStatusOfFailure } from "./LexStatus.ts"
import { type LicenseCause, causeOf } from "./LicenseCause.ts"
import type { LicenseApi } from "./LicenseApi.ts"
import { licenseMachine, nextDeadline } from "./LicenseMachine.ts"
import type {
  ActivateOptions,
  FailureInfo,
  LicenseContext,
  LicenseEvent,
  LoadResult,
  MachineActor,
  MachineSnapshot
} from "./LicenseModel.ts"
import { LicenseOperations, type LicenseOperationsService } from "./LicenseOperations.ts"
import { LicenseStore, RecordVersion, type StoredRecord, type StoredSyncFailure } from "./LicenseStore.ts"
import type { ActivationClaims } from "./Protocol.ts"
import { checkConfig, type LicensingConfig, type LicensingConfigError } from "./LicensingConfig.ts"
import {
  AlreadyLicensed,
  InvalidMeterAmount,
  LicensingError,
  MeterAttributeNotFound,
  NotActivated,
  reasonOf
} from "./LicensingError.ts"
import type { Feature, FeatureLookup } from "./FeatureEntitlements.ts"
import {
  detailsOf,
  featureOf,
  featuresOf,
  isSettled,
  type LicenseDetails,
  type LicenseView,
  stateOf,
  viewOf
} from "./LicenseView.ts"
import * as RecordWriter from "./RecordWriter.ts"
import * as XStateClock from "./XStateClock.ts"

export type { ActivateOptions }
export { LicensingError } from "./LicensingError.ts"

/** Nothing runs in real time: the client is idle (`wakesAt` undefined), or waits on the clock until `wakesAt`. */
export interface Quiet {
  readonly view: LicenseView
  /** When a retry sleeping on the clock wakes (epoch ms); `undefined` when the client is idle. */
  readonly wakesAt: number | undefined
}

/**
 * How long a `check()` may answer from the last evaluation without evaluating again, when nothing changed and no
 * deadline came: the clock mark (`lastSeenAt`) then lags the clock by at most this much.
 *
 * DECISION: ten seconds. An evaluation is about 15 µs (bench `check`) and apps call `check()` per feature use;
 * the verdict cannot change before the next deadline unless the clock goes back (a check then evaluates at once)
 * or the licence is held by a clock check (never answered from the cache). Ten seconds is far inside the
 * rollback tolerance (3800 s) and the record's own write threshold (`LastSeenPersistMillis`, a minute).
 */
export const CheckReuseMillis = 10_000

/**
 * How long the client waits before it reads the store again after a read that timed out (the store did not answer
 * within `LoadTimeoutMillis`) left it without a licence: the first wait, doubled after each read that fails the same
 * way, up to {@link ReadRetryMaxMillis}.
 *
 * DECISION: start at the read's own bound (30 s) and cap at ten minutes. A store that hangs past 30 s is a slow or
 * held disk (a network home directory at log-in, a scanner holding the file), which usually answers within
 * minutes; reading it again costs one local read, so waiting longer than ten minutes would only keep a licensed
 * user locked out longer. Until a read answers, the view is `unactivated` with the `StoreFailure` as `lastError`,
 * and a command (`activate`, …) takes over at once.
 */
export const ReadRetryMillis = 30_000
/** The longest wait between two reads of a store that does not answer (see {@link ReadRetryMillis}). */
export const ReadRetryMaxMillis = 10 * 60_000

/** What one client's actor runs with: found by the actor's system, set before the actor starts. */
interface ClientParts {
  readonly productId: string
  readonly operations: LicenseOperationsService
  /** The start-up's load: the one begun with the client the first time, `operations.load` after it. */
  readonly load: (signal: AbortSignal) => Promise<LoadResult>
  readonly invoked: <A>(effect: Effect.Effect<A>, signal: AbortSignal) => Promise<A>
  readonly writer: RecordWriter.RecordWriter
}

const bindings = new WeakMap<object, ClientParts>()
const partsOf = (system: object): ClientParts => {
  const parts = bindings.get(system)
  if (parts === undefined) throw new Error("licensure: a licence actor ran without its client's parts")
  return parts
}

/**
 * The machine with its actors and actions, provided once for every client: `provide` builds the whole state tree
 * again (about 0.6 ms, a third of a cold start's own work, bench `check`), so each client's parts (operations,
 * record writer) are not closed over here but looked up by the actor system its actor runs in.
 */
const clientMachine = licenseMachine.provide({
  actors: {
    load: fromPromise(({ signal, system }) => partsOf(system).load(signal)),
    activate: fromPromise(({ input, signal, system }) => {
      const { invoked, operations } = partsOf(system)
      return invoked(operations.activate(input.key, input.options), signal)
    }),
    activateTrial: fromPromise(({ signal, system }) => {
      const { invoked, operations } = partsOf(system)
      return invoked(operations.activateTrial, signal)
    }),
    sync: fromPromise(({ input, signal, system }) => {
      const { invoked, operations } = partsOf(system)
      return invoked(operations.sync(input.facts, input.options), signal)
    }),
    reactivate: fromPromise(({ input, signal, system }) => {
      const { invoked, operations } = partsOf(system)
      return invoked(operations.reactivate(input.facts, input.options), signal)
    }),
    deactivate: fromPromise(({ input, signal, system }) => {
      const { invoked, operations } = partsOf(system)
      return invoked(operations.deactivate(input.facts), signal)
    })
  },
  actions: {
    persist: ({ context, system }) => {
      const { productId, writer } = partsOf(system)
      const record = recordOf(productId, context)
      // The activation was dropped: the record goes too.
      if (record === undefined) return writer.clear()
      writer.save(record)
    },
    clearStore: ({ system }) => partsOf(system).writer.clear()
  }
})

/** The record a client's context is stored as, or `undefined` when it holds no activation. */
const recordOf = (productId: string, context: LicenseContext): StoredRecord | undefined => {
  const facts = context.facts
  if (facts === undefined) return undefined
  return {
    version: RecordVersion,
    productId,
    kind: facts.kind,
    ...(facts.key !== undefined ? { key: facts.key } : {}),
    token: facts.token,
    fingerprint: facts.fingerprint,
    components: facts.components,
    lastSeenAt: facts.lastSeenAt,
    lastSyncedAt: facts.lastSyncedAt,
    ...syncFailureOf(context),
    ...(facts.entitlements !== undefined ? { featureEntitlementsToken: facts.entitlements.token } : {})
  }
}

/**
 * The {@link Licensing} service's shape: commands that fail with a typed {@link LicensingError}, offline reads that
 * never fail, and streams of every {@link LicenseView} the client passes through.
 */
export interface LicensingService {
  /**
   * Activates `key` on this machine, verifies the token, stores the record and succeeds with the licensed view.
   * Fails with a {@link LicensingError} whose `reason` says why: `ServerRefused` (a wrong key, the activation limit
   * reached, …), `NetworkFailure`, `RateLimited`, `TokenRejected`, `StoreFailure`, `Closed`.
   * @example const view = yield* licensing.activate("XXXX-XXXX-XXXX", { metadata: [{ key: "seat", value: "1" }] })
   */
  readonly activate: (key: string, options?: ActivateOptions) => Effect.Effect<LicenseView, LicensingError>
  /**
   * Starts (or resumes) this machine's trial and succeeds with its view; fails as `activate` does, and with
   * `AlreadyLicensed` while a licence is activated here (a trial would replace it: deactivate first).
   */
  readonly activateTrial: Effect.Effect<LicenseView, LicensingError>
  /**
   * Frees this machine's seat on the server and clears the record; an activation the server no longer has counts as
   * deactivated. Fails with `NotActivated` when there is nothing to deactivate, or as `activate` does.
   */
  readonly deactivate: Effect.Effect<LicenseView, LicensingError>
  /**
   * Syncs with the server now instead of at the next scheduled time and succeeds with the view after it. A transient
   * failure leaves the licence in grace (and fails the command with its reason); a refusal may clear the activation.
   * Fails with `NotActivated` when there is no activation to sync.
   */
  readonly sync: Effect.Effect<LicenseView, LicensingError>
  /** Re-evaluates offline (no network) and returns the result; answers at once, also while a sync runs. */
  readonly check: Effect.Effect<LicenseView>
  /**
   * Adds to an activation meter attribute and syncs to send it (after a sync already in flight, which does not carry
   * it); succeeds with the view after the sync that carried it. Fails with `NotActivated` without an activation (or
   * on a trial), with `ServerRefused` `METER_ATTRIBUTE_USES_LIMIT_REACHED` (status 73) when the licence's allowance
   * is used up (the uses are dropped; the licence synced all the same), or as `sync` does.
   */
  readonly incrementMeter: (name: string, increment: number) => Effect.Effect<LicenseView, LicensingError>
  /** The view as it is now, without evaluating again; never fails, never waits on I/O. */
  readonly current: Effect.Effect<LicenseView>
  /**
   * The licence's facts (expiry, type, metadata, meters, user, lease; times in epoch milliseconds), or `undefined`
   * with no activation. Offline, never fails.
   */
  readonly license: Effect.Effect<LicenseDetails | undefined>
  /**
   * The feature entitlements in force now, offline (LexActivator's `GetFeatureEntitlements`): fetched after the
   * activation and every sync, kept in the record; an expired feature is left out from its expiry on.
   */
  readonly features: Effect.Effect<ReadonlyArray<Feature>>
  /** One feature by name, now, offline (LexActivator's `GetFeatureEntitlement`): entitled, expired or not found. */
  readonly feature: (name: string) => Effect.Effect<FeatureLookup>
  /** Every distinct view, starting with the current one. */
  readonly changes: Stream.Stream<LicenseView>
  /** The same stream as `changes`, under the name the design uses. */
  readonly state: Stream.Stream<LicenseView>
  /**
   * The views of `changes`, each with the machine event that produced it (a command, a timer, an operation's
   * outcome, another process's change): what an inspector's timeline says happened. The first view's cause is
   * `undefined` when it was there before the stream was asked for.
   */
  readonly moments: Stream.Stream<LicenseMoment>
  /** The current view as a `SubscriptionRef`, for callers that combine it with their own Effect state. */
  readonly ref: SubscriptionRef.SubscriptionRef<LicenseView>
  /** Resolves once every queued store write has landed. */
  readonly flush: Effect.Effect<void>
  /** Resolves once the machine is settled, no operation is in flight and every store write has landed. */
  readonly idle: Effect.Effect<LicenseView>
  /**
   * Resolves once nothing runs in real time: idle, or every running operation and write asleep on the clock in a
   * retry (then `wakesAt` says until when). A simulation moves `TestClock` to `wakesAt` and waits again; it never
   * guesses.
   */
  readonly quiet: Effect.Effect<Quiet>
  /**
   * Resolves once everything running (an operation, a store write) is asleep on the clock in a retry, with the time
   * the first wakes. Never while the client works in real time or is idle: what a driver of virtual time waits for
   * while a command of its own runs.
   */
  readonly asleep: Effect.Effect<number>
  /**
   * Loads the stored record again and re-evaluates: what a platform calls when another process changed the store
   * (`@licensure/node-runtime`'s `watchStore`). Waits for a settled state and this client's own writes first; a
   * record equal to what this client holds (its own write coming back) changes nothing. A record that cannot be
   * loaded or verified fails with a `LicensingError` (operation `load`), is the view's `lastError`, and leaves
   * the licence as it was.
   */
  readonly reload: Effect.Effect<LicenseView, LicensingError>
  /** The running actor, for inspection (chart, inspector). */
  readonly actor: MachineActor
}

/** One published view and why it came: see `LicensingService.moments`. */
export interface LicenseMoment {
  readonly view: LicenseView
  readonly cause: LicenseCause | undefined
}

/** The last sync's failure as the record keeps it, or nothing when the last sync did not fail. */
const syncFailureOf = (
  context: Pick<LicenseContext, "lastError" | "nextSyncAt">
): { readonly lastSyncFailure?: StoredSyncFailure } => {
  const error = context.lastError
  if (error === undefined || error.operation !== "sync") return {}
  return {
    lastSyncFailure: {
      kind: error.kind,
      ...(error.code !== undefined ? { code: error.code } : {}),
      ...(error.status !== undefined ? { status: error.status } : {}),
      message: error.message,
      transient: error.transient,
      ...(error.retryAfterMillis !== undefined ? { retryAfterMillis: error.retryAfterMillis } : {}),
      ...(context.nextSyncAt !== undefined ? { nextSyncAt: context.nextSyncAt } : {})
    }
  }
}

/**
 * The configured release as the evaluation judges it, or `undefined` when the application set no `releaseVersion`.
 *
 * DECISION (LexActivator's `SetReleasePublishedDate` takes epoch seconds; the configuration holds a string "as the
 * Cryptlex release shows it"): `releasePublishedAt` is read as epoch seconds when it is all digits, else as an
 * ISO-8601 date; one that reads as neither is left out, and the maintenance expiry is judged at `now`, as
 * LexActivator does with no published date.
 */
export const runningReleaseOf = (
  config: Pick<LicensingConfig, "releaseVersion" | "releasePublishedAt">
): { readonly version: string; readonly publishedAt?: number } | undefined => {
  if (config.releaseVersion === undefined) return undefined
  const text = config.releasePublishedAt?.trim() ?? ""
  const millis = /^\d+$/.test(text) ? Number(text) * 1000 : text === "" ? Number.NaN : Date.parse(text)
  return Number.isFinite(millis)
    ? { version: config.releaseVersion, publishedAt: millis }
    : { version: config.releaseVersion }
}

/**
 * The Effect face of the library: one licensing client for one product, running the lifecycle machine on the current
 * runtime. It needs a {@link LicenseApi}, a {@link LicenseStore} and a {@link Fingerprint};
 * `@licensure/node-runtime`'s `NodeLicensing.layer` provides all three on Node.
 * @example const view = yield* (yield* Licensing).check
 */
export class Licensing extends Context.Service<Licensing, LicensingService>()("@licensure/core/Licensing") {
  /** Starts a client for one product; closing the layer's scope stops it (timers, I/O in flight). */
  static readonly make = (
    config: LicensingConfig
  ): Effect.Effect<LicensingService, never, LicenseApi | LicenseStore | Fingerprint | Scope.Scope> =>
    Effect.gen(function* () {
      const store = yield* LicenseStore
      const activity = new Activity()
      // How store writes went reaches the machine (and so every view) once the actor exists.
      let reportStore: (error: string | undefined) => void = () => {}
      /** Takes up the record another process wrote when this client's write found it (set once `reload` exists). */
      let takeUp: () => void = () => {}
      const writer = yield* RecordWriter.make(store, {
        report: (error) => reportStore(error),
        activity,
        conflict: () => takeUp()
      })
      const operations = yield* LicenseOperations.make(config, {
        naps: activity.operations.observer,
        stored: writer.stored
      })
      const runPromise = yield* FiberSet.makeRuntimePromise<never, unknown, never>()
      /** An operation as an invoked actor: counted while it runs, interrupted when the machine leaves its state. */
      const invoked = <A>(effect: Effect.Effect<A>, signal: AbortSignal) =>
        runPromise(activity.operation(effect), { signal })

      // DECISION: the stored record is read, and its token's signature check begun, as soon as the operations
      // exist, rather than when the actor enters `loading` once the rest of the client is built: the RSA check runs
      // on WebCrypto's worker threads, so the clock, the actor and the bridge are built while it runs (a start-up's
      // cold validate, bench `check`). It is the same one load the machine asks for, counted as an operation from
      // now, nothing skipped: the machine's `load` takes this run, and its abort (the actor leaving `loading`)
      // interrupts it.
      const startupAbort = new AbortController()
      /** Arms the store's reads again after a start-up read that timed out (set once the parts it needs exist). */
      let rereadAfter: (result: LoadResult) => void = () => {}
      let startupLoad: Promise<LoadResult> | undefined = runPromise(activity.operation(operations.load), {
        signal: startupAbort.signal
      }).then((result) => {
        rereadAfter(result)
        return result
      })
      // The load never fails (its failures are results), so this run rejects only when it is interrupted: the
      // client closed (its scope closed mid-build) before the machine took the run. Nobody waits for it then, and
      // that rejection must not reach the host as an unhandled one; once the machine takes the run, it sees it.
      startupLoad.catch(() => {})
      const load = (signal: AbortSignal): Promise<LoadResult> => {
        const started = startupLoad
        startupLoad = undefined
        if (started === undefined) return invoked(operations.load, signal)
        if (signal.aborted) startupAbort.abort()
        else signal.addEventListener("abort", () => startupAbort.abort(), { once: true })
        return started
      }
      const clock = yield* XStateClock.make
      // Retry jitter draws from Effect's Random, as time comes from its Clock: a seed decides a test's spread.
      const random = yield* Random.Random
      const runFork = yield* FiberSet.makeRuntime<never, unknown, never>()

      // Only distinct views are published: an event that changes nothing a view shows (a repeated CHECK, a store
      // write that went as before) is no change to a subscriber.
      let ref: SubscriptionRef.SubscriptionRef<LicenseView> | undefined
      let published = ""
      // The cause of each published view, keyed by the view itself: the ref hands subscribers the same object.
      const causes = new WeakMap<LicenseView, LicenseCause>()
      /** Whoever waits for `idle` or `quiet` looks again on every snapshot and every change of activity. */
      const watchers = new Set<() => void>()
      const bridge = yield* ActorBridge.make(clientMachine, {
        clock,
        input: {
          productId: config.productId,
          now: clock.now,
          monotonicNow: clock.monotonicNow,
          reactivateOnFingerprintRejected: config.reactivateOnFingerprintRejected,
          licenseKey: config.licenseKey,
          random: () => random.nextDoubleUnsafe(),
          retryJitter: config.retryJitter,
          release: runningReleaseOf(config)
        },
        onSnapshot: (snapshot, event) => {
          const view = viewOf(snapshot)
          const text = JSON.stringify(view)
          if (text !== published && ref !== undefined) {
            published = text
            if (event !== undefined) causes.set(view, causeOf(event as { type: string } & Record<string, unknown>))
            runFork(SubscriptionRef.set(ref, view))
          }
          for (const watcher of [...watchers]) watcher()
        },
        onError: (error) => {
          runFork(Effect.logError("licensure: the licence machine stopped on an error", error))
        }
      })
      const actor = bridge.actor
      bindings.set(actor.system, { productId: config.productId, operations, load, invoked, writer })
      const initial = viewOf(actor.getSnapshot())
      published = JSON.stringify(initial)
      ref = yield* SubscriptionRef.make(initial)
      reportStore = (error) => {
        if (actor.getSnapshot().context.storeError !== error) actor.send({ type: "STORE_RESULT", error })
      }
      const unwatchActivity = activity.subscribe(() => {
        for (const watcher of [...watchers]) watcher()
      })
      yield* Effect.addFinalizer(() => Effect.sync(unwatchActivity))
      bridge.begin()

      const view = (snapshot: MachineSnapshot) => viewOf(snapshot)
      const until = (done: (snapshot: MachineSnapshot) => boolean, send?: () => void) =>
        Effect.map(bridge.until(done, send), view)

      /** Waits until `answer` says something for the current snapshot and activity. */
      const whenActivity = <A>(answer: () => A | undefined) =>
        Effect.callback<A>((resume) => {
          let done = false
          const look = () => {
            if (done) return
            const a = answer()
            if (a === undefined) return
            done = true
            watchers.delete(look)
            resume(Effect.succeed(a))
          }
          watchers.add(look)
          look()
          return Effect.sync(() => {
            watchers.delete(look)
          })
        })

      const idle = whenActivity(() => {
        const snapshot = actor.getSnapshot()
        return isSettled(snapshot) && activity.idle ? viewOf(snapshot) : undefined
      })
      /**
       * When the first thing asleep on the clock wakes: the running work's nap, or, while a sync is in flight, the
       * licence's next deadline (the machine keeps it armed during the sync), whichever comes first; `undefined`
       * while something works in real time.
       */
      const wakesFirst = (snapshot: MachineSnapshot): number | undefined => {
        const napping = activity.wakesAt(clock.now())
        if (napping === undefined) return undefined
        const deadline = snapshot.hasTag("syncing") ? nextDeadline(snapshot.context) : undefined
        return deadline !== undefined && deadline < napping ? deadline : napping
      }
      const quiet = whenActivity((): Quiet | undefined => {
        const snapshot = actor.getSnapshot()
        if (isSettled(snapshot) && activity.idle) return { view: viewOf(snapshot), wakesAt: undefined }
        const wakesAt = wakesFirst(snapshot)
        return wakesAt === undefined ? undefined : { view: viewOf(snapshot), wakesAt }
      })

      const asleep = whenActivity(() => wakesFirst(actor.getSnapshot()))

      /** Waits until the machine settles after `send`, then lands the store writes. */
      const command = (send: () => void) =>
        until(isSettled, send).pipe(
          Effect.tap(() => writer.flush),
          // The writes have landed (or failed): the answer says which.
          Effect.map((answer) => {
            const { storeError } = actor.getSnapshot().context
            return { ...answer, persisted: storeError === undefined, storeError }
          })
        )

      /**
       * Nothing another command started is in flight: the machine is `ready` (settled, or syncing in the
       * background: a background sync never holds a command back, the machine takes every command while it runs).
       */
      const ready = until((snapshot) => snapshot.hasTag("settled") || snapshot.hasTag("syncing"))
      /** The stored record has been read (a local, time-bounded read at start-up). */
      const loaded = until((snapshot) => stateOf(snapshot.value) !== "loading")

      const failIfNew =
        (operation: string, before: FailureInfo | undefined) =>
        (answer: LicenseView): Effect.Effect<LicenseView, LicensingError> => {
          const error = answer.lastError
          if (error === undefined || error === before || (error.operation !== operation && operation !== "any")) {
            return Effect.succeed(answer)
          }
          return Effect.fail(
            new LicensingError({
              operation: error.operation,
              reason: reasonOf(error),
              kind: error.kind,
              ...(error.code !== undefined ? { code: error.code } : {}),
              message: error.message,
              status: lexStatus(lexStatusOfFailure(error)),
              state: answer.state
            })
          )
        }

      const run = (operation: string, event: LicenseEvent) =>
        Effect.gen(function* () {
          yield* ready
          const before = actor.getSnapshot().context.lastError
          const answer = yield* command(() => actor.send(event))
          return yield* failIfNew(operation, before)(answer)
        })

      /** A command refused before anything was sent, for `reason`: the error says the state it was refused in. */
      const refused = (
        operation: string,
        reason: NotActivated | AlreadyLicensed | InvalidMeterAmount | MeterAttributeNotFound
      ) =>
        new LicensingError({
          operation,
          reason,
          kind: reason._tag,
          message: reason.message,
          status: lexStatus(lexStatusOfFailure({ kind: reason._tag })),
          state: stateOf(actor.getSnapshot().value)
        })
      /** The refusal of a command that needs an activation, when there is none (or not the kind it needs). */
      const notActivated = (operation: string, message: string) => refused(operation, new NotActivated({ message }))

      /** A command that needs an activation: refused with `NotActivated` rather than silently ignored. */
      const requireActivation = (operation: "deactivate" | "sync", event: LicenseEvent) =>
        Effect.gen(function* () {
          yield* ready
          if (actor.getSnapshot().context.facts === undefined) {
            return yield* notActivated(operation, `there is no activation on this machine to ${operation}`)
          }
          return yield* run(operation, event)
        })

      /**
       * Starts (or resumes) this machine's trial.
       *
       * DECISION: refused (`AlreadyLicensed`) while a licence is activated here. The client keeps one record per
       * product, so a trial would replace the licence's activation: the user would lose the licence on this
       * machine (an expired trial even leaves it unlicensed) while its seat stays taken on the server.
       * LexActivator keeps trial and licence apart and its `ActivateTrial` leaves the licence as it was; refusing
       * is the nearest this client can come without a second record. Deactivate first to start a trial.
       */
      const activateTrial = Effect.gen(function* () {
        yield* ready
        if (actor.getSnapshot().context.facts?.kind === "activation") {
          const message = "a licence is activated on this machine: a trial would replace it (deactivate it first)"
          return yield* refused("activateTrial", new AlreadyLicensed({ message }))
        }
        return yield* run("activateTrial", { type: "ACTIVATE_TRIAL" })
      })

      /**
       * Adds to a meter and syncs to send it. A sync already in flight carries only what was pending when it
       * began, so this waits for it to end first: the sync this starts is the one that carries the increment, and
       * the answer says how the server took it (a refusal fails with status 73, see `LicenseOperations`).
       */
      const incrementMeter = (name: string, increment: number) =>
        Effect.gen(function* () {
          yield* until(isSettled)
          const facts = actor.getSnapshot().context.facts
          if (facts === undefined) {
            return yield* notActivated("sync", "there is no activation on this machine to add meter uses to")
          }
          if (facts.kind === "trial") {
            return yield* notActivated("sync", "a trial has no meter attributes: they belong to a licence's activation")
          }
          // Refused here, before anything is pending: an amount or a name the server would refuse would otherwise
          // ride along with every later sync.
          const refuse = (reason: InvalidMeterAmount | MeterAttributeNotFound) => refused("sync", reason)
          if (!Number.isSafeInteger(increment) || increment < 0) {
            return yield* refuse(
              new InvalidMeterAmount({ message: `expected a whole number of uses, 0 or more, got ${increment}` })
            )
          }
          const meters = (facts.claims as ActivationClaims).licenseMeterAttributes.map((m) => m.name)
          if (!meters.includes(name)) {
            return yield* refuse(
              new MeterAttributeNotFound({
                name,
                message: `expected one of the licence's meter attributes (${meters.length === 0 ? "it has none" : meters.join(", ")}), got "${name}"`
              })
            )
          }
          yield* operations.addMeter(name, increment)
          return yield* run("sync", { type: "SYNC" })
        })

      /** The last evaluation a `check()` made: reused while nothing changed, no deadline came, the clock went on. */
      let lastCheck: { snapshot: MachineSnapshot; at: number; until: number; view: LicenseView } | undefined
      const evaluateNow = Effect.sync(() => {
        actor.send({ type: "CHECK" })
        const snapshot = actor.getSnapshot()
        const answer = viewOf(snapshot)
        const at = clock.now()
        const status = snapshot.context.status
        const clockHeld = status === "clockBehindServer" || status === "clockRolledBack"
        lastCheck = clockHeld
          ? undefined
          : { snapshot, at, until: Math.min(answer.nextDeadline ?? Infinity, at + CheckReuseMillis), view: answer }
        return answer
      })
      const check = Effect.suspend(() => {
        const last = lastCheck
        if (last !== undefined && last.snapshot === actor.getSnapshot()) {
          const now = clock.now()
          if (now >= last.at && now < last.until) return Effect.succeed(last.view)
        }
        return stateOf(actor.getSnapshot().value) === "loading" ? Effect.andThen(loaded, evaluateNow) : evaluateNow
      })

      /**
       * What another process's write would have to differ in for this client to take it up: the same test the
       * record writer makes before each write (`RecordWriter.sameLicence`). Another process's failed sync (or its
       * recovery) is news too; when its next attempt is planned is not, each process plans its own.
       */
      const heldAlready = (record: StoredRecord, context: LicenseContext) => {
        const held = recordOf(config.productId, context)
        return held !== undefined && RecordWriter.sameLicence(record, held)
      }
      const reloads = Semaphore.makeUnsafe(1)
      const reload = reloads.withPermit(
        Effect.gen(function* () {
          yield* until(isSettled)
          // Our own queued writes land first: what the file holds afterwards is ours unless someone else wrote.
          yield* writer.flush
          const context = actor.getSnapshot().context
          const facts = context.facts
          const loaded = yield* Effect.result(operations.read)
          // What the store holds now is what this client's next write must still find there; after a read that
          // failed (a file moved aside, a store that did not answer) nothing is known, and the write goes ahead.
          writer.seen(loaded._tag === "Success" ? loaded.success : undefined)
          let result: LoadResult
          if (loaded._tag === "Failure") {
            result = { type: "empty", failure: loaded.failure }
          } else if (Option.isNone(loaded.success)) {
            if (facts === undefined) return viewOf(actor.getSnapshot())
            result = { type: "empty" }
          } else {
            // DECISION: only a new token, key, sync time or sync failure is another process's news. A record that differs in
            // `lastSeenAt` alone is a check's clock mark (ours coming back, or another process's), not a change of
            // licence; taking it up would re-evaluate on every write and let two watchers feed each other.
            if (heldAlready(loaded.success.value, context)) return viewOf(actor.getSnapshot())
            result = yield* operations.admit(loaded.success.value)
          }
          // The file is not what this client last wrote: whatever it decides now must be written, not skipped.
          writer.forget()
          const before = actor.getSnapshot().context.lastError
          const answer = yield* command(() => actor.send({ type: "RELOAD", result }))
          return yield* failIfNew("load", before)(answer)
        })
      )

      // A write that found another process's record in the store was not made: the client takes that record up,
      // as a watched store's change would be (counted as an operation, so `idle` waits for it). Its own queue is
      // not waited on here: the conflict is seen inside it, and the reload flushes it first.
      takeUp = () => runFork(activity.operation(Effect.ignore(reload)))

      // A start-up read that timed out left no licence: the store is read again on the clock (see `ReadRetryMillis`)
      // until a read answers or something else (a command, another process's write) moves the licence on. The loop
      // counts as one operation from the moment the timed-out read comes back (before the machine moves on), so
      // `idle` waits for it and `quiet` says when the next read is due.
      const unread = (snapshot: MachineSnapshot) => {
        const { facts, lastError } = snapshot.context
        return (
          facts === undefined &&
          lastError?.operation === "load" &&
          lastError.transient &&
          stateOf(snapshot.value) === "unactivated"
        )
      }
      const rereading = Effect.gen(function* () {
        yield* loaded
        let wait = ReadRetryMillis
        while (unread(actor.getSnapshot())) {
          activity.operations.observer.napping(clock.now() + wait)
          // The wait ends early when something else moved the licence on: nothing is left to read for.
          const due = yield* Effect.raceFirst(
            Effect.as(Effect.sleep(wait), true),
            Effect.as(
              bridge.until((snapshot) => !unread(snapshot)),
              false
            )
          )
          activity.operations.observer.working()
          if (!due) break
          yield* Effect.ignore(reload)
          wait = Math.min(wait * 2, ReadRetryMaxMillis)
        }
      }).pipe(Effect.ensuring(Effect.sync(() => activity.operations.end())))
      rereadAfter = (result) => {
        if (result.type === "empty" && result.failure?.transient === true) {
          activity.operations.start()
          runFork(rereading)
        }
      }

      return {
        reload,
        activate: (key: string, options?: ActivateOptions) =>
          run("activate", { type: "ACTIVATE", key, options: options ?? {} }),
        activateTrial,
        deactivate: requireActivation("deactivate", { type: "DEACTIVATE" }),
        sync: requireActivation("sync", { type: "SYNC" }),
        check,
        incrementMeter,
        current: Effect.sync(() => viewOf(actor.getSnapshot())),
        license: Effect.sync(() => {
          const facts = actor.getSnapshot().context.facts
          return facts === undefined ? undefined : detailsOf(facts)
        }),
        features: Effect.sync(() => featuresOf(actor.getSnapshot().context, clock.now())),
        feature: (name: string) => Effect.sync(() => featureOf(actor.getSnapshot().context, name, clock.now())),
        changes: SubscriptionRef.changes(ref),
        state: SubscriptionRef.changes(ref),
        moments: Stream.map(SubscriptionRef.changes(ref), (view) => ({ view, cause: causes.get(view) })),
        ref,
        flush: writer.flush,
        idle,
        quiet,
        asleep,
        // The running machine seen through core's own types (no xstate in the public declarations).
        actor: {
          getSnapshot: () => actor.getSnapshot(),
          subscribe: (observer) => actor.subscribe(observer as Parameters<typeof actor.subscribe>[0])
        }
      } satisfies LicensingService
    })

  /** Fails with {@link LicensingConfigError} when the configuration is wrong, before anything starts. */
  static readonly layer = (
    config: LicensingConfig
  ): Layer.Layer<Licensing, LicensingConfigError, LicenseApi | LicenseStore | Fingerprint> =>
    Layer.effect(
      Licensing,
      Effect.flatMap(Effect.fromResult(checkConfig(config)), (checked) => Licensing.make(checked))
    )
}
