/**
 * What the reference client does on the wire, written from `../shared/protocol/reference-client.md` (cited row by
 * row), not from the emulator or from core. The conformance suite checks the requests our client sends and the
 * answers a server gives against these lists; nothing here is imported from `packages/`.
 */

/** Row 7: every key LexActivator 3.34's `Stringify(ActivationViewModel)` emits. A body key outside it is ours alone. */
export const ActivationBodyKeys = [
  "accountId",
  "os",
  "osVersion",
  "key",
  "floating",
  "fingerprint",
  "userHash",
  "productId",
  "vmName",
  "container",
  "appVersion",
  "releaseVersion",
  "releasePublishedAt",
  "releasePlatform",
  "releaseChannel",
  "hostname",
  "clientVersion",
  "leaseDuration",
  "email",
  "password",
  "metadata",
  "meterAttributes"
] as const

/** Rows 7–8 and the [REF] required marks: keys an activation body must carry. */
export const ActivationBodyRequired = [
  "accountId",
  "key",
  "productId",
  "fingerprint",
  "hostname",
  "os",
  "userHash",
  "appVersion",
  "clientVersion"
] as const

/** Rows 5–6: a trial body is the activation body without the licence (no key, email, password, lease). */
export const TrialBodyKeys = ActivationBodyKeys.filter(
  (key) => !["key", "email", "password", "leaseDuration", "floating", "meterAttributes"].includes(key)
)
export const TrialBodyRequired = ActivationBodyRequired.filter((key) => key !== "key")

/** Row 4: `Stringify(DeactivationViewModel)` = exactly these keys. */
export const DeactivationBodyKeys = ["id", "productId", "accountId", "fingerprint", "os", "userHash"] as const

/** Row 32: `ParseTrialActivationPayload` reads exactly these claims; a real trial token carries no others. */
export const TrialTokenClaimKeys = ["aid", "os", "fp", "fms", "pid", "uh", "ul", "eat", "iat", "orv", "pmd", "amd"]

/** Rows 2–6: method and path of each call. */
export const Calls = {
  activate: { method: "POST", path: () => "/v3/activations" },
  sync: { method: "PATCH", path: (id: string) => `/v3/activations/${id}` },
  deactivate: { method: "POST", path: (id: string) => `/v3/activations/${id}/deactivate` },
  activateTrial: { method: "POST", path: () => "/v3/trial-activations" },
  syncTrial: { method: "PATCH", path: (id: string) => `/v3/trial-activations/${id}` }
} as const

/**
 * Rows 18–20 and 4: the status each answer comes with. Activation and trial codes are read only under 400;
 * `DEACTIVATION_LIMIT_REACHED` under 409; a missing activation is 404 with `ACTIVATION_NOT_FOUND`; a done
 * deactivation is 204.
 */
export const AnswerStatus = {
  activated: [200, 201],
  synced: [200],
  deactivated: [204],
  ACTIVATION_LIMIT_REACHED: 400,
  TRIAL_ACTIVATION_LIMIT_REACHED: 400,
  INVALID_ACCOUNT_ID: 400,
  DEACTIVATION_LIMIT_REACHED: 409,
  ACTIVATION_NOT_FOUND: 404
} as const

/** Row 22 and `lexactivator-surface.md`: the LexActivator status our client must report for each outcome. */
export const LexStatusFor = {
  ok: { name: "LA_OK", code: 0 },
  trialExpired: { name: "LA_TRIAL_EXPIRED", code: 25 },
  ACTIVATION_LIMIT_REACHED: { name: "LA_E_ACTIVATION_LIMIT", code: 58 },
  ACTIVATION_NOT_FOUND: { name: "LA_E_ACTIVATION_NOT_FOUND", code: 59 },
  DEACTIVATION_LIMIT_REACHED: { name: "LA_E_DEACTIVATION_LIMIT", code: 60 },
  INVALID_ACCOUNT_ID: { name: "LA_E_ACCOUNT_ID", code: 93 }
} as const

/** Row 28: the address object `oa` is, when it is an object. */
export const OrganizationAddressKeys = ["addressLine1", "addressLine2", "city", "state", "country", "postalCode"]

// ---------------------------------------------------------------------------------------------------------------
// Releases, user login and feature entitlements (reference-client.md §3, row 38)
// ---------------------------------------------------------------------------------------------------------------

