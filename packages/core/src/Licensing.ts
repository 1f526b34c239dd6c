/**
 * The Effect face of the library: a `Licensing` service that runs the lifecycle machine on the current runtime.
 *
 * It provides the machine's invoked actors with Effect programs over `LicenseApi`, `LicenseStore` and
 * `Fingerprint` (each call retried by the {@link RetryPolicy} and stopped on the actor's `AbortSignal`), gives the
 * machine an XState clock made of Effect fibers (so `TestClock` drives every timer), writes the store through one
 * ordered queue (a clear can never be overtaken by an older save), and publishes every change as a
 * {@link LicenseView} on a `SubscriptionRef`.
 *
 * Background work never throws into the application: failures become states, `lastError` and `clearedBecause`.
 * The commands (`activate`, `deactivate`, …) fail with a typed {@link LicensingError} when the operation they
 * asked for failed.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { createActor, fromPromise, type SnapshotFrom } from "xstate"
import * as ActivationToken from "./ActivationToken.ts"
import { Fingerprint, type MachineIdentity } from "./Fingerprint.ts"
import { type ApiError, isTransient, LibraryVersion, LicenseApi } from "./LicenseApi.ts"
import { licenseMachine, nextDeadline } from "./LicenseMachine.ts"
import type {
  ActivateOptions,
  DeactivateResult,
  FailureInfo,
  LicenseContext,
  LicenseFacts,
  LicenseStateName,
  LoadResult,
  MachineActor,
  MachineSnapshot,
  OperationResult
} from "./LicenseModel.ts"
import { LicenseStore, RecordVersion, type StoredRecord } from "./LicenseStore.ts"
import { LicensingError, NotActivated, reasonOf } from "./LicensingError.ts"
import { type LexStatus, type LexStatusName, lexStatus, lexStatusOfFailure } from "./LexStatus.ts"
import {
  type ActivationClaims,
  type ActivationMeterAttribute,
  type ActivationRequest,
  type DeactivationRequest,
  type OrganizationAddress,
  type LicenseMeterAttribute,
  type MetadataEntry,
  MetadataEntry as MetadataEntrySchema,
  type MeterAttributeIncrement,
  type TrialActivationRequest,
  type TrialClaims
} from "./Protocol.ts"
import * as RetryPolicy from "./RetryPolicy.ts"
import type { ValidationStatus } from "./Validation.ts"
import * as XStateClock from "./XStateClock.ts"

export interface LicensingConfig {
  /** The product's id (a GUID on Cryptlex). */
  readonly productId: string
  /** The product's RSA public key, SPKI PEM, from the Cryptlex dashboard. */
  readonly publicKeyPem: string
  readonly appVersion?: string | undefined
  /** The Cryptlex account id (the dashboard shows it): sent in every body (`""` when unset) and as `X-Account-Id`. */
  readonly accountId?: string | undefined
  readonly releaseVersion?: string | undefined
  readonly releasePlatform?: string | undefined
  readonly releaseChannel?: string | undefined
  /** The release's publication time, as the Cryptlex release shows it. */
  readonly releasePublishedAt?: string | undefined
  /** Sent with activations (protocol: key ≤ 256, value ≤ 4096 characters). */
  readonly metadata?: ReadonlyArray<MetadataEntry> | undefined
  /** Sent with trial activations (LexActivator's `SetTrialActivationMetadata`); the token carries it as `amd`. */
  readonly trialMetadata?: ReadonlyArray<MetadataEntry> | undefined
  /** Hosted-floating: the lease the client asks for, in seconds (if the licence allows client lease durations). */
  readonly leaseDuration?: number | undefined
  readonly email?: string | undefined
  readonly password?: string | undefined
  readonly retry?: RetryPolicy.RetryOptions | undefined
  /** Answer a sync that rejects the fingerprint with deactivate-then-activate (off by default). */
  readonly reactivateOnFingerprintRejected?: boolean | undefined
  /** The key to re-activate with when the stored record is unreadable (corrupt, foreign, forged). */
  readonly licenseKey?: string | undefined
}

