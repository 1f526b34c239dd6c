/**
 * The one error a `Licensing` command fails with, and its typed `reason`: a tagged union a caller switches on
 * exhaustively or handles with `Effect.catchReason("LicensingError", "RateLimited", …)`. `kind` and `code` stay
 * beside it, as the same facts in flat form (the CLI's exit codes and older callers read them).
 *
 * Each reason maps to its LexActivator status in one table, {@link lexStatusOfFailure} (LexStatus.ts), applied
 * to the failure the reason was made from; the error's `status` is that status.
 *
 * @example
 * licensing.activate(key).pipe(
 *   Effect.catchReason("LicensingError", "ServerRefused", (reason) => Effect.log(`refused: ${reason.code}`))
 * )
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import type * as ActivationToken from "./ActivationToken.ts"
import { type ApiError, isSetupFailure, isTransient, isUncodedRefusal } from "./LicenseApi.ts"
import type { FailureInfo } from "./LicenseModel.ts"

const message = { message: Schema.String }

/** No answer: refused, reset, timed out, DNS, TLS (the message keeps the platform's code). */
export class NetworkFailure extends Schema.TaggedClass<NetworkFailure>()("NetworkFailure", message) {}
/** 429: `retryAfterMillis` when the server said how long. */
export class RateLimited extends Schema.TaggedClass<RateLimited>()("RateLimited", {
  ...message,
  retryAfterMillis: Schema.optionalKey(Schema.Number)
}) {}
/** The server refused with a code this client knows (`INVALID_LICENSE_KEY`, `ACTIVATION_LIMIT_REACHED`, …). */
export class ServerRefused extends Schema.TaggedClass<ServerRefused>()("ServerRefused", {
  ...message,
  code: Schema.String
}) {}
/** The server refused with a code this client does not know, kept verbatim. */
export class UnknownServerCode extends Schema.TaggedClass<UnknownServerCode>()("UnknownServerCode", {
  ...message,
  code: Schema.String
}) {}
/** The activation is gone on the server (a 404). */
export class NotFound extends Schema.TaggedClass<NotFound>()("NotFound", message) {}
/** 5xx or an uncoded refusal. */
export class ServerFailure extends Schema.TaggedClass<ServerFailure>()("ServerFailure", message) {}
/** An answer that is not what the protocol says (not JSON, too large, missing the token). */
export class MalformedResponse extends Schema.TaggedClass<MalformedResponse>()("MalformedResponse", message) {}
/** A token that failed verification; `tokenReason` is `ActivationToken`'s reason (`badSignature`, …). */
export class TokenRejected extends Schema.TaggedClass<TokenRejected>()("TokenRejected", {
  ...message,
  tokenReason: Schema.optionalKey(Schema.String)
}) {}
/** The licence record could not be read or written. */
export class StoreFailure extends Schema.TaggedClass<StoreFailure>()("StoreFailure", message) {}
/** The machine's identity could not be read, or the token is another machine's. */
export class FingerprintFailure extends Schema.TaggedClass<FingerprintFailure>()("FingerprintFailure", message) {}
/** A hosted-floating lease ran out. */
export class LeaseLapsed extends Schema.TaggedClass<LeaseLapsed>()("LeaseLapsed", message) {}
/** The stored activation was cleared (by a verified refusal). */
export class ActivationCleared extends Schema.TaggedClass<ActivationCleared>()("ActivationCleared", message) {}
/** A bug inside an operation, reported as data. */
export class InternalError extends Schema.TaggedClass<InternalError>()("InternalError", message) {}
/** The command needs an activation and there is none. */
export class NotActivated extends Schema.TaggedClass<NotActivated>()("NotActivated", message) {}

/** The client was closed before the call finished. */
export class Closed extends Schema.TaggedClass<Closed>()("Closed", message) {}

/** A trial was asked for while a licence is activated on this machine (deactivate it first). */
export class AlreadyLicensed extends Schema.TaggedClass<AlreadyLicensed>()("AlreadyLicensed", message) {}

/** `incrementMeter` named a meter attribute the licence does not have (LexActivator's 72). */
export class MeterAttributeNotFound extends Schema.TaggedClass<MeterAttributeNotFound>()("MeterAttributeNotFound", {
  name: Schema.String,
  message: Schema.String
}) {}

/** `incrementMeter` was given an amount that is not a whole number of uses, 0 or more. */
export class InvalidMeterAmount extends Schema.TaggedClass<InvalidMeterAmount>()("InvalidMeterAmount", message) {}

/**
 * Why a `Licensing` command failed, one of eighteen tagged cases (`NetworkFailure`, `RateLimited`, `ServerRefused`, …,
 * `NotActivated`, `Closed`, `AlreadyLicensed`); the `reason` of {@link LicensingError}. Switch on `_tag`; the schema decodes it from its
 * encoded form.
 */
