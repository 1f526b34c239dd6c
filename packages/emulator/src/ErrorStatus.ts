/**
 * The HTTP status the emulator answers with for each Cryptlex error code: the one table, so that a later
 * reading of the real API changes one line.
 *
 * DECISION (protocol §1.8: the sample maps codes under 400, the generated client also declares 409): the
 * three "limit reached" codes are sent with 409 Conflict, every other code with 400 Bad Request. Clients must
 * key on the `code`, not on the status.
 *
 * @since 0.1.0
 */
import type { ServerErrorCode } from "@licensure/core/Protocol"

export const ErrorStatus: { readonly [Code in ServerErrorCode]: number } = {
  ACTIVATION_LIMIT_REACHED: 409,
  DEACTIVATION_LIMIT_REACHED: 409,
  TRIAL_ACTIVATION_LIMIT_REACHED: 409,
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
