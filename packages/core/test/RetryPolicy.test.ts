/**
 * The retry policy under TestClock: how many attempts a failing call gets, and the exact bounds of the waits
 * between them. Each test runs a call that fails a set number of times, records `Clock.currentTimeMillis` at
 * every attempt, and moves time only with `TestClock.adjust`; the jitter is pinned by providing a fixed
 * `Random` (or a seeded one) so the waits can be checked to the millisecond.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Random } from "effect"
import { TestClock } from "effect/testing"
import {
  ApiError,
  type ApiErrorReason,
  MalformedResponse,
  NetworkFailure,
  NotFound,
  RateLimited,
  ServerFailure,
  ServerRefused,
  UnknownServerCode
} from "../src/LicenseApi.ts"
import * as RetryPolicy from "../src/RetryPolicy.ts"

const options = { base: "1 second", cap: "8 seconds", retries: 4 } as const
/** min(cap, base · 2^n) for n = 0, 1, 2, 3, written out rather than computed. */
const ceilings = [1000, 2000, 4000, 8000]

const sync = (reason: ApiErrorReason) => new ApiError({ operation: "sync", reason })
const network = () => sync(new NetworkFailure({ timedOut: false, message: "x" }))

/** A call that fails with `error()` for its first `failures` attempts, then succeeds. */
const flaky = (failures: number, error: () => ApiError = network) => {
  const times: Array<number> = []
  const errors: Array<ApiError> = []
  const call = Effect.gen(function* () {
    times.push(yield* Clock.currentTimeMillis)
    if (times.length <= failures) {
      const e = error()
      errors.push(e)
      return yield* e
    }
    return "answered"
  })
  return { times, errors, call }
}

const gaps = (times: ReadonlyArray<number>) => times.slice(1).map((t, i) => t - times[i]!)

/** A Random that always draws `value` (0 ≤ value < 1, as the service promises). */
const fixedRandom =
  (value: number) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.provideService(effect, Random.Random, {
      nextDoubleUnsafe: () => value,
      nextIntUnsafe: () => Math.floor(value * Number.MAX_SAFE_INTEGER)
    })

/** The largest double below 1: the top of the jitter range. */
const almostOne = 1 - 2 ** -53

/** Moves the test clock to an absolute time (every test starts at 0). */
const advanceTo = (millis: number) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => TestClock.adjust(Math.max(0, millis - now)))

