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
import { assign, cancel, type PromiseActorLogic, raise, setup } from "xstate"
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
  DefaultRetryJitter,
  type MachineConfig,
  MaxRetryAfterMillis,
  MaxTimerMillis,
  type OperationResult,
  type Verdict
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
  // A feature that runs out changes what the view offers at that moment (`FeatureEntitlements.isExpired`).
  for (const feature of facts.entitlements?.verified.entitlements ?? []) {
    if (feature.expiresAt !== undefined) candidates.push(secondsDeadline(feature.expiresAt))
  }
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

/** The release to judge the licence against: the activation's `releaseVersion` option, else the configuration's. */
const runningRelease = (context: LicenseContext) => {
  const version = context.activationOptions.releaseVersion ?? context.config.release?.version
  return version === undefined ? undefined : { version, publishedAt: context.config.release?.publishedAt }
}

const evaluate = (context: LicenseContext, now: number): ValidationStatus | undefined => {
  const facts = context.facts
  if (facts === undefined) return undefined
  return validate({
    claims: facts.claims,
    expected: {
      productId: context.config.productId,
      key: facts.key,
      fingerprint: facts.fingerprint,
      userHash: facts.userHash,
      release: runningRelease(context)
    },
    now,
    lastSeenAt: facts.lastSeenAt
  })
}

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

/**
 * Where the licence stands, decided once per evaluation from the facts, the validation and the time: the settled
 * state to show, or `renewDue` when a sync is due. The machine's guards only compare against it.
 *
 * Without facts the answer is why they went: a revoked licence, a rejected fingerprint (or a failed
 * re-activation after one), or nothing to show.
 */
export const verdictOf = (
  context: Pick<LicenseContext, "facts" | "status" | "syncFailing" | "syncHalted" | "nextSyncAt" | "clearedBecause">,
  now: number
): Verdict => {
  const facts = context.facts
  if (facts === undefined) {
    const why = context.clearedBecause
    if (why === undefined) return "unactivated"
    if (why.operation === "reactivate") return "fingerprintMismatch"
    if (why.operation !== "sync") return "unactivated"
    const cls = classifySyncFailure(why)
    return cls === "revoked" ? "revoked" : cls === "fingerprint" ? "fingerprintMismatch" : "unactivated"
  }
  const trial = facts.kind === "trial"
  switch (context.status) {
    case "fingerprintMismatch":
      return "fingerprintMismatch"
    case "osUserMismatch":
      return "osUserMismatch"
    case "wrongProduct":
    case "wrongKey":
    case "leaseLapsed":
      return "unactivated"
    case "clockBehindServer":
    case "clockRolledBack":
      return "clockTampered"
    default:
  }
  if (!context.syncHalted && context.nextSyncAt !== undefined && now >= context.nextSyncAt) return "renewDue"
  switch (context.status) {
    case "expired":
    case "graceOver":
      return trial ? "trialExpired" : context.status
    case "suspended":
      return "suspended"
    case "releaseNotAllowed":
      return "releaseNotAllowed"
    default:
      return trial ? "trialActive" : context.syncFailing ? "grace" : "active"
  }
}

/** What an evaluation at `now` makes of the context: the validation, the raised clock mark and the verdict. */
const evaluated = (context: LicenseContext): Partial<LicenseContext> => {
  const now = context.config.now()
  const mono = context.config.monotonicNow?.()
  // Where the wall clock should be by the monotonic clock: a wall clock set back since the last evaluation
  // leaves the high-water mark ahead of it, and the rollback check sees the step (issue 10).
  const anchor = context.clockAnchor
  const expected = anchor !== undefined && mono !== undefined ? anchor.wall + Math.max(0, mono - anchor.mono) : now
  const status = evaluate(context, now)
  const facts =
    context.facts === undefined
      ? undefined
      : { ...context.facts, lastSeenAt: Math.max(context.facts.lastSeenAt, now, expected) }
  const stepped = facts !== undefined && expected - now > RollbackToleranceSeconds * 1000
  const next = { ...context, facts, status: stepped ? evaluate({ ...context, facts }, now) : status }
  return {
    status: next.status,
    facts,
    verdict: verdictOf(next, now),
    clockAnchor: mono === undefined ? undefined : { wall: Math.max(now, expected), mono }
  }
}

