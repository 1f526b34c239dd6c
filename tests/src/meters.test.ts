/**
 * `incrementMeter` (activation meter attributes sent with a sync, LexActivator's default meter mode) at its edges:
 * with no activation it fails with `NotActivated` at once; a refusal of the increment
 * (`METER_ATTRIBUTE_USES_LIMIT_REACHED`) fails the command with status 73 while the licence syncs on as before
 * (the refused uses are not sent again, no sync is held back, the grace period never runs out over it); an
 * increment asked for while a sync is in flight is answered only once a sync carried it; and an increment is
 * counted once when an answer is lost: whether the server counted it is read from the next token's uses, in the
 * same sync or, if the server went away, the next one.
 *
 * The client talks to the in-process emulator on one `TestClock`; the later tests put a wire of their own in
 * front of the emulator's `fetch` (holding a sync, losing an answer after the server served it, dropping a
 * request before it).
 */
import { assert, describe, it } from "@effect/vitest"
import { DAY, drive, during, identity, makeSim, Start, type Wire } from "@licensure/testing"
import { Clock, Effect, Fiber } from "effect"

const licence = {
  serverSyncInterval: 3600,
  serverSyncGracePeriod: DAY,
  meterAttributes: [{ name: "exports", allowedUses: 10 }]
}

/** A simulation whose licence calls go through `wire`, with the server's total uses of the meter. */
const clientOver = (wire: Wire) =>
  Effect.gen(function* () {
    const sim = yield* makeSim(licence, {}, identity(), { wire })
    const totalUses = Effect.promise(() => sim.emulator.getLicense(sim.license.id)).pipe(
      Effect.map((l) => l.meterAttributes[0]?.totalUses)
    )
    return { ...sim, totalUses }
  })

/** Whether a request carries meter increments (a sync body with `meterAttributes`). */
const carriesMeters = async (request: Request) => {
  if (request.method !== "PATCH") return false
  const body = (await request.clone().json()) as { readonly meterAttributes?: ReadonlyArray<unknown> | null }
  return (body.meterAttributes?.length ?? 0) > 0
}

/** Lets forked work run (no virtual time passes) until `done` says so, at most 2000 turns; whether it did. */
const until = (done: () => boolean) =>
  Effect.gen(function* () {
    for (let turn = 0; turn < 2000 && !done(); turn++) yield* Effect.yieldNow
    return done()
  })

