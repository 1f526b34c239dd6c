/**
 * The licence lifecycle's data, apart from the machine: facts, context, events, results, the state names and
 * the shape of a running machine as `Licensing` hands it out. No xstate import here, so a consumer's type-check
 * of `@licensure/core` never loads xstate's declarations; `LicenseMachine.ts` re-exports all of it.
 *
 * @since 0.2.0
 */
import type { FeatureEntitlements, FeatureEntitlementsErrorReason } from "./FeatureEntitlements.ts"
import type { FingerprintComponent } from "./Fingerprint.ts"
import type { LexStatus } from "./LexStatus.ts"
import type { ApiErrorReason } from "./LicenseApi.ts"
import type { StoredSyncFailure } from "./LicenseStore.ts"
import type { ActivationClaims, MetadataEntry, TrialClaims } from "./Protocol.ts"
import type { RunningRelease } from "./ReleaseVersion.ts"
import type { ValidationStatus } from "./Validation.ts"

/** The longest a single timer is armed for; on waking the machine re-evaluates and re-arms. */
export const MaxTimerMillis = 60 * 60 * 1000

/**
 * DECISION: a hosted-floating lease is renewed this long before `leat` (half the lease when the lease is shorter
 * than two minutes). Cryptlex asks for a sync interval at least 30 s below the lease; renewing a minute early
 * keeps a lease alive even when the sync interval is longer than the lease.
 */
export const LeaseRenewMarginMillis = 60 * 1000

/**
 * DECISION: the longest a `Retry-After` can hold back the next sync: one day (a server asking for more is
 * misconfigured or hostile; `Retry-After: 99999999999` must not stop sync for three thousand years). The wait is
 * also never past the next deadline that matters (grace end, expiry, lease end), where a sync can still help.
 */
export const MaxRetryAfterMillis = 24 * 60 * 60 * 1000

/**
 * The default spread of the first retry after a transient sync failure (see `MachineConfig.retryJitter`).
 *
 * DECISION: 1, "full jitter" in AWS's "Exponential Backoff and Jitter" (Marc Brooker, AWS Architecture Blog,
 * 2015): the first retry of a failing spell is uniform over the whole sync interval, and later ones keep that
 * phase (`LicenseMachine.retryLater`). A fleet cut off by an outage at one instant otherwise retries, and after
 * recovery syncs, in the same minute every hour for good; a spread over a part `j` of the interval leaves the
 * fleet's phases in that part, a peak rate 1/j times the even one. Keeping the top of the range at the interval
 * means no client retries later than LexActivator would (reference-client.md: sync goes on at the sync interval
 * after network failures); one early retry per spell is the price. A server's `Retry-After` is a floor jitter
 * only adds to. Successful syncs are not spread: their cadence is the server's (`iat + ssi`), and what an outage
 * bunched comes out of it spread by the first retry.
 */
export const DefaultRetryJitter = 1

/** Per-activation settings; each overrides the configuration's value for this activation and its syncs. */
export interface ActivateOptions {
  readonly metadata?: ReadonlyArray<MetadataEntry> | undefined
  readonly leaseDuration?: number | undefined
  readonly email?: string | undefined
  readonly password?: string | undefined
  readonly releaseVersion?: string | undefined
}

/** The licence facts the machine reasons about, common to activation and trial tokens. */
export interface LicenseFacts {
  readonly kind: "activation" | "trial"
  readonly token: string
  readonly key?: string | undefined
  readonly claims: ActivationClaims | TrialClaims
  /** Epoch ms of the last successful sync (or the activation). */
  readonly lastSyncedAt: number
  /** Epoch ms high-water mark of the clock. */
  readonly lastSeenAt: number
  /**
   * The fingerprint this machine answers to: the current one, or the stored one when the fingerprint service
   * judged the machine the same and only a weak component drifted. The token's `fp` must equal it.
   */
  readonly fingerprint: string
  /** The hashed components of the machine the activation was made on (for drift tolerance on load). */
  readonly components: ReadonlyArray<FingerprintComponent>
  /**
   * The current OS user's hash, as the `Fingerprint` service read it when these facts were made (load,
   * activation, sync): what a user-locked token's `uh` must match. Never stored: each run reads its own user.
   */
  readonly userHash?: string | undefined
  /**
   * The activation's feature entitlements, verified, with the raw token the record keeps: fetched after the
   * activation and after every sync, re-verified on load. `undefined` until a fetch has succeeded (or for a trial).
   */
  readonly entitlements?: { readonly token: string; readonly verified: FeatureEntitlements } | undefined
  /** Why the last fetch (or load) of the entitlements failed; the set before it stays in force. */
  readonly entitlementsFailure?: EntitlementsFailure | undefined
}

/** A fetch or verification of the feature entitlements that failed: reported, never failing the licence. */
export interface EntitlementsFailure {
  readonly kind: FeatureEntitlementsErrorReason["_tag"] | "Timeout" | "InternalError"
  /** The server's code, when it sent one. */
  readonly code?: string | undefined
  readonly message: string
  /** LexActivator's answer for it (`LA_E_FEATURE_ENTITLEMENTS_INVALID`, `LA_E_INET`, …). */
  readonly status: LexStatus
}