/** A configuration the library cannot work with: says which option, what was expected and what came. */
export class LicensingConfigError extends Schema.TaggedError<LicensingConfigError>()("LicensingConfigError", {
  message: Schema.String
}) {}

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** What a configuration must look like; options other than these (the platform's) pass through unchecked. */
const LicensingConfigSchema = Schema.Struct({
  productId: Schema.NonEmptyString,
  publicKeyPem: Schema.String.check(
    Schema.isPattern(/-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/, {
      expected: "an RSA public key as SPKI PEM (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----)"
    })
  ),
  appVersion: Schema.optional(Schema.String),
  accountId: Schema.optional(Schema.String),
  releaseVersion: Schema.optional(Schema.String),
  releasePlatform: Schema.optional(Schema.String),
  releaseChannel: Schema.optional(Schema.String),
  releasePublishedAt: Schema.optional(Schema.String),
  metadata: Schema.optional(Schema.Array(MetadataEntrySchema)),
  trialMetadata: Schema.optional(Schema.Array(MetadataEntrySchema)),
  leaseDuration: Schema.optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(-1))),
  email: Schema.optional(Schema.String),
  password: Schema.optional(Schema.String),
  licenseKey: Schema.optional(Schema.NonEmptyString),
  reactivateOnFingerprintRejected: Schema.optional(Schema.Boolean),
  retry: Schema.optional(
    Schema.Struct({
      base: Schema.optional(Schema.Unknown),
      cap: Schema.optional(Schema.Unknown),
      retries: Schema.optional(NonNegativeInt)
    })
  )
})

/** `rsaEncryption` (1.2.840.113549.1.1.1) with NULL parameters: the AlgorithmIdentifier of an RSA SPKI key. */
const RsaAlgorithmIdentifier = [
  0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00
]

/**
 * Reads the PEM's body far enough to know it is an RSA SubjectPublicKeyInfo: Base64 that decodes to one DER
 * SEQUENCE of exactly its stated length, starting with the rsaEncryption AlgorithmIdentifier. Synchronous, so
 * `createLicensing` can refuse a garbled key before anything starts; jose checks the key itself on first use.
 * Returns what is wrong, or `undefined`.
 */
export const publicKeyProblem = (pem: string): string | undefined => {
  const body = /-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----/.exec(pem)?.[1]?.replace(/\s+/g, "")
  if (body === undefined) return undefined // the schema's pattern says this one
  if (body.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) {
    return "publicKeyPem: expected Base64 between the PEM lines, got characters Base64 does not use (or a cut body)"
  }
  const der = Uint8Array.from(atob(body), (c) => c.charCodeAt(0))
  let length = der[1] ?? 0
  let header = 2
  if (length & 0x80) {
    const bytes = length & 0x7f
    length = 0
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[2 + i] ?? 0)
    header = 2 + bytes
  }
  if (der[0] !== 0x30 || header + length !== der.length) {
    return `publicKeyPem: expected one DER SEQUENCE (a SubjectPublicKeyInfo), got ${der.length} bytes that are not one`
  }
  if (!RsaAlgorithmIdentifier.every((byte, i) => der[header + i] === byte)) {
    return "publicKeyPem: expected an RSA key (rsaEncryption), got a SubjectPublicKeyInfo for another algorithm"
  }
  if (der.length < 250) return `publicKeyPem: expected an RSA key of at least 2048 bits, got ${der.length} bytes of key`
  return undefined
}

/** Checks a configuration before anything starts; a wrong option is one typed error, never a later surprise. */
export const checkConfig = <C extends LicensingConfig>(config: C): Result.Result<C, LicensingConfigError> => {
  const result = Schema.decodeUnknownResult(LicensingConfigSchema)(config)
  if (Result.isSuccess(result)) {
    const keyProblem = publicKeyProblem(config.publicKeyPem)
    return keyProblem === undefined
      ? Result.succeed(config)
      : Result.fail(new LicensingConfigError({ message: `invalid licensing configuration: ${keyProblem}` }))
  }
  const message = result.failure.message
  return Result.fail(
    new LicensingConfigError({ message: `invalid licensing configuration: ${message}, got ${cameAt(config, message)}` })
  )
}

/** What the configuration holds at the path a schema message names (`at ["metadata"][0]["key"]`), shortened. */
const cameAt = (config: unknown, message: string): string => {
  const path = /at ((?:\[[^\]]+\])+)/.exec(message)?.[1] ?? ""
  let value: unknown = config
  for (const match of path.matchAll(/\[("?)([^"\]]*)\1\]/g)) {
    const segment = match[2] ?? ""
    value = value === null || typeof value !== "object" ? undefined : (value as Record<string, unknown>)[segment]
  }
  const text = value === undefined ? "nothing" : JSON.stringify(value)
  return text.length > 60 ? `${text.slice(0, 57)}…` : text
}

