/**
 * The defects issue 9 measured from outside, each as a test on one TestClock: a server that never answers a sync,
 * a 429 with an absurd `Retry-After`, a licence that expires while a sync is in flight, two concurrent
 * activations with different options, and the status of a fingerprint failure. The client is the real
 * `Licensing` over `LicenseApi` and `FetchHttpClient`; the server is the emulator in process (on the same
 * TestClock), behind a `fetch` that a test can make hang or throttle per method.
 */
import { assert, describe, it } from "@effect/vitest"
import { Fingerprint, LicenseApi, LicenseStore, Licensing, type MachineIdentity } from "@licensure/core"
import { MaxRetryAfterMillis } from "@licensure/core/LicenseMachine"
import { createEmulator, type Emulator } from "@licensure/emulator"
import { Cause, Clock, Context, Effect, Exit, Fiber, Layer, Scope } from "effect"
import { TestClock } from "effect/testing"
import { FetchHttpClient } from "effect/http"

const Start = Date.parse("2026-01-01T00:00:00Z")
const HOUR = 3_600_000

const machine: MachineIdentity = {
  fingerprint: "c".repeat(64),
  components: [{ name: "machine-id", strength: "primary", hash: "c".repeat(64) }],
  vmName: undefined,
  container: false,
  os: "linux",
  osVersion: "6.1",
  hostname: "in-flight",
  userHash: "d".repeat(64),
  sources: ["test"]
}

type Mode = "pass" | "hang" | "throttle"

/**
 * The emulator's fetch, except that PATCH (sync) requests hang until aborted, or get a 429, as `mode` says. `held`
 * counts the hung requests still open, `aborted` those the client gave up (its signal fired): what a server sees
 * as connections closed.
 */
const gate = (emulator: Emulator) => {
  const state = {
    mode: "pass" as Mode,
    patches: 0,
    held: 0,
    aborted: 0,
    bodies: [] as Array<any>,
    /** Called on every sync request that reaches the gate. */
    watchers: new Set<() => void>()
  }
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const method = init?.method ?? (input instanceof Request ? input.method : "GET")
    const text = await new Request(input, init).text()
    if (text !== "") state.bodies.push(JSON.parse(text))
    if (method === "PATCH") {
      state.patches++
      for (const watch of [...state.watchers]) watch()
      if (state.mode === "hang") {
        state.held++
        return new Promise((_, reject) => {
          const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined)
          signal?.addEventListener("abort", () => {
            state.held--
            state.aborted++
            reject(new DOMException("aborted", "AbortError"))
          })
        })
      }
      if (state.mode === "throttle") {
        return Promise.resolve(
          new Response(JSON.stringify({ message: "slow down" }), {
            status: 429,
            headers: { "content-type": "application/json", "retry-after": "99999999999" }
          })
        )
      }
    }
    return emulator.fetch(input, init)
  }
  return { state, fetch }
}

/** The emulator on the TestClock, a product, a licence and a client over the gate; `scope` owns the client. */
const setup = (
  licenseOptions: Parameters<Emulator["createLicense"]>[0] extends infer O ? Partial<O> : never,
  scope?: Scope.Scope
) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(Start)
    const clock = yield* Clock.Clock
    const emulator = createEmulator({ now: () => clock.currentTimeMillisUnsafe() })
    const product = yield* Effect.promise(() => emulator.createProduct())
    const license = yield* Effect.promise(() =>
      emulator.createLicense({ productId: product.productId, ...licenseOptions })
    )
    const { state, fetch } = gate(emulator)
    const api = LicenseApi.layer({ host: "http://emulator.invalid" }).pipe(
      Layer.provide(FetchHttpClient.layer),
      Layer.provide(Layer.succeed(FetchHttpClient.Fetch, fetch as typeof globalThis.fetch))
    )
    const layer = Licensing.layer({ productId: product.productId, publicKeyPem: product.publicKeyPem }).pipe(
      Layer.provide(Layer.mergeAll(api, LicenseStore.layerMemory, Fingerprint.layerStatic(machine)))
    )
    const context = yield* scope === undefined ? Layer.build(layer) : Layer.buildWithScope(layer, scope)
    return { licensing: Context.get(context, Licensing), emulator, license, gate: state }
  })

/** Lets in-process I/O (signing, verification) finish without moving virtual time. */
const settle = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))

/**
 * Waits (real time, 10 s at most) until the gate has seen `atLeast` sync requests, then settles: a sync forked
 * under load may take longer than one settle to reach the gate, and the test's virtual time must not move before.
 * The gate calls back on each request; the client's own waits (`quiet`, `asleep`, `idle`) cannot say this, since a
 * request in flight is work in real time, neither idle nor asleep on the clock.
 */