export const LicensingErrorReason = Schema.Union([
  NetworkFailure,
  RateLimited,
  ServerRefused,
  UnknownServerCode,
  NotFound,
  ServerFailure,
  MalformedResponse,
  TokenRejected,
  StoreFailure,
  FingerprintFailure,
  LeaseLapsed,
  ActivationCleared,
  InternalError,
  NotActivated,
  Closed,
  AlreadyLicensed,
  MeterAttributeNotFound,
  InvalidMeterAmount
])
export type LicensingErrorReason = typeof LicensingErrorReason.Type

/** A command's operation failed; `reason` says how, `status` in LexActivator's terms. */
export class LicensingError extends Schema.TaggedError<LicensingError>()("LicensingError", {
  /** The command that failed: `activate`, `activateTrial`, `sync`, `deactivate`, `incrementMeter`, … */
  operation: Schema.String,
  /** The typed reason (`NetworkFailure`, `ServerRefused` with the server's `code`, `NotActivated`, …); switch on `_tag`. */
  reason: LicensingErrorReason,
  /** The reason's tag, flat (`reason._tag`). */
  kind: Schema.String,
  /** The server's code or the token's reason, flat, when there is one. */
  code: Schema.optionalKey(Schema.String),
  /** What went wrong, in a sentence (the server's message when it sent one). */
  message: Schema.String,
  /** LexActivator's status for the failure (`LA_E_INET` 48, `LA_E_LICENSE_KEY` 54, …). */
  status: Schema.Struct({ name: Schema.String, code: Schema.Number }),
  /** The machine's state once the failure was taken in (e.g. `grace` after a sync failed in an outage). */
  state: Schema.String
}) {}

/** The typed reason for a failure the machine recorded. */
export const reasonOf = (failure: Pick<FailureInfo, "kind" | "code" | "message" | "retryAfterMillis">) => {
  const m = failure.message
  switch (failure.kind) {
    case "NetworkFailure":
      return new NetworkFailure({ message: m })
    case "RateLimited":
      return new RateLimited({
        message: m,
        ...(failure.retryAfterMillis !== undefined ? { retryAfterMillis: failure.retryAfterMillis } : {})
      })
    case "ServerRefused":
      return new ServerRefused({ message: m, code: failure.code ?? "" })
    case "UnknownServerCode":
      return new UnknownServerCode({ message: m, code: failure.code ?? "" })
    case "NotFound":
      return new NotFound({ message: m })
    case "ServerFailure":
      return new ServerFailure({ message: m })
    case "MalformedResponse":
      return new MalformedResponse({ message: m })
    case "TokenRejected":
      return new TokenRejected({ message: m, ...(failure.code !== undefined ? { tokenReason: failure.code } : {}) })
    case "StoreFailure":
      return new StoreFailure({ message: m })
    case "FingerprintFailure":
      return new FingerprintFailure({ message: m })
    case "LeaseLapsed":
      return new LeaseLapsed({ message: m })
    case "ActivationCleared":
      return new ActivationCleared({ message: m })
    case "InternalError":
      return new InternalError({ message: m })
  }
}

/**
 * An `ApiError` as the machine records it.
 *
 * DECISION: on sync, an uncoded 4xx (`isUncodedRefusal`: a proxy's or gateway's 403/405/401, no Cryptlex `code`)
 * is transient for the machine: the activation is kept in grace and synced again at the cadence, as after a
 * network failure, though the call itself was not retried. Only a server-coded refusal may clear a stored
 * activation (LexActivator clears only on the codes of reference-client.md row 22 and reports an uncoded 4xx as
 * `LA_E_INET`, a network error, rows 20, 23), and an answer without a code says nothing about the licence.
 */
export const failureFromApi = (operation: FailureInfo["operation"], error: ApiError): FailureInfo => {
  const r = error.reason
  return {
    operation,
    kind: r._tag,
    ...("code" in r ? { code: r.code } : {}),
    ...(r._tag === "ServerFailure" ? { status: r.status } : {}),
    message: r.message,
    // A sync that met a setup failure keeps the activation (in grace) like an outage: the app can be fixed.
    transient: isTransient(error) || (operation === "sync" && (isUncodedRefusal(r) || isSetupFailure(r))),
    ...(r._tag === "RateLimited" && r.retryAfterSeconds !== undefined
      ? { retryAfterMillis: r.retryAfterSeconds * 1000 }
      : {})
  }
}

/** Any operation error as the machine records it; only verified, server-coded refusals are permanent on sync. */
export const failureFromError = (
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