/** Readable licence details from the current token. */
export interface LicenseDetails {
  readonly kind: "activation" | "trial"
  readonly key: string | undefined
  readonly activationId: string
  readonly licenseId: string | undefined
  readonly type: ActivationClaims["licenseType"] | "trial"
  /** Epoch ms, `undefined` for a licence that never expires. */
  readonly expiresAt: number | undefined
  /** Epoch ms, `undefined` when the grace is unlimited. */
  readonly graceExpiresAt: number | undefined
  readonly leaseExpiresAt: number | undefined
  readonly leaseDuration: number | undefined
  readonly serverSyncInterval: number
  readonly issuedAt: number
  readonly lastSyncedAt: number
  readonly suspended: boolean
  readonly productMetadata: ReadonlyArray<MetadataEntry>
  readonly licenseMetadata: ReadonlyArray<MetadataEntry>
  readonly userMetadata: ReadonlyArray<MetadataEntry>
  readonly activationMetadata: ReadonlyArray<MetadataEntry>
  readonly licenseMeterAttributes: ReadonlyArray<LicenseMeterAttribute>
  readonly activationMeterAttributes: ReadonlyArray<ActivationMeterAttribute>
  readonly user: { readonly name?: string; readonly email?: string; readonly company?: string }
  /** Seats: `aa`/`ta`, and deactivations `ad`/`td` (−1 unlimited), when the token carries them. */
  readonly allowedActivations: number | undefined
  readonly totalActivations: number | undefined
  readonly allowedDeactivations: number | undefined
  readonly totalDeactivations: number | undefined
  /** Epoch ms: the licence's creation and first activation, this activation's creation, maintenance expiry. */
  readonly licenseCreatedAt: number | undefined
  readonly licenseActivatedAt: number | undefined
  readonly activationCreatedAt: number | undefined
  readonly maintenanceExpiresAt: number | undefined
  /** The highest release version the licence allows (`marv`). */
  readonly maxAllowedReleaseVersion: string | undefined
  /** The OS-user lock (`ul`) and the user hash it binds to (`uh`). */
  readonly userLocked: boolean
  /** Hosted-floating: how many clients may hold a lease at once (`fc`). */
  readonly floatingClients: number | undefined
  readonly leasingStrategy: string | undefined
  /** LexActivator's `GetLicenseOrganizationName` / `…Address` (`on`, `oa`: an address object, or a string). */
  readonly organization: { readonly name?: string; readonly address?: OrganizationAddress | string }
}

/** One observable moment of the licence. */
export interface LicenseView {
  readonly state: LicenseStateName
  /** True when the machine waits for a timer or a command rather than for I/O. */
  readonly settled: boolean
  /** The application may run: LexActivator's `LA_OK` (active, in grace, syncing, or an active trial). */
  readonly licensed: boolean
  readonly validation: ValidationStatus | undefined
  readonly status: LexStatus
  readonly lastError: FailureInfo | undefined
  readonly clearedBecause: FailureInfo | undefined
  /** False when the last write of the licence record failed: the licence holds now, but not across a restart. */
  readonly persisted: boolean
  /** What the failed write said (errno, call, path), until a later write lands. */
  readonly storeError: string | undefined
  readonly nextSyncAt: number | undefined
  readonly nextDeadline: number | undefined
  readonly license: LicenseDetails | undefined
}

export { LicensingError } from "./LicensingError.ts"

export type { ActivateOptions }

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
  next.lastSeenAt >= previous.lastSeenAt &&
  next.lastSeenAt - previous.lastSeenAt < LastSeenPersistMillis

/**
 * DECISION: the longest one operation (an activation, a sync, a deactivation, with its retries) may take before it
 * ends as a transient network failure: two minutes. The per-request timeout is 30 s (LicenseApi), so this is a
 * few attempts; a server that never answers then costs one bounded operation, and the machine goes on (grace,
 * the next sync) instead of waiting forever.
 */
export const OperationTimeoutMillis = 2 * 60 * 1000

export interface LicensingService {
  readonly activate: (key: string, options?: ActivateOptions) => Effect.Effect<LicenseView, LicensingError>
  readonly activateTrial: Effect.Effect<LicenseView, LicensingError>
  readonly deactivate: Effect.Effect<LicenseView, LicensingError>
  readonly sync: Effect.Effect<LicenseView, LicensingError>
  /** Re-evaluates offline (no network) and returns the result. */
  readonly check: Effect.Effect<LicenseView>
  /** Adds to an activation meter attribute; sent with the next sync, which this starts. */
  readonly incrementMeter: (name: string, increment: number) => Effect.Effect<LicenseView, LicensingError>
  readonly current: Effect.Effect<LicenseView>
  readonly license: Effect.Effect<LicenseDetails | undefined>
  /** Every change, starting with the current view. */
  readonly changes: Stream.Stream<LicenseView>
  /** The same stream as `changes`, under the name the design uses. */
  readonly state: Stream.Stream<LicenseView>
  readonly ref: SubscriptionRef.SubscriptionRef<LicenseView>
  /** Resolves once every queued store write has landed. */
  readonly flush: Effect.Effect<void>
  /** The running actor, for inspection (chart, inspector). */
  readonly actor: MachineActor
}

