/**
 * The licence lifecycle as one XState v5 machine: unactivated → activating → active ⇄ renewDue → grace →
 * graceOver / expired / suspended / revoked, with trials, hosted-floating leases, deactivation, and the two
 * conditions an application must be able to show: `clockTampered` and `fingerprintMismatch`.
 *
 * The machine decides; it does no I/O. Its invoked actors (`load`, `activate`, `activateTrial`, `sync`,
 * `reactivate`, `deactivate`) and its side-effect actions (`persist`, `clearStore`) are placeholders that
 * `Licensing.ts` provides with Effect programs on one runtime. Every state decision after a change of facts goes
 * through `evaluating`, whose entry runs the pure {@link validate} (LexActivator's order) and whose guards pick
 * the next state.
 *
 * Timing: deadlines are absolute (next sync, `ssgpeat`, `eat`, `leat`), taken from the record and the token.
 * Settled states arm one `wake` timer for `min(deadline − now, MaxTimerMillis)` and re-evaluate on waking, so a
 * 45-day expiry (past `setTimeout`'s 24.8-day limit), a clock that jumps, and a laptop that slept all come out
 * right. `now` is a function from the input, bound by the runtime to Effect's `Clock`.
 *
 * Sync policy (protocol §4): after a network, rate-limit or server failure the licence stays usable until
 * `ssgpeat` (`grace`, then `graceOver`) and sync goes on at the sync interval; after expired or suspended
 * answers sync goes on too. A revoked licence, a deleted activation (404) and a rejected fingerprint clear the
 * stored activation and say why; other refusals stop background sync and keep the record.
 *
 * @since 0.1.0
 */
import { assign, cancel, raise, setup } from "xstate"
import { RollbackToleranceSeconds, type ValidationStatus, validate } from "./Validation.ts"

export * from "./LicenseModel.ts"
import {
  type ActivateOptions,
  type DeactivateResult,
  type FailureInfo,
  type LicenseContext,
  type LicenseEvent,
  type LicenseFacts,
  LeaseRenewMarginMillis,
  type LoadResult,
  type MachineConfig,
  MaxRetryAfterMillis,
  MaxTimerMillis,
  type OperationResult
} from "./LicenseModel.ts"

// ---------------------------------------------------------------------------------------------------------------
// Pure helpers (exported for tests and the runtime)
// ---------------------------------------------------------------------------------------------------------------

const secondsDeadline = (epochSeconds: number) => (epochSeconds + 1) * 1000

/** The next sync time after a sync at `at`: `at + ssi`, or earlier to renew a lease. */
export const nextSyncAfter = (facts: LicenseFacts, at: number): number | undefined => {
  const ssi = facts.claims.serverSyncInterval
  const leat = "leaseExpiresAt" in facts.claims ? facts.claims.leaseExpiresAt : 0
  const candidates: Array<number> = []
  if (ssi > 0) candidates.push(at + ssi * 1000)
  if (leat > 0) {
    const ld = "leaseDuration" in facts.claims ? facts.claims.leaseDuration : 0
    const margin = ld > 0 && ld * 1000 < 2 * LeaseRenewMarginMillis ? (ld * 1000) / 2 : LeaseRenewMarginMillis
    candidates.push(leat * 1000 - margin)
  }
  return candidates.length === 0 ? undefined : Math.min(...candidates)
}

/** The earliest absolute time at which something may change for this licence. */
export const nextDeadline = (context: LicenseContext): number | undefined => {
  const facts = context.facts
  if (facts === undefined) return undefined
  const c = facts.claims
  const candidates: Array<number> = []
  if (context.nextSyncAt !== undefined && !context.syncHalted) candidates.push(context.nextSyncAt)
  if (c.serverSyncInterval !== 0 && c.serverSyncGraceExpiresAt !== 0) {
    candidates.push(secondsDeadline(c.serverSyncGraceExpiresAt))
  }
  if (c.expiresAt !== 0) candidates.push(secondsDeadline(c.expiresAt))
  if ("leaseExpiresAt" in c && c.leaseExpiresAt !== 0) candidates.push(secondsDeadline(c.leaseExpiresAt))
  // Only deadlines still ahead can wake the machine: one already passed has been acted on by the evaluation that
  // led here (re-arming a zero-delay timer for it would spin).
  const now = context.config.now()
  const ahead = candidates.filter((t) => t > now)
  return ahead.length === 0 ? undefined : Math.min(...ahead)
}

