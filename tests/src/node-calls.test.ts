/**
 * The Promise face of the calls beside the machine (`createNodeCalls` from `@licensure/node-runtime`), against the
 * emulator over real HTTP: each resolves with what the Effect call gives and rejects with the call's own typed
 * error, whose `status` is LexActivator's code.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import {
  ActivationMeterError,
  ActivationMeters,
  ActivationToken,
  FeatureEntitlements,
  FeatureEntitlementsError,
  LicenseApi,
  Releases,
  UserLogin
} from "@licensure/core"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { createNodeCalls } from "@licensure/node-runtime"
import { Effect } from "effect"
import { FetchHttpClient } from "effect/http"

let emulator: Emulator
let productId: string
let publicKeyPem: string
const accountId = "acc-node-calls"

beforeAll(async () => {
  emulator = await startEmulator()
  ;({ productId, publicKeyPem } = await emulator.createProduct({ accountId }))
})
afterAll(() => emulator?.close())

const activate = async (options: Parameters<Emulator["createLicense"]>[0]) => {
  const license = await emulator.createLicense(options)
  const claims = await Effect.runPromise(
    Effect.gen(function* () {
      const api = yield* LicenseApi.make({ host: emulator.url })
      const token = yield* api.activate({
        key: license.key,
        productId,
        accountId,
        fingerprint: "n".repeat(64),
        hostname: "node-calls",
        appVersion: "1.0.0",
        os: "linux",
        userHash: "u".repeat(64)
      })
      return yield* ActivationToken.verify(token, publicKeyPem)
    }).pipe(Effect.provide(FetchHttpClient.layer))
  )
  return { license, claims }
}

describe("createNodeCalls", () => {
  it("checks for an update: not available, then available once a newer release is published", async () => {
    const calls = createNodeCalls({ host: emulator.url, accountId })
    const { key } = await emulator.createLicense({ productId })
    const query = { productId, key, version: "1.0.0", platform: "linux", channel: "stable" }
    assert.strictEqual((await calls.checkForUpdate(query)).status.code, 31)
    await emulator.createRelease({ productId, version: "1.1.0", platforms: ["linux"], files: [] })
    const update = await calls.checkForUpdate(query)
    assert.strictEqual(update._tag, "Available")
    assert.strictEqual(update._tag === "Available" ? update.release.version : "", "1.1.0")
    const refused = await calls.checkForUpdate({ ...query, version: "1" }).catch((error: unknown) => error)
    assert.instanceOf(refused, Releases.ReleaseError)
    assert.strictEqual((refused as Releases.ReleaseError).status.code, 84)
  })

  it("moves a meter and rejects past the allowance with an ActivationMeterError of status 73", async () => {
    const calls = createNodeCalls({ host: emulator.url, accountId })
    const { claims } = await activate({ productId, meterAttributes: [{ name: "exports", allowedUses: 2 }] })
    const target = ActivationMeters.targetOf(claims)
    const up = await calls.incrementMeter(target, "exports", 2)
    assert.strictEqual(up.uses, 2)
    const refused = await calls.incrementMeter(target, "exports", 1).catch((error: unknown) => error)
    assert.instanceOf(refused, ActivationMeterError)
    assert.strictEqual((refused as ActivationMeterError).status.code, 73)
    assert.strictEqual((await calls.decrementMeter(target, "exports", 1)).uses, 1)
    assert.strictEqual((await calls.resetMeter(ActivationMeters.withUses(target, up), "exports")).uses, 0)
  })

  it("fetches and verifies feature entitlements, and rejects a wrong key with status 107", async () => {
    const calls = createNodeCalls({ host: emulator.url, accountId })
    const { claims } = await activate({ productId, featureEntitlements: [{ featureName: "pdf", value: "on" }] })
    const entitlements = await calls.featureEntitlements(claims, publicKeyPem)
    assert.strictEqual(FeatureEntitlements.feature(entitlements, "pdf", Date.now())._tag, "Entitled")
    const other = await emulator.createProduct()
    const refused = await calls.featureEntitlements(claims, other.publicKeyPem).catch((error: unknown) => error)
    assert.instanceOf(refused, FeatureEntitlementsError)
    assert.strictEqual((refused as FeatureEntitlementsError).status.code, 107)
  })

  it("logs a user in (with the two-factor code) and lists the user's licences", async () => {
    const calls = createNodeCalls({ host: emulator.url, accountId })
    const license = await emulator.createLicense({ productId })
    await emulator.createUser({
      email: "node@example.com",
      password: "long enough",
      accountId,
      twoFactorCode: "246810",
      licenseIds: [license.id]
    })
    const missing = await calls
      .login({ email: "node@example.com", password: "long enough" })
      .catch((error: unknown) => error)
    assert.instanceOf(missing, UserLogin.UserLoginError)
    assert.strictEqual((missing as UserLogin.UserLoginError).status.code, 88)
    const session = await calls.login({ email: "node@example.com", password: "long enough", twoFactorCode: "246810" })
    const licences = await calls.userLicenses(session, productId)
    assert.deepStrictEqual(
      licences.map((l) => l.key),
      [license.key]
    )
  })
})