describe("RetryPolicy.retrying", () => {
  it.effect("retries a transient failure after waits within [0, min(cap, base·2^n)], n from 0", () =>
    Effect.gen(function* () {
      const drawn = new Set<number>()
      for (const seed of ["a", "b", "c", "d", "e", "f", "g", "h"]) {
        yield* TestClock.setTime(0)
        const { times, call } = flaky(4)
        const fiber = yield* call.pipe(RetryPolicy.retrying(options), Random.withSeed(seed), Effect.forkChild)
        for (let step = 0; step < 32; step++) yield* TestClock.adjust("500 millis")
        assert.strictEqual(yield* Fiber.join(fiber), "answered")
        assert.strictEqual(times.length, 5, `seed ${seed}`)
        gaps(times).forEach((gap, n) => {
          assert.isAtLeast(gap, 0, `seed ${seed}, wait ${n}`)
          assert.isAtMost(gap, ceilings[n]!, `seed ${seed}, wait ${n}`)
          drawn.add(gap)
        })
      }
      // The seeded Random really reached the schedule: the waits are spread, not all 0 or all the ceiling.
      assert.isAbove(drawn.size, 16)
    })
  )

  it.effect("waits just under each ceiling when the jitter draws its top (1 s, 2 s, 4 s, 8 s), not earlier", () =>
    Effect.gen(function* () {
      const { times, call } = flaky(4)
      const fiber = yield* call.pipe(RetryPolicy.retrying(options), fixedRandom(almostOne), Effect.forkChild)
      yield* TestClock.adjust(0)
      assert.deepStrictEqual(times, [0])
      for (const [n, ceiling] of ceilings.entries()) {
        // 2 ms before the ceiling the next attempt has not happened; at the ceiling it has.
        yield* advanceTo(times[n]! + ceiling - 2)
        assert.strictEqual(times.length, n + 1, `before wait ${n} ends`)
        yield* advanceTo(times[n]! + ceiling)
        assert.strictEqual(times.length, n + 2, `after wait ${n} ends`)
      }
      assert.strictEqual(yield* Fiber.join(fiber), "answered")
      // Random.next is below 1, and the wait is whole milliseconds: the top draw lands within 1 ms of the ceiling.
      gaps(times).forEach((gap, n) => {
        assert.isAtLeast(gap, ceilings[n]! - 1, `wait ${n}`)
        assert.isAtMost(gap, ceilings[n]!, `wait ${n}`)
      })
    })
  )

  it.effect("stops growing the wait at the cap", () =>
    Effect.gen(function* () {
      const { times, call } = flaky(6)
      const fiber = yield* call.pipe(
        RetryPolicy.retrying({ ...options, retries: 6 }),
        fixedRandom(almostOne),
        Effect.forkChild
      )
      yield* TestClock.adjust("40 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), "answered")
      assert.deepStrictEqual(
        gaps(times).map((gap) => Math.ceil(gap / 1000)),
        [1, 2, 4, 8, 8, 8]
      )
    })
  )

  it.effect("retries at once when the jitter draws 0", () =>
    Effect.gen(function* () {
      const { times, call } = flaky(4)
      const answer = yield* call.pipe(RetryPolicy.retrying(options), fixedRandom(0))
      assert.strictEqual(answer, "answered")
      assert.deepStrictEqual(times, [0, 0, 0, 0, 0])
    })
  )

  it.effect("tries a permanent refusal (REVOKED_LICENSE) exactly once", () =>
    Effect.gen(function* () {
      const revoked = () => sync(new ServerRefused({ code: "REVOKED_LICENSE", status: 403, message: "revoked" }))
      const { times, errors, call } = flaky(10, revoked)
      const fiber = yield* call.pipe(RetryPolicy.retrying(options), fixedRandom(0.5), Effect.forkChild)
      yield* TestClock.adjust("1 minute")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(times.length, 1)
      assert.strictEqual(error, errors[0])
      assert.strictEqual(error.reason._tag, "ServerRefused")
    })
  )

  it.effect("retries every transient reason and none of the permanent ones", () =>
    Effect.gen(function* () {
      const transient: Array<ApiErrorReason> = [
        new NetworkFailure({ timedOut: true, message: "timeout" }),
        new RateLimited({ message: "slow down" }),
        new ServerFailure({ status: 503, message: "unavailable" }),
        new MalformedResponse({ status: 200, message: "not JSON" })
      ]
      const permanent: Array<ApiErrorReason> = [
        new ServerRefused({ code: "INVALID_LICENSE_KEY", status: 400, message: "no such key" }),
        new UnknownServerCode({ code: "SOMETHING_NEW", status: 400, message: "new" }),
        new NotFound({ message: "gone" })
      ]
      for (const reason of [...transient, ...permanent]) {
        const { times, call } = flaky(1, () => sync(reason))
        const exit = yield* call.pipe(RetryPolicy.retrying(options), fixedRandom(0), Effect.exit)
        const retried = transient.includes(reason)
        assert.strictEqual(times.length, retried ? 2 : 1, reason._tag)
        assert.strictEqual(exit._tag, retried ? "Success" : "Failure", reason._tag)
      }
    })
  )

  it.effect("waits at least the server's Retry-After (30 s) after a rate limit, whatever the jitter", () =>
    Effect.gen(function* () {
      for (const random of [0, 0.5, almostOne]) {
        yield* TestClock.setTime(0)
        const limited = () => sync(new RateLimited({ retryAfterSeconds: 30, message: "rate limited" }))
        const { times, call } = flaky(1, limited)
        const fiber = yield* call.pipe(RetryPolicy.retrying(options), fixedRandom(random), Effect.forkChild)
        yield* TestClock.adjust("29999 millis")
        assert.strictEqual(times.length, 1, `random ${random}: retried before Retry-After`)
        yield* TestClock.adjust("1 millis")
        assert.strictEqual(times.length, 2, `random ${random}: not retried at Retry-After`)
        assert.strictEqual(yield* Fiber.join(fiber), "answered")
        assert.deepStrictEqual(gaps(times), [30_000])
      }
    })
  )

  it.effect("keeps the larger jittered wait when Retry-After is shorter", () =>
    Effect.gen(function* () {
      const limited = () => sync(new RateLimited({ retryAfterSeconds: 1, message: "rate limited" }))
      const { times, call } = flaky(3, limited)
      const fiber = yield* call.pipe(RetryPolicy.retrying(options), fixedRandom(almostOne), Effect.forkChild)
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), "answered")
      const [first, second, third] = gaps(times)
      assert.strictEqual(first, 1000)
      assert.isAtLeast(second!, 1999)
      assert.isAtLeast(third!, 3999)
    })
  )

  it.effect("gives up after `retries` retries and fails with the last error", () =>
    Effect.gen(function* () {
      const { times, errors, call } = flaky(Number.POSITIVE_INFINITY)
      const fiber = yield* call.pipe(RetryPolicy.retrying(options), fixedRandom(almostOne), Effect.forkChild)
      yield* TestClock.adjust("1 minute")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(times.length, 1 + options.retries)
      assert.strictEqual(error, errors.at(-1))
      assert.strictEqual(error.reason._tag, "NetworkFailure")
    })
  )

  it.effect("succeeds on the last allowed attempt", () =>
    Effect.gen(function* () {
      const { times, call } = flaky(options.retries)
      const answer = yield* call.pipe(RetryPolicy.retrying(options), fixedRandom(0))
      assert.strictEqual(answer, "answered")
      assert.strictEqual(times.length, options.retries + 1)
    })
  )

  it.effect("with retries 0, tries once", () =>
    Effect.gen(function* () {
      const { times, call } = flaky(1)
      const exit = yield* call.pipe(RetryPolicy.retrying({ ...options, retries: 0 }), fixedRandom(0), Effect.exit)
      assert.strictEqual(exit._tag, "Failure")
      assert.strictEqual(times.length, 1)
    })
  )
})

describe("RetryPolicy.backoffCeilingMillis", () => {
  it("is base for the first wait, doubles, and stops at the cap", () => {
    assert.deepStrictEqual(
      [0, 1, 2, 3, 4, 10].map((n) => RetryPolicy.backoffCeilingMillis(n, options)),
      [1000, 2000, 4000, 8000, 8000, 8000]
    )
    assert.strictEqual(RetryPolicy.backoffCeilingMillis(0), 1000)
    assert.strictEqual(RetryPolicy.backoffCeilingMillis(20), 60_000)
  })
})
