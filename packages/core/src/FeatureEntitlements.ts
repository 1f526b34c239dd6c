/**
 * Feature entitlements (LexActivator's `GetFeatureEntitlements` / `GetFeatureEntitlement`), the API layer:
 * {@link FeatureEntitlementsApi} fetches `GET /v3/activations/{id}/feature-entitlements`, whose answer is a token
 * signed apart from the activation token; {@link verify} checks it exactly as an activation token is checked
 * (RS256 only, the product's key, `ActivationToken`'s allow-list and limits) and that it is for this activation
 * and licence; {@link features} and {@link feature} then answer, purely, what is in force at a given instant.
 *
 * The licensing client calls them itself after every activation and sync when its platform provides
 * {@link FeatureEntitlementsApi} (`NodeLicensing` does) and offers the result offline (`Licensing.features`,
 * `Licensing.feature(name)`, `LicenseView.features`); an application may also call them directly, as below.
 *
 * @example
 * ```ts
 * const api = yield* FeatureEntitlementsApi
 * const token = yield* api.fetch(claims.activationId, { licenseId: claims.licenseId, accountId })
 * const entitlements = yield* FeatureEntitlements.verify(token, publicKeyPem, claims)
 * const now = yield* Clock.currentTimeMillis
 * if (FeatureEntitlements.feature(entitlements, "export-pdf", now)._tag === "Entitled") enableExport()
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
import { TokenError, verifySignedPayload } from "./ActivationToken.ts"
import { mismatchOf } from "./internal/EntitlementsMatch.ts"
import {
  lexStatus,
  type LexStatus,
  type LexStatusName,
  lexStatusOfServerCode,
  lexStatusOfTransport
} from "./LexStatus.ts"
import {
  ApiErrorReason,
  type LicenseApiConfig,
  MalformedResponse,
  makeTransport,
  type Transport,
  withAccountHeader
} from "./LicenseApi.ts"
import {
  type FeatureEntitlement,
  FeatureEntitlementsClaims,
  FeatureEntitlementsResponse,
  MoreEndpoints
} from "./Protocol.ts"

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/** A verified token for another activation or licence than the one asked about. */
export class EntitlementsMismatch extends Schema.TaggedError<EntitlementsMismatch>()("EntitlementsMismatch", {
  claim: Schema.Literals(["aid", "lid"]),
  message: Schema.String
}) {}

/** Why fetching or verifying entitlements failed: one of the API's reasons, a token that does not verify, or a mismatch. */
export const FeatureEntitlementsErrorReason = Schema.Union([
  ...ApiErrorReason.members,
  TokenError,
  EntitlementsMismatch
])
/** The decoded type of {@link FeatureEntitlementsErrorReason}; switch on its `_tag`. */
export type FeatureEntitlementsErrorReason = typeof FeatureEntitlementsErrorReason.Type

/** A failed `fetch` (the request) or `verify` (the token); `reason` says why and `status` is LexActivator's code. */
export class FeatureEntitlementsError extends Schema.TaggedError<FeatureEntitlementsError>()(
  "FeatureEntitlementsError",
  {
    operation: Schema.Literals(["fetch", "verify"]),
    reason: FeatureEntitlementsErrorReason
  }
) {
  /** `feature entitlements <operation> failed: <reason tag> [code or token reason]: <reason's message>`. */
  override get message(): string {
    const r = this.reason
    const detail = "code" in r ? ` ${r.code}` : "reason" in r ? ` ${r.reason}` : ""
    return `feature entitlements ${this.operation} failed: ${r._tag}${detail}: ${r.message}`
  }
  /** The status LexActivator's `GetFeatureEntitlements` would have returned ({@link entitlementsStatusOf}). */
  get status(): LexStatus {
    return lexStatus(entitlementsStatusOf(this.reason))
  }
}

/**
 * LexActivator's status for a failed fetch or verification: a token that does not verify, or is for another
 * activation, is `LA_E_FEATURE_ENTITLEMENTS_INVALID` (107); a coded refusal maps as for activations
 * (`INVALID_LICENSE_ID`, `INVALID_ACTIVATION_ID`, `INVALID_ACCOUNT_ID`, …); a 404 is the activation gone (59).
 */
