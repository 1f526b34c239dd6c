/**
 * The licence facts LexActivator 3.34/3.42 reads from the activation token and licensure decodes too
 * (reference-client.md row 27): the entitlement set `esn`/`esdn`/`est`, the maintenance policy `mp` and the
 * current release version `crv`, from a real RS256 token through `ActivationToken.verify`, in the shapes the
 * lenient reading accepts (a JSON-encoded `mp`, a numeric-string `est`, `null` for absent).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { exportSPKI, generateKeyPair, SignJWT } from "jose"
import * as ActivationToken from "../src/ActivationToken.ts"

const keys = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true })
const publicKeyPem = await exportSPKI(keys.publicKey)

const base = {
  aid: "act-1",
  lid: "lic-1",
  pid: "prod-1",
  key: "KEY-1",
  fp: "f".repeat(64),
  iat: 1_900_000_000
}
const sign = (extra: Record<string, unknown>) =>
  Effect.promise(() =>
    new SignJWT({ ...base, ...extra }).setProtectedHeader({ alg: "RS256", typ: "JWT" }).sign(keys.privateKey)
  )

describe("activation token licence facts", () => {
  it.effect("decodes the entitlement set (esn, esdn, est), mp and crv into named fields", () =>
    Effect.gen(function* () {
      const token = yield* sign({
        esn: "pro",
        esdn: "Professional",
        est: 3,
        crv: "2.3.1",
        marv: "2.9",
        meat: 1_950_000_000,
        mp: { allowMajorVersionUpdates: false, allowMinorVersionUpdates: true, validity: 31_536_000 },
        ul: true,
        uh: "AB12"
      })
      const claims = yield* ActivationToken.verify(token, publicKeyPem)
      assert.strictEqual(claims.entitlementSetName, "pro")
      assert.strictEqual(claims.entitlementSetDisplayName, "Professional")
      assert.strictEqual(claims.entitlementSetTier, 3)
      assert.strictEqual(claims.currentReleaseVersion, "2.3.1")
      assert.strictEqual(claims.maxAllowedReleaseVersion, "2.9")
      assert.strictEqual(claims.maintenanceExpiresAt, 1_950_000_000)
      assert.deepStrictEqual(claims.maintenancePolicy, {
        allowMajorVersionUpdates: false,
        allowMinorVersionUpdates: true,
        validity: 31_536_000
      })
      assert.strictEqual(claims.userLocked, true)
      assert.strictEqual(claims.userHash, "AB12")
    })
  )

  it.effect("reads a JSON-encoded mp, a numeric-string est and null entitlement-set claims", () =>
    Effect.gen(function* () {
      const token = yield* sign({
        esn: null,
        esdn: null,
        est: "2",
        mp: JSON.stringify({ allowMajorVersionUpdates: true, validity: 0 })
      })
      const claims = yield* ActivationToken.verify(token, publicKeyPem)
      assert.isUndefined(claims.entitlementSetName)
      assert.isUndefined(claims.entitlementSetDisplayName)
      assert.strictEqual(claims.entitlementSetTier, 2)
      assert.deepStrictEqual(claims.maintenancePolicy, { allowMajorVersionUpdates: true, validity: 0 })
    })
  )

  it.effect("leaves them undefined when the token has no entitlement set, and refuses an est that is no number", () =>
    Effect.gen(function* () {
      const claims = yield* ActivationToken.verify(yield* sign({}), publicKeyPem)
      assert.isUndefined(claims.entitlementSetName)
      assert.isUndefined(claims.entitlementSetTier)
      assert.isUndefined(claims.maintenancePolicy)
      const error = yield* Effect.flip(ActivationToken.verify(yield* sign({ est: "gold" }), publicKeyPem))
      assert.strictEqual(error.reason, "badClaims")
      assert.include(error.message, "est")
    })
  )

  // reference-client.md row 29: LexActivator tolerates null anywhere; a null optional field is absent at every level.
  it.effect("reads null in nested optional fields (lma, mp, also JSON-encoded) as absent", () =>
    Effect.gen(function* () {
      const token = yield* sign({
        lma: [{ id: null, name: "exports", allowedUses: 10, totalUses: 3, grossUses: null }],
        ama: JSON.stringify([{ name: "exports", uses: 3 }]),
        mp: JSON.stringify({ allowMajorVersionUpdates: null, allowMinorVersionUpdates: true, validity: null }),
        pmd: [{ key: "tier", value: "gold" }]
      })
      const claims = yield* ActivationToken.verify(token, publicKeyPem)
      assert.deepStrictEqual(claims.licenseMeterAttributes, [{ name: "exports", allowedUses: 10, totalUses: 3 }])
      assert.deepStrictEqual(claims.activationMeterAttributes, [{ name: "exports", uses: 3 }])
      assert.deepStrictEqual(claims.maintenancePolicy, { allowMinorVersionUpdates: true })
      assert.deepStrictEqual(claims.productMetadata, [{ key: "tier", value: "gold" }])
    })
  )

  it.effect("refuses null in a required nested field with a typed error naming the field and the null", () =>
    Effect.gen(function* () {
      for (const [extra, field] of [
        [{ lma: [{ name: null, allowedUses: 10, totalUses: 3 }] }, "name"],
        [{ lma: [{ name: "exports", allowedUses: null, totalUses: 3 }] }, "allowedUses"],
        [{ ama: [{ name: "exports", uses: null }] }, "uses"],
        [{ pmd: [{ key: null, value: "gold" }] }, "key"],
        [{ lmd: JSON.stringify([{ key: "tier", value: null }]) }, "value"]
      ] as const) {
        const error = yield* Effect.flip(ActivationToken.verify(yield* sign(extra), publicKeyPem))
        assert.strictEqual(error._tag, "TokenError")
        assert.strictEqual(error.reason, "badClaims")
        assert.include(error.message, field)
        assert.include(error.message, "null", error.message)
      }
    })
  )
})
