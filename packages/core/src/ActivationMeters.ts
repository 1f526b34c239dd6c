/**
 * Activation meter attributes over their own call (LexActivator's `Increment…`, `Decrement…` and
 * `ResetActivationMeterAttributeUses` in `LA_IN_MEMORY` mode): `POST /v3/activations/meter-attributes/{id}` with
 * `{productId, activationId, increment, accountId}`, answered with the activation's new uses and the licence's
 * totals (reference-client.md row 13, §3 item 6). The licensing machine's `incrementMeter` sends increments with a
 * sync instead (LexActivator's default mode); these functions need no machine, only an activation's claims.
 *
 * A refusal for the licence's allowance is typed ({@link MeterUsesLimitReached}, LexActivator's
 * `LA_E_METER_ATTRIBUTE_USES_LIMIT_REACHED`, 73), and so is a name the licence has no meter for
 * ({@link MeterAttributeNotFound}, 72).
 *
 * @example
 * ```ts
 * const meters = yield* ActivationMeters
 * let target = ActivationMeters.targetOf(claims, { accountId })
 * const uses = yield* meters.increment(target, "exports", 1)
 * target = ActivationMeters.withUses(target, uses) // so that a later reset knows the uses
 * yield* meters.reset(target, "exports")
 * ```
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import {
  type LexStatus,
  type LexStatusName,
  lexStatus,
  lexStatusOfServerCode,
  lexStatusOfTransport
} from "./LexStatus.ts"
import {
  ApiErrorReason,
  encodeJsonBody,
  type LicenseApiConfig,
  MalformedResponse,
  makeTransport,
  type Transport,
  withAccountHeader
} from "./LicenseApi.ts"
import {
  type ActivationMeterAttribute,
  type ActivationMeterIncrementRequest,
  ActivationMeterUses,
  type LicenseMeterAttribute,
  MoreEndpoints
} from "./Protocol.ts"

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/** The licence has no meter attribute of that name, or the token gives it no id to call (LexActivator's 72). */
export class MeterAttributeNotFound extends Schema.TaggedError<MeterAttributeNotFound>()("MeterAttributeNotFound", {
  name: Schema.String,
  message: Schema.String
}) {}

/** The server refused the increment: the licence's allowed uses would be passed (LexActivator's 73). */
export class MeterUsesLimitReached extends Schema.TaggedError<MeterUsesLimitReached>()("MeterUsesLimitReached", {
  name: Schema.String,
  status: Schema.Number,
  message: Schema.String
}) {}

/** An amount LexActivator's unsigned parameter could not carry: negative, fractional or past 2^53. */
export class InvalidMeterAmount extends Schema.TaggedError<InvalidMeterAmount>()("InvalidMeterAmount", {
  message: Schema.String
}) {}

/** Why a meter call failed: one of the API's reasons (network, refusal, rate limit, …) or one of the three above. */
export const ActivationMeterErrorReason = Schema.Union([
  ...ApiErrorReason.members,
  MeterAttributeNotFound,
  MeterUsesLimitReached,
  InvalidMeterAmount
])
/** The decoded type of {@link ActivationMeterErrorReason}; switch on its `_tag`. */
export type ActivationMeterErrorReason = typeof ActivationMeterErrorReason.Type

/** A failed increment, decrement or reset of the meter `meter`; `reason` says why and `status` is LexActivator's code. */
export class ActivationMeterError extends Schema.TaggedError<ActivationMeterError>()("ActivationMeterError", {
  operation: Schema.Literals(["increment", "decrement", "reset"]),
  meter: Schema.String,
  reason: ActivationMeterErrorReason
}) {
  /** `<operation> of meter <name> failed: <reason tag> [server code]: <reason's message>`. */
  override get message(): string {
    const r = this.reason
    return `${this.operation} of meter ${this.meter} failed: ${r._tag}${"code" in r ? ` ${r.code}` : ""}: ${r.message}`
  }
  /** The status LexActivator's meter function would have returned. */
  get status(): LexStatus {
    return lexStatus(meterStatusOf(this.reason))
  }
}

