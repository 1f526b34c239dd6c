/**
 * LexActivator's status names and codes (protocol §3), for teams migrating from the native library: the same
 * numbers their code already switches on. {@link statusCodeOf} maps this library's state to the code
 * `IsLicenseGenuine()` would have returned.
 *
 * @since 0.1.0
 */
import type { LicensingErrorReason } from "./LicensingError.ts"

/** Every status LexActivator 3.42 defines, 0–114 (`reference/lexactivator-surface.md`), with its number. */
export const LexStatusCodes = {
  LA_OK: 0,
  LA_FAIL: 1,
  LA_EXPIRED: 20,
  LA_SUSPENDED: 21,
  LA_GRACE_PERIOD_OVER: 22,
  LA_TRIAL_EXPIRED: 25,
  LA_LOCAL_TRIAL_EXPIRED: 26,
  LA_RELEASE_UPDATE_AVAILABLE: 30,
  LA_RELEASE_UPDATE_NOT_AVAILABLE: 31,
  LA_RELEASE_UPDATE_AVAILABLE_NOT_ALLOWED: 32,
  LA_E_FILE_PATH: 40,
  LA_E_PRODUCT_FILE: 41,
  LA_E_PRODUCT_DATA: 42,
  LA_E_PRODUCT_ID: 43,
  LA_E_SYSTEM_PERMISSION: 44,
  LA_E_FILE_PERMISSION: 45,
  LA_E_WMIC: 46,
  LA_E_TIME: 47,
  LA_E_INET: 48,
  LA_E_NET_PROXY: 49,
  LA_E_HOST_URL: 50,
  LA_E_BUFFER_SIZE: 51,
  LA_E_APP_VERSION_LENGTH: 52,
  LA_E_REVOKED: 53,
  LA_E_LICENSE_KEY: 54,
  LA_E_LICENSE_TYPE: 55,
  LA_E_OFFLINE_RESPONSE_FILE: 56,
  LA_E_OFFLINE_RESPONSE_FILE_EXPIRED: 57,
  LA_E_ACTIVATION_LIMIT: 58,
  LA_E_ACTIVATION_NOT_FOUND: 59,
  LA_E_DEACTIVATION_LIMIT: 60,
  LA_E_TRIAL_NOT_ALLOWED: 61,
  LA_E_TRIAL_ACTIVATION_LIMIT: 62,
  LA_E_MACHINE_FINGERPRINT: 63,
  LA_E_METADATA_KEY_LENGTH: 64,
  LA_E_METADATA_VALUE_LENGTH: 65,
  LA_E_ACTIVATION_METADATA_LIMIT: 66,
  LA_E_TRIAL_ACTIVATION_METADATA_LIMIT: 67,
  LA_E_METADATA_KEY_NOT_FOUND: 68,
  LA_E_TIME_MODIFIED: 69,
  LA_E_RELEASE_VERSION_FORMAT: 70,
  LA_E_AUTHENTICATION_FAILED: 71,
  LA_E_METER_ATTRIBUTE_NOT_FOUND: 72,
  LA_E_METER_ATTRIBUTE_USES_LIMIT_REACHED: 73,
  LA_E_CUSTOM_FINGERPRINT_LENGTH: 74,
  LA_E_PRODUCT_VERSION_NOT_LINKED: 75,
  LA_E_FEATURE_FLAG_NOT_FOUND: 76,
  LA_E_RELEASE_VERSION_NOT_ALLOWED: 77,
  LA_E_RELEASE_PLATFORM_LENGTH: 78,
  LA_E_RELEASE_CHANNEL_LENGTH: 79,
  LA_E_VM: 80,
  LA_E_COUNTRY: 81,
  LA_E_IP: 82,
  LA_E_CONTAINER: 83,
  LA_E_RELEASE_VERSION: 84,
  LA_E_RELEASE_PLATFORM: 85,
  LA_E_RELEASE_CHANNEL: 86,
  LA_E_USER_NOT_AUTHENTICATED: 87,
  LA_E_TWO_FACTOR_AUTHENTICATION_CODE_MISSING: 88,
  LA_E_TWO_FACTOR_AUTHENTICATION_CODE_INVALID: 89,
  LA_E_RATE_LIMIT: 90,
  LA_E_SERVER: 91,
  LA_E_CLIENT: 92,
  LA_E_ACCOUNT_ID: 93,
  LA_E_LOGIN_TEMPORARILY_LOCKED: 100,
  LA_E_AUTHENTICATION_ID_TOKEN_INVALID: 101,
  LA_E_OIDC_SSO_NOT_ENABLED: 102,
  LA_E_USERS_LIMIT_REACHED: 103,
  LA_E_OS_USER: 104,
  LA_E_INVALID_PERMISSION_FLAG: 105,
  LA_E_FREE_PLAN_ACTIVATION_LIMIT_REACHED: 106,
  LA_E_FEATURE_ENTITLEMENTS_INVALID: 107,
  LA_E_FEATURE_ENTITLEMENT_NOT_FOUND: 108,
  LA_E_ENTITLEMENT_SET_NOT_LINKED: 109,
  LA_E_LICENSE_NOT_EFFECTIVE: 110,
  LA_E_DEVICE_NOT_FOUND: 111,
  LA_E_DEVICE_VALIDATION_FAILED: 112,
  LA_E_FINGERPRINT_VALIDATION_GRACE_PERIOD_OVER: 113,
  LA_E_ACTIVATION_CLONE_DETECTED: 114
} as const

