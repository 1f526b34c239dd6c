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
import * as SchemaAST from "effect/SchemaAST"

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
  /** `POST`: activate a licence key on a machine ({@link ActivationRequest} → {@link ActivationResponse}). */
  activate: () => "/v3/activations",
  /** `PATCH`: renew an activation, with the same body as activating. */
  sync: (activationId: string) => `/v3/activations/${encodeURIComponent(activationId)}`,
  /** `POST`: free an activation's seat ({@link DeactivationRequest}). */
  deactivate: (activationId: string) => `/v3/activations/${encodeURIComponent(activationId)}/deactivate`,
  /** `POST`: start a trial on a machine ({@link TrialActivationRequest} → {@link TrialActivationResponse}). */
  activateTrial: () => "/v3/trial-activations",
  /** `PATCH`: renew a trial activation. */
  syncTrial: (trialActivationId: string) => `/v3/trial-activations/${encodeURIComponent(trialActivationId)}`
} as const

/** Bodies larger than this are refused with 413 by the emulator, and never sent by the client. */
export const MaxBodyBytes = 64 * 1024
/** The longest metadata key the server takes, in characters; {@link MetadataEntry} refuses a longer one. */
export const MetadataKeyMaxLength = 256
/** The longest metadata value the server takes, in characters. */
export const MetadataValueMaxLength = 4096

// ---------------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------------

/** The `os` field of the activation, trial and deactivation bodies: the OS family as Cryptlex names it. */
export const OsName = Schema.Literals(["windows", "linux", "macos", "android", "ios"])
export type OsName = typeof OsName.Type

/**
 * One `{key, value}` metadata pair, as the activation body's `metadata` sends it and the tokens'
 * `pmd`/`lmd`/`umd`/`amd` claims carry it; the key is 1–{@link MetadataKeyMaxLength} characters, the value at most
 * {@link MetadataValueMaxLength}.
 */
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

/** The longest `hostname` the server takes (reference-client.md row 12: `hostname*` 1–1024). */
export const HostnameMaxLength = 1024

/**
 * The `hostname` sent for a machine whose host name is empty, blank or unreadable.
 *
 * DECISION: `localhost`, what an unnamed machine calls itself (systemd's fallback host name, and what `hostname`
 * prints on a box with none configured). The server refuses a `hostname` outside 1–1024 characters
 * (reference-client.md row 12), so an empty one would cost the activation a 400; the host name is only a label
 * for the vendor's dashboard (the fingerprint, not it, identifies the machine), so a stand-in loses nothing.
 */
export const HostnameFallback = "localhost"

/**
 * A host name as the request may carry it: trimmed, {@link HostnameFallback} when nothing is left, cut to
 * {@link HostnameMaxLength} characters (never inside a surrogate pair) when longer.
 * @example wireHostname("") // "localhost"
 */