const untilPatched = (g: ReturnType<typeof gate>["state"], atLeast = 1) =>
  Effect.promise(
    () =>
      new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(timer)
          g.watchers.delete(look)
          resolve()
        }
        const look = () => {
          if (g.patches >= atLeast) finish()
        }
        const timer = setTimeout(finish, 10_000)
        g.watchers.add(look)
        look()
      })
  ).pipe(Effect.andThen(settle))

/**
 * `fiber`'s exit, or `undefined` when it has not ended within `millis` of real time: virtual time does not move
 * while a TestClock test waits, so a bound on a close or a command that should end at once is a real one.
 */
const endsWithin = <A, E>(fiber: Fiber.Fiber<A, E>, millis: number) =>
  Effect.raceFirst(
    Fiber.await(fiber),
    Effect.promise(() => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), millis)))
  )

/** Moves virtual time in small steps, letting the work each step wakes run. */
const advance = (millis: number, step = 5_000) =>
  Effect.gen(function* () {
    for (let moved = 0; moved < millis; moved += step) {
      yield* TestClock.adjust(Math.min(step, millis - moved))
      yield* settle
    }
  })

describe("while a sync is in flight", () => {
  it.effect("status, view and check answer at once from the facts; deactivate cancels the sync", () =>
    Effect.gen(function* () {
      const { licensing, gate: g, emulator, license } = yield* setup({ serverSyncInterval: 3600 })
      yield* licensing.activate(license.key)
      g.mode = "hang"
      const syncing = yield* Effect.forkChild(licensing.sync)
      yield* untilPatched(g)
      assert.strictEqual(g.patches, 1)
      const during = yield* licensing.current
      assert.strictEqual(during.state, "renewDue")
      assert.isTrue(during.licensed)
      // check() answers without moving the clock or waiting for the sync.
      const checked = yield* licensing.check
      assert.strictEqual(checked.status.name, "LA_OK")
      assert.isTrue(checked.licensed)
      const done = yield* licensing.deactivate
      assert.strictEqual(done.state, "unactivated")
      const seats = (yield* Effect.promise(() => emulator.getLicense(license.id))).activations
      assert.strictEqual(seats.length, 0)
      const ended = yield* Fiber.await(syncing)
      assert.strictEqual(ended._tag, "Success", "the sync command ends when the deactivation takes over")
    })
  )

  it.effect("a server that never answers costs one bounded operation (2 min), then the machine goes on", () =>
    Effect.gen(function* () {
      const { licensing, gate: g, license } = yield* setup({ serverSyncInterval: 3600 })
      yield* licensing.activate(license.key)
      g.mode = "hang"
      const syncing = yield* Effect.forkChild(Effect.flip(licensing.sync))
      yield* untilPatched(g)
      yield* advance(125_000)
      const error = yield* Fiber.join(syncing)
      assert.strictEqual(error.kind, "NetworkFailure")
      const view = yield* licensing.current
      assert.isTrue(view.settled, `settled after the bound, got ${view.state}`)
      assert.isTrue(view.licensed, "a failed sync within grace keeps the licence")
      assert.isAtMost(g.patches, 5)
    })
  )

  it.effect("a licence that expires during the sync is reported expired at its expiry, not when the sync ends", () =>
    Effect.gen(function* () {
      const expiresAt = Start + 30_000
      const { licensing, gate: g, license } = yield* setup({ serverSyncInterval: 3600, expiresAt })
      yield* licensing.activate(license.key)
      g.mode = "hang"
      const syncing = yield* Effect.forkChild(Effect.ignore(licensing.sync))
      yield* untilPatched(g)
      assert.isTrue((yield* licensing.current).licensed)
      yield* advance(32_000, 1_000)
      const view = yield* licensing.current
      assert.strictEqual(view.state, "renewDue", "the sync is still in flight")
      assert.isFalse(view.licensed)
      assert.strictEqual(view.status.name, "LA_EXPIRED")
      yield* advance(125_000)
      yield* Fiber.join(syncing)
      assert.strictEqual((yield* licensing.current).state, "expired")
    })
  )

  it.effect(
    "a licence in grace whose grace ends during the sync is reported graceOver at the end, not when the sync ends",
    () =>
      Effect.gen(function* () {
        // ssgpeat = iat + the grace period (emulator `Tokens.ts`): the grace ends 3 min after the activation, inside
        // the 2 min bound of a sync started after a first one failed.
        const { licensing, gate: g, license } = yield* setup({ serverSyncInterval: 3600, serverSyncGracePeriod: 180 })
        yield* licensing.activate(license.key)
        g.mode = "hang"
        const first = yield* Effect.forkChild(Effect.flip(licensing.sync))
        yield* untilPatched(g)
        yield* advance(125_000)
        assert.strictEqual((yield* Fiber.join(first)).kind, "NetworkFailure")
        const inGrace = yield* licensing.current
        assert.strictEqual(inGrace.state, "grace", "a failed sync leaves the licence in its grace period")
        assert.isTrue(inGrace.licensed)
        const graceEnd = inGrace.license!.graceExpiresAt!
        assert.strictEqual(graceEnd, Start + 180_000)

        const patches = g.patches
        const syncing = yield* Effect.forkChild(Effect.ignore(licensing.sync))
        yield* untilPatched(g, patches + 1)
        const before = graceEnd - 1_000 - (yield* Clock.currentTimeMillis)
        yield* advance(before, 1_000)
        const last = yield* licensing.current
        assert.strictEqual(last.state, "renewDue", "the sync is in flight")
        assert.isTrue(last.licensed, `licensed a second before the grace ends, got ${last.status.name}`)
        yield* advance(2_000, 1_000)
        const over = yield* licensing.current
        assert.strictEqual(over.state, "renewDue", "the sync is still in flight")
        assert.strictEqual(g.held, 1, "the sync is still held at the server")
        assert.isFalse(over.licensed, "unlicensed from the end of the grace period, while the sync runs")
        assert.strictEqual(over.status.name, "LA_GRACE_PERIOD_OVER")
        yield* advance(125_000)
        yield* Fiber.join(syncing)
        assert.strictEqual((yield* licensing.current).state, "graceOver")
      })
  )
})

