/**
 * The Promise face, for applications that don't use Effect: the same machine and verbs as {@link Licensing},
 * on a `ManagedRuntime` built from the layers the platform provides (Node's come from `@licensure/node-runtime`).
 *
 * Methods resolve with a {@link LicenseView} or reject with a {@link LicensingError}; background work never
 * rejects anything: it shows up as state changes delivered to `subscribe` listeners.
 *
 * @example
 * const licensing = createLicensing({ productId, publicKeyPem, layer })
 * const view = await licensing.activate("XXXXXX-…")
 * licensing.subscribe((view) => console.log(view.state, view.status.name))
 * if ((await licensing.status()).code === 0) startApp()
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Fingerprint } from "./Fingerprint.ts"
import type { LicenseApi } from "./LicenseApi.ts"
import type { LicenseStore } from "./LicenseStore.ts"
import { type LexStatus, lexStatus, lexStatusOfFailure } from "./LexStatus.ts"
import { Closed } from "./LicensingError.ts"
import { type ActivateOptions, Licensing, LicensingError } from "./Licensing.ts"
import { checkConfig, type LicensingConfig } from "./LicensingConfig.ts"
import type { Feature, FeatureLookup } from "./FeatureEntitlements.ts"
import type { LicenseDetails, LicenseView } from "./LicenseView.ts"
import type { LicenseCause } from "./LicenseCause.ts"

export interface PromiseLicensingConfig extends LicensingConfig {
  /** The platform: HTTP (through `LicenseApi`), storage and fingerprint. */
  readonly layer: Layer.Layer<LicenseApi | LicenseStore | Fingerprint>
}

/**
 * One product's licence on this machine, as Promises: what `createLicensing` and `createNodeLicensing` return.
 * Every method that talks to the server rejects with a {@link LicensingError} (its `kind`, the server's `code` and
 * LexActivator's `status`); background syncs never reject anything, they show up in `view()` and `subscribe`.
 * After `close()` every method rejects with kind `Closed`, except `view()` (see there).
 */
