/**
 * Wire conformance of the calls beyond the licence lifecycle (reference-client.md §3 and row 38): core's
 * `Releases`, `UserLogin` and `FeatureEntitlementsApi` talk through the recording proxy to the emulator, and each
 * exchange is checked against `./reference.ts`: method, path, the query's keys in LexActivator's order,
 * `X-Account-Id` on every call, `Authorization` only on `/v3/me/…`, the body's keys; then the answer's status and
 * the keys of what comes back (the release and its files, the licences, the entitlements token's claims, the
 * meter answer).
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import {
  ActivationMeters,
  ActivationToken,
  FeatureEntitlements,
  LicenseApi,
  Releases,
  UserLogin
} from "@licensure/core"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { Effect } from "effect"
import { FetchHttpClient } from "effect/http"
import { decodeJwt } from "jose"
import { type Exchange, type Recorder, startRecorder } from "./recorder.ts"
import {
  FeatureEntitlementsQuery,
  FeatureKeys,
  FeatureTokenClaimKeys,
  LicenseMeterKeys,
  LoginBodyKeys,
  LoginBodyRequired,
  MeterAnswerKeys,
  MeterBodyKeys,
  MoreCalls,
  OidcLoginBodyKeys,
  ReleaseAllowedQuery,
  ReleaseFileKeys,
  ReleaseKeys,
  ReleaseStatusFor,
  ReleaseUpdateQuery,
  UserLicenseKeys,
  UserLicensesQuery
} from "./reference.ts"

let emulator: Emulator
let recorder: Recorder
let productId: string
let publicKeyPem: string
const accountId = "acc-wire"

beforeAll(async () => {
  emulator = await startEmulator()
  recorder = await startRecorder(emulator.url)
  ;({ productId, publicKeyPem } = await emulator.createProduct({ accountId }))
  await emulator.createRelease({
    productId,
    version: "2.0.0",
    platforms: ["linux"],
    files: [{ name: "app.tar.gz", content: "build" }]
  })
  await emulator.updateAccount(accountId, { oidcEnabled: true })
})
afterAll(async () => {
  await recorder?.close()
  await emulator?.close()
})

const config = () => ({ host: recorder.url })
const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) => effect.pipe(Effect.provide(FetchHttpClient.layer))

/** The exchanges sent since `from`, one per call. */
const since = (from: number) => recorder.exchanges.slice(from)

const split = (exchange: Exchange) => {
  const url = new URL(exchange.path, "http://recorded")
  return { path: url.pathname, query: [...url.searchParams.keys()], params: url.searchParams }
}

/** Method, path, query keys in order, and the headers every call carries (rows 8, 14). */
const assertRequest = (
  exchange: Exchange | undefined,
  call: { readonly method: string; readonly path: string },
  query: ReadonlyArray<string>,
  options: { readonly bearer?: boolean } = {}
) => {
  assert.isDefined(exchange, `expected a ${call.method} ${call.path}`)
  const { path, query: keys } = split(exchange!)
  assert.strictEqual(exchange!.method, call.method)
  assert.strictEqual(path, call.path)
  assert.deepStrictEqual(keys, [...query], `${call.path}: query keys in LexActivator's order`)
  assert.strictEqual(exchange!.headers["x-account-id"], accountId, `${call.path}: X-Account-Id`)
  if (options.bearer === true) assert.match(String(exchange!.headers.authorization), /^Bearer \S+$/)
  else assert.isUndefined(exchange!.headers.authorization, "no Authorization outside /v3/me")
}

const assertKeys = (value: Record<string, unknown>, allowed: ReadonlyArray<string>, what: string) =>
  assert.deepStrictEqual(
    Object.keys(value).filter((key) => !allowed.includes(key)),
    [],
    `${what}: keys the reference does not list`
  )