const isSettled = (snapshot: MachineSnapshot) => snapshot.hasTag("settled")

const definedOnly = <A extends object>(a: A): Partial<A> =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Partial<A>

const toMillis = (seconds: number) => (seconds === 0 ? undefined : seconds * 1000)

export const detailsOf = (facts: LicenseFacts): LicenseDetails => {
  const c = facts.claims
  const trial = facts.kind === "trial"
  const a = c as ActivationClaims
  const t = c as TrialClaims
  return {
    kind: facts.kind,
    key: facts.key,
    activationId: trial ? t.trialActivationId : a.activationId,
    licenseId: trial ? undefined : a.licenseId,
    type: trial ? "trial" : a.licenseType,
    expiresAt: toMillis(c.expiresAt),
    graceExpiresAt: c.serverSyncInterval === 0 ? undefined : toMillis(c.serverSyncGraceExpiresAt),
    leaseExpiresAt: trial ? undefined : toMillis(a.leaseExpiresAt),
    leaseDuration: trial || a.leaseDuration === 0 ? undefined : a.leaseDuration,
    serverSyncInterval: c.serverSyncInterval,
    issuedAt: c.issuedAt * 1000,
    lastSyncedAt: facts.lastSyncedAt,
    suspended: trial ? false : a.suspended,
    productMetadata: c.productMetadata,
    licenseMetadata: trial ? [] : a.licenseMetadata,
    userMetadata: trial ? [] : a.userMetadata,
    activationMetadata: trial ? t.trialMetadata : a.activationMetadata,
    licenseMeterAttributes: trial ? [] : a.licenseMeterAttributes,
    activationMeterAttributes: trial ? [] : a.activationMeterAttributes,
    user: trial
      ? {}
      : {
          ...(a.userName !== undefined ? { name: a.userName } : {}),
          ...(a.userEmail !== undefined ? { email: a.userEmail } : {}),
          ...(a.userCompany !== undefined ? { company: a.userCompany } : {})
        },
    allowedActivations: trial ? undefined : a.allowedActivations,
    totalActivations: trial ? undefined : a.totalActivations,
    allowedDeactivations: trial ? undefined : a.allowedDeactivations,
    totalDeactivations: trial ? undefined : a.totalDeactivations,
    licenseCreatedAt: trial ? undefined : toMillis(a.licenseCreatedAt ?? 0),
    licenseActivatedAt: trial ? undefined : toMillis(a.licenseActivatedAt ?? 0),
    activationCreatedAt: trial ? undefined : toMillis(a.activationCreatedAt ?? 0),
    maintenanceExpiresAt: trial ? undefined : toMillis(a.maintenanceExpiresAt ?? 0),
    maxAllowedReleaseVersion: trial ? undefined : a.maxAllowedReleaseVersion,
    userLocked: (trial ? t.userLocked : a.userLocked) === true,
    floatingClients: trial ? undefined : a.floatingClients,
    leasingStrategy: trial ? undefined : a.leasingStrategy,
    organization: trial
      ? {}
      : {
          ...(a.organizationName !== undefined ? { name: a.organizationName } : {}),
          ...(a.organizationAddress !== undefined ? { address: a.organizationAddress } : {})
        }
  }
}

/** LexActivator's answer for each validation outcome (protocol §2, §3). */
const lexOfValidation: Record<ValidationStatus, LexStatusName> = {
  ok: "LA_OK",
  expired: "LA_EXPIRED",
  suspended: "LA_SUSPENDED",
  graceOver: "LA_GRACE_PERIOD_OVER",
  leaseLapsed: "LA_FAIL",
  clockBehindServer: "LA_E_TIME",
  clockRolledBack: "LA_E_TIME_MODIFIED",
  wrongProduct: "LA_FAIL",
  wrongKey: "LA_FAIL",
  fingerprintMismatch: "LA_E_MACHINE_FINGERPRINT"
}

/** The state's LexActivator status: the last validation's, except where the state itself says more. */
const statusOf = (state: LicenseStateName, context: LicenseContext): LexStatus => {
  switch (state) {
    case "trialExpired":
      return lexStatus("LA_TRIAL_EXPIRED")
    case "revoked":
      return lexStatus("LA_E_REVOKED")
    case "fingerprintMismatch":
      return lexStatus("LA_E_MACHINE_FINGERPRINT")
    case "unactivated": {
      const why = context.clearedBecause
      return why === undefined ? lexStatus("LA_FAIL") : lexStatus(lexStatusOfFailure(why))
    }
    default:
      return lexStatus(context.status === undefined ? "LA_FAIL" : lexOfValidation[context.status])
  }
}

