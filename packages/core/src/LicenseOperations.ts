/**
 * The licence operations as a service of their own: load the stored record, activate, start a trial, sync,
 * re-activate and deactivate, each over `LicenseApi`, `LicenseStore` and `Fingerprint`, retried by the
 * {@link RetryPolicy}, bounded in time, and always answering with a result (never failing, never throwing), so
 * the lifecycle machine sees every failure as data. Testable on its own with the memory store and a fake API.
 *
 * Pending meter increments live in a `Ref`: sent with the next sync, kept when it fails, and never counted twice
 * when an answer is lost (see `syncCarryingMeters`).
 *
 * @since 0.3.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import * as ActivationToken from "./ActivationToken.ts"
import { mismatchOf } from "./internal/EntitlementsMatch.ts"
import * as FeatureEntitlements from "./FeatureEntitlements.ts"
import { EntitlementsMismatch, FeatureEntitlementsApi, FeatureEntitlementsError } from "./FeatureEntitlements.ts"
import { Fingerprint, type MachineIdentity } from "./Fingerprint.ts"
import { type ApiError, isTransient, LibraryVersion, LicenseApi } from "./LicenseApi.ts"
import { lexStatus } from "./LexStatus.ts"
import type {
  ActivateOptions,
  DeactivateResult,
  EntitlementsFailure,
  FailureInfo,
  LicenseFacts,
  LoadResult,
  OperationResult
} from "./LicenseModel.ts"
import { LicenseStore, type StoredRecord } from "./LicenseStore.ts"
import type { LicensingConfig } from "./LicensingConfig.ts"
import { failureFromError } from "./LicensingError.ts"
import {
  type ActivationClaims,
  type ActivationRequest,
  type DeactivationRequest,
  type MeterAttributeIncrement,
  type TrialActivationRequest,
  type TrialClaims,
  wireHostname
} from "./Protocol.ts"
import * as RetryPolicy from "./RetryPolicy.ts"

/**
 * DECISION: the longest one operation (an activation, a sync, a deactivation, with its retries) may take before it
 * ends as a transient network failure: two minutes. The per-request timeout is 30 s (LicenseApi), so this is a
 * few attempts; a server that never answers then costs one bounded operation, and the machine goes on (grace,
 * the next sync) instead of waiting forever.
 */
export const OperationTimeoutMillis = 2 * 60 * 1000

/**
 * DECISION: the feature entitlements are fetched once after each activation and sync (LexActivator 3.34 calls
 * them after every `ActivateLicense` and every background sync, reference-client.md §3 item 1), in one attempt of
 * at most 30 s (the per-request timeout), outside the operation's own bound: a failed or slow fetch costs the next
 * sync's turn, never the activation, and the set before it stays in force.
 */
export const EntitlementsTimeoutMillis = 30 * 1000

/**
 * DECISION: the longest the store's read of the record may take, at start-up and on a reload: thirty seconds, on
 * the Clock. The design has the start-up read "local and time-bounded", and `check()`, the commands and `idle` all
 * wait for the load: a store that never answers (a custom store on a hung keychain or network share, a browser
 * store blocked by another tab) would otherwise hold every call forever. Thirty seconds is well above the Node file
 * store's own lock wait (5 s), so its typed `locked` error comes first; past it the load ends as a transient
 * `StoreFailure` that says so, and the record is left as it is (a reload may read it later). Only the read is
 * bounded: the token checks after it run in real time on WebCrypto and always end, and a simulation that moves
 * `TestClock` while they run must not see them time out.
 */
export const LoadTimeoutMillis = 30 * 1000

/**
 * A failed request the server may nevertheless have taken in: the connection dropped or timed out, a 5xx, or an
 * answer that would not read. Not a rate limit or a refusal, which the server answers before it counts anything.
 */
const mayHaveLanded = (error: ApiError): boolean => {
  switch (error.reason._tag) {
    case "NetworkFailure":
    case "ServerFailure":
    case "MalformedResponse":
      return true
    default:
      return false
  }
}

/**
 * How much older than the token held a sync's token may be and still be taken: the clocks of two of the server's
 * nodes that answer one sync after another may disagree by this much (seconds). A replay can then only undo what
 * changed within this last minute.
 */
export const ReplayToleranceSeconds = 60