/**
 * LexActivator's status for a failed meter call.
 *
 * DECISION (the reference lists `INVALID_ACTIVATION_ID` for this call, nothing about 404): the path names the
 * meter attribute, so a 404 without a code is the meter attribute not found (72); a coded refusal maps as for
 * activations (`INVALID_ACTIVATION_ID` → 59). An amount refused before sending is `LA_FAIL` (1).
 */
export const meterStatusOf = (reason: ActivationMeterErrorReason): LexStatusName => {
  switch (reason._tag) {
    case "MeterAttributeNotFound":
    case "NotFound":
      return "LA_E_METER_ATTRIBUTE_NOT_FOUND"
    case "MeterUsesLimitReached":
      return "LA_E_METER_ATTRIBUTE_USES_LIMIT_REACHED"
    case "InvalidMeterAmount":
      return "LA_FAIL"
    case "ServerRefused":
    case "UnknownServerCode":
      return lexStatusOfServerCode(reason.code)
    case "NetworkFailure":
    case "RateLimited":
    case "ServerFailure":
    case "MalformedResponse":
      return lexStatusOfTransport(reason)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Targets (pure)
// ---------------------------------------------------------------------------------------------------------------

/** What a meter call needs to know about the activation: an `ActivationClaims` (plus the account id) fits. */
export interface MeterTarget {
  readonly activationId: string
  readonly productId: string
  readonly accountId?: string | undefined
  readonly licenseMeterAttributes: ReadonlyArray<LicenseMeterAttribute>
  readonly activationMeterAttributes: ReadonlyArray<ActivationMeterAttribute>
}

/** The target for an activation's verified claims. */
export const targetOf = (
  claims: Omit<MeterTarget, "accountId">,
  options: { readonly accountId?: string | undefined } = {}
): MeterTarget => ({
  activationId: claims.activationId,
  productId: claims.productId,
  accountId: options.accountId,
  licenseMeterAttributes: claims.licenseMeterAttributes,
  activationMeterAttributes: claims.activationMeterAttributes
})

/** The target after a meter answer: the activation's uses and the licence's totals as the server gave them. */
export const withUses = (target: MeterTarget, answer: ActivationMeterUses): MeterTarget => ({
  ...target,
  licenseMeterAttributes: target.licenseMeterAttributes.map((meter) =>
    meter.name === answer.name
      ? {
          ...meter,
          allowedUses: answer.licenseAllowedUses,
          totalUses: answer.licenseTotalUses,
          ...(answer.licenseGrossUses === undefined ? {} : { grossUses: answer.licenseGrossUses })
        }
      : meter
  ),
  activationMeterAttributes: target.activationMeterAttributes.some((meter) => meter.name === answer.name)
    ? target.activationMeterAttributes.map((meter) =>
        meter.name === answer.name ? { ...meter, uses: answer.uses } : meter
      )
    : [...target.activationMeterAttributes, { name: answer.name, uses: answer.uses }]
})

/** The activation's uses of a meter as the target knows them (0 when it has none recorded). */
export const usesOf = (target: MeterTarget, name: string): number =>
  target.activationMeterAttributes.find((meter) => meter.name === name)?.uses ?? 0

// ---------------------------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------------------------

/** The meter calls of {@link ActivationMeters}; each is one request, failing with an {@link ActivationMeterError}. */
export interface ActivationMetersService {
  /** Adds `by` (≥ 0) uses to the activation's meter `name`. */
  readonly increment: (
    target: MeterTarget,
    name: string,
    by: number
  ) => Effect.Effect<ActivationMeterUses, ActivationMeterError>
  /** Takes `by` (≥ 0) uses off; the server keeps the activation's uses at 0 or more. */
  readonly decrement: (
    target: MeterTarget,
    name: string,
    by: number
  ) => Effect.Effect<ActivationMeterUses, ActivationMeterError>
  /**
   * Sets the activation's uses of `name` back to 0.
   *
   * DECISION (lexactivator-surface.md §1.3 infers "a negative increment of the current uses"; the call has no reset
   * of its own): one call with `increment = −uses`, the uses being what the target knows (the token's `ama`, or the
   * last answer through {@link withUses}); with 0 known uses the call is still made (increment 0, which the
   * reference's own example sends), so the answer is always the server's.
   */
  readonly reset: (target: MeterTarget, name: string) => Effect.Effect<ActivationMeterUses, ActivationMeterError>
}

const decodeUses = Schema.decodeUnknownEffect(ActivationMeterUses)

const checkAmount = (by: number): InvalidMeterAmount | undefined =>
  Number.isSafeInteger(by) && by >= 0
    ? undefined
    : new InvalidMeterAmount({ message: `expected a whole number of uses, 0 or more, got ${by}` })

/** The service over a given transport (the `LicenseApi` HTTP plumbing); {@link ActivationMeters.make} supplies one. */
export const makeActivationMeters = (transport: Transport): ActivationMetersService => {
  const call = (
    operation: ActivationMeterError["operation"],
    target: MeterTarget,
    name: string,
    increment: number
  ): Effect.Effect<ActivationMeterUses, ActivationMeterError> => {
    const fail = (reason: ActivationMeterErrorReason) =>
      Effect.fail(new ActivationMeterError({ operation, meter: name, reason }))
    const meter = target.licenseMeterAttributes.find((candidate) => candidate.name === name)
    if (meter === undefined || meter.id === undefined || meter.id === "") {
      return fail(
        new MeterAttributeNotFound({
          name,
          message:
            meter === undefined
              ? `expected one of the licence's meter attributes (${target.licenseMeterAttributes.map((m) => m.name).join(", ") || "none"}), got ${JSON.stringify(name)}`
              : `the activation token gives meter attribute ${JSON.stringify(name)} no id to call`
        })
      )
    }
    const body: ActivationMeterIncrementRequest = {
      productId: target.productId,
      activationId: target.activationId,
      increment,
      accountId: target.accountId ?? ""
    }
    return encodeJsonBody(body).pipe(
      Effect.flatMap((text) =>
        transport.execute(
          withAccountHeader(
            HttpClientRequest.post(MoreEndpoints.activationMeterAttribute(meter.id as string)).pipe(
              HttpClientRequest.bodyText(text, "application/json")
            ),
            target.accountId
          ),
          // DECISION: the reference page gives no success status; 200 and 201 are both read as success.
          [200, 201],
          (response) =>
            transport.readJson(response).pipe(
              Effect.flatMap((json) =>
                Effect.mapError(
                  decodeUses(json),
                  (error) =>
                    new MalformedResponse({
                      status: response.status,
                      message: `expected {name, uses, licenseAllowedUses, licenseTotalUses, licenseGrossUses}: ${error.message}`
                    })
                )
              )
            )
        )
      ),
      Effect.mapError(
        (reason): ActivationMeterErrorReason =>
          reason._tag === "ServerRefused" && reason.code === "METER_ATTRIBUTE_USES_LIMIT_REACHED"
            ? new MeterUsesLimitReached({ name, status: reason.status, message: reason.message })
            : reason
      ),
      Effect.mapError((reason) => new ActivationMeterError({ operation, meter: name, reason }))
    )
  }

  const amountCall =
    (operation: "increment" | "decrement", sign: 1 | -1) => (target: MeterTarget, name: string, by: number) => {
      const invalid = checkAmount(by)
      return invalid === undefined
        ? call(operation, target, name, sign * by)
        : Effect.fail(new ActivationMeterError({ operation, meter: name, reason: invalid }))
    }

  return {
    increment: amountCall("increment", 1),
    decrement: amountCall("decrement", -1),
    reset: (target, name) => call("reset", target, name, -usesOf(target, name))
  }
}

/** The meter calls as an Effect service; needs an `HttpClient` (node-runtime's `NodeHttp.layer` gives one). */
export class ActivationMeters extends Context.Service<ActivationMeters, ActivationMetersService>()(
  "@licensure/core/ActivationMeters"
) {
  /** Builds the service for a host (`"default"`, `"eu"` or a base URL) from the `HttpClient` in context. */
  static readonly make = (config: LicenseApiConfig = {}) =>
    Effect.map(makeTransport(config), (transport) => ActivationMeters.of(makeActivationMeters(transport)))

  /** {@link ActivationMeters.make} as a layer. */
  static readonly layer = (
    config: LicenseApiConfig = {}
  ): Layer.Layer<ActivationMeters, never, HttpClient.HttpClient> =>
    Layer.effect(ActivationMeters, ActivationMeters.make(config))
}