/** Row 38, §3 items 1, 4, 5: method and path of each call. */
export const MoreCalls = {
  releaseUpdate: { method: "GET", path: "/v3/releases/update" },
  releaseAllowed: { method: "GET", path: (id: string) => `/v3/releases/${id}/allowed` },
  login: { method: "POST", path: "/v3/accounts/login" },
  loginOidc: { method: "POST", path: "/v3/accounts/login-oidc" },
  userLicenses: { method: "GET", path: "/v3/me/licenses" },
  featureEntitlements: { method: "GET", path: (id: string) => `/v3/activations/${id}/feature-entitlements` },
  meterAttribute: { method: "POST", path: (id: string) => `/v3/activations/meter-attributes/${id}` }
} as const

/** Row 13: `ActivationMeterAttributeIncrementRequestModel` is `{productId, activationId, increment, accountId}`. */
export const MeterBodyKeys = ["productId", "activationId", "increment", "accountId"]
/** Row 13: the answer LexActivator reads. */
export const MeterAnswerKeys = ["name", "uses", "licenseAllowedUses", "licenseTotalUses", "licenseGrossUses"]
/** Row 31: one `lma` item as LexActivator 3.34 reads it. */
export const LicenseMeterKeys = ["id", "name", "allowedUses", "totalUses", "grossUses", "floating"]

/** Row 38: `?accountId=&productId=&platform=&key=&version=&channel=[&allowed=true]`, in this order. */
export const ReleaseUpdateQuery = ["accountId", "productId", "platform", "key", "version", "channel"] as const
/** Row 38: `GET /v3/releases/{id}/allowed?accountId=&key=`. */
export const ReleaseAllowedQuery = ["accountId", "key"] as const
/** §3 item 1: `?accountId={acc}&licenseId={lid}`. */
export const FeatureEntitlementsQuery = ["accountId", "licenseId"] as const
/**
 * §3 item 5: LexActivator sends `GET /v3/me/licenses?productId=…` alone, and so reads one page; licensure adds the
 * reference page's `page` and `limit` after it (UserLogin's DECISION), to read every page.
 */
export const UserLicensesQuery = ["productId", "page", "limit"] as const

/** §3 item 5 and [REF] `post-accounts-login`: the login body's keys, and the ones it must carry. */
export const LoginBodyKeys = [
  "accountId",
  "accountAlias",
  "email",
  "password",
  "twoFactorCode",
  "twoFactorRecoveryCode"
]
export const LoginBodyRequired = ["accountId", "email", "password"]
export const OidcLoginBodyKeys = ["accountId", "idToken"]

/** §3 item 4: the release JSON LexActivator 3.34 reads (`UpdatedAt` sic), and each file's. */
export const ReleaseKeys = [
  "totalFiles",
  "published",
  "private",
  "id",
  "createdAt",
  "UpdatedAt",
  "name",
  "channel",
  "version",
  "platforms",
  "notes",
  "publishedAt",
  "productId",
  "files"
]
export const ReleaseFileKeys = [
  "size",
  "downloads",
  "secured",
  "id",
  "name",
  "url",
  "extension",
  "checksum",
  "releaseId",
  "createdAt",
  "updatedAt"
]

/** §3 item 5: one licence of `GET /v3/me/licenses`. */
export const UserLicenseKeys = [
  "allowedActivations",
  "allowedDeactivations",
  "key",
  "type",
  "totalActivations",
  "totalDeactivations",
  "metadata"
]

/** §3 item 1: the feature-entitlements token's claims, and one feature's keys (3.42 adds the last two). */
export const FeatureTokenClaimKeys = ["aid", "lid", "fe"]
export const FeatureKeys = ["featureName", "featureDisplayName", "value", "baseValue", "expiresAt"]

/** lexactivator-surface.md §1.5: the release outcomes, and the login refusals' statuses. */
export const ReleaseStatusFor = {
  available: { name: "LA_RELEASE_UPDATE_AVAILABLE", code: 30 },
  notAvailable: { name: "LA_RELEASE_UPDATE_NOT_AVAILABLE", code: 31 },
  notAllowed: { name: "LA_RELEASE_UPDATE_AVAILABLE_NOT_ALLOWED", code: 32 }
} as const
