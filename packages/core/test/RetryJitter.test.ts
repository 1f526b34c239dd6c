/**
 * `LicenseMachine.retryAt`: where the next sync after a transient failure lands, for a uniform draw `u`. Pure, so
 * the bounds are checked on both sides with pinned draws; the clients' own Random reaching it is tested over the
 * emulator (`tests/src/retry-jitter.test.ts`).
 */
import { assert, describe, it } from "@effect/vitest"
import { type FailureInfo, type LicenseContext, MaxRetryAfterMillis, retryAt } from "../src/LicenseMachine.ts"

const HOUR = 3_600_000
const at = 1_767_225_600_000

const contextWith = (retryJitter: number | undefined, claims: Partial<Record<string, number>> = {}) =>
  ({
    config: { productId: "p", now: () => at, retryJitter },
    facts: { claims: { serverSyncInterval: 3600, serverSyncGraceExpiresAt: 0, expiresAt: 0, ...claims } }
  }) as unknown as LicenseContext

const failure = (retryAfterSeconds?: number): FailureInfo => ({
  operation: "sync",
  kind: retryAfterSeconds === undefined ? "NetworkFailure" : "RateLimited",
  message: "test",
  transient: true,
  ...(retryAfterSeconds === undefined ? {} : { retryAfterMillis: retryAfterSeconds * 1000 })
})

describe("retryAt: the next sync after a transient failure", () => {
  it("without a draw, or with jitter 0, is the sync interval exactly", () => {
    assert.strictEqual(retryAt(contextWith(0.5), failure(), at, undefined), at + HOUR)
    for (const u of [0, 0.3, 0.999999]) assert.strictEqual(retryAt(contextWith(0), failure(), at, u), at + HOUR)
  })

  it("spreads uniformly over [interval × (1 − j), interval]: the draw's ends reach both bounds, never past", () => {
    for (const j of [0.25, 0.5, 1]) {
      assert.strictEqual(retryAt(contextWith(j), failure(), at, 0), at + Math.ceil(HOUR * (1 - j)))
      const top = retryAt(contextWith(j), failure(), at, 0.999999)
      assert.isAtMost(top, at + HOUR)
      assert.isAbove(top, at + HOUR - 10)
      const middle = retryAt(contextWith(j), failure(), at, 0.5)
      assert.approximately(middle, at + HOUR * (1 - j / 2), 1)
    }
  })

  it("takes the default jitter (full: the whole interval) when none is configured", () => {
    assert.strictEqual(retryAt(contextWith(undefined), failure(), at, 0), at)
  })

  it("a Retry-After within the interval raises the bottom of the range; the top stays the interval", () => {
    assert.strictEqual(retryAt(contextWith(1), failure(3000), at, 0), at + 3_000_000)
    assert.isAtMost(retryAt(contextWith(1), failure(3000), at, 0.999999), at + HOUR)
    assert.isAtLeast(retryAt(contextWith(1), failure(3000), at, 0.5), at + 3_000_000)
  })

  it("a longer Retry-After is honoured, the spread only added to it, within a day", () => {
    assert.strictEqual(retryAt(contextWith(1), failure(7200), at, 0), at + 2 * HOUR)
    assert.approximately(retryAt(contextWith(1), failure(7200), at, 0.5), at + 2.5 * HOUR, 1)
    assert.strictEqual(retryAt(contextWith(1), failure(10 ** 11), at, 0.9), at + MaxRetryAfterMillis)
  })

  it("never past the grace deadline for a long Retry-After, and never sooner than the interval", () => {
    // Grace ends (exclusive, whole seconds) 3 h from now: a 5 h Retry-After is cut there, its spread too.
    const graceEnd = (at + 3 * HOUR) / 1000 - 1
    const context = contextWith(1, { serverSyncGraceExpiresAt: graceEnd })
    assert.strictEqual(retryAt(context, failure(5 * 3600), at, 0.9), at + 3 * HOUR)
    const soon = contextWith(1, { serverSyncGraceExpiresAt: (at + HOUR / 2) / 1000 })
    assert.isAtLeast(retryAt(soon, failure(5 * 3600), at, 0.9), at + HOUR)
  })
})
