import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { stateOf } from "@licensure/core"
import { DAY, drive, HOUR, makeSim, settled, Start } from "@licensure/testing"

const syncCount = (log: ReadonlyArray<{ method: string; path: string; status: number }>) =>
  log.filter((e) => e.method === "PATCH" && e.path.startsWith("/v3/activations/") && e.status === 200).length

/** Every state the actor passes through (not only the settled ones). */
const recordStates = (actor: { subscribe: (f: (s: { value: unknown }) => void) => unknown }) => {
  const seen: Array<string> = []
  actor.subscribe((s) => {
    const v = stateOf(s.value)
    if (seen[seen.length - 1] !== v) seen.push(v)
  })
  return seen
}

const iso = (ms: number) => new Date(ms).toISOString()

describe("lifecycle simulations against the emulator on one TestClock", () => {
  it.effect(
    "one year with a one-hour sync interval makes 8,760 ± 1 syncs and stays licensed throughout",
    () =>
      Effect.gen(function* () {
        const sim = yield* makeSim({ serverSyncInterval: 3600, serverSyncGracePeriod: 7 * 86400 })
        yield* sim.licensing.activate(sim.license.key)
        const seen = recordStates(sim.licensing.actor)
        let unlicensed = 0
        yield* drive(sim.licensing, Start + 365 * DAY, (v) => {
          if (!v.licensed) unlicensed++
        })
        const syncs = syncCount(yield* Effect.promise(() => sim.emulator.log()))
        assert.isAtLeast(syncs, 8759)
        assert.isAtMost(syncs, 8761)
        assert.strictEqual(unlicensed, 0)
        assert.deepStrictEqual([...new Set(seen)].sort(), ["active", "renewDue"])
      }),
    { timeout: 300_000 }
  )

  it.effect("a 3-day outage inside a 7-day grace goes to grace and back to active on the first good sync", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600, serverSyncGracePeriod: 7 * 86400 })
      yield* sim.licensing.activate(sim.license.key)
      yield* drive(sim.licensing, Start + DAY)
      const outageStart = Start + DAY
      const outageEnd = outageStart + 3 * DAY
      yield* Effect.promise(() => sim.emulator.addFault({ kind: "drop", from: outageStart, until: outageEnd }))
      const timeline: Array<[number, string]> = []
      yield* drive(sim.licensing, Start + 6 * DAY, (v, now) => {
        if (timeline.length === 0 || timeline[timeline.length - 1]![1] !== v.state) timeline.push([now, v.state])
      })
      const states = timeline.map(([, s]) => s)
      assert.deepStrictEqual(states, ["active", "grace", "active"])
      const backAt = timeline[2]![0]
      assert.isAtLeast(backAt, outageEnd)
      assert.isAtMost(backAt, outageEnd + HOUR + 1000)
      assert.isTrue((yield* sim.licensing.current).licensed)
    })
  )

  it.effect("an outage longer than the grace ends in grace-over, then recovers when the server is back", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600, serverSyncGracePeriod: 7 * 86400 })
      yield* sim.licensing.activate(sim.license.key)
      const outageEnd = Start + 10 * DAY
      yield* Effect.promise(() =>
        sim.emulator.addFault({ kind: "status", status: 503, from: Start + 1, until: outageEnd })
      )
      const timeline: Array<[number, string, string]> = []
      yield* drive(sim.licensing, Start + 12 * DAY, (v, now) => {
        if (timeline.length === 0 || timeline[timeline.length - 1]![1] !== v.state)
          timeline.push([now, v.state, v.status.name])
      })
      assert.deepStrictEqual(
        timeline.map(([, s]) => s),
        ["active", "grace", "graceOver", "active"]
      )
      const [, , overStatus] = timeline[2]!
      assert.strictEqual(overStatus, "LA_GRACE_PERIOD_OVER")
      // The last good sync was at Start (activation); grace ends 7 days later.
      assert.isAtLeast(timeline[2]![0], Start + 7 * DAY)
      assert.isAtMost(timeline[2]![0], Start + 7 * DAY + 2000)
      assert.isAtLeast(timeline[3]![0], outageEnd)
    })
  )

  it.effect("suspend → suspended → unsuspend → active, without reactivation", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 })
      yield* sim.licensing.activate(sim.license.key)
      yield* Effect.promise(() => sim.emulator.updateLicense(sim.license.id, { suspended: true }))
      const v1 = yield* drive(sim.licensing, Start + 2 * HOUR)
      assert.strictEqual(v1.state, "suspended")
      assert.strictEqual(v1.status.code, 21)
      assert.isFalse(v1.licensed)
      yield* Effect.promise(() => sim.emulator.updateLicense(sim.license.id, { suspended: false }))
      const v2 = yield* drive(sim.licensing, Start + 4 * HOUR)
      assert.strictEqual(v2.state, "active")
      const activations = (yield* Effect.promise(() => sim.emulator.getLicense(sim.license.id))).activations
      assert.strictEqual(activations.length, 1)
    })
  )

  it.effect("revoke → revoked, with the stored activation cleared and the reason given", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 })
      yield* sim.licensing.activate(sim.license.key)
      assert.isTrue(Option.isSome(yield* sim.store.load))
      yield* Effect.promise(() => sim.emulator.updateLicense(sim.license.id, { revoked: true }))
      const view = yield* drive(sim.licensing, Start + 2 * HOUR)
      yield* sim.licensing.flush
      assert.strictEqual(view.state, "revoked")
      assert.strictEqual(view.status.name, "LA_E_REVOKED")
      assert.strictEqual(view.clearedBecause?.code, "REVOKED_LICENSE")
      assert.isTrue(Option.isNone(yield* sim.store.load))
      // Re-activation is refused with the same reason.
      const error = yield* Effect.flip(sim.licensing.activate(sim.license.key))
      assert.strictEqual(error.code, "REVOKED_LICENSE")
      assert.strictEqual(error.status.name, "LA_E_REVOKED")
    })
  )

  it.effect("a renewal on the server extends the expiry at the next sync", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600, expiresAt: iso(Start + 10 * DAY) })
      const first = yield* sim.licensing.activate(sim.license.key)
      assert.strictEqual(first.license?.expiresAt, Start + 10 * DAY)
      yield* Effect.promise(() => sim.emulator.updateLicense(sim.license.id, { expiresAt: iso(Start + 40 * DAY) }))
      const view = yield* drive(sim.licensing, Start + HOUR + 1)
      assert.strictEqual(view.license?.expiresAt, Start + 40 * DAY)
      const later = yield* drive(sim.licensing, Start + 20 * DAY)
      assert.strictEqual(later.state, "active")
    })
  )

  it.effect("a 45-day expiry fires on day 45, with no sync to wake the client", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 0, expiresAt: iso(Start + 45 * DAY) })
      yield* sim.licensing.activate(sim.license.key)
      let expiredAt: number | undefined
      yield* drive(sim.licensing, Start + 50 * DAY, (v, now) => {
        if (v.state === "expired" && expiredAt === undefined) expiredAt = now
      })
      assert.isDefined(expiredAt)
      assert.isAtLeast(expiredAt!, Start + 45 * DAY)
      assert.isBelow(expiredAt!, Start + 45 * DAY + 2000)
      const view = yield* sim.licensing.current
      assert.strictEqual(view.status.name, "LA_EXPIRED")
      // No request was needed to notice: only the activation went to the server.
      assert.strictEqual((yield* Effect.promise(() => sim.emulator.log())).length, 1)
    })
  )

  it.effect("a clock rolled back 2 hours is clockTampered; 30 minutes is nothing", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 86400, allowedClockOffset: -1 })
      yield* sim.licensing.activate(sim.license.key)
      yield* drive(sim.licensing, Start + 5 * HOUR)
      const now = yield* Clock.currentTimeMillis
      yield* TestClock.setTime(now - 30 * 60_000)
      const small = yield* sim.licensing.check
      assert.strictEqual(small.state, "active")
      yield* TestClock.setTime(now - 2 * HOUR)
      const big = yield* sim.licensing.check
      yield* sim.licensing.flush
      // The last-seen time is a high-water mark: persisted on every evaluation, never moved back.
      const stored = yield* sim.store.load
      assert.isTrue(Option.isSome(stored))
      assert.strictEqual(Option.getOrThrow(stored).lastSeenAt, now)
      assert.strictEqual(big.state, "clockTampered")
      assert.strictEqual(big.status.name, "LA_E_TIME_MODIFIED")
      assert.isFalse(big.licensed)
      // Once the clock is right again and a sync brings the server's signed time, the licence is too. (The
      // TestClock counts a forward setTime as elapsed monotonic time, so without the sync the monotonic
      // projection would still see the two hours; a real wall-clock correction does not move the monotonic one.)
      yield* TestClock.setTime(now + 60_000)
      const back = yield* sim.licensing.sync
      assert.strictEqual(back.state, "active")
      assert.strictEqual((yield* sim.licensing.check).state, "active")
    })
  )

  it.effect("a clock that jumps forward past the expiry is noticed at once, not at the next sync", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 30 * 86400, expiresAt: iso(Start + 10 * DAY) })
      yield* sim.licensing.activate(sim.license.key)
      yield* drive(sim.licensing, Start + DAY)
      // One jump of the wall clock; every timer due by then fires in order, and the machine re-evaluates.
      yield* TestClock.setTime(Start + 12 * DAY)
      const view = yield* settled(sim.licensing)
      assert.strictEqual(view.state, "expired")
      assert.strictEqual(view.status.name, "LA_EXPIRED")
    })
  )

  it.effect("after a day asleep, a client syncs once to catch up, not once per missed interval", () =>
    Effect.gen(function* () {
      // A sleeping laptop: the wall clock jumps while monotonic timers stand still. The TestClock is the monotonic
      // time (timers sleep on it); the clock the client and the emulator read is the TestClock plus a jump offset.
      const test = (yield* Clock.Clock) as TestClock.TestClock
      let offset = 0
      const wall = () => test.currentTimeMillisUnsafe() + offset
      const jumped: TestClock.TestClock = {
        ...test,
        currentTimeMillisUnsafe: wall,
        currentTimeMillis: Effect.sync(wall),
        currentTimeNanosUnsafe: () => BigInt(wall()) * 1_000_000n,
        currentTimeNanos: Effect.sync(() => BigInt(wall()) * 1_000_000n),
        monotonicTimeNanosUnsafe: () => test.monotonicTimeNanosUnsafe(),
        monotonicTimeNanos: Effect.suspend(() => test.monotonicTimeNanos),
        sleep: (duration) => test.sleep(duration),
        adjust: (duration) => test.adjust(duration),
        setTime: (timestamp) => test.setTime(timestamp - offset),
        withLive: (effect) => test.withLive(effect)
      }
      yield* Effect.provideService(
        Effect.gen(function* () {
          const sim = yield* makeSim({ serverSyncInterval: 3600, serverSyncGracePeriod: 7 * 86400 })
          yield* sim.licensing.activate(sim.license.key)
          yield* drive(sim.licensing, Start + 2 * HOUR)
          yield* Effect.promise(() => sim.emulator.clearLog())
          offset += DAY
          assert.strictEqual(yield* Clock.currentTimeMillis, Start + 2 * HOUR + DAY)
          // Within the next (monotonic) hour the armed timer fires once; the wall clock says a day has passed.
          yield* TestClock.adjust(HOUR)
          const view = yield* settled(sim.licensing)
          assert.strictEqual(view.state, "active")
          const log = yield* Effect.promise(() => sim.emulator.log())
          assert.strictEqual(syncCount(log), 1)
          // The cadence restarts from that sync.
          assert.strictEqual(view.nextSyncAt! - log[0]!.at, HOUR)
        }),
        Clock.Clock,
        jumped
      )
    })
  )

  it.effect("a transient 503 is retried under the retry policy and the emulator sees every attempt", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 })
      yield* sim.licensing.activate(sim.license.key)
      yield* Effect.promise(() => sim.emulator.clearLog())
      yield* Effect.promise(() => sim.emulator.addFault({ kind: "status", status: 503, count: 2 }))
      const view = yield* drive(sim.licensing, Start + HOUR + 90_000, () => {}, 1000)
      assert.strictEqual(view.state, "active")
      const log = yield* Effect.promise(() => sim.emulator.log())
      assert.deepStrictEqual(
        log.map((e) => e.status),
        [503, 503, 200]
      )
      void settled
    })
  )
})
