/**
 * The representative data the model feeds the licence machine: one fixed clock, licence facts whose claims make
 * the pure validation return each status it knows (plus one whose sync is due), and one failure per class the
 * machine tells apart after a failed operation. Each variant's `token` is its name, so a snapshot's facts can be
 * named in a state key without serialising the claims.
 */
import type { FailureInfo, LicenseFacts, MachineConfig, SyncFailureClass } from "@licensure/core/LicenseMachine"
import type { ActivationClaims, TrialClaims } from "@licensure/core/Protocol"
import type { ValidationStatus } from "@licensure/core/Validation"

/** The one instant the whole model lives at (epoch ms); the machine reads time only through `config.now`. */
export const FixedNow = 1_800_000_000_000
const nowSeconds = FixedNow / 1000
const hour = 3600
const day = 24 * hour

export const ProductId = "prod-model"
export const LicenseKey = "KEY-MODEL-1"
const Fingerprint = "f".repeat(64)
/** The OS user the model runs as (its hash), and the release the model's application is. */
export const UserHash = "a1".repeat(32)
export const RunningRelease = { version: "2.0" } as const

/** The `true` run also knows the licence key, so the recovery from an unreadable store is reachable in it. */
export const configFor = (reactivateOnFingerprintRejected: boolean): MachineConfig => ({
  productId: ProductId,
  now: () => FixedNow,
  // The application's release: only the facts with a lower `marv` refuse it.
  release: RunningRelease,
  reactivateOnFingerprintRejected,
  ...(reactivateOnFingerprintRejected ? { licenseKey: LicenseKey } : {})
})

const activationClaims = (overrides: Partial<ActivationClaims>): ActivationClaims => ({
  activationId: "act-model",
  licenseId: "lic-model",
  productId: ProductId,
  key: LicenseKey,
  fingerprint: Fingerprint,
  licenseType: "node-locked",
  issuedAt: nowSeconds - 60,
  expiresAt: nowSeconds + 30 * day,
  serverSyncInterval: hour,
  serverSyncGraceExpiresAt: nowSeconds + 7 * day,
  allowedClockOffset: 0,
  leaseExpiresAt: 0,
  leaseDuration: 0,
  suspended: false,
  productMetadata: [],
  licenseMetadata: [],
  userMetadata: [],
  activationMetadata: [],
  licenseMeterAttributes: [],
  activationMeterAttributes: [],
  ...overrides
})

const trialClaims = (overrides: Partial<TrialClaims>): TrialClaims => ({
  trialActivationId: "trial-model",
  productId: ProductId,
  fingerprint: Fingerprint,
  issuedAt: nowSeconds - 60,
  expiresAt: nowSeconds + 14 * day,
  serverSyncInterval: hour,
  serverSyncGraceExpiresAt: nowSeconds + 7 * day,
  allowedClockOffset: 0,
  productMetadata: [],
  trialMetadata: [],
  ...overrides
})

interface FactsShape {
  readonly claims: ActivationClaims | TrialClaims
  readonly lastSyncedAt?: number
  readonly lastSeenAt?: number
}

const facts = (name: string, kind: LicenseFacts["kind"], shape: FactsShape): LicenseFacts => ({
  kind,
  token: name,
  key: kind === "activation" ? LicenseKey : undefined,
  claims: shape.claims,
  lastSyncedAt: shape.lastSyncedAt ?? FixedNow - 60_000,
  lastSeenAt: shape.lastSeenAt ?? FixedNow - 60_000,
  fingerprint: Fingerprint,
  components: [],
  userHash: UserHash
})

export interface FactsVariant {
  readonly facts: LicenseFacts
  /** What `validate` must say about these facts at {@link FixedNow}. */
  readonly status: ValidationStatus
  /** Whether the next sync is already due when the facts are adopted. */
  readonly syncDue: boolean
}

const variant = (
  name: string,
  kind: LicenseFacts["kind"],
  shape: FactsShape,
  status: ValidationStatus,
  syncDue = false
): FactsVariant => ({ facts: facts(name, kind, shape), status, syncDue })