export const entitlementsStatusOf = (reason: FeatureEntitlementsErrorReason): LexStatusName => {
  switch (reason._tag) {
    case "TokenError":
    case "EntitlementsMismatch":
      return "LA_E_FEATURE_ENTITLEMENTS_INVALID"
    case "ServerRefused":
    case "UnknownServerCode":
      return lexStatusOfServerCode(reason.code)
    case "NotFound":
      return "LA_E_ACTIVATION_NOT_FOUND"
    case "NetworkFailure":
    case "RateLimited":
    case "ServerFailure":
    case "MalformedResponse":
      return lexStatusOfTransport(reason)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Fetching
// ---------------------------------------------------------------------------------------------------------------

/** The entitlements call of {@link FeatureEntitlementsApi}. */
export interface FeatureEntitlementsApiService {
  /** The raw `featureEntitlementsToken` for an activation; verify it with {@link verify}. */
  readonly fetch: (
    activationId: string,
    licence: { readonly licenseId: string; readonly accountId?: string | undefined }
  ) => Effect.Effect<string, FeatureEntitlementsError>
}

const decodeResponse = Schema.decodeUnknownEffect(FeatureEntitlementsResponse)

/** The service over a given transport (the `LicenseApi` HTTP plumbing); {@link FeatureEntitlementsApi.make} supplies one. */
export const makeFeatureEntitlementsApi = (transport: Transport): FeatureEntitlementsApiService => ({
  fetch: (activationId, licence) =>
    transport
      .execute(
        withAccountHeader(
          // reference-client.md §3 item 1: `?accountId={acc}&licenseId={lid}`, in that order.
          HttpClientRequest.get(
            `${MoreEndpoints.featureEntitlements(activationId)}?accountId=${encodeURIComponent(
              licence.accountId ?? ""
            )}&licenseId=${encodeURIComponent(licence.licenseId)}`
          ),
          licence.accountId
        ),
        [200],
        (response) =>
          transport.readJson(response).pipe(
            Effect.flatMap((json) =>
              Effect.mapError(
                decodeResponse(json),
                (error) =>
                  new MalformedResponse({
                    status: response.status,
                    message: `expected {"featureEntitlementsToken": "<JWT>"}: ${error.message}`
                  })
              )
            )
          )
      )
      .pipe(
        Effect.map((answer) => answer.featureEntitlementsToken),
        Effect.mapError((reason) => new FeatureEntitlementsError({ operation: "fetch", reason }))
      )
})

/** The entitlements call as an Effect service; needs an `HttpClient` (node-runtime's `NodeHttp.layer` gives one). */
export class FeatureEntitlementsApi extends Context.Service<FeatureEntitlementsApi, FeatureEntitlementsApiService>()(
  "@licensure/core/FeatureEntitlementsApi"
) {
  /** Builds the service for a host (`"default"`, `"eu"` or a base URL) from the `HttpClient` in context. */
  static readonly make = (config: LicenseApiConfig = {}) =>
    Effect.map(makeTransport(config), (transport) => FeatureEntitlementsApi.of(makeFeatureEntitlementsApi(transport)))

  /** {@link FeatureEntitlementsApi.make} as a layer. */
  static readonly layer = (
    config: LicenseApiConfig = {}
  ): Layer.Layer<FeatureEntitlementsApi, never, HttpClient.HttpClient> =>
    Layer.effect(FeatureEntitlementsApi, FeatureEntitlementsApi.make(config))
}

// ---------------------------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------------------------

/** One feature, with its expiry as epoch seconds (`undefined`: it does not expire). */
export interface Feature {
  readonly name: string
  readonly displayName: string | undefined
  readonly value: string | undefined
  readonly baseValue: string | undefined
  readonly expiresAt: number | undefined
}

/** A verified feature-entitlements token. */
export interface FeatureEntitlements {
  readonly activationId: string
  readonly licenseId: string
  readonly issuedAt: number | undefined
  readonly entitlements: ReadonlyArray<Feature>
}

const expiryOf = (expiresAt: FeatureEntitlement["expiresAt"]): number | undefined => {
  if (expiresAt === undefined || expiresAt === 0 || expiresAt === "") return undefined
  if (typeof expiresAt === "number") return expiresAt
  const ms = Date.parse(expiresAt)
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined
}

const decodeClaims = Schema.decodeUnknownEffect(FeatureEntitlementsClaims)

const nullsAbsent = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(nullsAbsent)
  if (value === null || typeof value !== "object") return value
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, nullsAbsent(v)])
  )
}

