/**
 * The clock cases of issue 10, on one TestClock (whose `setTime` moves only the wall clock, while `adjust` moves
 * the wall and the monotonic clock together, as time passing does): a wall clock set back with no command
 * running is caught at the next wake-up, and a clock that ran a year ahead and was put right is trusted again
 * after one good sync. The server is the emulator in process, on the same clock.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Fingerprint, LicenseApi, LicenseStore, Licensing, type MachineIdentity } from "@licensure/core"
import { createEmulator } from "@licensure/emulator"
import { Clock, Context, Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { TestClock } from "effect/testing"
import { report, tally } from "./Tally.ts"

const Start = Date.parse("2026-01-01T00:00:00Z")
const HOUR = 3_600_000
const DAY = 24 * HOUR

const machine: MachineIdentity = {
  fingerprint: "e".repeat(64),
  components: [{ name: "machine-id", strength: "primary", hash: "e".repeat(64) }],
  vmName: undefined,
  container: false,
  os: "linux",
  osVersion: "6.1",
  hostname: "clock",
  userHash: "f".repeat(64),
  sources: ["test"]
}

/**
 * A client and the emulator in process. The server's clock is this machine's TestClock unless `server` says what the
 * server's time is, given this machine's (a server that stays right while this machine's clock runs ahead).
 */
const setup = (server: (local: number) => number = (local) => local) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(Start)
    const clock = yield* Clock.Clock
    const emulator = createEmulator({ now: () => server(clock.currentTimeMillisUnsafe()) })
    const product = yield* Effect.promise(() => emulator.createProduct())
    const license = yield* Effect.promise(() =>
      emulator.createLicense({ productId: product.productId, serverSyncInterval: 3600 })
    )
    const api = LicenseApi.layer({ host: "http://emulator.invalid" }).pipe(
      Layer.provide(FetchHttpClient.layer),
      Layer.provide(Layer.succeed(FetchHttpClient.Fetch, emulator.fetch as typeof globalThis.fetch))
    )
    const context = yield* Layer.build(
      Licensing.layer({ productId: product.productId, publicKeyPem: product.publicKeyPem }).pipe(
        Layer.provide(Layer.mergeAll(api, LicenseStore.layerMemory, Fingerprint.layerStatic(machine)))
      )
    )
    return { licensing: Context.get(context, Licensing), license }
  })

/** Lets in-process I/O (signing, verification) finish without moving virtual time. */
const settle = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 30)))

afterAll(() => {
  console.log(report())
})

describe("reliability: the clock", () => {
  it.effect("a wall clock set back 2 h with no command running is caught at the next wake-up", () =>
    Effect.gen(function* () {
      const { licensing, license } = yield* setup()
      yield* licensing.activate(license.key)
      yield* TestClock.adjust(10 * 60_000)
      yield* settle
      // The wall clock goes back two hours; the monotonic clock does not.
      yield* TestClock.setTime(Start + 10 * 60_000 - 2 * HOUR)
      // Let the machine's own timers run (the hourly wake-up), with no command.
      for (let i = 0; i < 4; i++) {
        yield* TestClock.adjust(HOUR)
        yield* settle
      }
      const view = yield* licensing.current
      const counts = tally("clock")
      counts.tried++
      if (view.licensed) counts.wronglyAccepted++
      assert.strictEqual(view.state, "clockTampered")
      assert.strictEqual(view.status.name, "LA_E_TIME_MODIFIED")
      assert.isFalse(view.licensed)
    })
  )

  it.effect(
    "a clock that ran a year ahead and was put right is trusted again after one good sync",
    () =>
      Effect.gen(function* () {
        // The server's clock stays right while this machine's runs a year ahead: it never gets past the hour this
        // machine's clock is put right to (a server does not sign tokens in the future).
        const { licensing, license } = yield* setup((local) => Math.min(local, Start + HOUR))
        yield* licensing.activate(license.key)
        // Moving the wall clock a year runs the year's hourly wake-ups and syncs (about 15 s of real time).
        yield* TestClock.setTime(Start + 365 * DAY)
        yield* licensing.check
        yield* TestClock.setTime(Start + HOUR)
        const rolled = yield* licensing.check
        tally("clock").tried++
        if (rolled.licensed) tally("clock").wronglyAccepted++
        assert.strictEqual(
          rolled.state,
          "clockTampered",
          "a year-ahead mark makes the corrected clock look rolled back"
        )
        const synced = yield* licensing.sync
        assert.strictEqual(synced.state, "active", JSON.stringify(synced.lastError))
        assert.strictEqual(synced.status.name, "LA_OK")
        const later = yield* licensing.check
        assert.strictEqual(later.state, "active")
      }),
    // A year of hourly syncs runs in real time (about 20 s alone; more on a loaded machine).
    { timeout: 180_000 }
  )

  it.effect("a clock set back three days is refused at once, by the signed iat or the high-water mark", () =>
    Effect.gen(function* () {
      const { licensing, license } = yield* setup()
      yield* licensing.activate(license.key)
      yield* TestClock.adjust(2 * HOUR)
      yield* settle
      yield* TestClock.setTime(Start - 3 * DAY)
      const view = yield* licensing.check
      tally("clock").tried++
      if (view.licensed) tally("clock").wronglyAccepted++
      assert.isFalse(view.licensed)
      // The token was issued "in the future" (LA_E_TIME) and the clock is behind the last time seen
      // (LA_E_TIME_MODIFIED); LexActivator checks the first one first.
      assert.strictEqual(view.status.name, "LA_E_TIME")
    })
  )
})