describe("closing while a sync is in flight", () => {
  it.effect("closing the client's scope ends at once, aborts the held request and ends the waiting sync", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const { licensing, gate: g, license } = yield* setup({ serverSyncInterval: 3600 }, scope)
      yield* licensing.activate(license.key)
      g.mode = "hang"
      const syncing = yield* Effect.forkChild(licensing.sync)
      yield* untilPatched(g)
      assert.strictEqual(g.held, 1, "the sync is held at the server")
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      const closed = yield* endsWithin(closing, 2_000)
      assert.isDefined(closed, "the scope closed without waiting for the held sync")
      assert.strictEqual(closed!._tag, "Success")
      assert.strictEqual(g.aborted, 1, "the held request was aborted: the server sees the connection closed")
      assert.strictEqual(g.held, 0, "no request is left open")
      const ended = yield* endsWithin(syncing, 2_000)
      assert.isDefined(ended, "the sync command waiting on the closed client ended")
      assert.isTrue(Exit.isFailure(ended!) && Cause.hasInterruptsOnly(ended!.cause), "it was interrupted")
    })
  )
})

describe("Retry-After", () => {
  it.effect("Retry-After: 99999999999 holds the next sync back a day at most, and status answers", () =>
    Effect.gen(function* () {
      const { licensing, gate: g, license } = yield* setup({ serverSyncInterval: 3600, serverSyncGracePeriod: 0 })
      yield* licensing.activate(license.key)
      g.mode = "throttle"
      const syncing = yield* Effect.forkChild(Effect.flip(licensing.sync))
      yield* untilPatched(g)
      yield* advance(125_000)
      const error = yield* Fiber.join(syncing)
      assert.strictEqual(error.kind, "RateLimited")
      const now = yield* Clock.currentTimeMillis
      const view = yield* licensing.current
      assert.isDefined(view.nextSyncAt)
      assert.isAtMost(view.nextSyncAt! - now, MaxRetryAfterMillis)
      assert.isAtLeast(view.nextSyncAt! - now, HOUR - 130_000)
      assert.isTrue(view.licensed)
    })
  )

  it.effect("and never past the next deadline that matters (the end of the grace period)", () =>
    Effect.gen(function* () {
      const {
        licensing,
        gate: g,
        license
      } = yield* setup({
        serverSyncInterval: 3600,
        serverSyncGracePeriod: 3 * 3600
      })
      yield* licensing.activate(license.key)
      g.mode = "throttle"
      yield* Effect.flip(licensing.sync).pipe(Effect.forkChild)
      yield* untilPatched(g)
      yield* advance(125_000)
      const view = yield* licensing.current
      const graceEnd = view.license!.graceExpiresAt!
      assert.isDefined(view.nextSyncAt)
      assert.isAtMost(view.nextSyncAt!, graceEnd + 1000)
    })
  )
})

describe("activation options", () => {
  it.effect("two concurrent activations each send their own options: A's metadata is not lost", () =>
    Effect.gen(function* () {
      const { licensing, gate: g, license } = yield* setup({ allowedActivations: 1 })
      const a = yield* Effect.forkChild(licensing.activate(license.key, { metadata: [{ key: "seat", value: "A" }] }))
      const b = yield* Effect.forkChild(licensing.activate(license.key))
      yield* settle
      yield* Fiber.join(a)
      yield* Fiber.join(b)
      const activations = g.bodies.filter((body) => "key" in body)
      assert.strictEqual(activations.length, 2)
      assert.deepStrictEqual(activations[0].metadata, [{ key: "seat", value: "A" }])
      assert.isUndefined(activations[1].metadata)
    })
  )
})