const afterFacts = (
  context: LicenseContext,
  facts: LicenseFacts,
  from: number,
  notice?: FailureInfo | undefined
): Partial<LicenseContext> => ({
  facts,
  nextSyncAt: nextSyncAfter(facts, from),
  syncFailing: false,
  syncHalted: false,
  lastError: notice,
  clearedBecause: undefined,
  status: context.status,
  // Fresh facts carry the server's signed time: the monotonic projection starts again from them.
  clockAnchor: undefined
})

/**
 * When to sync again after a transient failure at `at`. `u` is a uniform draw in [0, 1) to spread the attempt
 * with, or `undefined` for none.
 *
 * Sync goes on at the sync interval (LexActivator's cadence), spread below it by the jitter `j`
 * (`MachineConfig.retryJitter`): uniform in `[cadence × (1 − j), cadence]`, so clients that failed together
 * (an outage) come back apart. A server's `Retry-After` is a floor the spread never undercuts: one within the
 * cadence raises the bottom of the range; a longer one is honoured up to a day and never past the next deadline
 * (but never sooner than the cadence), and the spread only adds to it, within the day and that deadline.
 */
export const retryAt = (context: LicenseContext, failure: FailureInfo, at: number, u: number | undefined): number => {
  const ssi = context.facts?.claims.serverSyncInterval ?? 0
  const cadence = Math.max(ssi * 1000, 1000)
  const j = u === undefined ? 0 : Math.min(1, Math.max(0, context.config.retryJitter ?? DefaultRetryJitter))
  const draw = u === undefined ? 0 : Math.min(1, Math.max(0, u))
  const retryAfter = Math.min(failure.retryAfterMillis ?? 0, MaxRetryAfterMillis)
  if (retryAfter > cadence) {
    const honoured = Math.max(at + cadence, capAtDeadline(context, at, at + retryAfter))
    const spread = Math.min(at + MaxRetryAfterMillis, honoured + Math.floor(draw * j * cadence))
    return Math.max(honoured, capAtDeadline(context, at, spread))
  }
  const low = Math.max(retryAfter, Math.ceil(cadence * (1 - j)))
  const spread = at + cadence - Math.floor((1 - draw) * (cadence - low))
  return Math.max(at + retryAfter, Math.min(spread, beforeLeaseEnds(context, at)))
}

/** The shortest wait between two renewals of a lease about to end (see {@link beforeLeaseEnds}). */
export const LeaseRetryMinMillis = 5_000

/**
 * The latest a retry may come so that a hosted-floating lease is renewed before it ends: halfway to the lease's end,
 * at least {@link LeaseRetryMinMillis} on; `Infinity` without a lease, or one ending sooner than that.
 *
 * DECISION: a failed renewal is tried again before the lease runs out, halving the time left each time, rather
 * than at the sync cadence (which for a lease is at most its length: the retry would come after it lapsed, and the
 * activation would be dropped although the server came back in time). The design renews a minute early so that a
 * short blip costs nothing (`LicenseModel`'s lease margin); this keeps that promise when the blip outlasts the
 * operation's own retries. A few extra requests in the lease's last minute, only while renewals fail.
 */
const beforeLeaseEnds = (context: LicenseContext, at: number): number => {
  const c = context.facts?.claims
  const leat = c !== undefined && "leaseExpiresAt" in c ? c.leaseExpiresAt : 0
  if (leat === 0) return Infinity
  const left = leat * 1000 - at
  return left <= LeaseRetryMinMillis ? Infinity : at + Math.max(LeaseRetryMinMillis, Math.floor(left / 2))
}

/**
 * The next sync after a transient failure at `at`, and the failure.
 *
 * DECISION: only the first retry of a failing spell is spread; later ones keep its phase, at the cadence. Clients
 * cut off together then come back at phases spread evenly over the cadence: a retry spread anew each time would,
 * seen from the instant the server returns, bunch them early in the cadence (the time to a client's next attempt
 * is a renewal process's residual time, whose density falls with the attempt interval; measured in
 * `bench/src/outage.bench.ts`: 1.9× the mean rate in the peak minute at j = 0.5, against 1.6× for the same phase
 * kept).
 */
