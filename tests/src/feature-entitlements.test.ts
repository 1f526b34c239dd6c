/**
 * Feature entitlements over real HTTP against the emulator on 127.0.0.1: an activation by core's `LicenseApi`,
 * then its feature-entitlements token fetched, verified against the product's key like the activation token, and
 * queried at given instants: a feature that expires at a set time is in force up to that second and expired
 * after it. A token signed by another key, or one with `alg: none`, is refused with a typed error (107).
 */
import { generateKeyPairSync } from "node:crypto"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { ActivationToken, FeatureEntitlements, LicenseApi } from "@licensure/core"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { Effect } from "effect"
import { FetchHttpClient } from "effect/http"
import { SignJWT } from "jose"

const { FeatureEntitlementsApi, feature, features, verify } = FeatureEntitlements

let emulator: Emulator
let productId: string
let publicKeyPem: string
const accountId = "acc-features"
const expiry = Date.parse("2031-06-01T00:00:00Z")

beforeAll(async () => {
  emulator = await startEmulator()
  ;({ productId, publicKeyPem } = await emulator.createProduct({ accountId }))
})
afterEach(() => emulator.clearFaults())
afterAll(() => emulator?.close())

const http = <A, E, R>(effect: Effect.Effect<A, E, R>) => effect.pipe(Effect.provide(FetchHttpClient.layer))

/** A licence with three features, activated on one machine: the activation's claims. */
const activated = Effect.gen(function* () {
  const { id, key } = yield* Effect.promise(() =>
    emulator.createLicense({
      productId,
      featureEntitlements: [
        { featureName: "export-pdf", featureDisplayName: "Export to PDF", value: "true" },
        { featureName: "seats", featureDisplayName: "Seats", value: "10", baseValue: "5" },
        { featureName: "beta-sync", featureDisplayName: "Beta sync", value: "on", expiresAt: expiry }
      ]
    })
  )
  const api = yield* http(LicenseApi.make({ host: emulator.url }))
  const token = yield* api.activate({
    key,
    productId,
    accountId,
    fingerprint: "f".repeat(64),
    hostname: "features-test",
    appVersion: "1.0.0",
    os: "linux",
    userHash: "u".repeat(64)
  })
  return { licenseId: id, claims: yield* ActivationToken.verify(token, publicKeyPem) }
})

const fetchEntitlements = (activationId: string, licenseId: string) =>
  Effect.gen(function* () {
    const api = yield* http(FeatureEntitlementsApi.make({ host: emulator.url }))
    return yield* api.fetch(activationId, { licenseId, accountId })
  })

