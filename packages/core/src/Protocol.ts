/**
 * The Cryptlex Web API v3 wire format, as Effect Schemas: every request and response body a licensing client
 * sends or receives, the error body with the server's codes as a closed union, and the activation-token claims
 * decoded from their short names into named fields.
 *
 * The protocol notes (`shared/protocol/cryptlex-v3.md`) mark several facts as inferred or not found. Each
 * decision taken here about such a fact is tagged `DECISION:` and kept in this file (endpoint paths in
 * {@link Endpoints}, codes in {@link ServerErrorCode}, trial claims in {@link TrialTokenClaims}), so that a
 * later reading of the real API changes one place.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"

// ---------------------------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------------------------

/** Known Cryptlex hosts. `SetCryptlexHost` in LexActivator sets an on-premise one. */
export const Hosts = {
  default: "https://api.cryptlex.com",
  eu: "https://api.eu.cryptlex.com"
} as const

/**
 * Paths of the calls a client makes, relative to the host.
 *
 * DECISION (protocol §1.4, "sync endpoint not found"): a trial is synced with `PATCH /v3/trial-activations/{id}`,
 * mirroring `PATCH /v3/activations/{id}`, and answers 200 with `{trialActivationToken}`.
 * DECISION (protocol §1.3): deactivation uses `DELETE /v3/activations/{id}` (the body of the newer
 * `POST …/deactivate` is undocumented); success is any 2xx, the emulator answers 204.
 */
export const Endpoints = {
  activate: () => "/v3/activations",
  sync: (activationId: string) => `/v3/activations/${encodeURIComponent(activationId)}`,
  deactivate: (activationId: string) => `/v3/activations/${encodeURIComponent(activationId)}`,
  activateTrial: () => "/v3/trial-activations",
  syncTrial: (trialActivationId: string) => `/v3/trial-activations/${encodeURIComponent(trialActivationId)}`
} as const

/** Bodies larger than this are refused with 413 by the emulator, and never sent by the client. */
export const MaxBodyBytes = 64 * 1024
export const MetadataKeyMaxLength = 256
export const MetadataValueMaxLength = 4096

// ---------------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------------

export const OsName = Schema.Literals(["windows", "linux", "macos", "android", "ios"])
export type OsName = typeof OsName.Type

export const MetadataEntry = Schema.Struct({
  key: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(MetadataKeyMaxLength)),
  value: Schema.String.check(Schema.isMaxLength(MetadataValueMaxLength))
})
export type MetadataEntry = typeof MetadataEntry.Type

/** An increment (positive or negative) to an activation's meter attribute, sent with a sync. */
export const MeterAttributeIncrement = Schema.Struct({
  name: Schema.NonEmptyString,
  usesIncrement: Schema.Int
})
export type MeterAttributeIncrement = typeof MeterAttributeIncrement.Type

const NonEmpty = Schema.NonEmptyString

/** Body of `POST /v3/activations` and `PATCH /v3/activations/{id}` (protocol §1.1, §1.2). */
export const ActivationRequest = Schema.Struct({
  key: NonEmpty,
  productId: NonEmpty,
  fingerprint: NonEmpty,
  hostname: Schema.String,
  appVersion: Schema.String,
  os: OsName,
  userHash: Schema.String,
  osVersion: Schema.optionalKey(Schema.String),
  vmName: Schema.optionalKey(Schema.String),
  container: Schema.optionalKey(Schema.Boolean),
  email: Schema.optionalKey(Schema.String),
  password: Schema.optionalKey(Schema.String),
  leaseDuration: Schema.optionalKey(Schema.Int),
  metadata: Schema.optionalKey(Schema.Array(MetadataEntry)),
  meterAttributes: Schema.optionalKey(Schema.Array(MeterAttributeIncrement)),
  releaseVersion: Schema.optionalKey(Schema.String),
  accountId: Schema.optionalKey(Schema.String),
  clientVersion: Schema.optionalKey(Schema.String)
})
export type ActivationRequest = typeof ActivationRequest.Type

/** Answer of `POST /v3/activations` (201) and `PATCH /v3/activations/{id}` (200). */
export const ActivationResponse = Schema.Struct({ activationToken: NonEmpty })
export type ActivationResponse = typeof ActivationResponse.Type

/** Body of `POST /v3/trial-activations` and of the trial sync (protocol §1.4). */
export const TrialActivationRequest = Schema.Struct({
  productId: NonEmpty,
  fingerprint: NonEmpty,
  hostname: Schema.String,
  appVersion: Schema.String,
  os: OsName,
  userHash: Schema.String,
  osVersion: Schema.optionalKey(Schema.String),
  vmName: Schema.optionalKey(Schema.String),
  container: Schema.optionalKey(Schema.Boolean),
  metadata: Schema.optionalKey(Schema.Array(MetadataEntry))
})
export type TrialActivationRequest = typeof TrialActivationRequest.Type