export const wireHostname = (raw: string): string => {
  const name = raw.trim()
  if (name === "") return HostnameFallback
  if (name.length <= HostnameMaxLength) return name
  const cut = name.slice(0, HostnameMaxLength)
  const last = cut.charCodeAt(cut.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut
}

const NonEmpty = Schema.NonEmptyString
const Between = (minimum: number, maximum: number) =>
  Schema.String.check(Schema.isMinLength(minimum), Schema.isMaxLength(maximum))
/** The Web API reference's field limits (reference-client.md rows 4, 10, 12). */
const Key = Between(1, 256)
const ProductId = Between(1, 256)
const FingerprintField = Between(64, 1024)
const Hostname = Between(1, HostnameMaxLength)
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

/**
 * The answer of `POST /v3/trial-activations` and `PATCH /v3/trial-activations/{id}`: `{trialActivationToken}`, a
 * signed JWT.
 */
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
/** The error body's `code` when it is one of {@link ServerErrorCodes}; what `ServerRefused.code` holds. */
export const ServerErrorCode = Schema.Literals(ServerErrorCodes)
export type ServerErrorCode = typeof ServerErrorCode.Type

/** The error body `{message, code?}` (`HttpErrorResponseDto`). */
export const ErrorBody = Schema.Struct({
  message: Schema.String,
  code: Schema.optionalKey(Schema.String)
})
export type ErrorBody = typeof ErrorBody.Type

/**
 * What a refusal's body says, read as LexActivator's `ParseHttpErrorResponse` reads it: each field on its own, so
 * a `code` is kept when the `message` is missing, `null` or not a string (reference-client.md row 17). `code` is
 * there when the body is a JSON object whose `code` is a non-empty string; `message` when its `message` is a
 * string, else `messageCame` says what came in its place (`no "message"`, `"message": null`, …).
 * @example readErrorBody({ code: "REVOKED_LICENSE" }) // { code: "REVOKED_LICENSE", messageCame: 'no "message"' }
 */
export const readErrorBody = (
  json: unknown
): { readonly code?: string; readonly message?: string; readonly messageCame?: string } => {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return {}
  const body = json as { readonly code?: unknown; readonly message?: unknown }
  const code = typeof body.code === "string" && body.code !== "" ? { code: body.code } : {}
  if (typeof body.message === "string") return { ...code, message: body.message }
  const came = !("message" in body)
    ? 'no "message"'
    : `"message": ${body.message === undefined ? "undefined" : JSON.stringify(body.message).slice(0, 40)}`
  return { ...code, messageCame: came }
}

/** A server `code` this client knows ({@link classifyServerCode}). */
export interface KnownServerCode {
  readonly _tag: "Known"
  readonly code: ServerErrorCode
}
/** A server `code` outside {@link ServerErrorCodes}, kept verbatim ({@link classifyServerCode}). */
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

/**
 * `lma[i]`. LexActivator 3.34 reads `{id, name, allowedUses, totalUses, grossUses, floating}` (reference-client.md
 * row 31); `id` is what `POST /v3/activations/meter-attributes/{id}` names (row 13).
 */
export const LicenseMeterAttribute = Schema.Struct({
  id: Schema.optionalKey(Schema.String),
  name: Schema.String,
  allowedUses: Schema.Int,
  totalUses: Schema.Int,
  grossUses: Schema.optionalKey(Schema.Int)
})
export type LicenseMeterAttribute = typeof LicenseMeterAttribute.Type

/**
 * `ama[i]` of the activation token: an activation meter attribute's `name` and how many `uses` this activation
 * recorded.
 */
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

/**
 * `mp`: the licence's maintenance policy, LexActivator 3.34's `{allowMajorVersionUpdates, allowMinorVersionUpdates,
 * validity}` (reference-client.md row 27); `validity` in seconds, 0 for unlimited (the maintenance-policies page).
 */
export const MaintenancePolicy = Schema.Struct({
  allowMajorVersionUpdates: Schema.optionalKey(Schema.Boolean),
  allowMinorVersionUpdates: Schema.optionalKey(Schema.Boolean),
  validity: Schema.optionalKey(Schema.Int)
})
export type MaintenancePolicy = typeof MaintenancePolicy.Type

/**
 * The `type` claim of the activation token: `node-locked` (one machine per activation), `hosted-floating` (a lease
 * from Cryptlex's server, `leat`/`ld`) or `on-premise-floating`.
 */
export const LicenseType = Schema.Literals(["node-locked", "hosted-floating", "on-premise-floating"])
export type LicenseType = typeof LicenseType.Type
/**
 * The `fms` claim: how strictly the server matches the fingerprint, `exact`, `fuzzy` or `loose` (cryptlex-v3.md §4).
 */
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
  currentReleaseVersion: Schema.optionalKey(Schema.String),
  maintenancePolicy: Schema.optionalKey(MaintenancePolicy),
  // The entitlement set (reference-client.md row 27 and §3 item 1): `esn`/`esdn` since 3.32, the tier `est` in 3.42.
  entitlementSetName: Schema.optionalKey(Schema.String),
  entitlementSetDisplayName: Schema.optionalKey(Schema.String),
  entitlementSetTier: Schema.optionalKey(Schema.Int),
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
  currentReleaseVersion: "crv",
  maintenancePolicy: "mp",
  entitlementSetName: "esn",
  entitlementSetDisplayName: "esdn",
  entitlementSetTier: "est",
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
/**
 * The activation token's claims under readable names (`expiresAt` for `eat`, …); times in epoch seconds, 0 for
 * "none".
 */
export type ActivationClaims = typeof ActivationTokenClaims.Type
/** The activation token's claims as the JWT carries them, under their short names (`aid`, `eat`, `ssi`, …). */
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

/** Each trial claim's readable name mapped to its short name in the JWT (reference-client.md row 32). */
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

/** Decodes a verified trial token payload (short names) into {@link TrialClaims}; encodes back to short names. */
export const TrialTokenClaims = TrialClaimFields.pipe(Schema.encodeKeys(TrialClaimNames))
/** The trial token's claims under readable names; times in epoch seconds, 0 for "none". */
export type TrialClaims = typeof TrialTokenClaims.Type
/** The trial token's claims as the JWT carries them, under their short names. */
export type TrialClaimsWire = typeof TrialTokenClaims.Encoded

// ---------------------------------------------------------------------------------------------------------------
// Lenient reading of a verified payload (reference-client.md rows 28-30)
// ---------------------------------------------------------------------------------------------------------------

/** Claims that say who and what a token is for: never relaxed, a wrong one is refused naming the claim. */
export const IdentityClaims: ReadonlySet<string> = new Set(["aid", "lid", "pid", "key", "fp", "iat"])
const ListClaims: ReadonlySet<string> = new Set(["pmd", "lmd", "umd", "amd", "lma", "ama"])
const BooleanClaims: ReadonlySet<string> = new Set(["suspended", "ul"])
/** Object claims that may come JSON-encoded, as the list claims may (LexActivator parses `mp` from a string too). */
const ObjectClaims: ReadonlySet<string> = new Set(["mp"])

/** The keys of a struct schema that may be absent (`optionalKey`), read from the schema itself. */
const optionalKeysOf = (struct: { readonly fields: Readonly<Record<string, Schema.Top>> }): ReadonlySet<string> =>
  new Set(
    Object.entries(struct.fields)
      .filter(([, field]) => SchemaAST.isOptional(field.ast))
      .map(([key]) => key)
  )

/**
 * For each list or object claim, the keys of its items (or of itself) that are optional: a `null` there is
 * "absent", as at the top level. Taken from the claim schemas, so a field made optional there is relaxed here too.
 * `oa` is not listed: its schema takes `null` in every field as it is (`OrganizationAddress`).
 */
const NestedOptionalKeys: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ...["pmd", "lmd", "umd", "amd"].map((name) => [name, optionalKeysOf(MetadataEntry)] as const),
  ["lma", optionalKeysOf(LicenseMeterAttribute)],
  ["ama", optionalKeysOf(ActivationMeterAttribute)],
  ["mp", optionalKeysOf(MaintenancePolicy)]
])