const retryLater = (context: LicenseContext, failure: FailureInfo, at: number): Partial<LicenseContext> => ({
  syncFailing: true,
  nextSyncAt: retryAt(context, failure, at, context.syncFailing ? undefined : context.config.random?.()),
  lastError: failure
})

const lapsedLease: FailureInfo = {
  operation: "validate",
  kind: "LeaseLapsed",
  message: "the hosted-floating lease ended before it was renewed; the activation token was dropped",
  transient: false
}

const wrongIdentity = (status: ValidationStatus): FailureInfo => ({
  operation: "validate",
  kind: "ActivationCleared",
  message:
    status === "wrongProduct"
      ? "the stored activation token is for another product; it was dropped"
      : "the stored activation token is for another licence key; it was dropped",
  transient: false
})

// ---------------------------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------------------------

type Output<T> = { readonly output: T }

export const licenseMachine = setup({
  types: {
    context: {} as LicenseContext,
    events: {} as LicenseEvent,
    input: {} as MachineConfig,
    tags: {} as "settled" | "licensed" | "syncing"
  },
  actors: {
    // Placeholders: Licensing.ts provides the real ones with `machine.provide({ actors })`.
    load: undefined as unknown as PromiseActorLogic<LoadResult, MachineConfig>,
    activate: undefined as unknown as PromiseActorLogic<OperationResult, { key: string; options: ActivateOptions }>,
    activateTrial: undefined as unknown as PromiseActorLogic<OperationResult, object>,
    sync: undefined as unknown as PromiseActorLogic<OperationResult, { facts: LicenseFacts; options: ActivateOptions }>,
    reactivate: undefined as unknown as PromiseActorLogic<
      OperationResult,
      { facts: LicenseFacts; options: ActivateOptions }
    >,
    deactivate: undefined as unknown as PromiseActorLogic<DeactivateResult, { facts: LicenseFacts }>
  },
  actions: {
    /**
     * Makes the store follow the facts: saves them (with the last-seen time raised to now), or removes the record
     * when there are none (an activation the evaluation's input dropped). Provided by the runtime.
     */
    persist: () => {},
    /** Removes the stored record. Provided by the runtime. */
    clearStore: () => {},
    useConfiguredKey: assign({ pendingKey: ({ context }) => context.config.licenseKey }),
    rememberKey: assign({
      pendingKey: ({ event }) => (event.type === "ACTIVATE" ? event.key : undefined),
      pendingOptions: ({ event }) => (event.type === "ACTIVATE" ? (event.options ?? {}) : {})
    }),
    armSyncWake: raise({ type: "WAKE" }, { id: "syncWake", delay: ({ context }) => wakeDelay(context) }),
    disarmSyncWake: cancel("syncWake"),
    evaluate: assign(({ context }) => evaluated(context)),
    adoptLoaded: assign(({ context }, params: Output<LoadResult>) => {
      if (params.output.type !== "loaded") return {}
      const adopted = afterFacts(context, params.output.facts, params.output.facts.lastSyncedAt)
      const failed = params.output.lastSyncFailure
      if (failed === undefined) return adopted
      // The last process's sync failed: this one starts where that one stopped (issue 13: `licensure sync`, then
      // `licensure status`, must agree). A transient failure is grace until a sync succeeds, as it was there.
      const { nextSyncAt, ...failure } = failed
      return {
        ...adopted,
        lastError: { operation: "sync", ...failure },
        syncFailing: failed.transient,
        ...(nextSyncAt !== undefined ? { nextSyncAt } : {})
      }
    }),
    recordLoadFailure: assign((_, params: Output<LoadResult>) => {
      const failure = params.output.type === "empty" ? params.output.failure : undefined
      return { lastError: failure, clearedBecause: failure }
    }),
    recordFailure: assign(({ context }, params: { readonly failure: FailureInfo | undefined }) => ({
      lastError: params.failure ?? context.lastError
    })),
    /** An activation's answer: new facts (and the options they were made with), or the failure beside the old. */
    applyActivation: assign(({ context }, params: Output<OperationResult>) =>
      params.output.type === "ok"
        ? {
            ...afterFacts(
              context,
              params.output.facts,
              params.output.startedAt ?? params.output.at,
              params.output.notice
            ),
            activationOptions: context.pendingOptions
          }
        : { lastError: params.output.failure }
    ),
    /**
     * A sync's answer: new facts, a retry at the cadence, a halt, or the activation dropped (the store follows
     * the facts when `evaluating` persists).
     */
    applySync: assign(({ context }, params: Output<OperationResult>) => {
      const output = params.output
      if (output.type === "ok") return afterFacts(context, output.facts, output.startedAt ?? output.at, output.notice)
      const cls = classifySyncFailure(output.failure)
      if (cls === "transient") return retryLater(context, output.failure, output.at)
      if (cls === "halting") return { syncHalted: true, lastError: output.failure }
      return forgotten(output.failure)
    }),
    /** A re-activation's answer: new facts, or the activation dropped (the verdict then says fingerprint). */
    applyReactivation: assign(({ context }, params: Output<OperationResult>) =>
      params.output.type === "ok"
        ? afterFacts(context, params.output.facts, params.output.startedAt ?? params.output.at)
        : forgotten(params.output.failure)
    ),
    /** Another process removed the record (it deactivated, or its sync cleared the activation). */
    forgetRemoved: assign(() => forgotten(undefined)),
    /** The activation is gone from the server: on purpose (nothing went wrong, no reason kept) or already. */
    applyDeactivation: assign((_, params: Output<DeactivateResult>) =>
      forgotten(params.output.type === "ok" ? undefined : params.output.failure)
    ),
    /** The evaluation found a token that cannot stand here (another product or key, a lapsed lease). */
    dropActivation: assign(({ context }) =>
      context.facts === undefined || context.status === undefined
        ? {}
        : {
            ...forgotten(context.status === "leaseLapsed" ? lapsedLease : wrongIdentity(context.status)),
            pendingKey: context.facts.key
          }
    )
  },
  guards: {
    hasFacts: ({ context }) => context.facts !== undefined,
    verdictIs: ({ context }, params: { readonly verdict: Verdict }) => context.verdict === params.verdict,
    loaded: (_, params: Output<LoadResult>) => params.output.type === "loaded",
    /** A reload found the record unusable (corrupt, foreign, unverifiable): nothing held is given up for it. */
    loadFailed: (_, params: Output<LoadResult>) =>
      params.output.type === "empty" && params.output.failure !== undefined,
    /** The same, with an activation in hand to keep (and write back). */
    loadFailedHolding: ({ context }, params: Output<LoadResult>) =>
      context.facts !== undefined && params.output.type === "empty" && params.output.failure !== undefined,
    /**
     * The stored record is unusable (corrupt, foreign, forged) and a key is configured to activate again with.
     * DECISION: a read that timed out (`transient`: the store did not answer, a slow network home directory or a
     * scanner holding the file) is not an unusable record: the record may be good, and activating over it would
     * replace it on the server's word alone. `Licensing` reads the store again on the clock instead
     * (`ReadRetryMillis`). Rests on the design's "nothing already stored is lost".
     */
    loadFailedWithKey: ({ context }, params: Output<LoadResult>) =>
      params.output.type === "empty" &&
      params.output.failure !== undefined &&
      !params.output.failure.transient &&
      context.config.licenseKey !== undefined,
    /** Something to evaluate after an activation: new facts, or the old ones the failure left in place. */
    factsAfter: ({ context }, params: Output<OperationResult>) =>
      params.output.type === "ok" || context.facts !== undefined,
    reactivateOnFingerprint: ({ context }, params: Output<OperationResult>) =>
      params.output.type === "failed" &&
      classifySyncFailure(params.output.failure) === "fingerprint" &&
      context.config.reactivateOnFingerprintRejected === true,
    /** Deactivated, or the server no longer knows the activation (LexActivator clears it then too). */
    deactivated: (_, params: Output<DeactivateResult>) =>
      params.output.type === "ok" ||
      params.output.failure.kind === "NotFound" ||
      params.output.failure.code === "INVALID_ACCOUNT_ID"
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
    verdict: "unactivated",
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
          {
            guard: { type: "loaded", params: ({ event }) => ({ output: event.output }) },
            target: "evaluating",
            actions: { type: "adoptLoaded", params: ({ event }) => ({ output: event.output }) }
          },
          {
            guard: { type: "loadFailedWithKey", params: ({ event }) => ({ output: event.output }) },
            target: "activating",
            actions: [
              { type: "recordLoadFailure", params: ({ event }) => ({ output: event.output }) },
              "useConfiguredKey"
            ]
          },
          {
            target: "#license.ready.unactivated",
            actions: { type: "recordLoadFailure", params: ({ event }) => ({ output: event.output }) }
          }
        ]
      }
    },
    /** Every change of facts comes here: the evaluation decides the verdict, and one edge leads to each. */
    evaluating: {
      entry: ["evaluate", "persist"],
      always: [
        ...(
          [
            ["fingerprintMismatch", "#license.ready.activated.fingerprintMismatch"],
            ["osUserMismatch", "#license.ready.activated.standing.unlicensed.osUserMismatch"],
            ["releaseNotAllowed", "#license.ready.activated.standing.unlicensed.releaseNotAllowed"],
            ["clockTampered", "#license.ready.activated.standing.unlicensed.clockTampered"],
            ["renewDue", "#license.ready.activated.renewDue"],
            ["trialExpired", "#license.ready.activated.standing.trial.trialExpired"],
            ["trialActive", "#license.ready.activated.standing.trial.trialActive"],
            ["graceOver", "#license.ready.activated.standing.unlicensed.graceOver"],
            ["expired", "#license.ready.activated.standing.unlicensed.expired"],
            ["suspended", "#license.ready.activated.standing.unlicensed.suspended"],
            ["grace", "#license.ready.activated.standing.licensed.grace"],
            ["active", "#license.ready.activated.standing.licensed.active"],
            ["revoked", "#license.ready.revoked"]
          ] as const
        ).map(([verdict, target]) => ({ guard: { type: "verdictIs" as const, params: { verdict } }, target })),
        { guard: "hasFacts", target: "#license.ready.unactivated", actions: ["dropActivation", "clearStore"] },
        { target: "#license.ready.unactivated" }
      ]
    },
    activating: {
      invoke: {
        id: "activate",
        src: "activate",
        input: ({ context }) => ({ key: context.pendingKey ?? "", options: context.pendingOptions }),
        onDone: [
          {
            guard: { type: "factsAfter", params: ({ event }) => ({ output: event.output }) },
            target: "evaluating",
            actions: { type: "applyActivation", params: ({ event }) => ({ output: event.output }) }
          },
          {
            target: "#license.ready.unactivated",
            actions: { type: "applyActivation", params: ({ event }) => ({ output: event.output }) }
          }
        ]
      }
    },
    activatingTrial: {
      invoke: {
        id: "activateTrial",
        src: "activateTrial",
        input: () => ({}),
        onDone: [
          {
            guard: { type: "factsAfter", params: ({ event }) => ({ output: event.output }) },
            target: "evaluating",
            actions: { type: "applyActivation", params: ({ event }) => ({ output: event.output }) }
          },
          {
            target: "#license.ready.unactivated",
            actions: { type: "applyActivation", params: ({ event }) => ({ output: event.output }) }
          }
        ]
      }
    },
    reactivating: {
      invoke: {
        id: "reactivate",
        src: "reactivate",
        input: ({ context }) => ({ facts: context.facts!, options: context.activationOptions }),
        onDone: {
          target: "evaluating",
          actions: { type: "applyReactivation", params: ({ event }) => ({ output: event.output }) }
        }
      }
    },
    deactivating: {
      invoke: {
        id: "deactivate",
        src: "deactivate",
        input: ({ context }) => ({ facts: context.facts! }),
        onDone: [
          {
            guard: { type: "deactivated", params: ({ event }) => ({ output: event.output }) },
            target: "#license.ready.unactivated",
            actions: [{ type: "applyDeactivation", params: ({ event }) => ({ output: event.output }) }, "clearStore"]
          },
          {
            target: "evaluating",
            actions: {
              type: "recordFailure",
              params: ({ event }) => ({ failure: event.output.type === "failed" ? event.output.failure : undefined })
            }
          }
        ]
      }
    },
    /** Nothing a command started is in flight: every command is taken here (a background sync never blocks one). */
    ready: {
      initial: "unactivated",
      on: {
        ACTIVATE: { target: "activating", actions: "rememberKey" },
        ACTIVATE_TRIAL: { target: "activatingTrial" },
        RELOAD: [
          {
            guard: { type: "loaded", params: ({ event }) => ({ output: event.result }) },
            target: "evaluating",
            actions: { type: "adoptLoaded", params: ({ event }) => ({ output: event.result }) }
          },
          {
            // DECISION: a record another process left unusable changes nothing held: the error is reported, and
            // with an activation in hand `evaluating` writes it back (the store quarantined the bad file), so the
            // other processes find the good record again. Rests on the design's "nothing already stored is lost".
            guard: { type: "loadFailedHolding", params: ({ event }) => ({ output: event.result }) },
            target: "evaluating",
            actions: {
              type: "recordFailure",
              params: ({ event }) => ({ failure: event.result.type === "empty" ? event.result.failure : undefined })
            }
          },
          {
            // With nothing held, the failure is only reported: no evaluation, so nothing is written or cleared (a
            // read that timed out must not remove the record it could not read).
            guard: { type: "loadFailed", params: ({ event }) => ({ output: event.result }) },
            actions: {
              type: "recordFailure",
              params: ({ event }) => ({ failure: event.result.type === "empty" ? event.result.failure : undefined })
            }
          },
          {
            // DECISION: no record any more means another process released or lost the activation; this one
            // follows (a licence must not stay usable here after it was deactivated there).
            target: "#license.ready.unactivated",
            actions: "forgetRemoved"
          }
        ]
      },
      states: {
        unactivated: { tags: ["settled"] },
        revoked: { tags: ["settled"] },
        activated: {
          initial: "standing",
          on: {
            DEACTIVATE: { target: "#license.deactivating", guard: "hasFacts" },
            SYNC: { target: ".renewDue", guard: "hasFacts" },
            CHECK: { target: "#license.evaluating" }
          },
          states: {
            /** A sync in flight. Commands answer at once from the facts at hand, and deadlines keep firing. */
            renewDue: {
              tags: ["syncing"],
              entry: "armSyncWake",
              exit: "disarmSyncWake",
              // A deadline that takes the activation away (a hosted-floating lease ending while its renewal is still
              // being retried) ends the sync: what is held is dropped at the deadline, not when the retries give up.
              always: {
                guard: { type: "verdictIs", params: { verdict: "unactivated" } },
                target: "#license.evaluating"
              },
              invoke: {
                id: "sync",
                src: "sync",
                input: ({ context }) => ({ facts: context.facts!, options: context.activationOptions }),
                onDone: [
                  {
                    guard: { type: "reactivateOnFingerprint", params: ({ event }) => ({ output: event.output }) },
                    target: "#license.reactivating",
                    actions: {
                      type: "recordFailure",
                      params: ({ event }) => ({
                        failure: event.output.type === "failed" ? event.output.failure : undefined
                      })
                    }
                  },
                  {
                    target: "#license.evaluating",
                    actions: { type: "applySync", params: ({ event }) => ({ output: event.output }) }
                  }
                ]
              },
              on: {
                // A sync already running answers `sync()` too; a check re-evaluates without leaving it.
                SYNC: {},
                // `Licensing.reload` waits for a settled state; one that lands mid-sync must not cancel it.
                RELOAD: {},
                CHECK: { actions: "evaluate" },
                WAKE: { actions: ["evaluate", "armSyncWake"] }
              }
            },
            fingerprintMismatch: { tags: ["settled"] },
            /** The licence as of the last evaluation, re-evaluated at the next deadline (at least hourly). */
            standing: {
              tags: ["settled"],
              after: { wake: "#license.evaluating" },
              initial: "licensed",
              states: {
                licensed: { tags: ["licensed"], initial: "active", states: { active: {}, grace: {} } },
                unlicensed: {
                  initial: "expired",
                  states: {
                    graceOver: {},
                    expired: {},
                    suspended: {},
                    clockTampered: {},
                    osUserMismatch: {},
                    releaseNotAllowed: {}
                  }
                },
                trial: { initial: "trialActive", states: { trialActive: { tags: ["licensed"] }, trialExpired: {} } }
              }
            }
          }
        }
      }
    }
  }
})

export type LicenseMachine = typeof licenseMachine