export const TrialActivationResponse = Schema.Struct({ trialActivationToken: NonEmpty })
export type TrialActivationResponse = typeof TrialActivationResponse.Type

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/**
 * Every error `code` the server is known to send (protocol §1.8).
 *
 * DECISION: no wire code was found for a refused container activation; `CONTAINER_ACTIVATION_NOT_ALLOWED`
 * (named like `VM_ACTIVATION_NOT_ALLOWED`) is what the emulator sends and the client recognises. A code outside
 * this list is kept verbatim as {@link UnknownServerCode}, never dropped.
 */
export const ServerErrorCodes = [
  "ACTIVATION_LIMIT_REACHED",
  "DEACTIVATION_LIMIT_REACHED",
  "INVALID_ACTIVATION_FINGERPRINT",
  "VM_ACTIVATION_NOT_ALLOWED",
  "CONTAINER_ACTIVATION_NOT_ALLOWED",
  "INVALID_PRODUCT_ID",
  "INVALID_LICENSE_KEY",
  "AUTHENTICATION_FAILED",
  "COUNTRY_NOT_ALLOWED",
  "IP_ADDRESS_NOT_ALLOWED",
  "REVOKED_LICENSE",
  "INVALID_LICENSE_TYPE",
  "METER_ATTRIBUTE_USES_LIMIT_REACHED",
  "TRIAL_NOT_ALLOWED",
  "TRIAL_ACTIVATION_LIMIT_REACHED",
  "INVALID_OFFLINE_REQUEST",
  "NO_ERROR"
] as const
export const ServerErrorCode = Schema.Literals(ServerErrorCodes)
export type ServerErrorCode = typeof ServerErrorCode.Type

/** The error body `{message, code?}` (`HttpErrorResponseDto`). */
export const ErrorBody = Schema.Struct({
  message: Schema.String,
  code: Schema.optionalKey(Schema.String)
})
export type ErrorBody = typeof ErrorBody.Type

export interface KnownServerCode {
  readonly _tag: "Known"
  readonly code: ServerErrorCode
}
export interface UnknownServerCode {
  readonly _tag: "Unknown"
  readonly code: string
}

const knownCodes: ReadonlySet<string> = new Set(ServerErrorCodes)

/** Sorts a wire `code` into the closed union, keeping an unrecognised one verbatim. */
export const classifyServerCode = (code: string): KnownServerCode | UnknownServerCode =>
  knownCodes.has(code) ? { _tag: "Known", code: code as ServerErrorCode } : { _tag: "Unknown", code }

// ---------------------------------------------------------------------------------------------------------------
// Activation-token claims (protocol §2)
// ---------------------------------------------------------------------------------------------------------------

const zero = Effect.succeed(0)
const EpochSeconds = Schema.Int
/** Seconds; 0 means "none" and, for `aco`, −1 means unlimited. */
const Seconds = Schema.Int
const IntOrZero = Schema.Int.pipe(Schema.withDecodingDefaultKey(zero))
const emptyList = <S extends Schema.Top>(item: S) =>
  Schema.Array(item).pipe(Schema.withDecodingDefaultKey(Effect.succeed([] as ReadonlyArray<S["Encoded"]>)))

export const LicenseMeterAttribute = Schema.Struct({
  name: Schema.String,
  allowedUses: Schema.Int,
  totalUses: Schema.Int,
  grossUses: Schema.optionalKey(Schema.Int)
})
export type LicenseMeterAttribute = typeof LicenseMeterAttribute.Type

export const ActivationMeterAttribute = Schema.Struct({ name: Schema.String, uses: Schema.Int })
export type ActivationMeterAttribute = typeof ActivationMeterAttribute.Type

export const LicenseType = Schema.Literals(["node-locked", "hosted-floating", "on-premise-floating"])
export type LicenseType = typeof LicenseType.Type
export const FingerprintMatchingStrategy = Schema.Literals(["exact", "fuzzy", "loose"])

/**
 * Activation-token claims with readable names. The token carries the short names on the right of
 * {@link ClaimNames}; `eat`, `ssgpeat`, `leat` are epoch seconds where 0 means "none"/"unlimited".
 */