/** Why the last operation failed or the record was cleared; `code` is the server's when it sent one. */
export interface FailureInfo {
  readonly operation: "load" | "activate" | "activateTrial" | "sync" | "deactivate" | "reactivate" | "validate"
  readonly kind:
    | ApiErrorReason["_tag"]
    | "TokenRejected"
    | "StoreFailure"
    | "FingerprintFailure"
    | "LeaseLapsed"
    | "ActivationCleared"
    /** A bug or an unexpected exception inside an operation: reported as data, never thrown at the host. */
    | "InternalError"
  readonly code?: string | undefined
  /** The HTTP status of a `ServerFailure` (an answer without a code): 5xx, or an uncoded 4xx. */
  readonly status?: number | undefined
  readonly message: string
  /** True for failures worth retrying (network, rate limit, server). */
  readonly transient: boolean
  readonly retryAfterMillis?: number | undefined
}

/** Result of an invoked operation, always resolved (never rejected) so the machine sees failures as data. */
export type OperationResult =
  | {
      readonly type: "ok"
      readonly facts: LicenseFacts
      readonly at: number
      /** When the operation began: the next sync is counted from here, so slow answers cause no drift. */
      readonly startedAt?: number | undefined
      /**
       * A refusal that did not stop the operation: the server refused the meter increments it carried, and the
       * request went again without them (`LicenseOperations`' `carryingMeters`). It is the view's `lastError`.
       */
      readonly notice?: FailureInfo | undefined
    }
  | { readonly type: "failed"; readonly failure: FailureInfo; readonly at: number }

/**
 * What loading the stored record found: `empty` (nothing stored, or a record that could not be used, with the
 * `failure` that says why) or `loaded` with the verified facts.
 */
export type LoadResult =
  | { readonly type: "empty"; readonly failure?: FailureInfo | undefined }
  | {
      readonly type: "loaded"
      readonly facts: LicenseFacts
      /** The failure of the last sync before this record was stored, when it failed. */
      readonly lastSyncFailure?: StoredSyncFailure | undefined
    }

/**
 * How a deactivation went, as data for the machine: `ok`, or `failed` with the failure and the epoch-millisecond time
 * it was seen.
 */
export type DeactivateResult =
  | { readonly type: "ok" }
  | { readonly type: "failed"; readonly failure: FailureInfo; readonly at: number }

/**
 * The lifecycle machine's input: the product, the clock (`now`, epoch milliseconds), and the policies (re-activation,
 * jitter, the running release). `Licensing` builds it from the configuration; a simulation or a test of the machine
 * builds it directly.
 */
export interface MachineConfig {
  /** The Cryptlex product id the machine licenses. */
  readonly productId: string
  /** Epoch milliseconds on the one clock (Effect's `Clock` in production and tests). */
  readonly now: () => number
  /**
   * Milliseconds on a monotonic clock, when the platform has one: a wall clock set back while the process runs is
   * noticed at the next wake-up, with no command, however far the hourly timer lets the wall clock catch up.
   */
  readonly monotonicNow?: (() => number) | undefined
  /** Answer a rejected fingerprint with deactivate-then-activate (the forum thread's fallback). */
  readonly reactivateOnFingerprintRejected?: boolean | undefined
  /**
   * The licence key the application knows, if any. When the stored record cannot be read (corrupt, foreign,
   * unverifiable), the machine re-activates with it: the server gives the same machine its existing activation
   * back, so the licence recovers without the user's help.
   */
  readonly licenseKey?: string | undefined
  /**
   * A uniform draw in [0, 1), bound by the runtime to Effect's `Random` (so a seed or a fixed service decides it in
   * tests). Without it nothing is spread: a retry comes at the cadence (see `retryJitter`).
   */
  readonly random?: (() => number) | undefined
  /**
   * How far the first retry after a transient sync failure is spread below the cadence, as a fraction `j` from 0
   * to 1: that attempt is uniform in `[cadence × (1 − j), cadence]`, and later ones of the same failing spell
   * keep its phase (see `LicenseMachine.retryAt`). 0 keeps every client on the
   * cadence itself (LexActivator's behaviour); default {@link DefaultRetryJitter}.
   */
  readonly retryJitter?: number | undefined
  /**
   * The release the application runs (configuration `releaseVersion`, `releasePublishedAt`): when set, the
   * evaluation checks that the licence covers it (`ReleaseVersion.check`). An activation's own `releaseVersion`
   * option replaces the version.
   */
  readonly release?: RunningRelease | undefined
}

/**
 * The lifecycle machine's context: the verified facts of the licence, the last evaluation and its verdict, the sync
 * schedule (epoch milliseconds) and the last failure. What a snapshot carries and `LicenseView.viewOf` reads;
 * never written from outside the machine.
 */
