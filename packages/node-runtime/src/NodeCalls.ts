/**
 * The Promise face of the calls that live beside the licensing machine rather than in it: release updates,
 * user login, feature entitlements and activation meters (core's `Releases`, `UserLogin`, `FeatureEntitlements`,
 * `ActivationMeters`), over the Node HTTP client, for applications that don't use Effect. Each method resolves
 * with what the Effect call succeeds with and rejects with the same typed error (`ReleaseError`,
 * `UserLoginError`, `FeatureEntitlementsError`, `ActivationMeterError`), whose `status` is LexActivator's code.
 *
 * @example
 * const calls = createNodeCalls({ accountId })
 * const update = await calls.checkForUpdate({ productId, key, version: "1.2.0", platform: "linux", channel: "stable" })
 * if (update._tag === "Available") offerDownload(update.release)
 *
 * @since 0.2.0
 */
import type * as ActivationMeters from "@licensure/core/ActivationMeters"
import type * as FeatureEntitlements from "@licensure/core/FeatureEntitlements"
import type { LicenseApiConfig } from "@licensure/core/LicenseApi"
import type * as Protocol from "@licensure/core/Protocol"
import type * as Releases from "@licensure/core/Releases"
import type * as UserLogin from "@licensure/core/UserLogin"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as HttpClient from "effect/http/HttpClient"
import * as NodeHttp from "./NodeHttp.ts"

/** Where and as whom {@link createNodeCalls} calls the Cryptlex API. */
export interface NodeCallsConfig {
  /** `"default"` (api.cryptlex.com), `"eu"`, or an on-premise / emulator base URL. */
  readonly host?: LicenseApiConfig["host"]
  /** The Cryptlex account id, sent as LexActivator sends it (`X-Account-Id` and in every body or query). */
  readonly accountId?: string | undefined
  /** Timeouts (milliseconds), proxy and extra trusted CAs for the HTTP client. */
  readonly http?: NodeHttp.NodeHttpOptions | undefined
  /** The `User-Agent` header; default `licensure-node/<node version>`. */
  readonly userAgent?: string | undefined
}

/**
 * The calls beside the licensing machine, as Promises. Each rejects with its module's typed error (`ReleaseError`,
 * `UserLoginError`, `FeatureEntitlementsError`, `ActivationMeterError`), never a wrapper; its `status` is
 * LexActivator's code for the failure.
 */
export interface NodeCalls {
  /** LexActivator's `CheckReleaseUpdate`: available (30), not available (31), or available but not allowed (32). */
  readonly checkForUpdate: (query: Omit<Releases.ReleaseQuery, "accountId">) => Promise<Releases.ReleaseUpdate>
  /** Whether the licence `key` may download the release `releaseId` (the server decides); rejects with `ReleaseError`. */
  readonly isReleaseAllowed: (releaseId: string, key: string) => Promise<boolean>
  /** LexActivator's `AuthenticateUser` (with `SetTwoFactorAuthenticationCode`'s code as `twoFactorCode`). */
  readonly login: (credentials: Omit<UserLogin.LoginCredentials, "accountId">) => Promise<UserLogin.UserSession>
  /** LexActivator's `AuthenticateUserWithIdToken`. */
  readonly loginWithIdToken: (idToken: string) => Promise<UserLogin.UserSession>
  /** LexActivator's `GetUserLicenses`. */
  readonly userLicenses: (
    session: UserLogin.UserSession | string,
    productId: string
  ) => Promise<ReadonlyArray<Protocol.UserLicense>>
  /** Fetches and verifies an activation's feature entitlements (query them with `FeatureEntitlements.feature`). */
  readonly featureEntitlements: (
    claims: { readonly activationId: string; readonly licenseId: string },
    publicKeyPem: string
  ) => Promise<FeatureEntitlements.FeatureEntitlements>
  /** LexActivator's `IncrementActivationMeterAttributeUses` over the meter call. */
  readonly incrementMeter: (
    target: ActivationMeters.MeterTarget,
    name: string,
    by: number
  ) => Promise<Protocol.ActivationMeterUses>
  /** LexActivator's `DecrementActivationMeterAttributeUses`: takes `by` uses off (the server stops at 0). */
  readonly decrementMeter: (
    target: ActivationMeters.MeterTarget,
    name: string,
    by: number
  ) => Promise<Protocol.ActivationMeterUses>
  /** LexActivator's `ResetActivationMeterAttributeUses`: sets the activation's uses of `name` back to 0. */
  readonly resetMeter: (target: ActivationMeters.MeterTarget, name: string) => Promise<Protocol.ActivationMeterUses>
}