/**
 * A sync's verified token, refused when it was issued before the token held: a replayed answer (an old token of
 * this very activation, which verifies), not the server's word now.
 *
 * DECISION: Cryptlex signs every sync answer afresh (`iat` is the server's time of the answer), so a genuine one is
 * never older than the token it renews. Taking an older one would let whoever can answer the client's request (a
 * plain-http on-premise host, a local user who adds a CA) undo a suspension, a shortened expiry or the clock's
 * high-water mark with a token read from the client's own store. It is refused as a token the server's answer
 * did not verify to (`TokenRejected`, transient on sync: the licence stays as it was, in grace, and syncs again).
 * {@link ReplayToleranceSeconds} allows for the clocks of the server's own nodes disagreeing a little.
 */
const notOlderThan =
  (held: LicenseFacts) =>
  <C extends { readonly issuedAt: number }>(claims: C): Effect.Effect<C, ActivationToken.TokenError> =>
    claims.issuedAt >= held.claims.issuedAt - ReplayToleranceSeconds
      ? Effect.succeed(claims)
      : Effect.fail(
          new ActivationToken.TokenError({
            reason: "olderThanHeld",
            message: `expected a token issued at or after ${new Date(held.claims.issuedAt * 1000).toISOString()} (the one held), got one issued at ${new Date(claims.issuedAt * 1000).toISOString()}: a replayed answer`
          })
        )

/** An activation's meter uses as its verified token gives them (`ama`), by name. */
const usesOf = (claims: ActivationClaims): ReadonlyMap<string, number> =>
  new Map(claims.activationMeterAttributes.map((m) => [m.name, m.uses]))

/**
 * The server refused a request that carried meter increments: the allowance is used up
 * (`METER_ATTRIBUTE_USES_LIMIT_REACHED`), or any other refusal it answers with a code or a 4xx (not a transient
 * failure, not the activation gone). Sent again with the same increments it would be refused again.
 */
const refusesIncrements = (error: ApiError): boolean => !isTransient(error) && error.reason._tag !== "NotFound"

/**
 * The {@link LicenseOperations} service's shape. Every operation succeeds with a result (`ok` or `failed` with a
 * `FailureInfo`), never fails and never throws; each is retried by the configured policy and bounded by {@link
 * OperationTimeoutMillis}.
 */
export interface LicenseOperationsService {
  /** Reads and verifies the stored record; `empty` (with the reason) when there is none to use. */
  readonly load: Effect.Effect<LoadResult>
  /** Verifies a record read from the store (by `load`, or by a reload after another process wrote it). */
  readonly admit: (record: StoredRecord) => Effect.Effect<LoadResult>
  /**
   * The store's read alone, bounded by {@link LoadTimeoutMillis} (as in `load`): the record, none, or the failure
   * as the view reports it (a reload reads with it before it decides whether the record is news).
   */
  readonly read: Effect.Effect<Option.Option<StoredRecord>, FailureInfo>
  /**
   * Activates `key` with this machine's identity, verifies the token against the configured public key, product and
   * fingerprint, stores the record and fetches the feature entitlements; `failed` says which step refused.
   */
  readonly activate: (key: string, options: ActivateOptions) => Effect.Effect<OperationResult>
  /** Starts (or resumes) this machine's trial, verifies the trial token and stores it. */
  readonly activateTrial: Effect.Effect<OperationResult>
  /**
   * Renews the activation in `facts` (with the pending meter increments and the activation's options), verifies and
   * stores the fresh token; the increments are kept when it fails.
   */
  readonly sync: (facts: LicenseFacts, options: ActivateOptions) => Effect.Effect<OperationResult>
  /** Deactivate (errors ignored) then activate again with the same key: the answer to a rejected fingerprint. */
  readonly reactivate: (facts: LicenseFacts, options: ActivateOptions) => Effect.Effect<OperationResult>
  /**
   * Deactivates the activation in `facts` on the server; the machine clears the record when it succeeds or the server
   * no longer has it.
   */
  readonly deactivate: (facts: LicenseFacts) => Effect.Effect<DeactivateResult>
  /** Adds to an activation meter attribute; the next activation or sync sends it. */
  readonly addMeter: (name: string, increment: number) => Effect.Effect<void>
  /** The increments not yet sent. */
  readonly pendingMeters: Effect.Effect<ReadonlyMap<string, number>>
}