/** The leaf state a snapshot's value names (every leaf name is unique in the machine). */
export const stateOf = (value: unknown): LicenseStateName => {
  let v = value
  while (typeof v === "object" && v !== null) v = Object.values(v)[0]
  return v as LicenseStateName
}

export const viewOf = (snapshot: MachineSnapshot): LicenseView => {
  const state = stateOf(snapshot.value)
  const context = snapshot.context
  const status = statusOf(state, context)
  return {
    state,
    settled: isSettled(snapshot),
    licensed: status.code === 0 && context.facts !== undefined,
    validation: context.status,
    status,
    lastError: context.lastError,
    clearedBecause: context.clearedBecause,
    persisted: context.storeError === undefined,
    storeError: context.storeError,
    nextSyncAt: context.syncHalted ? undefined : context.nextSyncAt,
    nextDeadline: nextDeadline(context),
    license: context.facts === undefined ? undefined : detailsOf(context.facts)
  }
}

const failureFromApi = (operation: FailureInfo["operation"], error: ApiError): FailureInfo => {
  const r = error.reason
  return {
    operation,
    kind: r._tag,
    ...("code" in r ? { code: r.code } : {}),
    message: r.message,
    transient: isTransient(error),
    ...(r._tag === "RateLimited" && r.retryAfterSeconds !== undefined
      ? { retryAfterMillis: r.retryAfterSeconds * 1000 }
      : {})
  }
}

const failureFromError = (
  operation: FailureInfo["operation"],
  error: ApiError | ActivationToken.TokenError | { readonly _tag: "FingerprintError"; readonly message: string }
): FailureInfo => {
  switch (error._tag) {
    case "ApiError":
      return failureFromApi(operation, error)
    case "TokenError":
      // Only a verified, server-coded refusal may clear a stored activation: a sync answer whose token fails
      // verification (garbage, another signer, another machine's) is a server fault, retried under grace.
      if (operation === "sync") {
        return { operation, kind: "TokenRejected", code: error.reason, message: error.message, transient: true }
      }
      return {
        operation,
        kind: error.reason === "wrongFingerprint" ? "FingerprintFailure" : "TokenRejected",
        code: error.reason,
        message: error.message,
        transient: false
      }
    default:
      // The machine's own fingerprint failing to read during a sync is no reason to drop the activation either.
      return { operation, kind: "FingerprintFailure", message: error.message, transient: operation === "sync" }
  }
}