describe("incrementMeter", () => {
  it.effect("with no activation, fails with NotActivated at once and sends nothing", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim(licence)
      yield* sim.licensing.idle
      const error = yield* Effect.flip(sim.licensing.incrementMeter("exports", 1))
      assert.strictEqual(error.reason._tag, "NotActivated")
      assert.strictEqual(error.operation, "sync")
      assert.deepStrictEqual(yield* Effect.promise(() => sim.emulator.log()), [])
    })
  )

  it.effect(
    "an amount that is not a whole number of uses, or a meter the licence lacks, is refused before sending",
    () =>
      Effect.gen(function* () {
        const sim = yield* makeSim(licence)
        yield* sim.licensing.activate(sim.license.key)
        yield* Effect.promise(() => sim.emulator.clearLog())
        for (const amount of [1.5, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
          const error = yield* Effect.flip(sim.licensing.incrementMeter("exports", amount))
          assert.strictEqual(error.reason._tag, "InvalidMeterAmount", String(amount))
          assert.include(error.message, `expected a whole number of uses, 0 or more, got ${amount}`)
        }
        const unknown = yield* Effect.flip(sim.licensing.incrementMeter("nosuch", 1))
        assert.strictEqual(unknown.reason._tag, "MeterAttributeNotFound")
        assert.deepStrictEqual(unknown.status, { name: "LA_E_METER_ATTRIBUTE_NOT_FOUND", code: 72 })
        assert.include(unknown.message, `expected one of the licence's meter attributes (exports), got "nosuch"`)
        assert.deepStrictEqual(yield* Effect.promise(() => sim.emulator.log()), [], "a refused increment was sent")
        // Nothing of them is pending: the next increment counts exactly its own uses, in one sync.
        const after = yield* sim.licensing.incrementMeter("exports", 1)
        assert.deepStrictEqual(after.license?.activationMeterAttributes, [{ name: "exports", uses: 1 }])
        const log = yield* Effect.promise(() => sim.emulator.log())
        assert.deepStrictEqual(
          log.map((e) => [e.method, e.status]),
          [["PATCH", 200]]
        )
      })
  )

  it.effect("a refused increment fails with status 73; the licence syncs on, and the uses are not sent again", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim(licence)
      yield* sim.licensing.activate(sim.license.key)
      yield* Effect.promise(() => sim.emulator.clearLog())

      const error = yield* Effect.flip(sim.licensing.incrementMeter("exports", 50))
      assert.strictEqual(error.reason._tag, "ServerRefused")
      if (error.reason._tag === "ServerRefused")
        assert.strictEqual(error.reason.code, "METER_ATTRIBUTE_USES_LIMIT_REACHED")
      assert.deepStrictEqual(error.status, { name: "LA_E_METER_ATTRIBUTE_USES_LIMIT_REACHED", code: 73 })
      // The refused request, then the licence's own sync without the refused uses.
      const log = yield* Effect.promise(() => sim.emulator.log())
      assert.deepStrictEqual(
        log.map((e) => [e.method, e.status]),
        [
          ["PATCH", 400],
          ["PATCH", 200]
        ]
      )
      const view = yield* sim.licensing.current
      assert.strictEqual(view.state, "active")
      assert.strictEqual(view.lastError?.code, "METER_ATTRIBUTE_USES_LIMIT_REACHED")
      assert.strictEqual(view.license?.lastSyncedAt, yield* Clock.currentTimeMillis, "the licence synced all the same")

      // Past the grace period (a day) the licence is still active: every scheduled sync went through.
      yield* Effect.promise(() => sim.emulator.clearLog())
      const later = yield* drive(sim.licensing, Start + 3 * DAY)
      assert.strictEqual(later.state, "active")
      assert.isTrue(later.licensed)
      assert.isUndefined(later.lastError, "the next good sync clears the meter's refusal")
      const syncs = yield* Effect.promise(() => sim.emulator.log())
      assert.isAtLeast(syncs.length, 48)
      assert.isTrue(
        syncs.every((e) => e.status === 200),
        "a sync was refused after the increment was dropped"
      )
      const onServer = yield* Effect.promise(() => sim.emulator.getLicense(sim.license.id))
      assert.strictEqual(onServer.meterAttributes[0]?.totalUses, 0)

      // An increment within the allowance goes through as usual.
      const after = yield* sim.licensing.incrementMeter("exports", 4)
      assert.deepStrictEqual(after.license?.activationMeterAttributes, [{ name: "exports", uses: 4 }])
    })
  )

  it.effect("asked for while a sync is in flight, it answers once a sync carried the uses", () =>
    Effect.gen(function* () {
      // The gate holds every PATCH while `holding` is set, until released.
      const gate = { holding: false, held: [] as Array<() => void> }
      const { licensing, license, totalUses } = yield* clientOver((request, serve) =>
        !gate.holding || request.method !== "PATCH"
          ? serve(request)
          : new Promise((resolve, reject) => gate.held.push(() => serve(request).then(resolve, reject)))
      )
      yield* licensing.activate(license.key)

      gate.holding = true
      const syncing = yield* Effect.forkChild(licensing.sync)
      assert.isTrue(yield* until(() => gate.held.length === 1), "the sync never reached the wire")
      gate.holding = false
      const incrementing = yield* Effect.forkChild(licensing.incrementMeter("exports", 2))
      yield* until(() => false)
      assert.isUndefined(incrementing.pollUnsafe(), "the increment answered while the sync without it was held")

      gate.held.shift()?.()
      const synced = yield* Fiber.join(syncing)
      assert.deepStrictEqual(synced.license?.activationMeterAttributes, [{ name: "exports", uses: 0 }])
      const incremented = yield* Fiber.join(incrementing)
      assert.deepStrictEqual(incremented.license?.activationMeterAttributes, [{ name: "exports", uses: 2 }])
      assert.strictEqual(yield* totalUses, 2)
    }).pipe(Effect.scoped)
  )

  it.effect("an answer lost after the server counted the uses: not sent again, counted once", () =>
    Effect.gen(function* () {
      const wire = { loseAnswers: 0, requests: [] as Array<boolean> }
      const { licensing, license, totalUses } = yield* clientOver(async (request, serve) => {
        wire.requests.push(await carriesMeters(request))
        const response = await serve(request)
        if (request.method === "PATCH" && wire.loseAnswers > 0) {
          wire.loseAnswers--
          throw new TypeError("fetch failed: the connection was reset")
        }
        return response
      })
      yield* licensing.activate(license.key)
      wire.requests.length = 0
      wire.loseAnswers = 1
      const view = (yield* during(licensing, licensing.incrementMeter("exports", 3))).view
      assert.deepStrictEqual(view.license?.activationMeterAttributes, [{ name: "exports", uses: 3 }])
      assert.strictEqual(yield* totalUses, 3, "the server counted the increment twice")
      assert.deepStrictEqual(wire.requests, [true, false], "the increment, then a sync without it that finds it")
    }).pipe(Effect.scoped)
  )

  it.effect("a request dropped before the server saw it: the sync without it finds nothing, so it goes once more", () =>
    Effect.gen(function* () {
      const wire = { drop: 0, requests: [] as Array<boolean> }
      const { licensing, license, totalUses } = yield* clientOver(async (request, serve) => {
        wire.requests.push(await carriesMeters(request))
        if (request.method === "PATCH" && wire.drop > 0) {
          wire.drop--
          throw new TypeError("fetch failed: connect ETIMEDOUT")
        }
        return serve(request)
      })
      yield* licensing.activate(license.key)
      wire.requests.length = 0
      wire.drop = 1
      const view = (yield* during(licensing, licensing.incrementMeter("exports", 3))).view
      assert.deepStrictEqual(view.license?.activationMeterAttributes, [{ name: "exports", uses: 3 }])
      assert.strictEqual(yield* totalUses, 3)
      assert.deepStrictEqual(wire.requests, [true, false, true])
    }).pipe(Effect.scoped)
  )

  it.effect("counted, then the server went away: the next sync asks first, and does not count it again", () =>
    Effect.gen(function* () {
      const wire = { down: false, loseAnswers: 0, requests: [] as Array<boolean> }
      const { licensing, license, totalUses } = yield* clientOver(async (request, serve) => {
        wire.requests.push(await carriesMeters(request))
        if (wire.down) throw new TypeError("fetch failed: connect ECONNREFUSED")
        const response = await serve(request)
        if (request.method === "PATCH" && wire.loseAnswers > 0) {
          wire.loseAnswers--
          wire.down = true
          throw new TypeError("fetch failed: the connection was reset")
        }
        return response
      })
      yield* licensing.activate(license.key)
      wire.loseAnswers = 1
      const failed = yield* during(licensing, licensing.incrementMeter("exports", 5))
      assert.isTrue(failed.exit._tag === "Failure", "the increment's sync failed with the server gone")
      assert.strictEqual(failed.view.state, "grace")
      assert.strictEqual(yield* totalUses, 5, "the first request was counted")

      wire.down = false
      wire.requests.length = 0
      const view = (yield* during(licensing, licensing.sync)).view
      assert.strictEqual(view.state, "active")
      assert.deepStrictEqual(view.license?.activationMeterAttributes, [{ name: "exports", uses: 5 }])
      assert.strictEqual(yield* totalUses, 5, "the next sync sent the increment again")
      assert.deepStrictEqual(wire.requests, [false], "one sync without increments settles the doubt")
    }).pipe(Effect.scoped)
  )
})