/** A plain object without its `null`-valued keys among `optional`; anything else as it came. */
const withoutOptionalNulls = (value: unknown, optional: ReadonlySet<string>): unknown => {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value
  if (Object.getPrototypeOf(value) !== Object.prototype) return value
  const entries = Object.entries(value as Record<string, unknown>)
  if (!entries.some(([key, v]) => v === null && optional.has(key))) return value
  return Object.fromEntries(entries.filter(([key, v]) => !(v === null && optional.has(key))))
}

/**
 * DECISION: a `null` in an optional field of a list item or of an object claim (`lma[i].grossUses`,
 * `mp.validity`) is "absent", as a `null` claim is at the top level, and as the feature-entitlements reader
 * drops `null` at every level (FeatureEntitlements.ts `nullsAbsent`). LexActivator reads every field through
 * ArduinoJson, which tolerates `null` anywhere (reference-client.md row 29). A `null` in a required field
 * (`lma[i].name`, a metadata `key`) is left for the schema, whose error names the field and says `null` came.
 */
const nestedNullsAbsent = (name: string, value: unknown): unknown => {
  const optional = NestedOptionalKeys.get(name)
  if (optional === undefined || optional.size === 0) return value
  return Array.isArray(value)
    ? value.map((item) => withoutOptionalNulls(item, optional))
    : withoutOptionalNulls(value, optional)
}