/** How long the `wake` timer is armed for: the next deadline, capped, never negative. */
export const wakeDelay = (context: LicenseContext): number => {
  const deadline = nextDeadline(context)
  const now = context.config.now()
  if (deadline === undefined) return MaxTimerMillis
  return Math.max(0, Math.min(MaxTimerMillis, deadline - now))
}

/** `at` moved no later than the next licence deadline after `from` (grace end, expiry, lease end). */
const capAtDeadline = (context: LicenseContext, from: number, at: number): number => {
  const c = context.facts?.claims
  if (c === undefined) return at
  const deadlines: Array<number> = []
  if (c.serverSyncInterval !== 0 && c.serverSyncGraceExpiresAt !== 0) {
    deadlines.push(secondsDeadline(c.serverSyncGraceExpiresAt))
  }
  if (c.expiresAt !== 0) deadlines.push(secondsDeadline(c.expiresAt))
  if ("leaseExpiresAt" in c && c.leaseExpiresAt !== 0) deadlines.push(secondsDeadline(c.leaseExpiresAt))
  const ahead = deadlines.filter((t) => t > from)
  return ahead.length === 0 ? at : Math.min(at, ...ahead)
}

const evaluate = (context: LicenseContext): ValidationStatus | undefined => {
  const facts = context.facts
  if (facts === undefined) return undefined
  return validate({
    claims: facts.claims,
    expected: { productId: context.config.productId, key: facts.key, fingerprint: facts.fingerprint },
    now: context.config.now(),
    lastSeenAt: facts.lastSeenAt
  })
}

const syncDue = (context: LicenseContext) =>
  context.facts !== undefined &&
  !context.syncHalted &&
  context.nextSyncAt !== undefined &&
  context.config.now() >= context.nextSyncAt

/** Server codes after which LexActivator 3.34 clears the local activation (reference-client.md row 22). */
export const ClearingCodes: ReadonlySet<string> = new Set([
  "ACTIVATION_NOT_FOUND",
  "INVALID_ACCOUNT_ID",
  "INVALID_PRODUCT_ID",
  "INVALID_LICENSE_KEY",
  "VM_ACTIVATION_NOT_ALLOWED",
  "CONTAINER_ACTIVATION_NOT_ALLOWED",
  "AUTHENTICATION_FAILED",
  "COUNTRY_NOT_ALLOWED",
  "IP_ADDRESS_NOT_ALLOWED",
  "INVALID_LICENSE_TYPE"
])

/** How the machine answers a failed sync. */
export type SyncFailureClass = "transient" | "revoked" | "notFound" | "fingerprint" | "clearing" | "halting"

export const classifySyncFailure = (failure: FailureInfo): SyncFailureClass => {
  if (failure.transient) return "transient"
  if (failure.kind === "NotFound") return "notFound"
  if (failure.code === "REVOKED_LICENSE") return "revoked"
  if (failure.code === "INVALID_ACTIVATION_FINGERPRINT" || failure.kind === "FingerprintFailure") return "fingerprint"
  if (failure.code !== undefined && ClearingCodes.has(failure.code)) return "clearing"
  if (failure.kind === "TokenRejected") return "clearing"
  return "halting"
}

const syncFailureIs =
  (cls: SyncFailureClass) =>
  ({ event }: { event: unknown }) => {
    const output = (event as { output?: OperationResult }).output
    return output?.type === "failed" && classifySyncFailure(output.failure) === cls
  }

const outputOk = ({ event }: { event: unknown }) => (event as { output?: { type: string } }).output?.type === "ok"

const failureOf = (event: unknown): FailureInfo | undefined => {
  const output = (event as { output?: OperationResult | DeactivateResult | LoadResult }).output
  return output !== undefined && "failure" in output ? output.failure : undefined
}

/** The context after the stored activation is dropped, saying why. */
const forgotten = (why: FailureInfo | undefined) => ({
  facts: undefined,
  status: undefined,
  nextSyncAt: undefined,
  syncFailing: false,
  syncHalted: false,
  lastError: why,
  clearedBecause: why
})

const statusIs =
  (...statuses: ReadonlyArray<ValidationStatus>) =>
  ({ context }: { context: LicenseContext }) =>
    context.status !== undefined && statuses.includes(context.status)

const isTrial = ({ context }: { context: LicenseContext }) => context.facts?.kind === "trial"

// ---------------------------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------------------------

const settledCommands = {
  ACTIVATE: { target: "#license.activating", actions: "rememberKey" },
  ACTIVATE_TRIAL: { target: "#license.activatingTrial" },
  DEACTIVATE: { target: "#license.deactivating", guard: "hasFacts" },
  SYNC: { target: "#license.renewDue", guard: "hasFacts" },
  CHECK: { target: "#license.evaluating" }
} as const