/** A LexActivator status name such as `LA_OK` or `LA_EXPIRED`; the keys of `LexStatusCodes`. */
export type LexStatusName = keyof typeof LexStatusCodes

/** One of LexActivator's status codes, by name and number, e.g. `{ name: "LA_EXPIRED", code: 20 }`. */
export interface LexStatus {
  /** The constant's name in LexActivator's headers (`LA_OK`, `LA_E_INET`, …). */
  readonly name: LexStatusName
  /** Its numeric value, the one LexActivator's functions return. */
  readonly code: number
}

/**
 * The status name with LexActivator's number for it.
 * @example lexStatus("LA_EXPIRED") // { name: "LA_EXPIRED", code: 20 }
 */
export const lexStatus = (name: LexStatusName): LexStatus => ({ name, code: LexStatusCodes[name] })

/**
 * The LexActivator error for a server `code` (reference-client.md rows 21, 22); an unknown code is `LA_E_CLIENT`.
 *
 * DECISION (row 21 names the 3.42 device codes and the meter/entitlement codes, not their statuses):
 * `INVALID_DEVICE_ID` → 111, `INVALID_DEVICE_CHALLENGE_SIGNATURE` → 112, `ACTIVATION_CLONE_DETECTED` → 114 (the
 * 3.42 header's names); `INVALID_ACTIVATION_ID` → 59 and `INVALID_LICENSE_ID` → 54, the nearest older statuses.
 */
export const lexStatusOfServerCode = (code: string): LexStatusName => {
  switch (code) {
    case "ACTIVATION_NOT_FOUND":
    case "INVALID_ACTIVATION_ID":
      return "LA_E_ACTIVATION_NOT_FOUND"
    case "LICENSE_NOT_EFFECTIVE":
      return "LA_E_LICENSE_NOT_EFFECTIVE"
    case "INVALID_ACCOUNT_ID":
      return "LA_E_ACCOUNT_ID"
    case "INVALID_RELEASE_VERSION_FORMAT":
      return "LA_E_RELEASE_VERSION_FORMAT"
    case "RELEASE_VERSION_NOT_ALLOWED":
      return "LA_E_RELEASE_VERSION_NOT_ALLOWED"
    case "FREE_PLAN_ACTIVATION_LIMIT_REACHED":
      return "LA_E_FREE_PLAN_ACTIVATION_LIMIT_REACHED"
    case "INVALID_LICENSE_ID":
      return "LA_E_LICENSE_KEY"
    case "INVALID_DEVICE_ID":
      return "LA_E_DEVICE_NOT_FOUND"
    case "INVALID_DEVICE_CHALLENGE_SIGNATURE":
      return "LA_E_DEVICE_VALIDATION_FAILED"
    case "ACTIVATION_CLONE_DETECTED":
      return "LA_E_ACTIVATION_CLONE_DETECTED"
    case "ACTIVATION_LIMIT_REACHED":
      return "LA_E_ACTIVATION_LIMIT"
    case "DEACTIVATION_LIMIT_REACHED":
      return "LA_E_DEACTIVATION_LIMIT"
    case "INVALID_ACTIVATION_FINGERPRINT":
      return "LA_E_MACHINE_FINGERPRINT"
    case "VM_ACTIVATION_NOT_ALLOWED":
      return "LA_E_VM"
    case "CONTAINER_ACTIVATION_NOT_ALLOWED":
      return "LA_E_CONTAINER"
    case "INVALID_PRODUCT_ID":
      return "LA_E_PRODUCT_ID"
    case "INVALID_LICENSE_KEY":
      return "LA_E_LICENSE_KEY"
    case "AUTHENTICATION_FAILED":
      return "LA_E_AUTHENTICATION_FAILED"
    case "COUNTRY_NOT_ALLOWED":
      return "LA_E_COUNTRY"
    case "IP_ADDRESS_NOT_ALLOWED":
      return "LA_E_IP"
    case "REVOKED_LICENSE":
      return "LA_E_REVOKED"
    case "INVALID_LICENSE_TYPE":
      return "LA_E_LICENSE_TYPE"
    case "METER_ATTRIBUTE_USES_LIMIT_REACHED":
      return "LA_E_METER_ATTRIBUTE_USES_LIMIT_REACHED"
    case "TRIAL_NOT_ALLOWED":
      return "LA_E_TRIAL_NOT_ALLOWED"
    case "TRIAL_ACTIVATION_LIMIT_REACHED":
      return "LA_E_TRIAL_ACTIVATION_LIMIT"
    default:
      return "LA_E_CLIENT"
  }
}

