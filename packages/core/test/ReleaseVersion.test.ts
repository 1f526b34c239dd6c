/**
 * The local release-version checks (`marv`, `meat`, `mp` with `crv`; reference-client.md §3 item 2): each rule on
 * both sides of its boundary, LexActivator's `LA_E_RELEASE_VERSION_NOT_ALLOWED` (77) for a release the licence
 * does not cover and `LA_E_RELEASE_VERSION_FORMAT` (70) for a version outside `x.x` … `x.x.x.x`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ReleaseVersion from "../src/ReleaseVersion.ts"

const now = Date.parse("2030-01-01T00:00:00Z")
const seconds = (ms: number) => Math.floor(ms / 1000)
const verdictOf = (claims: ReleaseVersion.ReleaseClaims, version: string, publishedAt?: number) => {
  const verdict = ReleaseVersion.check(claims, { version, publishedAt }, now)
  return verdict._tag === "NotAllowed" ? verdict.reason : verdict._tag
}

describe("ReleaseVersion.check", () => {
  it("allows any well-formed version when the token carries none of the claims", () => {
    const verdict = ReleaseVersion.check({}, { version: "9.9.9.9" }, now)
    assert.deepStrictEqual(verdict, { _tag: "Allowed", status: { name: "LA_OK", code: 0 } })
  })

  it("refuses a version outside x.x … x.x.x.x with LA_E_RELEASE_VERSION_FORMAT (70)", () => {
    for (const version of ["1", "1.2.3.4.5", "v1.2", "1.2-beta", "", "1..2"]) {
      const verdict = ReleaseVersion.check({}, { version }, now)
      assert.strictEqual(verdict._tag, "InvalidVersion", version)
      assert.strictEqual(verdict.status.code, 70)
    }
    for (const version of ["1.2", "1.2.3", "1.2.3.4"]) assert.strictEqual(verdictOf({}, version), "Allowed", version)
  })

  it("refuses a version above marv with 77 and allows marv itself, a missing part counting as 0", () => {
    const claims = { maxAllowedReleaseVersion: "2.1" }
    assert.strictEqual(verdictOf(claims, "2.1"), "Allowed")
    assert.strictEqual(verdictOf(claims, "2.1.0.0"), "Allowed")
    assert.strictEqual(verdictOf(claims, "2.0.9"), "Allowed")
    assert.strictEqual(verdictOf(claims, "2.1.0.1"), "aboveMaxAllowedVersion")
    assert.strictEqual(verdictOf(claims, "10.0"), "aboveMaxAllowedVersion", "numeric, not textual, comparison")
    const verdict = ReleaseVersion.check(claims, { version: "3.0" }, now)
    assert.deepStrictEqual(verdict.status, { name: "LA_E_RELEASE_VERSION_NOT_ALLOWED", code: 77 })
  })

  it("refuses a release published after the maintenance expiry, and judges at now without a published date", () => {
    const meat = seconds(now)
    assert.strictEqual(verdictOf({ maintenanceExpiresAt: meat }, "1.0", now), "Allowed", "published in the last second")
    assert.strictEqual(verdictOf({ maintenanceExpiresAt: meat }, "1.0", now + 1000), "maintenanceExpired")
    assert.strictEqual(verdictOf({ maintenanceExpiresAt: meat - 1 }, "1.0"), "maintenanceExpired")
    assert.strictEqual(verdictOf({ maintenanceExpiresAt: meat }, "1.0"), "Allowed")
    assert.strictEqual(verdictOf({ maintenanceExpiresAt: 0 }, "1.0", now + 1e12), "Allowed", "0: no expiry")
  })

  it("applies the maintenance policy's major and minor rules against the licence's current release version", () => {
    const noMajor = { currentReleaseVersion: "2.3.1", maintenancePolicy: { allowMajorVersionUpdates: false } }
    assert.strictEqual(verdictOf(noMajor, "2.9"), "Allowed")
    assert.strictEqual(verdictOf(noMajor, "3.0"), "majorUpdateNotAllowed")
    const noMinor = {
      currentReleaseVersion: "2.3.1",
      maintenancePolicy: { allowMajorVersionUpdates: true, allowMinorVersionUpdates: false }
    }
    assert.strictEqual(verdictOf(noMinor, "2.3.9"), "Allowed", "a patch is neither")
    assert.strictEqual(verdictOf(noMinor, "2.4"), "minorUpdateNotAllowed")
    assert.strictEqual(verdictOf(noMinor, "3.0"), "Allowed", "a major update is allowed by this policy")
    assert.strictEqual(
      verdictOf({ maintenancePolicy: { allowMajorVersionUpdates: false } }, "9.0"),
      "Allowed",
      "no crv"
    )
    assert.strictEqual(verdictOf({ ...noMajor, maintenancePolicy: {} }, "9.0"), "Allowed", "absent properties allow")
  })

  it("checks marv before the maintenance expiry, and both before the policy", () => {
    const all = {
      maxAllowedReleaseVersion: "2.0",
      maintenanceExpiresAt: seconds(now) - 1,
      currentReleaseVersion: "1.0",
      maintenancePolicy: { allowMajorVersionUpdates: false }
    }
    assert.strictEqual(verdictOf(all, "3.0"), "aboveMaxAllowedVersion")
    assert.strictEqual(verdictOf(all, "2.0"), "maintenanceExpired")
    assert.strictEqual(verdictOf({ ...all, maintenanceExpiresAt: 0 }, "2.0"), "majorUpdateNotAllowed")
  })
})
