import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { ActivationRequest, ActivationTokenClaims, classifyServerCode } from "../src/Protocol.ts"

describe("Protocol", () => {
  it("decodes token claims from their short names and encodes them back", () => {
    const wire = { aid: "a1", lid: "l1", pid: "p1", key: "K", fp: "f".repeat(64), iat: 100, eat: 200, suspended: true }
    const claims = Schema.decodeUnknownSync(ActivationTokenClaims)(wire)
    assert.strictEqual(claims.activationId, "a1")
    assert.strictEqual(claims.expiresAt, 200)
    assert.strictEqual(claims.suspended, true)
    assert.strictEqual(claims.serverSyncGraceExpiresAt, 0)
    assert.deepStrictEqual(claims.licenseMetadata, [])
    const back = Schema.encodeSync(ActivationTokenClaims)(claims)
    assert.strictEqual(back.aid, "a1")
    assert.strictEqual(back.eat, 200)
  })

  it("names the field when a request body is mistyped", () => {
    const result = Schema.decodeUnknownExit(ActivationRequest)({ key: "K", productId: "p", fingerprint: 5 })
    assert.isTrue(result._tag === "Failure")
    assert.include(String(result), "fingerprint")
  })

  it("keeps an unknown server code verbatim", () => {
    assert.deepStrictEqual(classifyServerCode("REVOKED_LICENSE"), { _tag: "Known", code: "REVOKED_LICENSE" })
    assert.deepStrictEqual(classifyServerCode("SOMETHING_NEW"), { _tag: "Unknown", code: "SOMETHING_NEW" })
  })
})