export interface PromiseLicensing {
  /**
   * Activates this machine with a licence key (LexActivator's `SetLicenseKey` + `ActivateLicense`) and stores the
   * activation. Resolves with the licence as it then stands; rejects with a {@link LicensingError} when the server
   * refuses (`kind` `ServerRefused`, e.g. code `INVALID_LICENSE_KEY`), cannot be reached, or its token does not
   * verify against the public key.
   */
  readonly activate: (key: string, options?: ActivateOptions) => Promise<LicenseView>
  /**
   * Starts this machine's trial, or resumes the one it has (LexActivator's `ActivateTrial`); rejects as `activate`,
   * and with kind `AlreadyLicensed` while a licence is activated here (a trial would replace it).
   */
  readonly activateTrial: () => Promise<LicenseView>
  /**
   * Releases this machine's activation on the server (freeing the seat) and removes the stored licence. Rejects
   * with a {@link LicensingError} of kind `NotActivated` when there is nothing to release, and as `activate` when
   * the server refuses (e.g. the licence's deactivation limit).
   */
  readonly deactivate: () => Promise<LicenseView>
  /**
   * Checks the licence with the server now (LexActivator's background sync, on demand) and stores what it says.
   * A failure rejects and also stays in the view's `lastError`, so a later `check()` reports it.
   */
  readonly sync: () => Promise<LicenseView>
  /** Offline re-evaluation, no network. */
  readonly check: () => Promise<LicenseView>
  /**
   * Adds `increment` uses (a whole number, 0 or more) to the activation meter attribute `name`; sent with a sync,
   * which this starts (LexActivator's default meter mode), and resolves once a sync carried it. Rejects with
   * `NotActivated` without an activation, with status 73 (`LA_E_METER_ATTRIBUTE_USES_LIMIT_REACHED`) when the
   * allowance is used up (the uses are dropped, the licence syncs on), or as `sync` does.
   */
  readonly incrementMeter: (name: string, increment: number) => Promise<LicenseView>
  /** Loads the stored record again (another process changed it) and re-evaluates; see `Licensing.reload`. */
  readonly reload: () => Promise<LicenseView>
  /** LexActivator's status name and code for the licence now (`LA_OK` 0, `LA_EXPIRED` 20, …). */
  readonly status: () => Promise<LexStatus>
  /**
   * The latest view without re-evaluating it (what `subscribe` last delivered); never rejects while the client
   * runs. After `close()` it resolves with the last view the client had (rejecting with `Closed` only for a client
   * closed before any call or subscription loaded one).
   */
  readonly view: () => Promise<LicenseView>
  /** The stored licence's details (expiry, metadata, meters, user, lease), or `undefined` when not activated. */
  readonly license: () => Promise<LicenseDetails | undefined>
  /** The feature entitlements in force now, offline (`Licensing.features`). */
  readonly features: () => Promise<ReadonlyArray<Feature>>
  /** One feature by name, now, offline (`Licensing.feature`): entitled, expired or not found. */
  readonly feature: (name: string) => Promise<FeatureLookup>
  /**
   * Calls `listener` on every distinct change; returns the unsubscribe function. Listener errors are caught. By
   * default the working states a UI should not flash (the start-up `loading`, `activating`, `evaluating`, a sync in
   * flight…) are skipped unless the licence's status changes in them against the last view delivered (so the first
   * view delivered is a settled one); `{ transient: true }` delivers every view. The listener's second
   * argument says why the view came (`Licensing.moments`: a command, a timer, an operation's outcome with its
   * failure, another process's change); it is `undefined` for the view that was there before subscribing.
   */
  readonly subscribe: (
    listener: (view: LicenseView, cause: LicenseCause | undefined) => void,
    options?: { readonly transient?: boolean | undefined }
  ) => () => void
  /**
   * Runs an Effect program against the running `Licensing` service (for Effect-aware extras such as the Node
   * inspector); its scope lasts until `close()`.
   */
  readonly use: <A, E>(f: (licensing: Licensing["Service"]) => Effect.Effect<A, E, Scope.Scope>) => Promise<A>
  /**
   * Stops timers and I/O in flight; a second call waits for the first. Calls still running reject with a
   * {@link LicensingError} of kind `Closed`, and so does every method called afterwards (except `view()`, which
   * keeps the last view); `subscribe` then delivers nothing.
   */
  readonly close: () => Promise<void>
}

/** A thrown `LicensingError` keeps its fields; it is an `Error` with a readable message. */
export type { LicensingError }

/**
 * @throws {LicensingConfigError} synchronously, when an option is wrong (nothing has started then); everything
 * after that is reported through the returned promises and listeners.
 */