/**
 * Reads a verified payload as LexActivator does before the strict schema sees it: `null` in any non-identity
 * claim is "absent", and so is `null` in an optional field of a list item or object claim; a list claim may be a
 * JSON-encoded string of the list; a numeric claim may be a numeric string (defensive); `0`/`1` stand for
 * booleans. Anything else is left as it came, so the schema's error names the claim. Identity claims are never
 * touched.
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
    out[name] = nestedNullsAbsent(name, lenientClaim(name, value))
  }
  return out
}

/** One non-identity, non-null claim as {@link lenientPayload} reads it, before its nested nulls are dropped. */
const lenientClaim = (name: string, value: unknown): unknown => {
  if (ObjectClaims.has(name) && typeof value === "string" && value.trim().startsWith("{")) {
    try {
      return JSON.parse(value)
    } catch {
      return value
    }
  }
  if (ListClaims.has(name) && typeof value === "string") {
    try {
      return value.trim() === "" ? [] : JSON.parse(value)
    } catch {
      return value
    }
  }
  if (BooleanClaims.has(name) && (value === 0 || value === 1)) return value === 1
  if (typeof value === "string" && /^-?\d{1,15}$/.test(value) && NumericClaims.has(name)) return Number(value)
  return value
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
  "fc",
  "est"
])

// ---------------------------------------------------------------------------------------------------------------
// Releases, user login and feature entitlements (reference-client.md §3)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Paths of the calls beyond the licence lifecycle (reference-client.md §3 items 1, 4, 5 and row 38). Their query
 * strings are built by the calls themselves, in LexActivator's parameter order.
 */
export const MoreEndpoints = {
  /** `GET`: the newest release for this product, platform and channel (200 with it, 204 with none). */
  releaseUpdate: () => "/v3/releases/update",
  /** `GET`: whether the licence key may install release `releaseId` (`{allowed}`). */
  releaseAllowed: (releaseId: string) => `/v3/releases/${encodeURIComponent(releaseId)}/allowed`,
  /** `POST`: sign a user in with email and password. */
  login: () => "/v3/accounts/login",
  /** `POST`: sign a user in with an OpenID Connect id token. */
  loginOidc: () => "/v3/accounts/login-oidc",
  /** `GET`: the signed-in user's licences ({@link UserLicenses}). */
  userLicenses: () => "/v3/me/licenses",
  /** `GET`: the activation's feature entitlements token ({@link FeatureEntitlementsResponse}). */
  featureEntitlements: (activationId: string) =>
    `/v3/activations/${encodeURIComponent(activationId)}/feature-entitlements`,
  /** The licence meter attribute's id, `lma[i].id` of the activation token (reference-client.md row 13). */
  activationMeterAttribute: (meterAttributeId: string) =>
    `/v3/activations/meter-attributes/${encodeURIComponent(meterAttributeId)}`
} as const

/** A timestamp the server sends as ISO-8601 text; `null` where the resource has none. */
const OptionalText = Schema.optionalKey(Schema.NullOr(Schema.String))

/**
 * One file of a release: LexActivator 3.34's `files[{size, downloads, secured, id, name, url, extension,
 * checksum, releaseId, createdAt, updatedAt}]` (reference-client.md §3 item 4). Only `name`, `url`, `size` and
 * `checksum` are needed to download and check a file; the rest is read when present.
 */
