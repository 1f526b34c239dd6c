/**
 * Retry jitter: clients that lost the server at the same instant come back apart. Two clients on one emulator and
 * one TestClock, activated in the same instant, each with its own seeded `Random`; the emulator drops every request
 * for three hours. With the default jitter their syncs after the outage fall at different instants; with
 * `retryJitter: 0` they stay in lockstep; a `Retry-After` is never undercut. In-operation retries are off
 * (`retries: 0`) so that the machine's spread is the only randomness in play.
 */
import { assert, describe, it } from "@effect/vitest"
import { Fingerprint, LicenseStore, Licensing, type LicensingConfig } from "@licensure/core"
import { createEmulator, type Emulator } from "@licensure/emulator"
import { emulatorLayer, HOUR, identity, Start, settled } from "@licensure/testing"
import { Clock, Context, Effect, Layer, Random } from "effect"
import { TestClock } from "effect/testing"

const Interval = 3600

interface Client {
  readonly licensing: Licensing["Service"]
  readonly activationId: string
}

/** A client of `emulator` with its own identity and its own seeded Random, activated now. */
const client = (
  emulator: Emulator,
  product: { productId: string; publicKeyPem: string },
  i: number,
  seed: string,
  config: Partial<LicensingConfig>
) =>
  Effect.gen(function* () {
    const license = yield* Effect.promise(() =>
      emulator.createLicense({ productId: product.productId, serverSyncInterval: Interval })
    )
    const machine = identity(i.toString(16).padStart(2, "0").repeat(32), `jitter-host-${i}`)
    const context = yield* Layer.build(
      Licensing.layer({ ...product, retry: { retries: 0 }, ...config }).pipe(
        Layer.provideMerge(
          Layer.mergeAll(emulatorLayer(emulator), LicenseStore.layerMemory, Fingerprint.layerStatic(machine))
        )
      )
    ).pipe(Random.withSeed(seed))
    const licensing = Context.get(context, Licensing)
    const view = yield* licensing.activate(license.key)
    return { licensing, activationId: view.license!.activationId } satisfies Client
  })

/**
 * Two clients activated together, an outage of `outageHours` starting just after, then time moved hour by hour to
 * `hours`. Returns the instants of each client's successful syncs after the outage.
 */
const outage = (seeds: readonly [string, string], config: Partial<LicensingConfig>, hours = 8, outageHours = 3) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(Start)
    const clock = yield* Clock.Clock
    const emulator = createEmulator({ now: () => clock.currentTimeMillisUnsafe() })
    const product = yield* Effect.promise(() => emulator.createProduct())
    const clients = [
      yield* client(emulator, product, 1, seeds[0], config),
      yield* client(emulator, product, 2, seeds[1], config)
    ]
    const outageEnd = Start + outageHours * HOUR
    yield* Effect.promise(() => emulator.addFault({ kind: "drop", from: Start + 1, until: outageEnd }))
    for (let h = 1; h <= hours; h++) {
      yield* TestClock.adjust(HOUR)
      for (const c of clients) yield* settled(c.licensing)
    }
    const log = yield* Effect.promise(() => emulator.log())
    return clients.map((c) =>
      log
        .filter((e) => e.method === "PATCH" && e.path.endsWith(c.activationId) && e.status === 200)
        .map((e) => e.at)
        .filter((at) => at >= outageEnd)
    )
  }).pipe(Effect.scoped)

describe("retry jitter after an outage", () => {
  it.effect("two clients with different seeds sync at different instants after the outage", () =>
    Effect.gen(function* () {
      const [a, b] = yield* outage(["client-a", "client-b"], {})
      assert.isAbove(a!.length, 0, "client a synced after the outage")
      assert.isAbove(b!.length, 0, "client b synced after the outage")
      // Spread, not merely shifted by the same amount: no sync of one coincides with a sync of the other.
      for (const at of a!) assert.notInclude(b!, at, `both synced at ${new Date(at).toISOString()}`)
      // Each retry came within [cadence/2, cadence] of the last attempt: the first good sync is at most an interval
      // after the outage ended, so nobody waited longer than LexActivator would.
      for (const first of [a![0]!, b![0]!]) assert.isAtMost(first - (Start + 3 * HOUR), Interval * 1000)
    })
  )

  it.effect("with retryJitter 0, two clients with different seeds stay in lockstep", () =>
    Effect.gen(function* () {
      const [a, b] = yield* outage(["client-a", "client-b"], { retryJitter: 0 })
      assert.isAbove(a!.length, 0)
      assert.deepStrictEqual(a, b)
      // Without jitter the retries stay on the hour after activation: the first good sync is on an hour mark.
      assert.strictEqual((a![0]! - Start) % HOUR, 0)
    })
  )

  it.effect(
    "a Retry-After is never undercut: within the interval it raises the floor, beyond it jitter only adds",
    () =>
      Effect.gen(function* () {
        for (const [retryAfter, seed] of [
          [3000, "a"],
          [3000, "b"],
          [3599, "c"],
          [7200, "d"],
          [7200, "e"]
        ] as const) {
          yield* TestClock.setTime(Start)
          const clock = yield* Clock.Clock
          const emulator = createEmulator({ now: () => clock.currentTimeMillisUnsafe() })
          const product = yield* Effect.promise(() => emulator.createProduct())
          const c = yield* client(emulator, product, 1, seed, { retryJitter: 1 })
          yield* Effect.promise(() => emulator.addFault({ kind: "status", status: 429, retryAfter, count: 1 }))
          yield* TestClock.adjust(HOUR)
          const view = yield* settled(c.licensing)
          assert.strictEqual(view.lastError?.kind, "RateLimited", `${retryAfter}s: the sync was refused with 429`)
          const failedAt = Start + HOUR
          const wait = view.nextSyncAt! - failedAt
          assert.isAtLeast(wait, retryAfter * 1000, `Retry-After ${retryAfter}s, seed ${seed}: waited ${wait} ms`)
          // Full jitter (1) over the interval: within it the spread stays below the interval; beyond it, at most an
          // interval is added to the wait the server asked for.
          assert.isAtMost(wait, Math.max(Interval, retryAfter + Interval) * 1000)
          if (retryAfter <= Interval) assert.isAtMost(wait, Interval * 1000)
          // The next attempt happens when it said, not before: nothing reaches the server in the wait.
          yield* TestClock.adjust(wait - 1)
          yield* settled(c.licensing)
          const before = (yield* Effect.promise(() => emulator.log())).filter((e) => e.method === "PATCH").length
          assert.strictEqual(before, 1, "one sync (the refused one) before the wait is over")
          yield* TestClock.adjust(1)
          const after = yield* settled(c.licensing)
          assert.strictEqual(after.lastError, undefined, "the sync at the end of the wait succeeded")
          assert.strictEqual(after.state, "active")
        }
      }).pipe(Effect.scoped)
  )
})
