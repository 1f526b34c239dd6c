/**
 * The emulator's own admin API (under `/__admin/`): the bodies it accepts, as Effect Schemas that the server
 * decodes with and the typed helpers take as their argument types, and the shapes it answers with. Nothing
 * here is Cryptlex's; the Cryptlex wire format lives in `@licensure/core/Protocol`.
 *
 * Durations are seconds, instants are ISO-8601 strings or epoch milliseconds on the emulator's clock. The
 * defaults are listed in the package README and applied in one place, `internal/Store.ts`.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { LicenseType, MaintenancePolicy, MetadataEntry, OrganizationAddress } from "@licensure/core/Protocol"

/** An instant: an ISO-8601 string or epoch milliseconds. */
export const Instant = Schema.Union([Schema.String, Schema.Finite])
export type Instant = typeof Instant.Type

const Metadata = Schema.Array(MetadataEntry)

/** Body of `POST /__admin/products`. */
export const ProductOptions = Schema.Struct({
  /** A fixed product id (default: a fresh GUID); lets golden fixtures name their product. */
  id: Schema.optionalKey(Schema.NonEmptyString),
  name: Schema.optionalKey(Schema.String),
  /** The Cryptlex account id; when set, a request carrying another non-empty `accountId` is refused. */
  accountId: Schema.optionalKey(Schema.NonEmptyString),
  allowTrial: Schema.optionalKey(Schema.Boolean),
  trialLength: Schema.optionalKey(Schema.Int),
  allowedTrialActivations: Schema.optionalKey(Schema.Int),
  trialServerSyncInterval: Schema.optionalKey(Schema.Int),
  trialServerSyncGracePeriod: Schema.optionalKey(Schema.Int),
  trialAllowedClockOffset: Schema.optionalKey(Schema.Int),
  /** Sent in every token of the product as `pmd`. */
  metadata: Schema.optionalKey(Metadata)
})
export type ProductOptions = typeof ProductOptions.Encoded

/** Answer of `POST /__admin/products` ({@link Emulator.createProduct}): the new product's id and public key. */
export interface CreatedProduct {
  /** The product id a client is configured with (`productId`). */
  readonly productId: string
  /** The product's RSA public key, SPKI PEM: what a client verifies tokens with. */
  readonly publicKeyPem: string
}

/** The licence's user: sent in its tokens as `un`, `ue`, `uc` (name, email, company); each field when set. */
export const LicenseUser = Schema.Struct({
  name: Schema.optionalKey(Schema.String),
  email: Schema.optionalKey(Schema.String),
  company: Schema.optionalKey(Schema.String)
})

/** An organisation's address: core's `OrganizationAddress`, the fields the token's `oa` object carries (row 28). */
export const OrganizationAddressOptions = OrganizationAddress

/** The organisation a licence belongs to: sent in its tokens as `on` (name) and `oa` (the address object). */
export const LicenseOrganization = Schema.Struct({
  name: Schema.String,
  address: Schema.optionalKey(OrganizationAddressOptions)
})

/** One meter attribute of a licence: its name and how many uses the licence allows (`lma` in the tokens). */
export const MeterAttributePolicy = Schema.Struct({
  name: Schema.NonEmptyString,
  /** −1 means unlimited. */
  allowedUses: Schema.Int
})

/** `x.x` to `x.x.x.x`, Cryptlex's release version format. */
const ReleaseVersion = /^\d+(\.\d+){1,3}$/

/** One feature of a licence: sent in the feature-entitlements token's `fe`. */
export const FeatureEntitlementOptions = Schema.Struct({
  featureName: Schema.NonEmptyString,
  /** Default: the feature's name. */
  featureDisplayName: Schema.optionalKey(Schema.String),
  /** Default: `""`. */
  value: Schema.optionalKey(Schema.String),
  baseValue: Schema.optionalKey(Schema.String),
  /** When the feature runs out; `null` (or absent): never. Sent as epoch seconds. */
  expiresAt: Schema.optionalKey(Schema.NullOr(Instant))
})

