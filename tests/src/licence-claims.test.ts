/**
 * The claims behind the running licence (`LicenseClaims.current`) over real HTTP: the emulator signs an entitlement
 * set, a maximum release version and an OS-user lock into the token; the Node client (Promise face, `use`) reads
 * them back, and the pure checks judge them: the activating user passes `UserLock.check`, another user gets
 * `LA_E_OS_USER` (104); a release above `marv` gets `LA_E_RELEASE_VERSION_NOT_ALLOWED` (77).
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { LicenseClaims, ReleaseVersion, UserLock } from "@licensure/core"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { createNodeLicensing } from "@licensure/node-runtime/NodeLicensing"

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator?.close())

const licensingFor = (productId: string, publicKeyPem: string) =>
  createNodeLicensing({
    productId,
    publicKeyPem,
    host: emulator.url,
    scope: "memory",
    fingerprint: { platform: "linux", env: {}, hostname: "claims", username: "tester" },
    http: { proxy: "none" }
  })

describe("LicenseClaims.current", () => {
  it("is undefined before an activation, and carries esn, esdn, est, marv and the user lock after it", async () => {
    const { productId, publicKeyPem } = await emulator.createProduct()
    const { key } = await emulator.createLicense({
      productId,
      entitlementSet: { name: "pro", displayName: "Professional", tier: 2 },
      maxAllowedReleaseVersion: "2.5",
      userLocked: true
    })
    const licensing = licensingFor(productId, publicKeyPem)
    try {
      assert.isUndefined(await licensing.use(LicenseClaims.current))
      assert.deepStrictEqual(LicenseClaims.entitlementSetOf(undefined), {
        name: undefined,
        displayName: undefined,
        tier: undefined
      })
      await licensing.activate(key)
      const current = await licensing.use(LicenseClaims.current)
      assert.strictEqual(current?.kind, "activation")
      assert.deepStrictEqual(LicenseClaims.entitlementSetOf(current), {
        name: "pro",
        displayName: "Professional",
        tier: 2
      })
      if (current?.kind !== "activation") throw new Error("expected an activation's claims")
      const claims = current.claims
      assert.strictEqual(UserLock.check(claims, claims.userHash!)._tag, "SameUser")
      assert.deepStrictEqual(UserLock.check(claims, "0".repeat(64)).status, { name: "LA_E_OS_USER", code: 104 })
      const now = Date.now()
      assert.strictEqual(ReleaseVersion.check(claims, { version: "2.5" }, now)._tag, "Allowed")
      assert.deepStrictEqual(ReleaseVersion.check(claims, { version: "2.6" }, now).status, {
        name: "LA_E_RELEASE_VERSION_NOT_ALLOWED",
        code: 77
      })
    } finally {
      await licensing.close()
    }
  })

  it("gives no entitlement set and no lock for a plain licence", async () => {
    const { productId, publicKeyPem } = await emulator.createProduct()
    const { key } = await emulator.createLicense({ productId })
    const licensing = licensingFor(productId, publicKeyPem)
    try {
      await licensing.activate(key)
      const current = await licensing.use(LicenseClaims.current)
      assert.deepStrictEqual(LicenseClaims.entitlementSetOf(current), {
        name: undefined,
        displayName: undefined,
        tier: undefined
      })
      assert.strictEqual(UserLock.check(current!.claims, "0".repeat(64))._tag, "NotLocked")
    } finally {
      await licensing.close()
    }
  })
})
