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
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

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
 * A trial is synced with `PATCH /v3/trial-activations/{id}` (reference-client.md row 6: LexActivator 3.42 and
 * the Web API reference). Deactivation is `POST /v3/activations/{id}/deactivate` with a
 * {@link DeactivationRequest} body (reference-client.md row 4: LexActivator never sends DELETE).
 */
export const Endpoints = {
  activate: () => "/v3/activations",
  sync: (activationId: string) => `/v3/activations/${encodeURIComponent(activationId)}`,
  deactivate: (activationId: string) => `/v3/activations/${encodeURIComponent(activationId)}/deactivate`,
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
const Between = (minimum: number, maximum: number) =>
  Schema.String.check(Schema.isMinLength(minimum), Schema.isMaxLength(maximum))
/** The Web API reference's field limits (reference-client.md rows 4, 10, 12). */
const Key = Between(1, 256)
const ProductId = Between(1, 256)
const FingerprintField = Between(64, 1024)
const Hostname = Between(1, 1024)
const UserHash = Between(1, 256)

/** Fields LexActivator sends with every activation and trial body (reference-client.md rows 7, 8). */
const clientFields = {
  accountId: Schema.optionalKey(Schema.String),
  clientVersion: Schema.optionalKey(Schema.String),
  releaseVersion: Schema.optionalKey(Schema.String),
  releasePlatform: Schema.optionalKey(Schema.String),
  releaseChannel: Schema.optionalKey(Schema.String),
  releasePublishedAt: Schema.optionalKey(Schema.String)
}

/** Body of `POST /v3/activations` and `PATCH /v3/activations/{id}` (reference-client.md rows 2, 3, 7). */
export const ActivationRequest = Schema.Struct({
  key: Key,
  productId: ProductId,
  fingerprint: FingerprintField,
  hostname: Hostname,
  appVersion: Schema.String,
  os: OsName,
  userHash: UserHash,
  osVersion: Schema.optionalKey(Schema.String),
  vmName: Schema.optionalKey(Schema.String),
  container: Schema.optionalKey(Schema.Boolean),
  email: Schema.optionalKey(Schema.String),
  password: Schema.optionalKey(Schema.String),
  leaseDuration: Schema.optionalKey(Schema.Int),
  metadata: Schema.optionalKey(Schema.Array(MetadataEntry)),
  meterAttributes: Schema.optionalKey(Schema.Array(MeterAttributeIncrement)),
  ...clientFields
})
export type ActivationRequest = typeof ActivationRequest.Type

/** Answer of `POST /v3/activations` (201) and `PATCH /v3/activations/{id}` (200). */
export const ActivationResponse = Schema.Struct({ activationToken: NonEmpty })
export type ActivationResponse = typeof ActivationResponse.Type

/** Body of `POST /v3/trial-activations` and of the trial sync (protocol §1.4). */
export const TrialActivationRequest = Schema.Struct({
  productId: ProductId,
  fingerprint: FingerprintField,
  hostname: Hostname,
  appVersion: Schema.String,
  os: OsName,
  userHash: UserHash,
  osVersion: Schema.optionalKey(Schema.String),
  vmName: Schema.optionalKey(Schema.String),
  container: Schema.optionalKey(Schema.Boolean),
  metadata: Schema.optionalKey(Schema.Array(MetadataEntry)),
  ...clientFields
})
export type TrialActivationRequest = typeof TrialActivationRequest.Type

/**
 * Body of `POST /v3/activations/{id}/deactivate`: LexActivator's `DeactivationViewModel`
 * `{id, productId, accountId, fingerprint, os, userHash}` (reference-client.md row 4).
 */
export const DeactivationRequest = Schema.Struct({
  id: Schema.optionalKey(Schema.String),
  productId: ProductId,
  accountId: Schema.optionalKey(Schema.String),
  fingerprint: FingerprintField,
  userHash: UserHash,
  os: OsName
})
export type DeactivationRequest = typeof DeactivationRequest.Type

export const TrialActivationResponse = Schema.Struct({ trialActivationToken: NonEmpty })
export type TrialActivationResponse = typeof TrialActivationResponse.Type

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/**
 * Every error `code` the server is known to send: LexActivator 3.34's and 3.42's handlers (reference-client.md
 * row 21). A code outside this list is kept verbatim as {@link UnknownServerCode}, never dropped.
 */
export const ServerErrorCodes = [
  "ACTIVATION_NOT_FOUND",
  "LICENSE_NOT_EFFECTIVE",
  "INVALID_ACCOUNT_ID",
  "INVALID_RELEASE_VERSION_FORMAT",
  "RELEASE_VERSION_NOT_ALLOWED",
  "FREE_PLAN_ACTIVATION_LIMIT_REACHED",
  "INVALID_ACTIVATION_ID",
  "INVALID_LICENSE_ID",
  "INVALID_DEVICE_ID",
  "INVALID_DEVICE_CHALLENGE_SIGNATURE",
  "ACTIVATION_CLONE_DETECTED",
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

/** `oa`: LexActivator's `OrganizationAddress` (reference-client.md row 28). */
export const OrganizationAddress = Schema.Struct({
  addressLine1: Schema.optionalKey(Schema.NullOr(Schema.String)),
  addressLine2: Schema.optionalKey(Schema.NullOr(Schema.String)),
  city: Schema.optionalKey(Schema.NullOr(Schema.String)),
  state: Schema.optionalKey(Schema.NullOr(Schema.String)),
  country: Schema.optionalKey(Schema.NullOr(Schema.String)),
  postalCode: Schema.optionalKey(Schema.NullOr(Schema.String))
})
export type OrganizationAddress = typeof OrganizationAddress.Type

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
  organizationAddress: Schema.optionalKey(Schema.Union([OrganizationAddress, Schema.String])),
  licenseCreatedAt: Schema.optionalKey(Schema.Int),
  licenseActivatedAt: Schema.optionalKey(Schema.Int),
  // LexActivator 3.34 reads these too (reference-client.md row 27); all optional.
  activationCreatedAt: Schema.optionalKey(Schema.Int),
  allowedActivations: Schema.optionalKey(Schema.Int),
  totalActivations: Schema.optionalKey(Schema.Int),
  allowedDeactivations: Schema.optionalKey(Schema.Int),
  totalDeactivations: Schema.optionalKey(Schema.Int),
  maintenanceExpiresAt: Schema.optionalKey(Schema.Int),
  maxAllowedReleaseVersion: Schema.optionalKey(Schema.String),
  userHash: Schema.optionalKey(Schema.String),
  userLocked: Schema.optionalKey(Schema.Boolean),
  floatingClients: Schema.optionalKey(Schema.Int),
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
  activationCreatedAt: "acat",
  allowedActivations: "aa",
  totalActivations: "ta",
  allowedDeactivations: "ad",
  totalDeactivations: "td",
  maintenanceExpiresAt: "meat",
  maxAllowedReleaseVersion: "marv",
  userHash: "uh",
  userLocked: "ul",
  floatingClients: "fc",
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
 * Trial-activation token claims: LexActivator's `ParseTrialActivationPayload` reads `aid, os, fp, fms, pid, uh,
 * ul, eat, iat, orv, pmd, amd` (reference-client.md row 32). The sync and grace claims `ssi`/`ssgpeat`/`aco` are
 * not in that set; they are read when present, with the reference's default 0 (no sync, no grace check).
 */
const TrialClaimFields = Schema.Struct({
  trialActivationId: NonEmpty,
  productId: NonEmpty,
  fingerprint: NonEmpty,
  fingerprintMatchingStrategy: Schema.optionalKey(FingerprintMatchingStrategy),
  os: Schema.optionalKey(Schema.String),
  userHash: Schema.optionalKey(Schema.String),
  userLocked: Schema.optionalKey(Schema.Boolean),
  offlineResponseValidity: Schema.optionalKey(Schema.Int),
  issuedAt: EpochSeconds,
  expiresAt: IntOrZero,
  serverSyncInterval: Seconds.pipe(Schema.withDecodingDefaultKey(zero)),
  serverSyncGraceExpiresAt: IntOrZero,
  allowedClockOffset: Seconds.pipe(Schema.withDecodingDefaultKey(zero)),
  productMetadata: emptyList(MetadataEntry),
  trialMetadata: emptyList(MetadataEntry)
})

export const TrialClaimNames = {
  trialActivationId: "aid",
  productId: "pid",
  fingerprint: "fp",
  fingerprintMatchingStrategy: "fms",
  os: "os",
  userHash: "uh",
  userLocked: "ul",
  offlineResponseValidity: "orv",
  issuedAt: "iat",
  expiresAt: "eat",
  serverSyncInterval: "ssi",
  serverSyncGraceExpiresAt: "ssgpeat",
  allowedClockOffset: "aco",
  productMetadata: "pmd",
  trialMetadata: "amd"
} as const

export const TrialTokenClaims = TrialClaimFields.pipe(Schema.encodeKeys(TrialClaimNames))
export type TrialClaims = typeof TrialTokenClaims.Type
export type TrialClaimsWire = typeof TrialTokenClaims.Encoded

// ---------------------------------------------------------------------------------------------------------------
// Lenient reading of a verified payload (reference-client.md rows 28-30)
// ---------------------------------------------------------------------------------------------------------------

/** Claims that say who and what a token is for: never relaxed, a wrong one is refused naming the claim. */
export const IdentityClaims: ReadonlySet<string> = new Set(["aid", "lid", "pid", "key", "fp", "iat"])
const ListClaims: ReadonlySet<string> = new Set(["pmd", "lmd", "umd", "amd", "lma", "ama"])
const BooleanClaims: ReadonlySet<string> = new Set(["suspended", "ul"])

/**
 * Reads a verified payload as LexActivator does before the strict schema sees it: `null` in any non-identity
 * claim is "absent"; a list claim may be a JSON-encoded string of the list; a numeric claim may be a numeric
 * string (defensive); `0`/`1` stand for booleans. Anything else is left as it came, so the schema's error names
 * the claim. Identity claims are never touched.
 */
export const lenientPayload = (payload: unknown): unknown => {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return payload
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(payload as Record<string, unknown>)) {
    if (IdentityClaims.has(name)) {
      out[name] = value
      continue
    }
    if (value === null) continue
    if (ListClaims.has(name) && typeof value === "string") {
      try {
        out[name] = value.trim() === "" ? [] : JSON.parse(value)
      } catch {
        out[name] = value
      }
      continue
    }
    if (BooleanClaims.has(name) && (value === 0 || value === 1)) {
      out[name] = value === 1
      continue
    }
    if (typeof value === "string" && /^-?\d{1,15}$/.test(value) && NumericClaims.has(name)) {
      out[name] = Number(value)
      continue
    }
    out[name] = value
  }
  return out
}
const NumericClaims: ReadonlySet<string> = new Set([
  "eat",
  "ssi",
  "ssgpeat",
  "aco",
  "leat",
  "ld",
  "orv",
  "lcat",
  "laat",
  "acat",
  "aa",
  "ta",
  "ad",
  "td",
  "meat",
  "fc"
])