const licensePolicyFields = {
  type: Schema.optionalKey(LicenseType),
  /** `null` (or absent) means no expiry. */
  expiresAt: Schema.optionalKey(Schema.NullOr(Instant)),
  serverSyncInterval: Schema.optionalKey(Schema.Int),
  serverSyncGracePeriod: Schema.optionalKey(Schema.Int),
  allowedActivations: Schema.optionalKey(Schema.Int),
  allowedDeactivations: Schema.optionalKey(Schema.Int),
  allowVmActivation: Schema.optionalKey(Schema.Boolean),
  allowContainerActivation: Schema.optionalKey(Schema.Boolean),
  leaseDuration: Schema.optionalKey(Schema.Int),
  allowClientLeaseDuration: Schema.optionalKey(Schema.Boolean),
  allowedClockOffset: Schema.optionalKey(Schema.Int),
  metadata: Schema.optionalKey(Metadata),
  /** `null` removes the user: the token then carries `name`/`email`/`company` as `null`. */
  user: Schema.optionalKey(Schema.NullOr(LicenseUser)),
  /** `null` (or absent) means none: the token then carries no `on`/`oa`. */
  organization: Schema.optionalKey(Schema.NullOr(LicenseOrganization)),
  meterAttributes: Schema.optionalKey(Schema.Array(MeterAttributePolicy)),
  suspended: Schema.optionalKey(Schema.Boolean),
  revoked: Schema.optionalKey(Schema.Boolean),
  /** The newest release version the licence covers (`/v3/releases/{id}/allowed`); `null` (default): any. */
  maxAllowedReleaseVersion: Schema.optionalKey(Schema.NullOr(Schema.String.check(Schema.isPattern(ReleaseVersion)))),
  /** The entitlement set linked to the licence: its tokens then carry `esn`, `esdn` and `est`; `null`: none. */
  entitlementSet: Schema.optionalKey(
    Schema.NullOr(
      Schema.Struct({
        name: Schema.NonEmptyString,
        /** Default: the name. */
        displayName: Schema.optionalKey(Schema.String),
        tier: Schema.optionalKey(Schema.Int)
      })
    )
  ),
  /**
   * When the licence's maintenance ends (the token's `meat`, epoch seconds): a client running a release published
   * after it (or, without a published date, running after it) answers LA_E_RELEASE_VERSION_NOT_ALLOWED. `null`
   * (default): no maintenance expiry, no `meat` claim.
   */
  maintenanceExpiresAt: Schema.optionalKey(Schema.NullOr(Instant)),
  /** The maintenance policy signed as `mp` (`{allowMajorVersionUpdates, allowMinorVersionUpdates, validity}`); `null`: none. */
  maintenancePolicy: Schema.optionalKey(Schema.NullOr(MaintenancePolicy)),
  /** Locks the licence to the OS user who activates it: the token's `ul` is then `true` (`uh` is always sent). */
  userLocked: Schema.optionalKey(Schema.Boolean),
  /** The features signed into the activation's feature-entitlements token (replaces the list). */
  featureEntitlements: Schema.optionalKey(Schema.Array(FeatureEntitlementOptions))
}

/** Body of `POST /__admin/licenses`. */
export const LicenseOptions = Schema.Struct({
  productId: Schema.NonEmptyString,
  /** A fixed licence key (default: a fresh `XXXXXX-…` key of six groups of six uppercase hex digits). */
  key: Schema.optionalKey(Schema.NonEmptyString),
  ...licensePolicyFields
})
export type LicenseOptions = typeof LicenseOptions.Encoded

/** Answer of `POST /__admin/licenses` ({@link Emulator.createLicense}). */
export interface CreatedLicense {
  /** The licence id (the token's `lid`), for the admin calls that name the licence. */
  readonly id: string
  /** The licence key a client activates with. */
  readonly key: string
}

/** Body of `PATCH /__admin/licenses/{id}`: any policy field; meter totals survive for names kept. */
export const LicensePatch = Schema.Struct(licensePolicyFields)
export type LicensePatch = typeof LicensePatch.Encoded

/** One file of a release: its bytes as text (UTF-8) or base64. */
export const ReleaseFileOptions = Schema.Struct({
  name: Schema.NonEmptyString,
  content: Schema.optionalKey(Schema.String),
  contentBase64: Schema.optionalKey(Schema.String),
  /** Default true: the download needs the licence key. */
  secured: Schema.optionalKey(Schema.Boolean),
  /** The checksum the release lists (default: the content's MD5); set another to provoke a mismatch. */
  checksum: Schema.optionalKey(Schema.String)
})

/** Body of `POST /__admin/releases`. */
export const ReleaseOptions = Schema.Struct({
  productId: Schema.NonEmptyString,
  version: Schema.String.check(Schema.isPattern(ReleaseVersion)),
  /** Default "stable". */
  channel: Schema.optionalKey(Schema.NonEmptyString),
  platforms: Schema.Array(Schema.NonEmptyString).check(Schema.isMinLength(1)),
  name: Schema.optionalKey(Schema.String),
  notes: Schema.optionalKey(Schema.String),
  /** Default true; an unpublished release is never offered. */
  published: Schema.optionalKey(Schema.Boolean),
  private: Schema.optionalKey(Schema.Boolean),
  publishedAt: Schema.optionalKey(Instant),
  files: Schema.optionalKey(Schema.Array(ReleaseFileOptions))
})
export type ReleaseOptions = typeof ReleaseOptions.Encoded