export const licenseMachine = setup({
  types: {
    context: {} as LicenseContext,
    events: {} as LicenseEvent,
    input: {} as MachineConfig
  },
  actors: {
    // Placeholders: Licensing.ts provides the real ones with `machine.provide({ actors })`.
    load: undefined as unknown as import("xstate").PromiseActorLogic<LoadResult, MachineConfig>,
    activate: undefined as unknown as import("xstate").PromiseActorLogic<
      OperationResult,
      { key: string; options: ActivateOptions }
    >,
    activateTrial: undefined as unknown as import("xstate").PromiseActorLogic<OperationResult, object>,
    sync: undefined as unknown as import("xstate").PromiseActorLogic<
      OperationResult,
      { facts: LicenseFacts; options: ActivateOptions }
    >,
    reactivate: undefined as unknown as import("xstate").PromiseActorLogic<
      OperationResult,
      { facts: LicenseFacts; options: ActivateOptions }
    >,
    deactivate: undefined as unknown as import("xstate").PromiseActorLogic<DeactivateResult, { facts: LicenseFacts }>
  },
  actions: {
    /** Saves the current facts (with the last-seen time raised to now). Provided by the runtime. */
    persist: () => {},
    /** Removes the stored record. Provided by the runtime. */
    clearStore: () => {},
    useConfiguredKey: assign({ pendingKey: ({ context }) => context.config.licenseKey }),
    rememberKey: assign({
      pendingKey: ({ event }) => (event.type === "ACTIVATE" ? event.key : undefined),
      pendingOptions: ({ event }) => (event.type === "ACTIVATE" ? (event.options ?? {}) : {})
    }),
    adoptOptions: assign({ activationOptions: ({ context }) => context.pendingOptions }),
    armSyncWake: raise({ type: "WAKE" }, { id: "syncWake", delay: ({ context }) => wakeDelay(context) }),
    disarmSyncWake: cancel("syncWake"),
    evaluate: assign(({ context }) => {
      const now = context.config.now()
      const mono = context.config.monotonicNow?.()
      // Where the wall clock should be by the monotonic clock: a wall clock set back since the last evaluation
      // leaves the high-water mark ahead of it, and the rollback check sees the step (issue 10).
      const anchor = context.clockAnchor
      const expected = anchor !== undefined && mono !== undefined ? anchor.wall + Math.max(0, mono - anchor.mono) : now
      const status = evaluate(context)
      const facts =
        context.facts === undefined
          ? undefined
          : { ...context.facts, lastSeenAt: Math.max(context.facts.lastSeenAt, now, expected) }
      const stepped = facts !== undefined && expected - now > RollbackToleranceSeconds * 1000
      return {
        status: stepped ? evaluate({ ...context, facts }) : status,
        facts,
        clockAnchor: mono === undefined ? undefined : { wall: Math.max(now, expected), mono }
      }
    }),
    adoptFacts: assign(({ context, event }) => {
      const output = (event as { output?: OperationResult | LoadResult }).output
      if (output === undefined || !("facts" in output)) return {}
      return {
        facts: output.facts,
        nextSyncAt: nextSyncAfter(
          output.facts,
          "startedAt" in output && output.startedAt !== undefined ? output.startedAt : output.facts.lastSyncedAt
        ),
        syncFailing: false,
        syncHalted: false,
        lastError: undefined,
        clearedBecause: undefined,
        status: context.status,
        // Fresh facts carry the server's signed time: the monotonic projection starts again from them.
        clockAnchor: undefined
      }
    }),
    recordFailure: assign({
      lastError: ({ event, context }) => failureOf(event) ?? context.lastError
    }),
    recordLoadFailure: assign({
      lastError: ({ event }) => failureOf(event),
      clearedBecause: ({ event }) => failureOf(event)
    }),
    scheduleRetry: assign(({ context, event }) => {
      const output = (event as { output?: OperationResult }).output
      const at = output?.at ?? context.config.now()
      const failure = failureOf(event)
      const ssi = context.facts?.claims.serverSyncInterval ?? 0
      // Sync goes on at the sync interval (LexActivator's cadence), or later when the server asked for it.
      // A longer `Retry-After` is honoured up to a day, and never past the next deadline (but never sooner than
      // the sync interval).
      const cadence = Math.max(ssi * 1000, 1000)
      const retryAfter = Math.min(failure?.retryAfterMillis ?? 0, MaxRetryAfterMillis)
      const nextSyncAt =
        retryAfter > cadence ? Math.max(at + cadence, capAtDeadline(context, at, at + retryAfter)) : at + cadence
      return { syncFailing: true, nextSyncAt, lastError: failure }
    }),
    haltSync: assign({ syncHalted: true, lastError: ({ event }) => failureOf(event) }),
    forget: assign(({ event, context }) => forgotten(failureOf(event) ?? context.lastError)),
    forgetLapsedLease: assign(({ context }) => ({
      ...forgotten({
        operation: "validate",
        kind: "LeaseLapsed",
        message: "the hosted-floating lease ended before it was renewed; the activation token was dropped",
        transient: false
      }),
      pendingKey: context.facts?.key
    })),
    /** Deactivated on purpose: nothing went wrong, so no reason is kept. */
    forgetDeactivated: assign(() => forgotten(undefined))
  },
  guards: {
    hasFacts: ({ context }) => context.facts !== undefined,
    loaded: ({ event }) => (event as { output?: LoadResult }).output?.type === "loaded",
    loadFailed: ({ event }) => {
      const output = (event as { output?: LoadResult }).output
      return output?.type === "empty" && output.failure !== undefined
    },
    loadFailedWithKey: ({ event, context }) => {
      const output = (event as { output?: LoadResult }).output
      return output?.type === "empty" && output.failure !== undefined && context.config.licenseKey !== undefined
    },
    ok: outputOk,
    syncTransient: syncFailureIs("transient"),
    syncRevoked: syncFailureIs("revoked"),
    syncNotFound: syncFailureIs("notFound"),
    syncFingerprintReactivate: (args) =>
      syncFailureIs("fingerprint")(args) && args.context.config.reactivateOnFingerprintRejected === true,
    syncFingerprint: syncFailureIs("fingerprint"),
    syncClearing: syncFailureIs("clearing"),
    deactivateGone: ({ event }) => {
      const failure = failureOf(event)
      return failure?.kind === "NotFound" || failure?.code === "INVALID_ACCOUNT_ID"
    },
    noFacts: ({ context }) => context.facts === undefined,
    fingerprintMismatch: statusIs("fingerprintMismatch"),
    wrongIdentity: statusIs("wrongProduct", "wrongKey"),
    clockTampered: statusIs("clockBehindServer", "clockRolledBack"),
    leaseLapsed: statusIs("leaseLapsed"),
    syncDue: ({ context }) => syncDue(context),
    graceOver: statusIs("graceOver"),
    trialExpired: (args) => isTrial(args) && statusIs("expired", "graceOver")(args),
    trialOk: (args) => isTrial(args) && statusIs("ok")(args),
    expired: statusIs("expired"),
    suspended: statusIs("suspended"),
    inGrace: (args) => statusIs("ok")(args) && args.context.syncFailing
  },
  delays: {
    wake: ({ context }) => wakeDelay(context)
  }
}).createMachine({
  id: "license",
  context: ({ input }) => ({
    config: input,
    facts: undefined,
    status: undefined,
    nextSyncAt: undefined,
    syncFailing: false,
    syncHalted: false,
    lastError: undefined,
    clearedBecause: undefined,
    pendingKey: undefined,
    pendingOptions: {},
    activationOptions: {},
    storeError: undefined,
    clockAnchor: undefined
  }),
  initial: "loading",
  on: {
    STORE_RESULT: {
      actions: assign({ storeError: ({ event }) => (event.type === "STORE_RESULT" ? event.error : undefined) })
    }
  },
  states: {
    loading: {
      invoke: {
        id: "load",
        src: "load",
        input: ({ context }) => context.config,
        onDone: [
          { guard: "loaded", target: "evaluating", actions: "adoptFacts" },
          { guard: "loadFailedWithKey", target: "activating", actions: ["recordLoadFailure", "useConfiguredKey"] },
          { guard: "loadFailed", target: "unactivated", actions: "recordLoadFailure" },
          { target: "unactivated" }
        ]
      }
    },
    unactivated: {
      tags: ["settled"],
      on: {
        ACTIVATE: { target: "activating", actions: "rememberKey" },
        ACTIVATE_TRIAL: { target: "activatingTrial" }
      }
    },
    activating: {
      invoke: {
        id: "activate",
        src: "activate",
        input: ({ context }) => ({ key: context.pendingKey ?? "", options: context.pendingOptions }),
        onDone: [
          { guard: "ok", target: "evaluating", actions: ["adoptFacts", "adoptOptions"] },
          { guard: "hasFacts", target: "evaluating", actions: "recordFailure" },
          { target: "unactivated", actions: "recordFailure" }
        ]
      }
    },
    activatingTrial: {
      invoke: {
        id: "activateTrial",
        src: "activateTrial",
        input: () => ({}),
        onDone: [
          { guard: "ok", target: "evaluating", actions: "adoptFacts" },
          { guard: "hasFacts", target: "evaluating", actions: "recordFailure" },
          { target: "unactivated", actions: "recordFailure" }
        ]
      }
    },
    evaluating: {
      entry: ["evaluate", "persist"],
      always: [
        { guard: "noFacts", target: "unactivated" },
        { guard: "fingerprintMismatch", target: "fingerprintMismatch" },
        { guard: "wrongIdentity", target: "unactivated", actions: ["forget", "clearStore"] },
        { guard: "clockTampered", target: "clockTampered" },
        { guard: "leaseLapsed", target: "unactivated", actions: ["forgetLapsedLease", "clearStore"] },
        { guard: "syncDue", target: "renewDue" },
        { guard: "trialExpired", target: "trialExpired" },
        { guard: "trialOk", target: "trialActive" },
        { guard: "graceOver", target: "graceOver" },
        { guard: "expired", target: "expired" },
        { guard: "suspended", target: "suspended" },
        { guard: "inGrace", target: "grace" },
        { target: "active" }
      ]
    },
    renewDue: {
      // Deadlines keep firing while the sync is in flight: a licence that expires mid-sync is reported expired.
      entry: "armSyncWake",
      exit: "disarmSyncWake",
      invoke: {
        id: "sync",
        src: "sync",
        input: ({ context }) => ({ facts: context.facts!, options: context.activationOptions }),
        onDone: [
          { guard: "ok", target: "evaluating", actions: "adoptFacts" },
          { guard: "syncTransient", target: "evaluating", actions: "scheduleRetry" },
          { guard: "syncRevoked", target: "revoked", actions: ["forget", "clearStore"] },
          { guard: "syncNotFound", target: "unactivated", actions: ["forget", "clearStore"] },
          { guard: "syncFingerprintReactivate", target: "reactivating", actions: "recordFailure" },
          { guard: "syncFingerprint", target: "fingerprintMismatch", actions: ["forget", "clearStore"] },
          { guard: "syncClearing", target: "unactivated", actions: ["forget", "clearStore"] },
          { target: "evaluating", actions: "haltSync" }
        ]
      },
      on: {
        DEACTIVATE: { target: "deactivating" },
        ACTIVATE: { target: "activating", actions: "rememberKey" },
        ACTIVATE_TRIAL: { target: "activatingTrial" },
        CHECK: { actions: "evaluate" },
        WAKE: { actions: ["evaluate", "armSyncWake"] }
      }
    },
    reactivating: {
      invoke: {
        id: "reactivate",
        src: "reactivate",
        input: ({ context }) => ({ facts: context.facts!, options: context.activationOptions }),
        onDone: [
          { guard: "ok", target: "evaluating", actions: "adoptFacts" },
          { target: "fingerprintMismatch", actions: ["forget", "clearStore"] }
        ]
      }
    },
    deactivating: {
      invoke: {
        id: "deactivate",
        src: "deactivate",
        input: ({ context }) => ({ facts: context.facts! }),
        onDone: [
          { guard: "ok", target: "unactivated", actions: ["forgetDeactivated", "clearStore"] },
          { guard: "deactivateGone", target: "unactivated", actions: ["forget", "clearStore"] },
          { target: "evaluating", actions: "recordFailure" }
        ]
      }
    },
    active: { tags: ["settled"], after: { wake: "evaluating" }, on: settledCommands },
    grace: { tags: ["settled"], after: { wake: "evaluating" }, on: settledCommands },
    graceOver: { tags: ["settled"], after: { wake: "evaluating" }, on: settledCommands },
    expired: { tags: ["settled"], after: { wake: "evaluating" }, on: settledCommands },
    suspended: { tags: ["settled"], after: { wake: "evaluating" }, on: settledCommands },
    clockTampered: { tags: ["settled"], after: { wake: "evaluating" }, on: settledCommands },
    trialActive: { tags: ["settled"], after: { wake: "evaluating" }, on: settledCommands },
    trialExpired: { tags: ["settled"], after: { wake: "evaluating" }, on: settledCommands },
    fingerprintMismatch: { tags: ["settled"], on: settledCommands },
    revoked: {
      tags: ["settled"],
      on: {
        ACTIVATE: { target: "activating", actions: "rememberKey" },
        ACTIVATE_TRIAL: { target: "activatingTrial" }
      }
    }
  }
})

export type LicenseMachine = typeof licenseMachine