describe("feature entitlements", () => {
  it.effect("are fetched for the activation, verified, and list the licence's features with value and base value", () =>
    Effect.gen(function* () {
      const { claims } = yield* activated
      const token = yield* fetchEntitlements(claims.activationId, claims.licenseId)
      const entitlements = yield* verify(token, publicKeyPem, claims)
      assert.strictEqual(entitlements.activationId, claims.activationId)
      assert.strictEqual(entitlements.licenseId, claims.licenseId)
      assert.deepStrictEqual(
        features(entitlements, expiry - 1000).map((f) => [f.name, f.displayName, f.value, f.baseValue]),
        [
          ["export-pdf", "Export to PDF", "true", undefined],
          ["seats", "Seats", "10", "5"],
          ["beta-sync", "Beta sync", "on", undefined]
        ]
      )
      const seats = feature(entitlements, "seats", expiry)
      assert.strictEqual(seats._tag, "Entitled")
      assert.deepStrictEqual(seats.status, { name: "LA_OK", code: 0 })
      const absent = feature(entitlements, "no-such-feature", expiry)
      assert.deepStrictEqual(absent.status, { name: "LA_E_FEATURE_ENTITLEMENT_NOT_FOUND", code: 108 })
    })
  )

  it.effect("a feature expiring at a set time is in force through that second and expired from the next", () =>
    Effect.gen(function* () {
      const { claims } = yield* activated
      const entitlements = yield* verify(yield* fetchEntitlements(claims.activationId, claims.licenseId), publicKeyPem)
      const at = (ms: number) => feature(entitlements, "beta-sync", ms)
      const before = at(expiry + 999)
      assert.strictEqual(before._tag, "Entitled")
      assert.strictEqual(before._tag === "Entitled" ? before.feature.expiresAt : 0, expiry / 1000)
      const after = at(expiry + 1000)
      assert.strictEqual(after._tag, "Expired")
      assert.strictEqual(after._tag === "Expired" ? after.expiredAt : 0, expiry / 1000)
      assert.strictEqual(after.status.code, 108)
      assert.deepStrictEqual(
        features(entitlements, expiry + 1000).map((f) => f.name),
        ["export-pdf", "seats"]
      )
    })
  )

  it.effect("follow the licence: a feature the admin adds is in the next token", () =>
    Effect.gen(function* () {
      const { licenseId, claims } = yield* activated
      yield* Effect.promise(() =>
        emulator.updateLicense(licenseId, { featureEntitlements: [{ featureName: "only-this", value: "1" }] })
      )
      const entitlements = yield* verify(yield* fetchEntitlements(claims.activationId, claims.licenseId), publicKeyPem)
      assert.deepStrictEqual(
        entitlements.entitlements.map((f) => f.name),
        ["only-this"]
      )
    })
  )

  it.effect("a token signed by another key, an alg:none token, or one for another activation is refused (107)", () =>
    Effect.gen(function* () {
      const { claims } = yield* activated
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 })
      const payload = {
        aid: claims.activationId,
        lid: claims.licenseId,
        fe: [{ featureName: "everything", value: "yes" }]
      }
      const forged = yield* Effect.promise(() =>
        new SignJWT(payload).setProtectedHeader({ alg: "RS256", typ: "JWT" }).sign(privateKey)
      )
      const refused = yield* Effect.flip(verify(forged, publicKeyPem, claims))
      assert.strictEqual(refused._tag, "FeatureEntitlementsError")
      assert.strictEqual(refused.reason._tag, "TokenError")
      assert.strictEqual(refused.reason._tag === "TokenError" ? refused.reason.reason : "", "badSignature")
      assert.deepStrictEqual(refused.status, { name: "LA_E_FEATURE_ENTITLEMENTS_INVALID", code: 107 })
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
      const none = `${b64({ alg: "none" })}.${b64(payload)}.`
      const unsigned = yield* Effect.flip(verify(none, publicKeyPem))
      assert.strictEqual(unsigned.reason._tag === "TokenError" ? unsigned.reason.reason : "", "algorithmNotAllowed")
      const real = yield* fetchEntitlements(claims.activationId, claims.licenseId)
      const elsewhere = yield* Effect.flip(verify(real, publicKeyPem, { activationId: "another-activation" }))
      assert.strictEqual(elsewhere.reason._tag, "EntitlementsMismatch")
      assert.strictEqual(elsewhere.status.code, 107)
    })
  )

  it.effect("refusals and faults: another licence id 54 (INVALID_LICENSE_ID), a deleted activation 59, a drop 48", () =>
    Effect.gen(function* () {
      const { claims } = yield* activated
      const wrongLicence = yield* Effect.flip(fetchEntitlements(claims.activationId, "another-licence"))
      assert.strictEqual(
        wrongLicence.reason._tag === "ServerRefused" ? wrongLicence.reason.code : "",
        "INVALID_LICENSE_ID"
      )
      assert.strictEqual(wrongLicence.status.code, 54)
      yield* Effect.promise(() =>
        emulator.addFault({ kind: "drop", match: { path: `/v3/activations/${claims.activationId}/feature` }, count: 1 })
      )
      assert.strictEqual((yield* Effect.flip(fetchEntitlements(claims.activationId, claims.licenseId))).status.code, 48)
      yield* Effect.promise(() => emulator.deleteActivation(claims.activationId))
      const gone = yield* Effect.flip(fetchEntitlements(claims.activationId, claims.licenseId))
      assert.strictEqual(gone.reason._tag, "NotFound")
      assert.strictEqual(gone.status.code, 59)
    })
  )
})