export interface LicenseOperationsOptions {
  /** Told when a retry sleeps on the clock and when the next attempt starts (see `Licensing.quiet`). */
  readonly naps?: RetryPolicy.NapObserver | undefined
  /**
   * Told of the record `load` read from the store, before it is admitted, or of `undefined` when it holds none (see
   * `RecordWriter.stored`).
   */
  readonly stored?: ((record: StoredRecord | undefined) => void) | undefined
}

const definedOnly = <A extends object>(a: A): Partial<A> =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Partial<A>

/**
 * The licence operations over {@link LicenseApi}, {@link LicenseStore} and {@link Fingerprint}, answering with
 * results rather than errors so the lifecycle machine sees every failure as data. `Licensing` builds one; use it
 * directly to test operations without the machine.
 */
export class LicenseOperations extends Context.Service<LicenseOperations, LicenseOperationsService>()(
  "@licensure/core/LicenseOperations"
) {
  /**
   * Builds the operations for `config` over the services in context; `options.naps` hears when a retry sleeps.
   * @example const ops = yield* LicenseOperations.make(config)
   */
  static readonly make = (
    config: LicensingConfig,
    options: LicenseOperationsOptions = {}
  ): Effect.Effect<LicenseOperationsService, never, LicenseApi | LicenseStore | Fingerprint> =>
    Effect.gen(function* () {
      const api = yield* LicenseApi
      const store = yield* LicenseStore
      const fingerprint = yield* Fingerprint
      const retry = RetryPolicy.retrying(config.retry, options.naps)
      const now = Clock.currentTimeMillis
      const meters = yield* Ref.make<ReadonlyMap<string, number>>(new Map())
      /** The increments a sync request carried that went unanswered: not known to have landed, not sent again. */
      const doubt = yield* Ref.make<ReadonlyMap<string, number>>(new Map())
      // Optional: a platform without it (a fake API in tests, an app that opts out) runs without entitlements.
      const entitlementsApi = yield* Effect.serviceOption(FeatureEntitlementsApi)
      const machineFields = (fp: string, identity: MachineIdentity) => ({
        accountId: config.accountId ?? "",
        clientVersion: `licensure/${LibraryVersion}`,
        productId: config.productId,
        fingerprint: fp,
        // Whatever Fingerprint layer is in use, the body never carries a hostname the server refuses (row 12).
        hostname: wireHostname(identity.hostname),
        appVersion: config.appVersion ?? "0.0.0",
        os: identity.os,
        osVersion: identity.osVersion,
        userHash: identity.userHash,
        container: identity.container,
        ...(identity.vmName !== undefined ? { vmName: identity.vmName } : {})
      })

      const activationBody = (
        key: string,
        fp: string,
        identity: MachineIdentity,
        options: ActivateOptions,
        pending: ReadonlyMap<string, number>
      ): ActivationRequest => {
        const settings = { ...config, ...definedOnly(options) }
        const meters: Array<MeterAttributeIncrement> = [...pending].map(([name, usesIncrement]) => ({
          name,
          usesIncrement
        }))
        return {
          key,
          ...machineFields(fp, identity),
          ...(settings.metadata !== undefined ? { metadata: settings.metadata } : {}),
          ...(settings.leaseDuration !== undefined ? { leaseDuration: settings.leaseDuration } : {}),
          ...(settings.email !== undefined ? { email: settings.email } : {}),
          ...(settings.password !== undefined ? { password: settings.password } : {}),
          ...releaseFields(settings.releaseVersion),
          ...(meters.length > 0 ? { meterAttributes: meters } : {})
        }
      }

      /** LexActivator's release fields, each when set; `releasePublishedAt` only when not empty (row 7). */
      const releaseFields = (releaseVersion: string | undefined) => ({
        ...(releaseVersion !== undefined ? { releaseVersion } : {}),
        ...(config.releasePlatform !== undefined ? { releasePlatform: config.releasePlatform } : {}),
        ...(config.releaseChannel !== undefined ? { releaseChannel: config.releaseChannel } : {}),
        ...(config.releasePublishedAt !== undefined && config.releasePublishedAt !== ""
          ? { releasePublishedAt: config.releasePublishedAt }
          : {})
      })

      const trialBody = (fp: string, identity: MachineIdentity): TrialActivationRequest => ({
        ...machineFields(fp, identity),
        ...releaseFields(config.releaseVersion),
        ...(config.trialMetadata !== undefined ? { metadata: config.trialMetadata } : {})
      })

      /** LexActivator's `DeactivationViewModel`: the activation's fingerprint, this machine's os and user (row 4). */
      const deactivationBody = (id: string, fp: string, identity: MachineIdentity): DeactivationRequest => ({
        id,
        productId: config.productId,
        accountId: config.accountId ?? "",
        fingerprint: fp,
        userHash: identity.userHash,
        os: identity.os
      })

      const factsFrom = (
        kind: LicenseFacts["kind"],
        token: string,
        claims: ActivationClaims | TrialClaims,
        identity: MachineIdentity,
        fp: string,
        at: number,
        previous: LicenseFacts | undefined,
        key: string | undefined
      ): LicenseFacts => ({
        kind,
        token,
        key,
        claims,
        lastSyncedAt: at,
        // DECISION: a freshly verified token's `iat` is the server's time, signed; it replaces the clock's
        // high-water mark rather than adding to it, so a clock that once ran ahead (a year, then put right) is
        // trusted again after the next good sync instead of reading as rolled back forever (issue 10). The
        // evaluation then raises the mark to the local clock when that is later.
        lastSeenAt: claims.issuedAt * 1000,
        fingerprint: fp,
        components: fp === identity.fingerprint ? identity.components : (previous?.components ?? identity.components),
        userHash: identity.userHash
      })

      const loadTimedOut: FailureInfo = {
        operation: "load",
        kind: "StoreFailure",
        message: `the stored licence record could not be read within ${LoadTimeoutMillis / 1000} s (the store did not answer)`,
        transient: true
      }
      /** Bounded by {@link LoadTimeoutMillis}: past it, the read is interrupted and `timedOut` answers. */
      const loadBounded = <A, E>(effect: Effect.Effect<A, E>, timedOut: () => Effect.Effect<A, E>) =>
        Effect.timeoutOrElse(effect, { duration: Duration.millis(LoadTimeoutMillis), orElse: timedOut })
      const read: Effect.Effect<Option.Option<StoredRecord>, FailureInfo> = loadBounded(
        Effect.mapError(
          store.load,
          (error): FailureInfo => ({
            operation: "load",
            kind: "StoreFailure",
            message: error.message,
            transient: false
          })
        ),
        () => Effect.fail(loadTimedOut)
      )

      const load = Effect.gen(function* (): Effect.fn.Return<LoadResult> {
        const loaded = yield* Effect.result(read)
        if (loaded._tag === "Failure") return { type: "empty", failure: loaded.failure }
        options.stored?.(Option.getOrUndefined(loaded.success))
        if (Option.isNone(loaded.success)) return { type: "empty" }
        return yield* admit(loaded.success.value)
      })

      const admit = (record: StoredRecord) =>
        Effect.gen(function* (): Effect.fn.Return<LoadResult> {
          const identity = yield* Effect.result(fingerprint.current)
          if (identity._tag === "Failure") {
            return { type: "empty", failure: failureFromError("load", identity.failure) }
          }
          const tokenCheck =
            record.kind === "trial"
              ? Effect.result(
                  ActivationToken.verifyTrial(record.token, config.publicKeyPem, { productId: config.productId })
                )
              : Effect.result(
                  ActivationToken.verify(record.token, config.publicKeyPem, {
                    productId: config.productId,
                    key: record.key
                  })
                )
          // DECISION: a stored entitlements token is verified on load beside the activation token, both RSA checks
          // in flight at once on WebCrypto's threads, rather than lazily at the first feature query. Every view
          // carries `features` and the machine's wake deadline counts each feature's expiry, so the first view
          // after a start needs the verified set: a lazy check would publish a view without the features and then
          // one with them (or make the first `check()` wait for it). Checked together, the cold path pays about one
          // verify's wait instead of two, and nothing is believed before its own signature and ids are checked.
          const entitlementsToken = record.kind === "activation" ? record.featureEntitlementsToken : undefined
          const [verified, entitlements] =
            entitlementsToken === undefined
              ? [yield* tokenCheck, undefined]
              : yield* Effect.all(
                  [tokenCheck, Effect.result(FeatureEntitlements.verify(entitlementsToken, config.publicKeyPem))],
                  { concurrency: 2 }
                )
          if (verified._tag === "Failure") {
            return { type: "empty", failure: failureFromError("load", verified.failure) }
          }
          // Keep the activation's fingerprint when only a weak component of the machine drifted.
          const current = identity.success
          const answersTo =
            record.fingerprint === current.fingerprint ||
            fingerprint.match(record.components, current.components) !== "sameMachine"
              ? current.fingerprint
              : record.fingerprint
          const facts: LicenseFacts = {
            kind: record.kind,
            token: record.token,
            key: record.key,
            claims: verified.success,
            lastSyncedAt: record.lastSyncedAt,
            lastSeenAt: record.lastSeenAt,
            fingerprint: answersTo,
            components: record.components,
            userHash: current.userHash
          }
          return {
            type: "loaded",
            facts: storedEntitlements(facts, entitlementsToken, entitlements),
            ...(record.lastSyncFailure !== undefined ? { lastSyncFailure: record.lastSyncFailure } : {})
          }
        })

      /** The activation's and licence's ids, for an activation's facts. */
      const idsOf = (facts: LicenseFacts) => {
        if (facts.kind !== "activation") return undefined
        const claims = facts.claims as ActivationClaims
        return { activationId: claims.activationId, licenseId: claims.licenseId }
      }

      const entitlementsFailureOf = (error: FeatureEntitlements.FeatureEntitlementsError): EntitlementsFailure => {
        const reason = error.reason
        return {
          kind: reason._tag,
          ...("code" in reason && typeof reason.code === "string" ? { code: reason.code } : {}),
          message: error.message,
          status: error.status
        }
      }

      /**
       * The record's entitlements token, verified as when it was fetched (its signature and claims by `verified`,
       * checked beside the activation token; its ids here, against the activation's verified ones). DECISION: one
       * that no longer verifies (a tampered record, a rotated key) or is another activation's is dropped and
       * reported; the licence itself loads as before, and the next sync fetches a fresh set.
       */
      const storedEntitlements = (
        facts: LicenseFacts,
        token: string | undefined,
        verified:
          | Result.Result<FeatureEntitlements.FeatureEntitlements, FeatureEntitlements.FeatureEntitlementsError>
          | undefined
      ): LicenseFacts => {
        const ids = idsOf(facts)
        if (token === undefined || verified === undefined || ids === undefined) return facts
        if (Result.isFailure(verified)) {
          return { ...facts, entitlementsFailure: entitlementsFailureOf(verified.failure) }
        }
        const set = verified.success
        const mismatch = mismatchOf({ aid: set.activationId, lid: set.licenseId }, ids)
        if (mismatch !== undefined) {
          const error = new FeatureEntitlementsError({
            operation: "verify",
            reason: new EntitlementsMismatch(mismatch)
          })
          return { ...facts, entitlementsFailure: entitlementsFailureOf(error) }
        }
        return { ...facts, entitlements: { token, verified: set } }
      }

      /**
       * New facts with the entitlements fetched for them; on failure, the previous set (when it is this licence's)
       * and why. Never fails, never outlives {@link EntitlementsTimeoutMillis}.
       */
      const entitled = (facts: LicenseFacts, previous: LicenseFacts | undefined): Effect.Effect<LicenseFacts> => {
        const ids = idsOf(facts)
        if (ids === undefined) return Effect.succeed(facts)
        // DECISION: entitlements belong to the licence (the token names both ids; a re-activation of the same
        // licence gets a new activation id), so a set kept across a failed fetch is one of the same licence.
        const kept =
          previous !== undefined && idsOf(previous)?.licenseId === ids.licenseId ? previous.entitlements : undefined
        if (Option.isNone(entitlementsApi)) return Effect.succeed({ ...facts, entitlements: kept })
        const api = entitlementsApi.value
        const keep = (failure: EntitlementsFailure): LicenseFacts => ({
          ...facts,
          entitlements: kept,
          entitlementsFailure: failure
        })
        const fetched = Effect.gen(function* () {
          const token = yield* api.fetch(ids.activationId, { licenseId: ids.licenseId, accountId: config.accountId })
          const verified = yield* FeatureEntitlements.verify(token, config.publicKeyPem, ids)
          return { ...facts, entitlements: { token, verified }, entitlementsFailure: undefined }
        })
        return Effect.result(fetched).pipe(
          Effect.map((result) =>
            result._tag === "Success" ? result.success : keep(entitlementsFailureOf(result.failure))
          ),
          Effect.timeoutOrElse({
            duration: Duration.millis(EntitlementsTimeoutMillis),
            orElse: () =>
              Effect.succeed(
                keep({
                  kind: "Timeout",
                  message: `the feature entitlements did not come within ${EntitlementsTimeoutMillis / 1000} s`,
                  status: lexStatus("LA_E_INET")
                })
              )
          }),
          Effect.catchCause((cause) =>
            Cause.hasInterruptsOnly(cause)
              ? Effect.failCause(cause as Cause.Cause<never>)
              : Effect.succeed(
                  keep({
                    kind: "InternalError",
                    message: `unexpected error while fetching the feature entitlements: ${String(Cause.squash(cause))}`,
                    status: lexStatus("LA_E_CLIENT")
                  })
                )
          )
        )
      }

      /** Takes what a request carried off the pending increments: what was added while it ran stays. */
      const taken = (sent: ReadonlyMap<string, number>) =>
        Ref.update(meters, (pending) => {
          const left = new Map(pending)
          for (const [name, n] of sent) {
            const rest = (left.get(name) ?? 0) - n
            if (rest === 0) left.delete(name)
            else left.set(name, rest)
          }
          return left
        })

      /**
       * Sends a request that carries the pending meter increments (an activation or a sync) and answers with its
       * token. The increments are taken off the pending ones as soon as the server accepted them (before the token
       * is verified: the server counted them either way).
       *
       * DECISION: a refusal of a request carrying increments (`METER_ATTRIBUTE_USES_LIMIT_REACHED`,
       * reference-client.md rows 13 and 22, or any other coded or 4xx refusal) is taken as the increments' answer
       * first: they are dropped (sent again, they would be refused again, and would hold every later sync back),
       * the request is sent once more without them, and the refusal comes back as the operation's `notice`, so the
       * command that asked for the increment fails with it (status 73 for the allowance) while the licence itself
       * syncs as it would have. A refusal that was the licence's (revoked, …) comes again without them, and is
       * the operation's failure as usual. As in
       * LexActivator's `IncrementActivationMeterAttributeUses`, a refused increment is the caller's to retry.
       */
      const carryingMeters = (send: (sent: ReadonlyMap<string, number>) => Effect.Effect<string, ApiError>) =>
        Effect.gen(function* () {
          const sent = yield* Ref.get(meters)
          const first = yield* Effect.result(retry(send(sent)))
          if (first._tag === "Success") {
            yield* taken(sent)
            return { token: first.success, notice: undefined }
          }
          const error = first.failure
          if (sent.size === 0 || !refusesIncrements(error)) return yield* Effect.fail(error)
          yield* taken(sent)
          const token = yield* retry(send(new Map()))
          return { token, notice: error }
        })

      const activate = (key: string, options: ActivateOptions) =>
        Effect.gen(function* () {
          const identity = yield* fingerprint.current
          const { token, notice } = yield* carryingMeters((sent) =>
            api.activate(activationBody(key, identity.fingerprint, identity, options, sent))
          )
          const claims = yield* ActivationToken.verify(token, config.publicKeyPem, {
            productId: config.productId,
            key,
            fingerprint: identity.fingerprint
          })
          const at = yield* now
          return {
            facts: factsFrom("activation", token, claims, identity, identity.fingerprint, at, undefined, key),
            notice
          }
        })

      const activateTrial = Effect.gen(function* () {
        const identity = yield* fingerprint.current
        const token = yield* retry(api.activateTrial(trialBody(identity.fingerprint, identity)))
        const claims = yield* ActivationToken.verifyTrial(token, config.publicKeyPem, {
          productId: config.productId,
          fingerprint: identity.fingerprint
        })
        const at = yield* now
        return { facts: factsFrom("trial", token, claims, identity, identity.fingerprint, at, undefined, undefined) }
      })

      const sync = (facts: LicenseFacts, options: ActivateOptions) =>
        Effect.gen(function* () {
          const identity = yield* fingerprint.current
          if (facts.kind === "trial") {
            const id = (facts.claims as TrialClaims).trialActivationId
            const token = yield* retry(api.syncTrial(id, trialBody(facts.fingerprint, identity)))
            const claims = yield* ActivationToken.verifyTrial(token, config.publicKeyPem, {
              productId: config.productId,
              fingerprint: facts.fingerprint
            }).pipe(Effect.flatMap(notOlderThan(facts)))
            const at = yield* now
            return { facts: factsFrom("trial", token, claims, identity, facts.fingerprint, at, facts, undefined) }
          }
          const claims0 = facts.claims as ActivationClaims
          const key = facts.key ?? claims0.key
          const send = (sent: ReadonlyMap<string, number>) =>
            api.sync(claims0.activationId, activationBody(key, facts.fingerprint, identity, options, sent))
          const verify = (token: string) =>
            ActivationToken.verify(token, config.publicKeyPem, {
              productId: config.productId,
              key,
              fingerprint: facts.fingerprint
            }).pipe(Effect.flatMap(notOlderThan(facts)))
          const { token, claims, notice } = yield* syncCarryingMeters(claims0, send, verify)
          const at = yield* now
          return { facts: factsFrom("activation", token, claims, identity, facts.fingerprint, at, facts, key), notice }
        })

      /**
       * A sync with the pending meter increments, counted once each.
       *
       * DECISION: Cryptlex's increments are not idempotent (`usesIncrement`, reference-client.md row 13) and a lost
       * answer does not say whether the server counted them, so a request that failed in a way the server may
       * have taken in (the connection dropped or timed out, a 5xx, an answer that would not read) is never sent
       * again with the same increments. The next request goes without them, and its verified token's uses for
       * this activation (`ama`, which only this activation's own calls change) say which landed: those are taken
       * off, the others are sent once more. When that request fails too, the doubt is kept (`doubt`), and the next
       * sync asks the same way before it sends any increment. LexActivator makes one call and leaves the retry
       * (and the risk of counting twice) to the caller; this keeps the automatic retries without it. (Increments
       * live in memory: a process that stops with some pending or in doubt drops them, as LexActivator's do.)
       * A request the server did not
       * take in (rate-limited, refused) is retried with its increments as any call is; a refusal of the
       * increments themselves is `carryingMeters`' case.
       */
      const syncCarryingMeters = (
        before: ActivationClaims,
        send: (sent: ReadonlyMap<string, number>) => Effect.Effect<string, ApiError>,
        verify: (token: string) => Effect.Effect<ActivationClaims, ActivationToken.TokenError>
      ) =>
        Effect.gen(function* () {
          // The uses the server last confirmed: the facts' token, until a token of this sync replaces it.
          let known = usesOf(before)
          let last: { readonly token: string; readonly claims: ActivationClaims } | undefined
          let notice: ApiError | undefined
          // At most two requests carry increments; what is still pending after them waits for the next sync.
          for (let round = 0; ; round++) {
            // Increments an unanswered request carried (this sync's, or an earlier one's that then failed): a
            // request without increments first, whose token says whether they landed.
            if ((yield* Ref.get(doubt)).size > 0) {
              const token = yield* retry(send(new Map()))
              const claims = yield* verify(token)
              const after = usesOf(claims)
              const carried = yield* Ref.get(doubt)
              yield* taken(
                new Map([...carried].filter(([name, n]) => (after.get(name) ?? 0) - (known.get(name) ?? 0) >= n))
              )
              yield* Ref.set(doubt, new Map())
              known = after
              last = { token, claims }
            }
            const sent = yield* Ref.get(meters)
            if (sent.size === 0 || round === 2) {
              if (last !== undefined) return { ...last, notice }
              const token = yield* retry(send(new Map()))
              return { token, claims: yield* verify(token), notice }
            }
            const attempt = yield* Effect.result(send(sent))
            if (attempt._tag === "Success") {
              yield* taken(sent)
              return { token: attempt.success, claims: yield* verify(attempt.success), notice }
            }
            const error = attempt.failure
            if (refusesIncrements(error)) {
              yield* taken(sent)
              notice = error
            } else if (mayHaveLanded(error)) {
              yield* Ref.set(doubt, sent)
            } else {
              const token = yield* retry(send(sent))
              yield* taken(sent)
              return { token, claims: yield* verify(token), notice }
            }
          }
        })

      const deactivate = (facts: LicenseFacts) =>
        facts.kind === "trial"
          ? Effect.void
          : Effect.flatMap(fingerprint.current, (identity) => {
              const id = (facts.claims as ActivationClaims).activationId
              return retry(api.deactivate(id, deactivationBody(id, facts.fingerprint, identity)))
            })

      /** Every operation ends within {@link OperationTimeoutMillis}, retries included; `undefined` when it did not. */
      const bounded = <A>(effect: Effect.Effect<A>): Effect.Effect<A | undefined> =>
        Effect.timeoutOrElse(effect, {
          duration: Duration.millis(OperationTimeoutMillis),
          orElse: () => Effect.succeed(undefined)
        })
      const timedOut = (operation: FailureInfo["operation"]): FailureInfo => ({
        operation,
        kind: "NetworkFailure",
        message: `the ${operation} did not finish within ${OperationTimeoutMillis / 1000} s (retries included)`,
        transient: true
      })

      type OpError = ApiError | ActivationToken.TokenError | { readonly _tag: "FingerprintError"; message: string }
      const asOperation = (
        operation: FailureInfo["operation"],
        effect: Effect.Effect<{ readonly facts: LicenseFacts; readonly notice?: ApiError | undefined }, OpError>,
        previous?: LicenseFacts | undefined
      ): Effect.Effect<OperationResult> =>
        guarded(
          operation,
          Effect.gen(function* () {
            const startedAt = yield* now
            const result = yield* Effect.result(effect).pipe(bounded)
            if (result === undefined) {
              return { type: "failed" as const, failure: timedOut(operation), at: yield* now }
            }
            if (result._tag === "Failure") {
              return { type: "failed" as const, failure: failureFromError(operation, result.failure), at: yield* now }
            }
            const facts = yield* entitled(result.success.facts, previous)
            const { notice } = result.success
            return {
              type: "ok" as const,
              facts,
              at: yield* now,
              startedAt,
              ...(notice !== undefined ? { notice: failureFromError(operation, notice) } : {})
            }
          }),
          failed
        )

      /** An operation's defect (a thrown exception, a bug) becomes a failed result instead of stopping the machine. */
      const internalFailure = (operation: FailureInfo["operation"], cause: Cause.Cause<unknown>): FailureInfo => ({
        operation,
        kind: "InternalError",
        message: `unexpected error: ${String(Cause.squash(cause))}`,
        transient: false
      })
      const guarded = <A>(
        operation: FailureInfo["operation"],
        effect: Effect.Effect<A>,
        onDefect: (failure: FailureInfo, at: number) => A
      ): Effect.Effect<A> =>
        Effect.catchCause(effect, (cause) =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.failCause(cause as Cause.Cause<never>)
            : Effect.map(now, (at) => onDefect(internalFailure(operation, cause), at))
        )
      const failed = (failure: FailureInfo, at: number) => ({ type: "failed" as const, failure, at })

      return LicenseOperations.of({
        load: guarded("load", load, (failure): LoadResult => ({ type: "empty", failure })),
        admit: (record) => guarded("load", admit(record), (failure): LoadResult => ({ type: "empty", failure })),
        read,
        activate: (key, options) => asOperation("activate", activate(key, options)),
        activateTrial: asOperation("activateTrial", activateTrial),
        sync: (facts, options) => asOperation("sync", sync(facts, options), facts),
        reactivate: (facts, options) =>
          asOperation(
            "reactivate",
            Effect.ignore(deactivate(facts)).pipe(Effect.andThen(activate(facts.key ?? "", options))),
            facts
          ),
        deactivate: (facts) =>
          guarded(
            "deactivate",
            Effect.gen(function* (): Effect.fn.Return<DeactivateResult> {
              const result = yield* Effect.result(deactivate(facts)).pipe(bounded)
              const at = yield* now
              if (result === undefined) return { type: "failed", failure: timedOut("deactivate"), at }
              return result._tag === "Success"
                ? { type: "ok" }
                : { type: "failed", failure: failureFromError("deactivate", result.failure), at }
            }),
            failed
          ),
        addMeter: (name, increment) =>
          Ref.update(meters, (pending) => new Map([...pending, [name, (pending.get(name) ?? 0) + increment]])),
        pendingMeters: Ref.get(meters)
      })
    })

  /** The operations as a layer, for programs that take {@link LicenseOperations} from context. */
  static readonly layer = (
    config: LicensingConfig,
    options: LicenseOperationsOptions = {}
  ): Layer.Layer<LicenseOperations, never, LicenseApi | LicenseStore | Fingerprint> =>
    Layer.effect(LicenseOperations, LicenseOperations.make(config, options))
}