/** Runs one call; a failure rejects with the call's own typed error, never a wrapper. */
const run = async <A, E>(effect: Effect.Effect<A, E>): Promise<A> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return exit.value
  throw Cause.squash(exit.cause)
}

/**
 * The {@link NodeCalls} over Node's HTTP client. Nothing is sent until a method is called; each call is one
 * request (no retries), answered or rejected on its own.
 */
export const createNodeCalls = (config: NodeCallsConfig = {}): NodeCalls => {
  const api: LicenseApiConfig = {
    host: config.host,
    userAgent: config.userAgent ?? `licensure-node/${process.versions.node}`
  }
  const http = NodeHttp.layer(config.http ?? {})
  const over = <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient>) => run(Effect.provide(effect, http))
  const accountId = config.accountId
  // Each family of calls loads its module on first use: `licensure` (this file's bundle) and the runtime's root
  // export these calls, and an app that only checks its licence should not pay for their code at start-up.
  const releases = Effect.flatMap(
    Effect.promise(() => import("@licensure/core/Releases")),
    (m) => m.Releases.make(api)
  )
  const users = Effect.flatMap(
    Effect.promise(() => import("@licensure/core/UserLogin")),
    (m) => m.UserLogin.make(api)
  )
  const meters = Effect.flatMap(
    Effect.promise(() => import("@licensure/core/ActivationMeters")),
    (m) => m.ActivationMeters.make(api)
  )
  const entitlements = Effect.promise(() => import("@licensure/core/FeatureEntitlements"))
  const withAccount = (target: ActivationMeters.MeterTarget): ActivationMeters.MeterTarget =>
    target.accountId === undefined && accountId !== undefined ? { ...target, accountId } : target
  return {
    checkForUpdate: (query) => over(Effect.flatMap(releases, (r) => r.checkForUpdate({ ...query, accountId }))),
    isReleaseAllowed: (releaseId, key) =>
      over(Effect.flatMap(releases, (r) => r.isAllowed(releaseId, { key, accountId }))),
    login: (credentials) => over(Effect.flatMap(users, (u) => u.login({ ...credentials, accountId: accountId ?? "" }))),
    loginWithIdToken: (idToken) =>
      over(Effect.flatMap(users, (u) => u.loginWithIdToken({ accountId: accountId ?? "", idToken }))),
    userLicenses: (session, productId) =>
      over(Effect.flatMap(users, (u) => u.licenses(session, productId, { accountId }))),
    featureEntitlements: (claims, publicKeyPem) =>
      over(
        Effect.flatMap(entitlements, (FeatureEntitlements) =>
          Effect.flatMap(FeatureEntitlements.FeatureEntitlementsApi.make(api), (f) =>
            f.fetch(claims.activationId, { licenseId: claims.licenseId, accountId })
          ).pipe(Effect.flatMap((token) => FeatureEntitlements.verify(token, publicKeyPem, claims)))
        )
      ),
    incrementMeter: (target, name, by) =>
      over(Effect.flatMap(meters, (m) => m.increment(withAccount(target), name, by))),
    decrementMeter: (target, name, by) =>
      over(Effect.flatMap(meters, (m) => m.decrement(withAccount(target), name, by))),
    resetMeter: (target, name) => over(Effect.flatMap(meters, (m) => m.reset(withAccount(target), name)))
  }
}
