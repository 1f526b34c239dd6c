/**
 * `Licensing.idle`, `Licensing.quiet` and the `check()` fast path (issue 9), on the real client over the in-process
 * emulator on one TestClock. A simulation moves time only with `TestClock.adjust` and waits on `quiet`: while a
 * retry sleeps on the clock the client says until when, so nothing is guessed and no event-loop turn is counted.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Licensing } from "@licensure/core"
import { DAY, HOUR, makeSim, settled, Start } from "@licensure/testing"
import { Clock, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"

/** Lets the forked command reach the machine: yields until the sync is in flight. */
const untilSyncing = (licensing: Licensing["Service"]) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1000 && (yield* licensing.current).state !== "renewDue"; i++) yield* Effect.yieldNow
    assert.strictEqual((yield* licensing.current).state, "renewDue")
  })

describe("Licensing.idle and Licensing.quiet", () => {
  it.effect("a sync retrying 503s is quiet with the time its retry wakes; stepping there ends it idle", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 }, { retry: { base: "2 seconds", retries: 3 } })
      yield* sim.licensing.activate(sim.license.key)
      const first = yield* sim.licensing.idle
      assert.strictEqual(first.state, "active")
      // Three 503s, then the server answers again.
      yield* Effect.promise(() =>
        sim.emulator.addFault({ kind: "status", status: 503, count: 3, match: { method: "PATCH" } })
      )
      const syncing = yield* Effect.forkChild(sim.licensing.sync)
      yield* untilSyncing(sim.licensing)
      const naps: Array<number> = []
      let view = yield* sim.licensing.current
      while (true) {
        const quiet = yield* sim.licensing.quiet
        view = quiet.view
        if (quiet.wakesAt === undefined) break
        const now = yield* Clock.currentTimeMillis
        assert.isAtLeast(quiet.wakesAt, now, "a nap ends now or later")
        assert.strictEqual(quiet.view.state, "renewDue", "napping in a retry, the sync is still in flight")
        naps.push(quiet.wakesAt - now)
        yield* TestClock.adjust(Math.max(1, quiet.wakesAt - now))
      }
      assert.strictEqual(naps.length, 3, `one nap per 503, got ${JSON.stringify(naps)}`)
      for (const [i, nap] of naps.entries()) assert.isAtMost(nap, 2000 * 2 ** i, "full jitter under the ceiling")
      assert.strictEqual(view.state, "active")
      const synced = yield* Fiber.join(syncing)
      assert.strictEqual(synced.state, "active")
      assert.isUndefined(synced.lastError)
      const log = yield* Effect.promise(() => sim.emulator.log())
      assert.deepStrictEqual(
        log.filter((e) => e.method === "PATCH").map((e) => e.status),
        [503, 503, 503, 200]
      )
    })
  )

  it.effect("idle waits for the operation in flight, quiet answers as soon as nothing works in real time", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 }, { retry: { base: "1 minute", cap: "1 minute" } })
      yield* sim.licensing.activate(sim.license.key)
      yield* Effect.promise(() => sim.emulator.addFault({ kind: "drop", count: 1, match: { method: "PATCH" } }))
      const syncing = yield* Effect.forkChild(sim.licensing.sync)
      yield* untilSyncing(sim.licensing)
      const quiet = yield* sim.licensing.quiet
      assert.isDefined(quiet.wakesAt, "a dropped request leaves the sync asleep in its retry")
      const idle = yield* Effect.forkChild(sim.licensing.idle)
      // Not idle while the retry sleeps: nothing moves until virtual time does.
      yield* Effect.yieldNow
      assert.isUndefined(idle.pollUnsafe(), "idle does not answer during the nap")
      yield* TestClock.adjust(quiet.wakesAt! - (yield* Clock.currentTimeMillis))
      const view = yield* Fiber.join(idle)
      assert.strictEqual(view.state, "active")
      assert.isTrue(view.settled)
      yield* Fiber.join(syncing)
    })
  )

  it.effect("settled() (the simulation's step) reaches the end of a retrying sync by quiet alone", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600, serverSyncGracePeriod: DAY / 1000 })
      yield* sim.licensing.activate(sim.license.key)
      yield* Effect.promise(() =>
        sim.emulator.addFault({ kind: "status", status: 500, count: 2, match: { method: "PATCH" } })
      )
      yield* TestClock.adjust(HOUR)
      const view = yield* settled(sim.licensing)
      assert.strictEqual(view.state, "active", JSON.stringify(view.lastError))
      assert.isAtLeast(view.license!.lastSyncedAt, Start + HOUR)
    })
  )
})

describe("check() answers from the last evaluation while nothing can have changed", () => {
  it.effect("the same view until a deadline, a clock step back, or any change of the machine", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 0, expiresAt: new Date(Start + 2 * HOUR).toISOString() })
      yield* sim.licensing.activate(sim.license.key)
      const a = yield* sim.licensing.check
      const b = yield* sim.licensing.check
      assert.strictEqual(a, b, "a second check with nothing changed reuses the evaluation")
      assert.strictEqual(a.state, "active")
      // Past the expiry the cached answer would be wrong: the deadline ends the reuse at once.
      yield* TestClock.setTime(a.nextDeadline!)
      const expired = yield* sim.licensing.check
      assert.strictEqual(expired.state, "expired")
      // A clock set back is never answered from the cache.
      yield* TestClock.setTime(Start + 10 * 60_000)
      const back = yield* sim.licensing.check
      assert.notStrictEqual(back, expired)
      assert.include(["clockTampered", "active"], back.state)
    })
  )
})