/** Answer of `POST /__admin/releases` ({@link Emulator.createRelease}): the release and its files as served. */
export interface CreatedRelease {
  /** The release id (`GET /v3/releases/{id}/allowed`). */
  readonly id: string
  /** Each file's id, name, size in bytes and SHA-256 checksum (hex), as the release JSON carries them. */
  readonly files: ReadonlyArray<{
    readonly id: string
    readonly name: string
    readonly size: number
    readonly checksum: string
  }>
}

/** Body of `POST /__admin/users`: a user who logs in with `POST /v3/accounts/login`. */
export const UserOptions = Schema.Struct({
  email: Schema.NonEmptyString,
  password: Schema.String.check(Schema.isMinLength(8)),
  /** The account the user belongs to; a login naming another non-empty account id does not find the user. */
  accountId: Schema.optionalKey(Schema.NonEmptyString),
  /** Six digits: the user has two-factor authentication, and a login must carry this code. */
  twoFactorCode: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^\d{6}$/))),
  recoveryCodes: Schema.optionalKey(Schema.Array(Schema.NonEmptyString)),
  /** The id token `POST /v3/accounts/login-oidc` accepts for this user (when the account has OIDC). */
  idToken: Schema.optionalKey(Schema.NonEmptyString),
  /** The licences `GET /v3/me/licenses` lists for the user. */
  licenseIds: Schema.optionalKey(Schema.Array(Schema.NonEmptyString))
})
export type UserOptions = typeof UserOptions.Encoded

/** Body of `PATCH /__admin/users/{id}`. */
export const UserPatch = Schema.Struct({
  password: Schema.optionalKey(Schema.String.check(Schema.isMinLength(8))),
  twoFactorCode: Schema.optionalKey(Schema.NullOr(Schema.String.check(Schema.isPattern(/^\d{6}$/)))),
  licenseIds: Schema.optionalKey(Schema.Array(Schema.NonEmptyString)),
  /** `true` clears the failed-login count and any lock. */
  unlock: Schema.optionalKey(Schema.Boolean)
})
export type UserPatch = typeof UserPatch.Encoded

/** Answer of the user admin calls ({@link Emulator.createUser}, `getUser`, `updateUser`): a user as stored. */
export interface UserView {
  /** The user id (the access token's `sub`). */
  readonly id: string
  readonly accountId: string | null
  readonly email: string
  readonly twoFactor: boolean
  readonly licenseIds: ReadonlyArray<string>
  readonly failedLogins: number
  /** ISO time until which logins are refused with `ACCOUNT_LOGIN_TEMPORARILY_LOCKED`; null when not locked. */
  readonly lockedUntil: string | null
}

/** Body of `PUT /__admin/accounts/{id}`: the account's settings. */
export const AccountOptions = Schema.Struct({ oidcEnabled: Schema.Boolean })
export type AccountOptions = typeof AccountOptions.Encoded

/** Body of `PATCH /__admin/trial-activations/{id}`: moves a trial's expiry (an extension or a cut). */
export const TrialPatch = Schema.Struct({ expiresAt: Instant })
export type TrialPatch = typeof TrialPatch.Encoded

/**
 * How a fault breaks a matching request: `drop` closes the connection without an answer, `delay` answers late,
 * `status` answers with an error status (and `Retry-After` when given), `malformed` answers a body no client can
 * use.
 */
export const FaultKind = Schema.Literals(["drop", "delay", "status", "malformed"])
/** One of {@link FaultKind}'s literals. */
export type FaultKind = typeof FaultKind.Type

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/**
 * Body of `POST /__admin/faults`. A fault applies to the `/v3/` requests that match it (method, path prefix),
 * inside its time window on the emulator's clock, for its next `count` requests (default: until cleared).
 */
export const FaultSpec = Schema.Struct({
  kind: FaultKind,
  /** `status`: the status to answer with (default 503); `malformed`: default 200. */
  status: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 200, maximum: 599 }))),
  /** Seconds, sent as the `Retry-After` header of a `status` fault. */
  retryAfter: Schema.optionalKey(NonNegativeInt),
  /** `delay`: milliseconds of real time to hold the request before serving it normally. */
  delayMs: Schema.optionalKey(NonNegativeInt),
  /** `status`: the body (a string is sent verbatim, anything else as JSON); `malformed`: the raw text sent. */
  body: Schema.optionalKey(Schema.Unknown),
  count: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  from: Schema.optionalKey(Instant),
  until: Schema.optionalKey(Instant),
  match: Schema.optionalKey(
    Schema.Struct({
      method: Schema.optionalKey(Schema.NonEmptyString),
      /** A path prefix such as `/v3/activations`. */
      path: Schema.optionalKey(Schema.String)
    })
  )
})
export type FaultSpec = typeof FaultSpec.Encoded