describe("wire conformance of releases, login and entitlements against the emulator", () => {
  it.effect("release update: GET with accountId, productId, platform, key, version, channel; then /allowed", () =>
    Effect.gen(function* () {
      const { key } = yield* Effect.promise(() =>
        emulator.createLicense({ productId, maxAllowedReleaseVersion: "1.9" })
      )
      const api = yield* provide(Releases.Releases.make(config()))
      const from = recorder.exchanges.length
      const update = yield* api.checkForUpdate({
        productId,
        key,
        accountId,
        version: "1.0",
        platform: "linux",
        channel: "stable"
      })
      assert.deepStrictEqual(update.status, ReleaseStatusFor.notAllowed)
      const [check, allowed] = since(from)
      assertRequest(check, MoreCalls.releaseUpdate, ReleaseUpdateQuery)
      assert.strictEqual(split(check!).params.get("version"), "1.0")
      assert.strictEqual(split(check!).params.get("key"), key)
      assert.strictEqual(check!.body, undefined, "a GET carries no body")
      assert.strictEqual(check!.status, 200)
      assertKeys(check!.response, ReleaseKeys, "release")
      assert.deepStrictEqual(Object.keys(check!.response).sort(), [...ReleaseKeys].sort())
      for (const file of check!.response.files)
        assert.deepStrictEqual(Object.keys(file).sort(), [...ReleaseFileKeys].sort())
      assertRequest(
        allowed,
        { method: "GET", path: MoreCalls.releaseAllowed.path(check!.response.id) },
        ReleaseAllowedQuery
      )
      assert.deepStrictEqual(allowed!.response, { allowed: false })
    })
  )

  it.effect("release update with releases: 'allowed' adds allowed=true last, and none is a bodiless 204", () =>
    Effect.gen(function* () {
      const { key } = yield* Effect.promise(() => emulator.createLicense({ productId }))
      const api = yield* provide(Releases.Releases.make(config()))
      const from = recorder.exchanges.length
      const update = yield* api.checkForUpdate({
        productId,
        key,
        accountId,
        version: "2.0.0",
        platform: "linux",
        channel: "stable",
        releases: "allowed"
      })
      assert.deepStrictEqual(update.status, ReleaseStatusFor.notAvailable)
      const [check, ...rest] = since(from)
      assertRequest(check, MoreCalls.releaseUpdate, [...ReleaseUpdateQuery, "allowed"])
      assert.strictEqual(split(check!).params.get("allowed"), "true")
      assert.strictEqual(check!.status, 204)
      assert.strictEqual(check!.response, undefined)
      assert.deepStrictEqual(rest, [], "no /allowed call when the server filtered")
    })
  )

  it.effect(
    "login: POST JSON with the reference's keys; OIDC: {accountId, idToken}; licences: bearer, ?productId",
    () =>
      Effect.gen(function* () {
        const license = yield* Effect.promise(() => emulator.createLicense({ productId }))
        yield* Effect.promise(() =>
          emulator.createUser({
            email: "wire@example.com",
            password: "long enough",
            accountId,
            twoFactorCode: "135790",
            idToken: "oidc-token",
            licenseIds: [license.id]
          })
        )
        const api = yield* provide(UserLogin.UserLogin.make(config()))
        const from = recorder.exchanges.length
        const session = yield* api.login({
          accountId,
          email: "wire@example.com",
          password: "long enough",
          twoFactorCode: "135790"
        })
        yield* api.loginWithIdToken({ accountId, idToken: "oidc-token" })
        const licences = yield* api.licenses(session, productId, { accountId })
        assert.strictEqual(licences[0]?.key, license.key)
        const [login, oidc, list] = since(from)
        assertRequest(login, MoreCalls.login, [])
        assert.strictEqual(login!.headers["content-type"], "application/json")
        assertKeys(login!.body, LoginBodyKeys, "login body")
        assert.deepStrictEqual(
          LoginBodyRequired.filter((key) => !(key in login!.body)),
          [],
          "login body: required keys"
        )
        assert.deepStrictEqual(login!.body, {
          accountId,
          email: "wire@example.com",
          password: "long enough",
          twoFactorCode: "135790"
        })
        assert.strictEqual(login!.status, 200)
        assert.deepStrictEqual(Object.keys(login!.response), ["accessToken"])
        assert.strictEqual(typeof decodeJwt(login!.response.accessToken).sub, "string")
        assertRequest(oidc, MoreCalls.loginOidc, [])
        assert.deepStrictEqual(Object.keys(oidc!.body).sort(), [...OidcLoginBodyKeys].sort())
        assertRequest(list, MoreCalls.userLicenses, UserLicensesQuery, { bearer: true })
        assert.strictEqual(list!.headers.authorization, `Bearer ${session.accessToken}`)
        for (const item of list!.response) assert.deepStrictEqual(Object.keys(item).sort(), [...UserLicenseKeys].sort())
      })
  )

  it.effect("login refusals come as {message, code}: 400 for credentials and second factor, 409 for the lock", () =>
    Effect.gen(function* () {
      yield* Effect.promise(() =>
        emulator.createUser({
          email: "locked@example.com",
          password: "long enough",
          accountId,
          twoFactorCode: "111111"
        })
      )
      const api = yield* provide(UserLogin.UserLogin.make(config()))
      const from = recorder.exchanges.length
      yield* Effect.flip(api.login({ accountId, email: "locked@example.com", password: "long enough" }))
      for (let i = 0; i < 5; i++)
        yield* Effect.flip(api.login({ accountId, email: "locked@example.com", password: "not it!!" }))
      yield* Effect.flip(api.login({ accountId, email: "locked@example.com", password: "long enough" }))
      const answers = since(from).map((exchange) => [exchange.status, exchange.response.code])
      assert.deepStrictEqual(answers, [
        [400, "MISSING_TWO_FACTOR_CODE"],
        ...Array.from({ length: 5 }, () => [400, "INVALID_AUTHENTICATION_CREDENTIALS"]),
        [409, "ACCOUNT_LOGIN_TEMPORARILY_LOCKED"]
      ])
      for (const exchange of since(from))
        assert.deepStrictEqual(Object.keys(exchange.response).sort(), ["code", "message"])
    })
  )

  it.effect("feature entitlements: GET ?accountId&licenseId; the token's claims are exactly aid, lid, fe", () =>
    Effect.gen(function* () {
      const { id, key } = yield* Effect.promise(() =>
        emulator.createLicense({
          productId,
          featureEntitlements: [
            { featureName: "a", value: "1" },
            { featureName: "b", value: "2", baseValue: "1", expiresAt: "2040-01-01T00:00:00Z" }
          ]
        })
      )
      const licensing = yield* provide(LicenseApi.make(config()))
      const token = yield* licensing.activate({
        key,
        productId,
        accountId,
        fingerprint: "e".repeat(64),
        hostname: "wire",
        appVersion: "1.0.0",
        os: "linux",
        userHash: "h".repeat(64)
      })
      const claims = yield* ActivationToken.verify(token, publicKeyPem)
      const api = yield* provide(FeatureEntitlements.FeatureEntitlementsApi.make(config()))
      const from = recorder.exchanges.length
      const entitlementsToken = yield* api.fetch(claims.activationId, { licenseId: id, accountId })
      const [call] = since(from)
      assertRequest(
        call,
        { method: "GET", path: MoreCalls.featureEntitlements.path(claims.activationId) },
        FeatureEntitlementsQuery
      )
      assert.strictEqual(split(call!).params.get("licenseId"), id)
      assert.strictEqual(call!.status, 200)
      assert.deepStrictEqual(Object.keys(call!.response), ["featureEntitlementsToken"])
      const payload = decodeJwt(entitlementsToken) as { fe: Array<Record<string, unknown>> }
      assert.deepStrictEqual(Object.keys(payload).sort(), [...FeatureTokenClaimKeys].sort())
      for (const fe of payload.fe) assertKeys(fe, FeatureKeys, "feature")
      assert.deepStrictEqual(payload.fe[1], {
        featureName: "b",
        featureDisplayName: "b",
        value: "2",
        baseValue: "1",
        expiresAt: Date.parse("2040-01-01T00:00:00Z") / 1000
      })
    })
  )

  it.effect(
    "meter: POST /v3/activations/meter-attributes/{lma id}, body {productId, activationId, increment, accountId}",
    () =>
      Effect.gen(function* () {
        const { key } = yield* Effect.promise(() =>
          emulator.createLicense({ productId, meterAttributes: [{ name: "exports", allowedUses: 2 }] })
        )
        const licensing = yield* provide(LicenseApi.make(config()))
        const token = yield* licensing.activate({
          key,
          productId,
          accountId,
          fingerprint: "g".repeat(64),
          hostname: "wire",
          appVersion: "1.0.0",
          os: "linux",
          userHash: "h".repeat(64)
        })
        const claims = yield* ActivationToken.verify(token, publicKeyPem)
        const meter = claims.licenseMeterAttributes[0]!
        assertKeys(meter, LicenseMeterKeys, "lma item")
        const meters = yield* provide(ActivationMeters.ActivationMeters.make(config()))
        const target = ActivationMeters.targetOf(claims, { accountId })
        const from = recorder.exchanges.length
        const answer = yield* meters.increment(target, "exports", 2)
        yield* Effect.flip(meters.increment(target, "exports", 1))
        yield* meters.reset(ActivationMeters.withUses(target, answer), "exports")
        const [up, refused, reset] = since(from)
        for (const exchange of [up, refused, reset]) {
          assertRequest(exchange, { method: "POST", path: MoreCalls.meterAttribute.path(meter.id!) }, [])
          assert.strictEqual(exchange!.headers["content-type"], "application/json")
          assert.deepStrictEqual(Object.keys(exchange!.body), MeterBodyKeys, "body keys in LexActivator's order")
        }
        assert.deepStrictEqual(up!.body, { productId, activationId: claims.activationId, increment: 2, accountId })
        assert.strictEqual(up!.status, 200)
        assert.deepStrictEqual(Object.keys(up!.response).sort(), [...MeterAnswerKeys].sort())
        assert.deepStrictEqual([refused!.status, refused!.response.code], [400, "METER_ATTRIBUTE_USES_LIMIT_REACHED"])
        assert.deepStrictEqual(Object.keys(refused!.response).sort(), ["code", "message"])
        assert.strictEqual(reset!.body.increment, -2, "a reset is a negative increment of the uses")
        assert.strictEqual(reset!.response.uses, 0)
      })
  )
})
