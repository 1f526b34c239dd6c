/**
 * Edges of the lifecycle an audit against LexActivator found: a trial asked for on a licensed machine is refused
 * (`AlreadyLicensed`) and leaves the licence as it was (it replaced the activation, and an expired trial left a
 * paying user unlicensed); a hosted-floating lease whose renewal fails for longer than the operation's own retries
 * is renewed before it ends once the server is back (the retry came at the sync cadence, after the lease lapsed);
 * and an expired trial shows LexActivator's LA_TRIAL_EXPIRED while a sync is in flight, as it does settled.
 *
 * One client against the in-process emulator on one `TestClock` (`@licensure/testing`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Fingerprint, LicenseStore, Licensing } from "@licensure/core"
import { createEmulator } from "@licensure/emulator"
import { DAY, drive, emulatorLayer, HOUR, identity, makeSim, Start } from "@licensure/testing"
import { Clock, Context, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

describe("a trial on a licensed machine", () => {
  it.effect("is refused with AlreadyLicensed, and the licence stays active, stored and counted once", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 })
      const licensed = yield* sim.licensing.activate(sim.license.key)
      yield* promise(() => sim.emulator.clearLog())
      const error = yield* Effect.flip(sim.licensing.activateTrial)
      assert.strictEqual(error.reason._tag, "AlreadyLicensed")
      assert.strictEqual(error.operation, "activateTrial")
      assert.deepStrictEqual(error.status, { name: "LA_FAIL", code: 1 })
      const view = yield* sim.licensing.current
      assert.strictEqual(view.state, "active")
      assert.isTrue(view.licensed)
      assert.strictEqual(view.license?.activationId, licensed.license?.activationId)
      assert.strictEqual(view.license?.key, sim.license.key)
      assert.deepStrictEqual(yield* promise(() => sim.emulator.log()), [], "a trial activation reached the server")
      yield* sim.licensing.flush
      const stored = yield* sim.store.load
      assert.isTrue(stored._tag === "Some" && stored.value.kind === "activation", "the stored licence was replaced")

      // Once the licence is released, the trial starts.
      yield* sim.licensing.deactivate
      const trial = yield* sim.licensing.activateTrial
      assert.strictEqual(trial.state, "trialActive")
    })
  )

  it.effect("after this machine's trial ran out and a licence was bought, the licence survives a trial click", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({})
      const trial = yield* sim.licensing.activateTrial
      yield* promise(() => sim.emulator.updateTrialActivation(trial.license!.activationId, { expiresAt: Start + 1000 }))
      yield* TestClock.adjust(5000)
      const bought = yield* sim.licensing.activate(sim.license.key)
      assert.strictEqual(bought.state, "active")
      const error = yield* Effect.flip(sim.licensing.activateTrial)
      assert.strictEqual(error.reason._tag, "AlreadyLicensed")
      const view = yield* sim.licensing.current
      assert.strictEqual(view.state, "active")
      assert.deepStrictEqual(view.status, { name: "LA_OK", code: 0 })
    })
  )
})

describe("a hosted-floating lease whose renewal fails for a while", () => {
  it.effect("is renewed before it ends once the server is back, and the licence never lapses", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ type: "hosted-floating", leaseDuration: 1800, serverSyncInterval: 3600 })
      yield* sim.licensing.activate(sim.license.key)
      // The renewal is due a minute before the lease's end (1740 s); the server is away from 1739 s to 1790 s,
      // longer than the operation's own retries, and back 10 s before the lease ends.
      yield* promise(() => sim.emulator.addFault({ kind: "drop", from: Start + 1_739_000, until: Start + 1_790_000 }))
      const states: Array<string> = []
      const view = yield* drive(sim.licensing, Start + HOUR, (v) => {
        if (states.at(-1) !== v.state) states.push(v.state)
      })
      assert.strictEqual(view.state, "active", `the licence went ${states.join(" → ")}`)
      assert.notInclude(states, "unactivated")
      assert.isUndefined(view.clearedBecause)
      const renewed = (yield* promise(() => sim.emulator.log())).filter(
        (e) => e.method === "PATCH" && e.status === 200 && e.at > Start + 1_790_000
      )
      assert.isAtLeast(renewed.length, 1)
      assert.isBelow(renewed[0]!.at, Start + 1_800_000, "the first renewal after the blip came after the lease ended")
    })
  )
})

describe("an expired trial while a sync is in flight", () => {
  it.effect("shows LA_TRIAL_EXPIRED, as it does settled", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Start)
      const clock = yield* Clock.Clock
      const emulator = createEmulator({ now: () => clock.currentTimeMillisUnsafe() })
      const product = yield* promise(() =>
        emulator.createProduct({ trialLength: 2 * 86400, trialServerSyncInterval: 3600 })
      )
      const platform = Layer.mergeAll(
        emulatorLayer(emulator),
        LicenseStore.layerMemory,
        Fingerprint.layerStatic(identity())
      )
      const context = yield* Layer.build(
        Licensing.layer({ productId: product.productId, publicKeyPem: product.publicKeyPem }).pipe(
          Layer.provide(platform)
        )
      )
      const licensing = Context.get(context, Licensing)
      yield* licensing.activateTrial
      const settled = yield* drive(licensing, Start + 2 * DAY + 10 * 60_000)
      assert.strictEqual(settled.state, "trialExpired")
      assert.deepStrictEqual(settled.status, { name: "LA_TRIAL_EXPIRED", code: 25 })

      yield* promise(() => emulator.addFault({ kind: "drop" }))
      const syncing = yield* Effect.forkChild(licensing.sync)
      yield* licensing.asleep
      const during = yield* licensing.current
      assert.strictEqual(during.state, "renewDue")
      assert.deepStrictEqual(during.status, { name: "LA_TRIAL_EXPIRED", code: 25 })
      assert.isFalse(during.licensed)
      yield* promise(() => emulator.clearFaults())
      yield* TestClock.adjust(120_000)
      yield* Fiber.await(syncing)
    }).pipe(Effect.scoped)
  )
})

describe("feature entitlements while the clock is held for tampering", () => {
  it.effect("offer no feature (their expiry is judged by that clock), with the clock's status; back after a sync", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim(
        {
          serverSyncInterval: 0,
          featureEntitlements: [{ featureName: "pdf", featureDisplayName: "PDF", value: "1" }]
        },
        {},
        identity(),
        { entitlements: true }
      )
      yield* TestClock.setTime(Start + 5 * HOUR)
      const licensed = yield* sim.licensing.activate(sim.license.key)
      assert.deepStrictEqual(
        licensed.features.map((f) => f.name),
        ["pdf"]
      )
      // The clock set back five hours, past the rollback tolerance.
      yield* TestClock.setTime(Start)
      const held = yield* sim.licensing.check
      assert.strictEqual(held.state, "clockTampered")
      assert.isFalse(held.licensed)
      assert.deepStrictEqual(held.features, [])
      assert.deepStrictEqual(yield* sim.licensing.features, [])
      const lookup = yield* sim.licensing.feature("pdf")
      assert.strictEqual(lookup._tag, "NotFound")
      assert.deepStrictEqual(lookup.status, held.status)

      // The clock put right, and a sync brings the server's signed time: the licence and its features are back.
      yield* TestClock.setTime(Start + 5 * HOUR + 60_000)
      const back = yield* sim.licensing.sync
      assert.isTrue(back.licensed)
      assert.deepStrictEqual(
        back.features.map((f) => f.name),
        ["pdf"]
      )
      assert.strictEqual((yield* sim.licensing.feature("pdf"))._tag, "Entitled")
    })
  )
})

describe("a sync answered with an older token of this activation (a replay)", () => {
  it.effect("is refused: a suspension stands, the clock's high-water mark stays, and an honest sync goes on", () =>
    Effect.gen(function* () {
      // The wire answers a sync with the activation's first token while `replay` holds it.
      const wire = { replay: undefined as string | undefined }
      const sim = yield* makeSim({ serverSyncInterval: 3600 }, {}, identity(), {
        wire: async (request, serve) =>
          wire.replay !== undefined && request.method === "PATCH"
            ? Response.json({ activationToken: wire.replay })
            : serve(request)
      })
      yield* sim.licensing.activate(sim.license.key)
      yield* sim.licensing.flush
      const first = yield* sim.store.load
      const token0 = first._tag === "Some" ? first.value.token : assert.fail("nothing stored")

      // Two hours on, settled: the background syncs of those hours are done, none is in flight.
      yield* drive(sim.licensing, Start + 2 * HOUR)
      yield* promise(() => sim.emulator.updateLicense(sim.license.id, { suspended: true }))
      const suspended = yield* sim.licensing.sync
      assert.strictEqual(suspended.state, "suspended")
      yield* sim.licensing.flush
      const held = yield* sim.store.load
      const lastSeenAt = held._tag === "Some" ? held.value.lastSeenAt : 0

      wire.replay = token0
      const replayed = yield* Effect.flip(sim.licensing.sync)
      assert.strictEqual(replayed.reason._tag, "TokenRejected")
      if (replayed.reason._tag === "TokenRejected") assert.strictEqual(replayed.reason.tokenReason, "olderThanHeld")
      assert.include(replayed.message, "a replayed answer")
      const view = yield* sim.licensing.current
      assert.strictEqual(view.state, "suspended", "the replayed token undid the suspension")
      assert.isFalse(view.licensed)
      yield* sim.licensing.flush
      const after = yield* sim.store.load
      assert.isTrue(after._tag === "Some" && after.value.token !== token0, "the replayed token was stored")
      assert.isTrue(after._tag === "Some" && after.value.lastSeenAt >= lastSeenAt, "the clock mark went back")

      // The real server again: the next sync is taken as usual.
      wire.replay = undefined
      yield* promise(() => sim.emulator.updateLicense(sim.license.id, { suspended: false }))
      const resumed = yield* sim.licensing.sync
      assert.strictEqual(resumed.state, "active")
    })
  )
})

describe("a deactivation answered 200 (a captive portal's page, a proxy's empty answer)", () => {
  it.effect("is not a freed seat: the command fails, and the activation stays here and on the server", () =>
    Effect.gen(function* () {
      const wire = { portal: false }
      const sim = yield* makeSim({ allowedActivations: 1 }, { retry: { retries: 0 } }, identity(), {
        wire: async (request, serve) =>
          wire.portal && request.url.endsWith("/deactivate")
            ? new Response("<html>Sign in to Wi-Fi</html>", { status: 200, headers: { "content-type": "text/html" } })
            : serve(request)
      })
      const activated = yield* sim.licensing.activate(sim.license.key)
      wire.portal = true
      const error = yield* Effect.flip(sim.licensing.deactivate)
      assert.strictEqual(error.reason._tag, "MalformedResponse")
      assert.include(error.message, "expected HTTP 204, got HTTP 200: <html>Sign in to Wi-Fi</html>")
      const view = yield* sim.licensing.current
      assert.isTrue(view.licensed)
      assert.strictEqual(view.license?.activationId, activated.license?.activationId)
      yield* sim.licensing.flush
      assert.strictEqual((yield* sim.store.load)._tag, "Some", "the record was cleared")
      const onServer = yield* promise(() => sim.emulator.getLicense(sim.license.id))
      assert.strictEqual(onServer.activations.length, 1)

      // The real server frees the seat with its 204.
      wire.portal = false
      const released = yield* sim.licensing.deactivate
      assert.strictEqual(released.state, "unactivated")
    })
  )
})

describe("a hosted-floating lease that ends while its renewal hangs", () => {
  it.effect("is dropped at the lease's end, not when the renewal gives up: the hung request is abandoned", () =>
    Effect.gen(function* () {
      // From `hang` on, every PATCH is held and never answered (a server that accepts and says nothing).
      const wire = { hang: false, held: 0, aborted: 0 }
      const sim = yield* makeSim(
        { type: "hosted-floating", leaseDuration: 1800, serverSyncInterval: 3600 },
        {},
        identity(),
        {
          wire: (request, serve) => {
            if (!wire.hang || request.method !== "PATCH") return serve(request)
            wire.held++
            return new Promise((_, reject) =>
              request.signal.addEventListener("abort", () => {
                wire.aborted++
                reject(request.signal.reason)
              })
            )
          }
        }
      )
      const activated = yield* sim.licensing.activate(sim.license.key)
      const leaseEnd = activated.license!.leaseExpiresAt!
      wire.hang = true
      // The renewal goes out a minute before the end and hangs.
      yield* TestClock.adjust(1_740_000)
      yield* Effect.yieldNow
      assert.strictEqual((yield* sim.licensing.current).state, "renewDue")
      yield* TestClock.setTime(leaseEnd + 1_001)
      const view = yield* sim.licensing.idle
      assert.strictEqual(view.state, "unactivated")
      assert.strictEqual(view.clearedBecause?.kind, "LeaseLapsed")
      assert.isFalse(view.licensed)
      assert.isAtMost(yield* Clock.currentTimeMillis, leaseEnd + 1_001, "it waited for the renewal's retries")
      assert.isAtLeast(wire.held, 1)
      assert.strictEqual(wire.aborted, wire.held, "the hung renewal was left running")
    })
  )
})