export const createLicensing = (config: PromiseLicensingConfig): PromiseLicensing => {
  const { layer, ...licensingConfig } = config
  const checked = checkConfig(licensingConfig)
  if (Result.isFailure(checked)) throw checked.failure
  const closing: Array<Scope.Closeable> = []
  const runtime = ManagedRuntime.make(Layer.provide(Layer.effect(Licensing, Licensing.make(checked.success)), layer))
  const life: Life = { started: false, closing: undefined, lastView: undefined }
  const run = <A>(f: (l: Licensing["Service"]) => Effect.Effect<A, LicensingError>): Promise<A> => {
    if (life.closing !== undefined) return Promise.reject(closedError(afterClose))
    life.started = true
    return runtime
      .runPromiseExit(
        Effect.gen(function* () {
          return yield* f(yield* Licensing)
        })
      )
      .then(
        (exit) => {
          if (Exit.isSuccess(exit)) return exit.value
          throw toError(exit.cause, life.closing !== undefined)
        },
        (error: unknown) => {
          // The runtime was disposed before the call could start.
          throw closedError(`the licensing client was closed before the call could start (${String(error)})`)
        }
      )
  }
  // DECISION: `view()` is documented never to reject, so after close() it resolves with the last view the client
  // had (read here, before the runtime goes): the client's final word, as LexActivator's getters keep answering
  // from what they last read after their background work stops. Every other method answers "now" (an evaluation,
  // a request) and rejects with `Closed`. A client closed before anything used it never loaded a view; its
  // `view()` rejects with `Closed` too, rather than close() starting a load (and a store read) on the way out.
  const closeRuntime = async () => {
    if (life.started) {
      const last = await runtime.runPromiseExit(Effect.flatMap(Licensing, (l) => l.current))
      if (Exit.isSuccess(last)) life.lastView = last.value
    }
    for (const scope of closing.splice(0)) await runtime.runPromise(Scope.close(scope, Exit.void))
    await runtime.dispose()
  }
  return {
    activate: (key, options) => run((l) => l.activate(key, options)),
    activateTrial: () => run((l) => l.activateTrial),
    deactivate: () => run((l) => l.deactivate),
    sync: () => run((l) => l.sync),
    check: () => run((l) => l.check),
    incrementMeter: (name, increment) => run((l) => l.incrementMeter(name, increment)),
    reload: () => run((l) => l.reload),
    status: () => run((l) => Effect.map(l.check, (v) => v.status)),
    view: () =>
      life.closing === undefined
        ? run((l) => l.current)
        : life.closing.then(
            () => life.lastView ?? Promise.reject(closedError(`${afterClose}; it was closed before it had a view`))
          ),
    license: () => run((l) => l.license),
    features: () => run((l) => l.features),
    feature: (name) => run((l) => l.feature(name)),
    subscribe: (listener, options) => {
      // A closed client has nothing more to deliver.
      if (life.closing !== undefined) return () => {}
      life.started = true
      const controller = new AbortController()
      let last: LicenseView | undefined
      // A working state is delivered only when the licence's standing changes in it against the view last
      // delivered. Before any view was delivered there is nothing to change from: the start-up `loading` (not
      // licensed, LA_FAIL) is skipped too, else an app with a stored licence flashes "unlicensed" on every start.
      const wanted = (view: LicenseView) =>
        options?.transient === true ||
        view.settled ||
        (last !== undefined && (last.licensed !== view.licensed || last.status.code !== view.status.code))
      runtime.runFork(
        Effect.gen(function* () {
          const l = yield* Licensing
          yield* Stream.runForEach(l.moments, ({ view, cause }) =>
            Effect.sync(() => {
              if (!wanted(view)) return
              last = view
              try {
                listener(view, cause)
              } catch {
                // A listener's own failure must not stop the stream nor reach the licensing runtime.
              }
            })
          )
        }),
        { signal: controller.signal }
      )
      return () => controller.abort()
    },
    use: (f) => {
      if (life.closing !== undefined) return Promise.reject(closedError(afterClose))
      life.started = true
      return runtime.runPromise(
        Effect.gen(function* () {
          const scope = yield* Scope.make()
          closing.push(scope)
          return yield* Scope.provide(f(yield* Licensing), scope)
        })
      )
    },
    close: () => {
      life.closing ??= closeRuntime()
      return life.closing
    }
  }
}

/** Where a client is in its life: used yet (its runtime built or building), closed, and its view at close. */
interface Life {
  started: boolean
  closing: Promise<void> | undefined
  lastView: LicenseView | undefined
}

const afterClose = "the licensing client is closed: close() was called, create a new client to go on"

const closedError = (message: string) => {
  return new LicensingError({
    operation: "any",
    reason: new Closed({ message }),
    kind: "Closed",
    message,
    status: lexStatus(lexStatusOfFailure({ kind: "Closed" })),
    state: "closed"
  })
}

/**
 * A typed failure stays as it is; an interruption (the client closed mid-call), or a call that met the runtime
 * disposed under it once close() was called (a defect, "ManagedRuntime disposed"), becomes a `Closed` error.
 */
const toError = (cause: Cause.Cause<LicensingError>, closing: boolean): unknown =>
  Cause.hasInterruptsOnly(cause) || (closing && !Cause.hasFails(cause))
    ? closedError("the licensing client was closed before the call finished (interrupted)")
    : Cause.squash(cause)
