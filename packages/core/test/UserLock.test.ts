/**
 * The OS-user lock (`ul`/`uh`, reference-client.md §3 item 2): a locked licence runs only for the user whose hash
 * the token carries, whatever the hex case; anyone else gets LexActivator's `LA_E_OS_USER` (104).
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import * as UserLock from "../src/UserLock.ts"

const hex = fc.constantFrom("", "ab12", "AB12", "cd34", "CD34")
const ada = "a1b2c3".repeat(10) + "d4e5"
const bob = "0f".repeat(32)

describe("UserLock.check", () => {
  it("lets any user run a licence that is not locked, whatever uh says", () => {
    for (const claims of [{}, { userLocked: false, userHash: ada }, { userHash: ada }]) {
      const verdict = UserLock.check(claims, bob)
      assert.strictEqual(verdict._tag, "NotLocked")
      assert.deepStrictEqual(verdict.status, { name: "LA_OK", code: 0 })
    }
  })

  it("lets the locked-to user run it, comparing the hex case-insensitively (LexActivator writes upper case)", () => {
    assert.strictEqual(UserLock.check({ userLocked: true, userHash: ada }, ada)._tag, "SameUser")
    assert.strictEqual(UserLock.check({ userLocked: true, userHash: ada.toUpperCase() }, ada)._tag, "SameUser")
    assert.isTrue(UserLock.allows({ userLocked: true, userHash: ada.toUpperCase() }, ada))
  })

  it("refuses another user with LA_E_OS_USER (104), naming the hash it is locked to", () => {
    const verdict = UserLock.check({ userLocked: true, userHash: ada }, bob)
    assert.deepStrictEqual(verdict, { _tag: "OtherUser", lockedTo: ada, status: { name: "LA_E_OS_USER", code: 104 } })
    assert.isFalse(UserLock.allows({ userLocked: true, userHash: ada }, bob))
  })

  it("refuses every user when a locked token carries no uh, or an empty one", () => {
    assert.strictEqual(UserLock.check({ userLocked: true }, bob)._tag, "OtherUser")
    assert.strictEqual(UserLock.check({ userLocked: true, userHash: "" }, "")._tag, "OtherUser")
  })

  it("agrees with `ul && upper(uh) != upper(hash)` for any claims", () => {
    fc.assert(
      fc.property(fc.option(fc.boolean(), { nil: undefined }), hex, hex, (ul, uh, hash) => {
        const refused = ul === true && (uh === "" || uh.toUpperCase() !== hash.toUpperCase())
        assert.strictEqual(UserLock.check({ userLocked: ul, userHash: uh }, hash)._tag === "OtherUser", refused)
      })
    )
  })
})