export const ActivationVariants: ReadonlyArray<FactsVariant> = [
  variant("ok", "activation", { claims: activationClaims({}) }, "ok"),
  variant(
    "syncDue",
    "activation",
    { claims: activationClaims({}), lastSyncedAt: FixedNow - 2 * hour * 1000 },
    "ok",
    true
  ),
  variant("expired", "activation", { claims: activationClaims({ expiresAt: nowSeconds - hour }) }, "expired"),
  variant("suspended", "activation", { claims: activationClaims({ suspended: true }) }, "suspended"),
  variant(
    "graceOver",
    "activation",
    { claims: activationClaims({ serverSyncGraceExpiresAt: nowSeconds - 60 }) },
    "graceOver"
  ),
  variant(
    "leaseLapsed",
    "activation",
    { claims: activationClaims({ leaseExpiresAt: nowSeconds - 60 }) },
    "leaseLapsed",
    true
  ),
  variant(
    "clockBehind",
    "activation",
    { claims: activationClaims({ issuedAt: nowSeconds + hour }) },
    "clockBehindServer"
  ),
  variant(
    "clockRolledBack",
    "activation",
    { claims: activationClaims({}), lastSeenAt: FixedNow + 2 * hour * 1000 },
    "clockRolledBack"
  ),
  variant("wrongProduct", "activation", { claims: activationClaims({ productId: "another-product" }) }, "wrongProduct"),
  variant("wrongKey", "activation", { claims: activationClaims({ key: "KEY-SOMEONE-ELSE" }) }, "wrongKey"),
  variant(
    "fingerprintMismatch",
    "activation",
    { claims: activationClaims({ fingerprint: "e".repeat(64) }) },
    "fingerprintMismatch"
  ),
  variant(
    "osUserMismatch",
    "activation",
    { claims: activationClaims({ userLocked: true, userHash: "b2".repeat(32) }) },
    "osUserMismatch"
  ),
  variant(
    "releaseNotAllowed",
    "activation",
    { claims: activationClaims({ maxAllowedReleaseVersion: "1.9" }) },
    "releaseNotAllowed"
  )
]

export const TrialVariants: ReadonlyArray<FactsVariant> = [
  variant("trialOk", "trial", { claims: trialClaims({}) }, "ok"),
  variant("trialExpired", "trial", { claims: trialClaims({ expiresAt: nowSeconds - hour }) }, "expired")
]

export const AllVariants: ReadonlyArray<FactsVariant> = [...ActivationVariants, ...TrialVariants]

export interface FailureVariant {
  readonly failure: FailureInfo
  /** How `classifySyncFailure` must sort it. */
  readonly class: SyncFailureClass
}

const failure = (kind: FailureInfo["kind"], code: string | undefined, transient: boolean): FailureInfo => ({
  operation: "sync",
  kind,
  code,
  message: `model failure ${kind}${code === undefined ? "" : ` ${code}`}`,
  transient
})

export const FailureVariants: ReadonlyArray<FailureVariant> = [
  { failure: failure("NetworkFailure", undefined, true), class: "transient" },
  { failure: failure("NotFound", undefined, false), class: "notFound" },
  { failure: failure("ServerRefused", "REVOKED_LICENSE", false), class: "revoked" },
  { failure: failure("ServerRefused", "INVALID_ACTIVATION_FINGERPRINT", false), class: "fingerprint" },
  { failure: failure("ServerRefused", "INVALID_LICENSE_KEY", false), class: "clearing" },
  { failure: failure("TokenRejected", undefined, false), class: "clearing" },
  { failure: failure("UnknownServerCode", "SOMETHING_NEW", false), class: "halting" }
]

/** The failure a store read gives on load (the record existed but could not be used). */
export const LoadFailure: FailureInfo = {
  operation: "load",
  kind: "StoreFailure",
  message: "model failure: stored record unreadable",
  transient: false
}
