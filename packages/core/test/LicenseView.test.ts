/**
 * `detailsOf`: the licence facts LexActivator reads from the token reach `LicenseDetails` under readable names
 * (issue 11), including the ones the emulator does not sign (`crv`, `mp`, `meat`).
 */
import { assert, describe, it } from "@effect/vitest"
import type { LicenseFacts } from "../src/LicenseModel.ts"
import { detailsOf } from "../src/LicenseView.ts"
import type { ActivationClaims } from "../src/Protocol.ts"

const claims = {
  activationId: "act-1",
  licenseId: "lic-1",
  productId: "prod-1",
  key: "KEY-1",
  fingerprint: "fp-1",
  licenseType: "node-locked",
  issuedAt: 1_900_000_000,
  expiresAt: 0,
  serverSyncInterval: 3600,
  serverSyncGraceExpiresAt: 0,
  allowedClockOffset: 0,
  leaseExpiresAt: 0,
  leaseDuration: 0,
  suspended: false,
  maintenanceExpiresAt: 1_950_000_000,
  currentReleaseVersion: "3.1",
  maxAllowedReleaseVersion: "3.9",
  maintenancePolicy: { allowMajorVersionUpdates: false, allowMinorVersionUpdates: true, validity: 31_536_000 },
  entitlementSetName: "pro",
  entitlementSetTier: 3,
  userLocked: true,
  userHash: "AB12",
  productMetadata: [],
  licenseMetadata: [],
  userMetadata: [],
  activationMetadata: [],
  licenseMeterAttributes: [],
  activationMeterAttributes: []
} satisfies ActivationClaims

const facts = (c: ActivationClaims): LicenseFacts => ({
  kind: "activation",
  token: "t",
  key: c.key,
  claims: c,
  lastSyncedAt: 1_900_000_000_000,
  lastSeenAt: 1_900_000_000_000,
  fingerprint: c.fingerprint,
  components: []
})

describe("detailsOf", () => {
  it("carries the maintenance policy, the current and maximum release, the maintenance expiry and the lock", () => {
    const details = detailsOf(facts(claims))
    assert.deepStrictEqual(details.maintenancePolicy, claims.maintenancePolicy)
    assert.strictEqual(details.currentReleaseVersion, "3.1")
    assert.strictEqual(details.maxAllowedReleaseVersion, "3.9")
    assert.strictEqual(details.maintenanceExpiresAt, 1_950_000_000_000)
    assert.isTrue(details.userLocked)
    assert.strictEqual(details.userHash, "AB12")
  })

  it("gives the entitlement set with what the token carries of it, and none without esn", () => {
    assert.deepStrictEqual(detailsOf(facts(claims)).entitlementSet, { name: "pro", displayName: undefined, tier: 3 })
    const { entitlementSetName: _, ...withoutSet } = claims
    assert.isUndefined(detailsOf(facts(withoutSet)).entitlementSet)
    assert.isUndefined(detailsOf(facts({ ...claims, entitlementSetName: "" })).entitlementSet)
  })
})
