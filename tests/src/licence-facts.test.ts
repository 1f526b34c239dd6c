/**
 * Every licence fact the token carries reaches `LicenseDetails` (issue 11): seats and deactivations, the dates,
 * the user lock. The emulator signs them; the Node client reads them over real HTTP.
 */
import { createHash } from "node:crypto"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { createNodeLicensing } from "@licensure/node-runtime/NodeLicensing"

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator?.close())

describe("licence facts", () => {
  it("seats, deactivations and dates come through to license()", async () => {
    const { productId, publicKeyPem } = await emulator.createProduct()
    const { key } = await emulator.createLicense({ productId, allowedActivations: 3, allowedDeactivations: 2 })
    const licensing = createNodeLicensing({
      productId,
      publicKeyPem,
      host: emulator.url,
      scope: "memory",
      fingerprint: { platform: "linux", env: {}, hostname: "facts", username: "tester" },
      http: { proxy: "none" }
    })
    try {
      await licensing.activate(key)
      const details = await licensing.license()
      assert.isDefined(details)
      assert.deepStrictEqual(
        [
          details!.allowedActivations,
          details!.totalActivations,
          details!.allowedDeactivations,
          details!.totalDeactivations
        ],
        [3, 1, 2, 0]
      )
      assert.isDefined(details!.licenseCreatedAt)
      assert.isDefined(details!.licenseActivatedAt)
      assert.isDefined(details!.activationCreatedAt)
      assert.isAtMost(details!.activationCreatedAt!, details!.issuedAt)
      assert.isFalse(details!.userLocked)
    } finally {
      await licensing.close()
    }
  })

  it("the entitlement set, the release ceiling and the OS-user lock with its hash come through to license()", async () => {
    const { productId, publicKeyPem } = await emulator.createProduct()
    const { key } = await emulator.createLicense({
      productId,
      entitlementSet: { name: "pro", displayName: "Professional", tier: 2 },
      maxAllowedReleaseVersion: "4.2",
      userLocked: true
    })
    const licensing = createNodeLicensing({
      productId,
      publicKeyPem,
      host: emulator.url,
      scope: "memory",
      fingerprint: { platform: "linux", env: {}, hostname: "facts", username: "tester" },
      http: { proxy: "none" }
    })
    try {
      assert.isUndefined(await licensing.license())
      await licensing.activate(key)
      const details = await licensing.license()
      assert.deepStrictEqual(details?.entitlementSet, { name: "pro", displayName: "Professional", tier: 2 })
      assert.strictEqual(details?.maxAllowedReleaseVersion, "4.2")
      assert.isTrue(details?.userLocked)
      // The emulator signs the user hash the client sent: SHA-256 of the OS user name (reference-client.md row 9).
      assert.strictEqual(details?.userHash, createHash("sha256").update("tester").digest("hex"))
    } finally {
      await licensing.close()
    }
  })

  it("a plain licence has no entitlement set, no release ceiling and no maintenance facts", async () => {
    const { productId, publicKeyPem } = await emulator.createProduct()
    const { key } = await emulator.createLicense({ productId })
    const licensing = createNodeLicensing({
      productId,
      publicKeyPem,
      host: emulator.url,
      scope: "memory",
      fingerprint: { platform: "linux", env: {}, hostname: "facts", username: "tester" },
      http: { proxy: "none" }
    })
    try {
      await licensing.activate(key)
      const details = await licensing.license()
      assert.isDefined(details)
      assert.isUndefined(details!.entitlementSet)
      assert.isUndefined(details!.maxAllowedReleaseVersion)
      assert.isUndefined(details!.maintenancePolicy)
      assert.isUndefined(details!.currentReleaseVersion)
      assert.isUndefined(details!.maintenanceExpiresAt)
    } finally {
      await licensing.close()
    }
  })

  it("trialMetadata goes with the trial activation and comes back in the trial's token", async () => {
    const { productId, publicKeyPem } = await emulator.createProduct()
    const licensing = createNodeLicensing({
      productId,
      publicKeyPem,
      host: emulator.url,
      scope: "memory",
      trialMetadata: [{ key: "source", value: "website" }],
      fingerprint: { platform: "linux", env: {}, hostname: "trial-facts", username: "tester" },
      http: { proxy: "none" }
    })
    try {
      const view = await licensing.activateTrial()
      assert.strictEqual(view.state, "trialActive")
      assert.deepStrictEqual((await licensing.license())?.activationMetadata, [{ key: "source", value: "website" }])
    } finally {
      await licensing.close()
    }
  })
})