export const ReleaseFile = Schema.Struct({
  id: Schema.optionalKey(Schema.String),
  name: Schema.String,
  url: Schema.String,
  size: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  checksum: Schema.String,
  extension: OptionalText,
  secured: Schema.optionalKey(Schema.Boolean),
  downloads: Schema.optionalKey(Schema.Int),
  releaseId: Schema.optionalKey(Schema.String),
  createdAt: OptionalText,
  updatedAt: OptionalText
})
export type ReleaseFile = typeof ReleaseFile.Type

/**
 * The 200 answer of `GET /v3/releases/update`: LexActivator 3.34's release JSON `totalFiles, published, private,
 * id, createdAt, UpdatedAt (sic), name, channel, version, platforms[], notes, publishedAt, productId, files[]`.
 * The documentation's older sample has `platform` (one string) instead of `platforms`; both are read.
 */
export const Release = Schema.Struct({
  id: Schema.String,
  name: OptionalText,
  version: Schema.String,
  channel: OptionalText,
  platforms: Schema.optionalKey(Schema.Array(Schema.String)),
  platform: Schema.optionalKey(Schema.String),
  notes: OptionalText,
  published: Schema.optionalKey(Schema.Boolean),
  private: Schema.optionalKey(Schema.Boolean),
  publishedAt: OptionalText,
  productId: Schema.optionalKey(Schema.String),
  totalFiles: Schema.optionalKey(Schema.Int),
  createdAt: OptionalText,
  UpdatedAt: OptionalText,
  files: Schema.Array(ReleaseFile).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed([] as ReadonlyArray<typeof ReleaseFile.Encoded>))
  )
})
export type Release = typeof Release.Type

/** The answer of `GET /v3/releases/{id}/allowed` (reference-client.md row 38). */
export const ReleaseAllowedResponse = Schema.Struct({ allowed: Schema.Boolean })

/**
 * Body of `POST /v3/accounts/login` (reference-client.md §3 item 5; lexactivator-surface.md §0 item 4: `accountId*,
 * accountAlias, email*, password* (≥8), twoFactorCode (6), twoFactorRecoveryCode`).
 */
export const LoginRequest = Schema.Struct({
  accountId: Schema.String,
  accountAlias: Schema.optionalKey(Schema.String),
  email: Schema.NonEmptyString,
  password: Schema.String.check(Schema.isMinLength(8)),
  twoFactorCode: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^\d{6}$/))),
  twoFactorRecoveryCode: Schema.optionalKey(Schema.NonEmptyString)
})
export type LoginRequest = typeof LoginRequest.Type

/** Body of `POST /v3/accounts/login-oidc` (reference-client.md §3 item 5). */
export const OidcLoginRequest = Schema.Struct({ accountId: Schema.String, idToken: Schema.NonEmptyString })
export type OidcLoginRequest = typeof OidcLoginRequest.Type

/** The answer of both logins: an access token (a JWT whose `sub` is the user's id). */
export const LoginResponse = Schema.Struct({ accessToken: NonEmpty })

/**
 * One element of `GET /v3/me/licenses`: LexActivator's `[{allowedActivations, allowedDeactivations, key, type,
 * totalActivations, totalDeactivations, metadata}]` (reference-client.md §3 item 5).
 */
export const UserLicense = Schema.Struct({
  key: Schema.String,
  type: Schema.String,
  allowedActivations: Schema.Int,
  allowedDeactivations: Schema.Int,
  totalActivations: Schema.Int,
  totalDeactivations: Schema.Int,
  metadata: Schema.Array(MetadataEntry).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed([] as ReadonlyArray<MetadataEntry>))
  )
})
export type UserLicense = typeof UserLicense.Type
/** The answer of `GET /v3/me/licenses`: the signed-in user's licences, each a {@link UserLicense}. */
export const UserLicenses = Schema.Array(UserLicense)

/**
 * Error codes of the login calls (reference-client.md §3 item 5). They are not activation codes: a login
 * refusal never touches a stored activation, so they are kept apart from {@link ServerErrorCodes}.
 */