/**
 * The LexActivator error for an answer without a code: `LA_E_SERVER` only above 499, any other status (a proxy's
 * 403, a gateway's 405) `LA_E_INET`, as LexActivator 3.34 reports it (reference-client.md rows 20, 23). No status
 * known (a failure recorded before the status was kept) is `LA_E_SERVER`, as it was then.
 */
export const lexStatusOfHttpStatus = (status: number | undefined): LexStatusName =>
  status === undefined || status > 499 ? "LA_E_SERVER" : status === 429 ? "LA_E_RATE_LIMIT" : "LA_E_INET"

/** The reasons a call fails with when the server refused nothing with a code of its own. */
export type TransportFailureTag = "NetworkFailure" | "RateLimited" | "ServerFailure" | "MalformedResponse"

/**
 * The LexActivator error for a call that failed without a server code: no answer, a rate limit, an answer without a
 * code (by its HTTP status, {@link lexStatusOfHttpStatus}), or one that would not read. One rule for every call:
 * the licence calls (through {@link lexStatusOfFailure}) and the releases, login, entitlements and meter calls.
 */
export const lexStatusOfTransport = (reason: {
  readonly _tag: TransportFailureTag
  readonly status?: number | undefined
}): LexStatusName => {
  switch (reason._tag) {
    case "NetworkFailure":
      return "LA_E_INET"
    case "RateLimited":
      return "LA_E_RATE_LIMIT"
    case "ServerFailure":
      return lexStatusOfHttpStatus(reason.status)
    case "MalformedResponse":
      return "LA_E_SERVER"
  }
}

/**
 * The LexActivator error for a failure, keyed by its reason (`LicensingError`'s `reason._tag`, a view's
 * `lastError.kind`): the one table every status of a failure comes from. The server's code decides when it sent
 * one (a token's failure carries its token reason there instead); otherwise the reason does.
 */
export const lexStatusOfFailure = (failure: {
  readonly kind: LicensingErrorReason["_tag"]
  readonly code?: string | undefined
  readonly status?: number | undefined
  readonly transient?: boolean | undefined
}): LexStatusName => {
  switch (failure.kind) {
    // A server answer whose token failed verification is a server fault.
    case "TokenRejected":
      return failure.transient === true ? "LA_E_SERVER" : "LA_FAIL"
    // A token for another machine: the kind says more than the token reason (issue 9).
    case "FingerprintFailure":
      return "LA_E_MACHINE_FINGERPRINT"
  }
  if (failure.code !== undefined) return lexStatusOfServerCode(failure.code)
  switch (failure.kind) {
    case "NetworkFailure":
    case "RateLimited":
    case "ServerFailure":
    case "MalformedResponse":
      return lexStatusOfTransport({ _tag: failure.kind, status: failure.status })
    case "ServerRefused":
    case "UnknownServerCode":
      return "LA_E_SERVER"
    case "NotFound":
      return "LA_E_ACTIVATION_NOT_FOUND"
    case "MeterAttributeNotFound":
      return "LA_E_METER_ATTRIBUTE_NOT_FOUND"
    case "StoreFailure":
    case "LeaseLapsed":
    case "ActivationCleared":
    case "InternalError":
    case "NotActivated":
    case "Closed":
    case "AlreadyLicensed":
    case "InvalidMeterAmount":
      return "LA_FAIL"
  }
}