/** Body of `POST /__admin/clock`: exactly one of the two. */
export const ClockChange = Schema.Struct({
  advanceSeconds: Schema.optionalKey(Schema.Finite),
  now: Schema.optionalKey(Instant)
})
export type ClockChange = typeof ClockChange.Encoded

/** An activation's uses of one meter attribute. */
export interface MeterUsesView {
  /** The meter attribute's name. */
  readonly name: string
  /** The uses this activation has counted (never below 0). */
  readonly uses: number
}

/** A licence's meter attribute with its totals over every activation. */
export interface LicenseMeterView {
  /** The id the meter call names (`POST /v3/activations/meter-attributes/{id}`). */
  readonly id: string
  readonly name: string
  readonly allowedUses: number
  readonly totalUses: number
  readonly grossUses: number
}

/** A live activation of a licence as the emulator holds it: what the client sent and what the server granted. */
export interface ActivationView {
  readonly id: string
  readonly licenseId: string
  readonly fingerprint: string
  readonly hostname: string
  readonly os: string
  readonly osVersion: string | null
  readonly appVersion: string
  /** The release version the activation was created with (signed as `crv`); null when the client sent none. */
  readonly releaseVersion: string | null
  readonly userHash: string
  readonly vmName: string | null
  readonly container: boolean
  readonly metadata: ReadonlyArray<MetadataEntry>
  readonly meterAttributes: ReadonlyArray<MeterUsesView>
  readonly createdAt: string
  readonly lastSyncedAt: string
  /** Hosted-floating only; null when the lease is unlimited or the licence node-locked. */
  readonly leaseExpiresAt: string | null
}

/** A licence's organisation; every address field is present, `null` when not given. */
export interface OrganizationView {
  readonly name: string
  readonly address: {
    readonly addressLine1: string | null
    readonly addressLine2: string | null
    readonly city: string | null
    readonly state: string | null
    readonly country: string | null
    readonly postalCode: string | null
  }
}

/** Answer of `GET` and `PATCH /__admin/licenses/{id}`. */
export interface LicenseView {
  readonly id: string
  readonly key: string
  readonly productId: string
  readonly type: LicenseType
  readonly expiresAt: string | null
  readonly serverSyncInterval: number
  readonly serverSyncGracePeriod: number
  readonly allowedActivations: number
  readonly allowedDeactivations: number
  readonly totalActivations: number
  readonly totalDeactivations: number
  readonly allowVmActivation: boolean
  readonly allowContainerActivation: boolean
  readonly leaseDuration: number
  readonly allowClientLeaseDuration: boolean
  readonly allowedClockOffset: number
  readonly suspended: boolean
  readonly revoked: boolean
  readonly metadata: ReadonlyArray<MetadataEntry>
  /** `null` when the licence has no user. */
  readonly user: { readonly name?: string; readonly email?: string; readonly company?: string } | null
  readonly organization: OrganizationView | null
  readonly meterAttributes: ReadonlyArray<LicenseMeterView>
  readonly createdAt: string
  readonly activations: ReadonlyArray<ActivationView>
}

/** A trial activation as the emulator holds it; `expiresAt` moves with `updateTrialActivation`. */
export interface TrialActivationView {
  readonly id: string
  readonly productId: string
  readonly fingerprint: string
  readonly hostname: string
  readonly os: string
  readonly metadata: ReadonlyArray<MetadataEntry>
  readonly createdAt: string
  readonly expiresAt: string
}

/** Answer of `GET /__admin/products/{id}`. */
export interface ProductView {
  readonly id: string
  readonly name: string
  readonly publicKeyPem: string
  readonly accountId: string | null
  readonly allowTrial: boolean
  readonly trialLength: number
  readonly allowedTrialActivations: number
  readonly trialServerSyncInterval: number
  readonly trialServerSyncGracePeriod: number
  readonly trialAllowedClockOffset: number
  readonly metadata: ReadonlyArray<MetadataEntry>
  readonly trialActivations: ReadonlyArray<TrialActivationView>
}

/** One `/v3/` request served, as `GET /__admin/log` lists it. */
export interface LogEntry {
  /** Epoch milliseconds on the emulator's clock when the request arrived. */
  readonly at: number
  readonly method: string
  readonly path: string
  /** The status answered; 0 when a `drop` fault closed the connection without an answer. */
  readonly status: number
  readonly fault?: FaultKind
}

/** A helper's admin call that the emulator refused; `message` is the emulator's own. */
export class EmulatorAdminError extends Schema.TaggedError<EmulatorAdminError>()("EmulatorAdminError", {
  method: Schema.String,
  path: Schema.String,
  status: Schema.Int,
  message: Schema.String
}) {}
