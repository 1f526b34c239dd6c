import { createHmac } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { saltedHash } from "../src/internal/SaltedHash.ts"

const reference = (key: string, label: string, value: string) =>
  createHmac("sha256", key).update(`${label}\0${value}`).digest("hex")

describe("saltedHash", () => {
  it("equals node:crypto's HMAC-SHA-256 for any key, label and value, including keys longer than a block", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 120 }), fc.string(), fc.string(), (key, label, value) => {
        assert.strictEqual(saltedHash(key, label, value), reference(key, label, value))
      }),
      { numRuns: 300 }
    )
  })

  it("matches at the block-size edges of the key (63, 64, 65 bytes) and with multi-byte characters", () => {
    for (const key of ["", "k", "k".repeat(63), "k".repeat(64), "k".repeat(65), "é".repeat(32), "é".repeat(33)]) {
      assert.strictEqual(saltedHash(key, "fingerprint", "id"), reference(key, "fingerprint", "id"))
    }
  })
})