export class Licensing extends Context.Service<Licensing, LicensingService>()("@licensure/core/Licensing") {
  /** Starts a client for one product; closing the layer's scope stops it (timers, I/O in flight). */
  static readonly make = (
    config: LicensingConfig
  ): Effect.Effect<LicensingService, never, LicenseApi | LicenseStore | Fingerprint | Scope.Scope> =>
    Effect.gen(function* () {
      const api = yield* LicenseApi
      const store = yield* LicenseStore
      const fingerprint = yield* Fingerprint
      const clock = yield* XStateClock.make
      const runPromise = yield* FiberSet.makeRuntimePromise<never, unknown, never>()
      const runFork = yield* FiberSet.makeRuntime<never, unknown, never>()
      const retry = RetryPolicy.retrying(config.retry)
      const now = Clock.currentTimeMillis
      const pendingMeters = new Map<string, number>()

      // One ordered queue for every store write: a clear is never overtaken by an older save.
      const writes = yield* Queue.unbounded<Effect.Effect<void>>()
      yield* Effect.forkScoped(Effect.forever(Effect.flatten(Queue.take(writes))))
      const enqueue = (write: Effect.Effect<void>) => {
        Queue.offerUnsafe(writes, write)
      }
      const flush = Effect.gen(function* () {
        const done = yield* Deferred.make<void>()
        enqueue(Deferred.succeed(done, undefined).pipe(Effect.asVoid))
        yield* Deferred.await(done)
      })

      // How store writes went reaches the machine (and so every view) once the actor exists.
      let reportStore: (error: string | undefined) => void = () => {}
      /**
       * A write is tried three times (0.2 s, 0.4 s apart on Effect's clock); if it still fails, the view says so
       * (`persisted: false`, `storeError`) until a later write lands, and a warning is logged. Each evaluation
       * (every wake-up, sync and command) writes the record again, so the save keeps being retried.
       */
      /** The record last handed to the write queue, or its clearing; see {@link unchangedButSeen}. */
      let lastQueued: StoredRecord | "cleared" | undefined
      /** A failed write is retried by the next evaluation, whatever it changed. */
      const retryNextTime = Effect.sync(() => {
        if (actor.getSnapshot().context.storeError !== undefined) lastQueued = undefined
      })
      const clear = () => {
        lastQueued = "cleared"
        enqueue(store.clear.pipe(storeErrors("clear"), Effect.tap(retryNextTime)))
      }
      const storeErrors =
        (what: string) =>
        <R>(write: Effect.Effect<void, { readonly message: string }, R>) =>
          write.pipe(
            Effect.retry({ schedule: Schedule.exponential("200 millis"), times: 2 }),
            Effect.matchEffect({
              onSuccess: () => Effect.sync(() => reportStore(undefined)),
              onFailure: (error) =>
                Effect.logWarning(`licensure: could not ${what} the licence record: ${error.message}`).pipe(
                  Effect.andThen(
                    Effect.sync(() => reportStore(`could not ${what} the licence record: ${error.message}`))
                  )
                )
            })
          )

      /** What every request says about this machine and the application (activation and trial alike). */
      const machineFields = (fp: string, identity: MachineIdentity) => ({
        accountId: config.accountId ?? "",
        clientVersion: `licensure/${LibraryVersion}`,
        productId: config.productId,
        fingerprint: fp,
        hostname: identity.hostname,
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
        options: ActivateOptions
      ): ActivationRequest => {
        const settings = { ...config, ...definedOnly(options) }
        const meters: Array<MeterAttributeIncrement> = [...pendingMeters].map(([name, usesIncrement]) => ({
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
        components: fp === identity.fingerprint ? identity.components : (previous?.components ?? identity.components)
      })

      const load = Effect.gen(function* (): Effect.fn.Return<LoadResult> {
        const loaded = yield* Effect.result(store.load)
        if (loaded._tag === "Failure") {
          return {
            type: "empty",
            failure: { operation: "load", kind: "StoreFailure", message: loaded.failure.message, transient: false }
          }
        }
        if (Option.isNone(loaded.success)) return { type: "empty" }
        const record = loaded.success.value
        const identity = yield* Effect.result(fingerprint.current)
        if (identity._tag === "Failure") {
          return { type: "empty", failure: failureFromError("load", identity.failure) }
        }
        const verified =
          record.kind === "trial"
            ? yield* Effect.result(
                ActivationToken.verifyTrial(record.token, config.publicKeyPem, { productId: config.productId })
              )
            : yield* Effect.result(
                ActivationToken.verify(record.token, config.publicKeyPem, {
                  productId: config.productId,
                  key: record.key
                })
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
        return {
          type: "loaded",
          facts: {
            kind: record.kind,
            token: record.token,
            key: record.key,
            claims: verified.success,
            lastSyncedAt: record.lastSyncedAt,
            lastSeenAt: record.lastSeenAt,
            fingerprint: answersTo,
            components: record.components
          }
        }
      })

      const activate = (key: string, options: ActivateOptions) =>
        Effect.gen(function* () {
          const identity = yield* fingerprint.current
          const token = yield* retry(api.activate(activationBody(key, identity.fingerprint, identity, options)))
          const claims = yield* ActivationToken.verify(token, config.publicKeyPem, {
            productId: config.productId,
            key,
            fingerprint: identity.fingerprint
          })
          const at = yield* now
          pendingMeters.clear()
          return factsFrom("activation", token, claims, identity, identity.fingerprint, at, undefined, key)
        })

      const activateTrial = Effect.gen(function* () {
        const identity = yield* fingerprint.current
        const token = yield* retry(api.activateTrial(trialBody(identity.fingerprint, identity)))
        const claims = yield* ActivationToken.verifyTrial(token, config.publicKeyPem, {
          productId: config.productId,
          fingerprint: identity.fingerprint
        })
        const at = yield* now
        return factsFrom("trial", token, claims, identity, identity.fingerprint, at, undefined, undefined)
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
            })
            const at = yield* now
            return factsFrom("trial", token, claims, identity, facts.fingerprint, at, facts, undefined)
          }
          const claims0 = facts.claims as ActivationClaims
          const key = facts.key ?? claims0.key
          const sent = new Map(pendingMeters)
          const token = yield* retry(
            api.sync(claims0.activationId, activationBody(key, facts.fingerprint, identity, options))
          )
          const claims = yield* ActivationToken.verify(token, config.publicKeyPem, {
            productId: config.productId,
            key,
            fingerprint: facts.fingerprint
          })
          for (const [name, n] of sent) {
            const left = (pendingMeters.get(name) ?? 0) - n
            if (left === 0) pendingMeters.delete(name)
            else pendingMeters.set(name, left)
          }
          const at = yield* now
          return factsFrom("activation", token, claims, identity, facts.fingerprint, at, facts, key)
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
        effect: Effect.Effect<LicenseFacts, OpError>
      ): Effect.Effect<OperationResult> =>
        guarded(
          operation,
          Effect.gen(function* () {
            const startedAt = yield* now
            const result = yield* Effect.result(effect).pipe(bounded)
            const at = yield* now
            if (result === undefined) return { type: "failed" as const, failure: timedOut(operation), at }
            return result._tag === "Success"
              ? { type: "ok" as const, facts: result.success, at, startedAt }
              : { type: "failed" as const, failure: failureFromError(operation, result.failure), at }
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

      const machine = licenseMachine.provide({
        actors: {
          load: fromPromise(({ signal }) =>
            runPromise(
              guarded("load", load, (failure): LoadResult => ({ type: "empty", failure })),
              { signal }
            )
          ),
          activate: fromPromise(({ input, signal }) =>
            runPromise(asOperation("activate", activate(input.key, input.options)), { signal })
          ),
          activateTrial: fromPromise(({ signal }) =>
            runPromise(asOperation("activateTrial", activateTrial), { signal })
          ),
          sync: fromPromise(({ input, signal }) =>
            runPromise(asOperation("sync", sync(input.facts, input.options)), { signal })
          ),
          reactivate: fromPromise(({ input, signal }) =>
            runPromise(
              asOperation(
                "reactivate",
                Effect.ignore(deactivate(input.facts)).pipe(
                  Effect.andThen(activate(input.facts.key ?? "", input.options))
                )
              ),
              { signal }
            )
          ),
          deactivate: fromPromise(({ input, signal }) =>
            runPromise(
              guarded(
                "deactivate",
                Effect.gen(function* (): Effect.fn.Return<DeactivateResult> {
                  const result = yield* Effect.result(deactivate(input.facts)).pipe(bounded)
                  const at = yield* now
                  if (result === undefined) return { type: "failed", failure: timedOut("deactivate"), at }
                  return result._tag === "Success"
                    ? { type: "ok" }
                    : { type: "failed", failure: failureFromError("deactivate", result.failure), at }
                }),
                failed
              ),
              { signal }
            )
          )
        },
        actions: {
          persist: ({ context }) => {
            const facts = context.facts
            if (facts === undefined) {
              // The activation was dropped: the record goes too (once; a failed clear is tried again).
              if (lastQueued !== "cleared") clear()
              return
            }
            const record: StoredRecord = {
              version: RecordVersion,
              productId: config.productId,
              kind: facts.kind,
              ...(facts.key !== undefined ? { key: facts.key } : {}),
              token: facts.token,
              fingerprint: facts.fingerprint,
              components: facts.components,
              lastSeenAt: facts.lastSeenAt,
              lastSyncedAt: facts.lastSyncedAt
            }
            if (lastQueued !== "cleared" && unchangedButSeen(lastQueued, record)) return
            lastQueued = record
            enqueue(store.save(record).pipe(storeErrors("save"), Effect.tap(retryNextTime)))
          },
          clearStore: () => clear()
        }
      })

      const actor = createActor(machine, {
        clock,
        input: {
          productId: config.productId,
          now: clock.now,
          monotonicNow: clock.monotonicNow,
          reactivateOnFingerprintRejected: config.reactivateOnFingerprintRejected,
          licenseKey: config.licenseKey
        }
      })

      const ref = yield* SubscriptionRef.make(viewOf(actor.getSnapshot()))
      // Only distinct views are published: an event that changes nothing a view shows (a repeated CHECK, a store
      // write that went as before) is no change to a subscriber.
      let published = JSON.stringify(viewOf(actor.getSnapshot()))
      const subscription = actor.subscribe({
        next: (snapshot) => {
          const view = viewOf(snapshot)
          const text = JSON.stringify(view)
          if (text === published) return
          published = text
          runFork(SubscriptionRef.set(ref, view))
        },
        error: (error) => {
          runFork(Effect.logError("licensure: the licence machine stopped on an error", error))
        }
      })
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          subscription.unsubscribe()
          actor.stop()
        })
      )
      reportStore = (error) => {
        if (actor.getSnapshot().context.storeError !== error) actor.send({ type: "STORE_RESULT", error })
      }
      actor.start()

      /** Sends (optionally) and waits until the snapshot satisfies `done`; answers at once when it already does. */
      /**
       * Sends (when given) and waits until a snapshot satisfies `done`; without a send, answers at once when the
       * current snapshot already does.
       *
       * After a send, only snapshots newer than the one before it count. A command may be sent from inside the
       * actor's own notification (an Effect continuation resumed by a subscriber runs synchronously there): the
       * event then waits in XState's mailbox, and the snapshot being announced (seen also by a subscriber added
       * during the announcement) is the old one, which must not answer the command.
       */
      const until = (done: (snapshot: SnapshotFrom<typeof licenseMachine>) => boolean, send?: () => void) =>
        Effect.callback<LicenseView>((resume) => {
          let finished = false
          const finish = (snapshot: SnapshotFrom<typeof licenseMachine>) => {
            if (finished) return
            finished = true
            sub.unsubscribe()
            resume(Effect.succeed(viewOf(snapshot)))
          }
          const before = actor.getSnapshot()
          const sub = actor.subscribe((snapshot) => {
            if ((send === undefined || snapshot !== before) && done(snapshot)) finish(snapshot)
          })
          if (send === undefined) {
            if (done(before)) finish(before)
          } else {
            send()
          }
          return Effect.sync(() => sub.unsubscribe())
        })

      /** Waits until the machine settles after `send`, then lands the store writes. */
      const command = (send: () => void) =>
        until(isSettled, send).pipe(
          Effect.tap(() => flush),
          // The writes have landed (or failed): the answer says which.
          Effect.map((view) => {
            const { storeError } = actor.getSnapshot().context
            return { ...view, persisted: storeError === undefined, storeError }
          })
        )

      /**
       * Nothing another command started is in flight: settled, or syncing in the background (a background sync
       * never holds a command back: the machine handles every command while it runs).
       */
      const ready = until((snapshot) => snapshot.matches("ready"))
      /** The stored record has been read (a local, time-bounded read at start-up). */
      const loaded = until((snapshot) => !snapshot.matches("loading"))

      const failIfNew =
        (operation: string, before: FailureInfo | undefined) =>
        (view: LicenseView): Effect.Effect<LicenseView, LicensingError> => {
          const error = view.lastError
          if (error === undefined || error === before || (error.operation !== operation && operation !== "any")) {
            return Effect.succeed(view)
          }
          return Effect.fail(
            new LicensingError({
              operation: error.operation,
              reason: reasonOf(error),
              kind: error.kind,
              ...(error.code !== undefined ? { code: error.code } : {}),
              message: error.message,
              status: lexStatus(lexStatusOfFailure(error)),
              state: view.state
            })
          )
        }

      const run = (operation: string, event: Parameters<typeof actor.send>[0]) =>
        Effect.gen(function* () {
          yield* ready
          const before = actor.getSnapshot().context.lastError
          const view = yield* command(() => actor.send(event))
          return yield* failIfNew(operation, before)(view)
        })

      /** A command that needs an activation: refused with `NotActivated` rather than silently ignored. */
      const requireActivation = (operation: "deactivate" | "sync", event: Parameters<typeof actor.send>[0]) =>
        Effect.gen(function* () {
          yield* ready
          if (actor.getSnapshot().context.facts === undefined) {
            const message = `there is no activation on this machine to ${operation}`
            return yield* new LicensingError({
              operation,
              reason: new NotActivated({ message }),
              kind: "NotActivated",
              message,
              status: lexStatus("LA_FAIL"),
              state: stateOf(actor.getSnapshot().value)
            })
          }
          return yield* run(operation, event)
        })

      return {
        activate: (key: string, options?: ActivateOptions) =>
          run("activate", { type: "ACTIVATE", key, options: options ?? {} }),
        activateTrial: run("activateTrial", { type: "ACTIVATE_TRIAL" }),
        deactivate: requireActivation("deactivate", { type: "DEACTIVATE" }),
        sync: requireActivation("sync", { type: "SYNC" }),
        // Answers at once from the facts at hand, also while a sync is in flight (the machine re-evaluates then
        // without leaving the sync).
        check: Effect.gen(function* () {
          yield* loaded
          actor.send({ type: "CHECK" })
          return viewOf(actor.getSnapshot())
        }),
        incrementMeter: (name: string, increment: number) =>
          Effect.gen(function* () {
            pendingMeters.set(name, (pendingMeters.get(name) ?? 0) + increment)
            yield* ready
            return yield* run("sync", { type: "SYNC" })
          }),
        current: Effect.sync(() => viewOf(actor.getSnapshot())),
        license: Effect.sync(() => {
          const facts = actor.getSnapshot().context.facts
          return facts === undefined ? undefined : detailsOf(facts)
        }),
        changes: SubscriptionRef.changes(ref),
        state: SubscriptionRef.changes(ref),
        ref,
        flush,
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