const ActivationClaimFields = Schema.Struct({
  activationId: NonEmpty,
  licenseId: NonEmpty,
  productId: NonEmpty,
  key: NonEmpty,
  fingerprint: NonEmpty,
  fingerprintMatchingStrategy: Schema.optionalKey(FingerprintMatchingStrategy),
  os: Schema.optionalKey(Schema.String),
  licenseType: LicenseType.pipe(Schema.withDecodingDefaultKey(Effect.succeed("node-locked" as const))),
  issuedAt: EpochSeconds,
  expiresAt: IntOrZero,
  serverSyncInterval: Seconds.pipe(Schema.withDecodingDefaultKey(zero)),
  serverSyncGraceExpiresAt: IntOrZero,
  allowedClockOffset: Seconds.pipe(Schema.withDecodingDefaultKey(zero)),
  leaseExpiresAt: IntOrZero,
  leaseDuration: Seconds.pipe(Schema.withDecodingDefaultKey(zero)),
  leasingStrategy: Schema.optionalKey(Schema.String),
  offlineResponseValidity: Schema.optionalKey(Schema.Int),
  suspended: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(false))),
  userName: Schema.optionalKey(Schema.String),
  userEmail: Schema.optionalKey(Schema.String),
  userCompany: Schema.optionalKey(Schema.String),
  organizationName: Schema.optionalKey(Schema.String),
  organizationAddress: Schema.optionalKey(Schema.String),
  licenseCreatedAt: Schema.optionalKey(Schema.Int),
  licenseActivatedAt: Schema.optionalKey(Schema.Int),
  productMetadata: emptyList(MetadataEntry),
  licenseMetadata: emptyList(MetadataEntry),
  userMetadata: emptyList(MetadataEntry),
  activationMetadata: emptyList(MetadataEntry),
  licenseMeterAttributes: emptyList(LicenseMeterAttribute),
  activationMeterAttributes: emptyList(ActivationMeterAttribute)
})

/** Readable claim name → the short name on the wire. */
export const ClaimNames = {
  activationId: "aid",
  licenseId: "lid",
  productId: "pid",
  key: "key",
  fingerprint: "fp",
  fingerprintMatchingStrategy: "fms",
  os: "os",
  licenseType: "type",
  issuedAt: "iat",
  expiresAt: "eat",
  serverSyncInterval: "ssi",
  serverSyncGraceExpiresAt: "ssgpeat",
  allowedClockOffset: "aco",
  leaseExpiresAt: "leat",
  leaseDuration: "ld",
  leasingStrategy: "ls",
  offlineResponseValidity: "orv",
  suspended: "suspended",
  userName: "name",
  userEmail: "email",
  userCompany: "company",
  organizationName: "on",
  organizationAddress: "oa",
  licenseCreatedAt: "lcat",
  licenseActivatedAt: "laat",
  productMetadata: "pmd",
  licenseMetadata: "lmd",
  userMetadata: "umd",
  activationMetadata: "amd",
  licenseMeterAttributes: "lma",
  activationMeterAttributes: "ama"
} as const

/** Decodes a verified token payload (short names) into {@link ActivationClaims}; encodes back to short names. */
export const ActivationTokenClaims = ActivationClaimFields.pipe(Schema.encodeKeys(ClaimNames))
export type ActivationClaims = typeof ActivationTokenClaims.Type
export type ActivationClaimsWire = typeof ActivationTokenClaims.Encoded

/**
 * Trial-activation token claims.
 *
 * DECISION (protocol §1.4 gives no claim list for trial tokens): a trial token carries `tid` (trial activation
 * id), `pid`, `fp`, `iat`, `eat` (trial expiry), optionally `ssi`/`ssgpeat`/`aco` with the same meaning as in an
 * activation token, and `pmd`/`tmd` metadata lists.
 */
const TrialClaimFields = Schema.Struct({
  trialActivationId: NonEmpty,
  productId: NonEmpty,
  fingerprint: NonEmpty,
  issuedAt: EpochSeconds,
  expiresAt: EpochSeconds,
  serverSyncInterval: Seconds.pipe(Schema.withDecodingDefaultKey(zero)),
  serverSyncGraceExpiresAt: IntOrZero,
  allowedClockOffset: Seconds.pipe(Schema.withDecodingDefaultKey(zero)),
  productMetadata: emptyList(MetadataEntry),
  trialMetadata: emptyList(MetadataEntry)
})

export const TrialClaimNames = {
  trialActivationId: "tid",
  productId: "pid",
  fingerprint: "fp",
  issuedAt: "iat",
  expiresAt: "eat",
  serverSyncInterval: "ssi",
  serverSyncGraceExpiresAt: "ssgpeat",
  allowedClockOffset: "aco",
  productMetadata: "pmd",
  trialMetadata: "tmd"
} as const

export const TrialTokenClaims = TrialClaimFields.pipe(Schema.encodeKeys(TrialClaimNames))
export type TrialClaims = typeof TrialTokenClaims.Type
export type TrialClaimsWire = typeof TrialTokenClaims.Encoded