/**
 * Verifies a feature-entitlements token against the product's key and, when given, the activation and licence it
 * must be for (an `ActivationClaims` fits). `null` fields of a feature are read as absent, as LexActivator's reader
 * tolerates them.
 */
export const verify = (
  token: string,
  publicKeyPem: string,
  expected: { readonly activationId?: string | undefined; readonly licenseId?: string | undefined } = {}
): Effect.Effect<FeatureEntitlements, FeatureEntitlementsError> =>
  Effect.gen(function* () {
    const payload = yield* verifySignedPayload(token, publicKeyPem)
    const claims = yield* Effect.mapError(
      decodeClaims(nullsAbsent(payload)),
      (error) =>
        new TokenError({
          reason: "badClaims",
          message: `the feature-entitlements token's claims are not what Cryptlex sends: ${error.message}`
        })
    )
    const mismatch = mismatchOf(claims, expected)
    if (mismatch !== undefined) return yield* new EntitlementsMismatch(mismatch)
    return {
      activationId: claims.aid,
      licenseId: claims.lid,
      issuedAt: claims.iat,
      entitlements: claims.fe.map(
        (fe): Feature => ({
          name: fe.featureName,
          displayName: fe.featureDisplayName,
          value: fe.value,
          baseValue: fe.baseValue,
          expiresAt: expiryOf(fe.expiresAt)
        })
      )
    }
  }).pipe(Effect.mapError((reason) => new FeatureEntitlementsError({ operation: "verify", reason })))

// ---------------------------------------------------------------------------------------------------------------
// Queries (pure)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Whether a feature has run out at `nowMillis`.
 *
 * DECISION (the reference gives `expiresAt`, not the comparison): LexActivator's own rule for the licence expiry,
 * `now > eat` in whole seconds (reference-client.md row 33), so a feature is still in force during the second
 * named by `expiresAt` and expired from the next one.
 */
export const isExpired = (feature: Feature, nowMillis: number): boolean =>
  feature.expiresAt !== undefined && Math.floor(nowMillis / 1000) > feature.expiresAt

/** The features in force at `nowMillis` (expired ones left out), in the token's order. */
export const features = (entitlements: FeatureEntitlements, nowMillis: number): ReadonlyArray<Feature> =>
  entitlements.entitlements.filter((feature) => !isExpired(feature, nowMillis))

/** What {@link feature} finds: in force, expired (and since when), or not in the token at all (LexActivator's 108). */
export type FeatureLookup =
  | { readonly _tag: "Entitled"; readonly feature: Feature; readonly status: LexStatus }
  | { readonly _tag: "Expired"; readonly feature: Feature; readonly expiredAt: number; readonly status: LexStatus }
  | { readonly _tag: "NotFound"; readonly name: string; readonly status: LexStatus }

/**
 * One feature by name at `nowMillis`. An expired feature is reported as `Expired` with LexActivator's
 * `LA_E_FEATURE_ENTITLEMENT_NOT_FOUND` status, the same as an absent one, since the app must not use it.
 */
export const feature = (entitlements: FeatureEntitlements, name: string, nowMillis: number): FeatureLookup => {
  const found = entitlements.entitlements.find((candidate) => candidate.name === name)
  if (found === undefined) return { _tag: "NotFound", name, status: lexStatus("LA_E_FEATURE_ENTITLEMENT_NOT_FOUND") }
  if (isExpired(found, nowMillis)) {
    return {
      _tag: "Expired",
      feature: found,
      expiredAt: found.expiresAt as number,
      status: lexStatus("LA_E_FEATURE_ENTITLEMENT_NOT_FOUND")
    }
  }
  return { _tag: "Entitled", feature: found, status: lexStatus("LA_OK") }
}
