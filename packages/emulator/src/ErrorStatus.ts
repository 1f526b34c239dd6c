/**
 * The HTTP status the emulator answers with for each Cryptlex error code: the one table, so that a later
 * reading of the real API changes one line.
 *
 * LexActivator 3.34 reads activation and trial codes only under 400, and `DEACTIVATION_LIMIT_REACHED` under 409
 * (reference-client.md row 20): so 409 for that one code, 400 for every other. Clients must key on the `code`.
 * `ACTIVATION_NOT_FOUND` comes with 404 (row 18).
 *
 * @since 0.1.0
 */
import type { LoginErrorCode, ReleaseErrorCode, ServerErrorCode } from "@licensure/core/Protocol"

/** The status of every activation, trial and meter error code (`ServerErrorCode`): 409, 404 or 400 as above. */
export const ErrorStatus: { readonly [Code in ServerErrorCode]: number } = {
  ACTIVATION_LIMIT_REACHED: 400,
  DEACTIVATION_LIMIT_REACHED: 409,
  TRIAL_ACTIVATION_LIMIT_REACHED: 400,
  ACTIVATION_NOT_FOUND: 404,
  LICENSE_NOT_EFFECTIVE: 400,
  INVALID_ACCOUNT_ID: 400,
  INVALID_RELEASE_VERSION_FORMAT: 400,
  RELEASE_VERSION_NOT_ALLOWED: 400,
  FREE_PLAN_ACTIVATION_LIMIT_REACHED: 400,
  INVALID_ACTIVATION_ID: 400,
  INVALID_LICENSE_ID: 400,
  INVALID_DEVICE_ID: 400,
  INVALID_DEVICE_CHALLENGE_SIGNATURE: 400,
  ACTIVATION_CLONE_DETECTED: 400,
  INVALID_ACTIVATION_FINGERPRINT: 400,
  VM_ACTIVATION_NOT_ALLOWED: 400,
  CONTAINER_ACTIVATION_NOT_ALLOWED: 400,
  INVALID_PRODUCT_ID: 400,
  INVALID_LICENSE_KEY: 400,
  AUTHENTICATION_FAILED: 400,
  COUNTRY_NOT_ALLOWED: 400,
  IP_ADDRESS_NOT_ALLOWED: 400,
  REVOKED_LICENSE: 400,
  INVALID_LICENSE_TYPE: 400,
  METER_ATTRIBUTE_USES_LIMIT_REACHED: 400,
  TRIAL_NOT_ALLOWED: 400,
  INVALID_OFFLINE_REQUEST: 400,
  NO_ERROR: 400
}

/**
 * The login and release codes (reference-client.md §3 item 5 and row 38), in the same one table's style.
 *
 * DECISION ([REF] `post-accounts-login` lists 200/400/409/429/500 and LexActivator handles 401 and 409, without
 * saying which code comes under which): a lock and a plan's user limit are conflicts with the account's state,
 * 409; wrong or missing credentials and an account without SSO are bad requests, 400. `INVALID_VERSION_FORMAT` is
 * 400, like every other bad-input code. Clients key on the code.
 */
export const MoreErrorStatus: { readonly [Code in LoginErrorCode | ReleaseErrorCode]: number } = {
  INVALID_AUTHENTICATION_CREDENTIALS: 400,
  MISSING_TWO_FACTOR_CODE: 400,
  INVALID_TWO_FACTOR_CODE: 400,
  OIDC_SSO_NOT_ENABLED: 400,
  ACCOUNT_LOGIN_TEMPORARILY_LOCKED: 409,
  PLAN_UPGRADE_REQUIRED: 409,
  INVALID_VERSION_FORMAT: 400,
  INVALID_PRODUCT_ID: 400
}