export const LoginErrorCodes = [
  "INVALID_AUTHENTICATION_CREDENTIALS",
  "ACCOUNT_LOGIN_TEMPORARILY_LOCKED",
  "MISSING_TWO_FACTOR_CODE",
  "INVALID_TWO_FACTOR_CODE",
  "OIDC_SSO_NOT_ENABLED",
  "PLAN_UPGRADE_REQUIRED"
] as const
/** A login refusal's `code` when it is one of {@link LoginErrorCodes}. */
export const LoginErrorCode = Schema.Literals(LoginErrorCodes)
export type LoginErrorCode = typeof LoginErrorCode.Type

/** Error codes of the release calls (reference-client.md row 38). */
export const ReleaseErrorCodes = ["INVALID_VERSION_FORMAT", "INVALID_PRODUCT_ID"] as const
/** A release call's refusal `code`: one of {@link ReleaseErrorCodes}. */
export type ReleaseErrorCode = (typeof ReleaseErrorCodes)[number]

/** The answer of `GET /v3/activations/{id}/feature-entitlements` (reference-client.md §3 item 1). */
export const FeatureEntitlementsResponse = Schema.Struct({ featureEntitlementsToken: NonEmpty })

/**
 * One feature entitlement, `fe[i]` of the token: `{featureName, featureDisplayName, value}`, and in LexActivator
 * 3.42 `baseValue` and `expiresAt` (reference-client.md §3 item 1).
 *
 * DECISION (the reference names `expiresAt` but not its type): epoch seconds like every instant in Cryptlex's
 * tokens (`eat`, `leat`, `ssgpeat`), 0 or absent meaning "does not expire"; an ISO-8601 string is read too,
 * since the REST resources carry their instants as text.
 */
export const FeatureEntitlement = Schema.Struct({
  featureName: NonEmpty,
  featureDisplayName: Schema.optionalKey(Schema.String),
  value: Schema.optionalKey(Schema.String),
  baseValue: Schema.optionalKey(Schema.String),
  expiresAt: Schema.optionalKey(Schema.Union([Schema.Int, Schema.String]))
})
export type FeatureEntitlement = typeof FeatureEntitlement.Type

/**
 * The feature-entitlements token's claims: `aid`, `lid`, `fe` (reference-client.md §3 item 1). `iat` is read when
 * present; the reference does not list it.
 */
export const FeatureEntitlementsClaims = Schema.Struct({
  aid: NonEmpty,
  lid: NonEmpty,
  iat: Schema.optionalKey(Schema.Int),
  fe: Schema.Array(FeatureEntitlement).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed([] as ReadonlyArray<typeof FeatureEntitlement.Encoded>))
  )
})
export type FeatureEntitlementsClaims = typeof FeatureEntitlementsClaims.Type

/**
 * Body of `POST /v3/activations/meter-attributes/{id}`: LexActivator 3.34's `{productId, activationId, increment,
 * accountId}` (reference-client.md row 13), in that order; [REF] `post-activations-meter-attributes-id` requires
 * `increment` (± int64), `activationId` (1–256) and `accountId` (0–256), `productId` optional (0–256).
 */
export const ActivationMeterIncrementRequest = Schema.Struct({
  productId: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(256))),
  activationId: Between(1, 256),
  increment: Schema.Int,
  accountId: Schema.String.check(Schema.isMaxLength(256))
})
export type ActivationMeterIncrementRequest = typeof ActivationMeterIncrementRequest.Type

/**
 * The answer of the meter call: LexActivator 3.34's `{name, uses, licenseAllowedUses, licenseTotalUses,
 * licenseGrossUses}` (reference-client.md row 13); `licenseAllowedUses` −1 is unlimited.
 */
export const ActivationMeterUses = Schema.Struct({
  name: Schema.String,
  uses: Schema.Int,
  licenseAllowedUses: Schema.Int,
  licenseTotalUses: Schema.Int,
  licenseGrossUses: Schema.optionalKey(Schema.Int)
})
export type ActivationMeterUses = typeof ActivationMeterUses.Type