export interface LicenseContext {
  /** The input the machine was started with. */
  readonly config: MachineConfig
  /** The verified licence (or trial) in force, `undefined` with no activation. */
  readonly facts: LicenseFacts | undefined
  /** What the last offline evaluation found (`Validation.validate`), `undefined` before the first. */
  readonly status: ValidationStatus | undefined
  /** What the last evaluation decided (see {@link Verdict}). */
  readonly verdict: Verdict
  /** Epoch ms of the next sync attempt, `undefined` when background sync is off. */
  readonly nextSyncAt: number | undefined
  /** The last sync failed for a transient reason (the licence is in its grace period). */
  readonly syncFailing: boolean
  /** Background sync stopped after a refusal that LexActivator does not retry. */
  readonly syncHalted: boolean
  /** The last operation's failure, kept until an operation succeeds. */
  readonly lastError: FailureInfo | undefined
  /** Why the stored activation was cleared, when it was. */
  readonly clearedBecause: FailureInfo | undefined
  /** The key being activated, while an activation runs. */
  readonly pendingKey: string | undefined
  /** The options of the activation being made: they travel on the `ACTIVATE` event, never in a shared variable. */
  readonly pendingOptions: ActivateOptions
  /** The options the current activation was made with; its syncs send them again. */
  readonly activationOptions: ActivateOptions
  /** Why the last write of the licence record failed; `undefined` once a write lands (or none failed). */
  readonly storeError: string | undefined
  /** Wall and monotonic time at the last evaluation: how far the wall clock should have moved since. */
  readonly clockAnchor: { readonly wall: number; readonly mono: number } | undefined
}

/**
 * The events the lifecycle machine takes: the commands (`ACTIVATE`, `ACTIVATE_TRIAL`, `DEACTIVATE`, `SYNC`, `CHECK`),
 * its own `WAKE`, and the runtime's `STORE_RESULT` and `RELOAD`. Applications send commands through `Licensing`, not
 * as raw events.
 */
export type LicenseEvent =
  | { readonly type: "ACTIVATE"; readonly key: string; readonly options?: ActivateOptions | undefined }
  | { readonly type: "ACTIVATE_TRIAL" }
  | { readonly type: "DEACTIVATE" }
  | { readonly type: "SYNC" }
  | { readonly type: "CHECK" }
  /** Raised by the machine itself while a sync is in flight, when a deadline comes: re-evaluate, keep syncing. */
  | { readonly type: "WAKE" }
  /** The runtime reports how the last store write went (a failed save is never silent: the view carries it). */
  | { readonly type: "STORE_RESULT"; readonly error: string | undefined }
  /**
   * Another process changed the stored record: what loading it again found (new facts, no record any more, or why
   * it cannot be used). Sent by `Licensing.reload`; taken in any settled state.
   */
  | { readonly type: "RELOAD"; readonly result: LoadResult }

/**
 * Where an evaluation leaves the licence: the settled state to show, or `renewDue` when a sync is due. The
 * machine's `evaluating` state has one edge per verdict; its guards compare, they do not compute.
 */
export type Verdict =
  | "unactivated"
  | "revoked"
  | "fingerprintMismatch"
  /** The token is locked to another OS user (`ul`/`uh`): LA_E_OS_USER. */
  | "osUserMismatch"
  /** The licence does not cover the configured release (`marv`, `meat`, `mp`): LA_E_RELEASE_VERSION_NOT_ALLOWED. */
  | "releaseNotAllowed"
  | "clockTampered"
  | "renewDue"
  | "trialExpired"
  | "trialActive"
  | "graceOver"
  | "expired"
  | "suspended"
  | "grace"
  | "active"

/** The states in which the machine waits for the world (a timer or a command): the ones tagged `settled`. */
export type SettledState = Exclude<Verdict, "renewDue">

/** Every leaf state of the machine: what `LicenseView.state` names (the chart shows where each sits). */
export type LicenseStateName =
  | SettledState
  | "loading"
  | "activating"
  | "activatingTrial"
  | "renewDue"
  | "reactivating"
  | "deactivating"
  | "evaluating"

/** A snapshot of the running machine, as much of it as callers read (the XState snapshot satisfies it). */
export interface MachineSnapshot {
  readonly value: unknown
  readonly context: LicenseContext
  readonly status: "active" | "done" | "error" | "stopped"
  /** True when the current state carries `tag`: `settled` (waiting for time or a command) or `licensed`. */
  hasTag(tag: string): boolean
}

/** The running machine, for inspection (chart highlight, simulations); commands go through `Licensing`. */
export interface MachineActor {
  /** The machine as it is now: its state value, context and status. */
  getSnapshot(): MachineSnapshot
  /**
   * Calls `observer` with every later snapshot (an `error` observer hears a machine failure); the returned
   * `unsubscribe` stops it.
   * @example const { unsubscribe } = licensing.actor.subscribe((s) => console.log(s.value))
   */
  subscribe(
    observer:
      | ((snapshot: MachineSnapshot) => void)
      | { readonly next?: (snapshot: MachineSnapshot) => void; readonly error?: (error: unknown) => void }
  ): {
    /** Stops calling the observer; calling it again does nothing. */
    unsubscribe(): void
  }
}
