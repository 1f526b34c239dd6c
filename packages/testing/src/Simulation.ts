/**
 * Simulation: one licensing client and one in-process emulator on the same `TestClock`, for tests, the demo and
 * users who want to see years of their licence policy in seconds.
 *
 * The emulator's `now` reads the test's Effect `Clock`, and the client's HTTP goes through Effect's
 * `FetchHttpClient`: by default with the emulator's in-process `fetch`, or, with `transport: "loopback"`, over a
 * real HTTP server on 127.0.0.1 (the demo's choice). Either way a counter knows when a request is in flight.
 * {@link drive} moves virtual time from deadline to deadline, waiting (in real time) for the machine to settle
 * after each step, because a woken timer may start I/O that TestClock cannot see.
 */
import {
  Fingerprint,
  LicenseApi,
  LicenseStore,
  Licensing,
  type LicensingConfig,
  type LicenseView,
  type MachineIdentity
} from "@licensure/core"
import { createEmulator, type Emulator, startEmulator } from "@licensure/emulator"
import type { LicenseOptions } from "@licensure/emulator/AdminApi"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import { TestClock } from "effect/testing"
import { NodeHttp } from "@licensure/node-runtime"

export const Start = Date.parse("2026-01-01T00:00:00Z")
export const HOUR = 3_600_000
export const DAY = 24 * HOUR

export const identity = (fingerprint = "a".repeat(64), hostname = "sim-host"): MachineIdentity => ({
  fingerprint,
  components: [
    { name: "machine-id", strength: "primary", hash: fingerprint },
    { name: "hostname", strength: "weak", hash: `h-${hostname}` }
  ],
  vmName: undefined,
  container: false,
  os: "linux",
  osVersion: "6.1",
  hostname,
  userHash: "b".repeat(64),
  sources: ["test"]
})

export interface Sim {
  readonly emulator: Emulator
  readonly licensing: Licensing["Service"]
  readonly productId: string
  readonly publicKeyPem: string
  readonly license: { readonly id: string; readonly key: string }
  readonly store: LicenseStore["Service"]
}

/** API calls in flight (request, body, decoding): while any is, the machine waits on real I/O. */
let inflight = 0
/**
 * Whether the last API call failed. Only a failed call is followed by a retry sleep on the TestClock; after a
 * successful one the client verifies the token in real time (WebCrypto), and virtual time must not be nudged.
 */
let lastCallFailed = false
const idleWaiters = new Set<() => void>()
const inflightStart = Effect.sync(() => {
  inflight++
})
const inflightEnd = (failed: boolean) =>
  Effect.sync(() => {
    inflight--
    lastCallFailed = failed
    if (inflight === 0) for (const wake of idleWaiters) wake()
  })

/**
 * Counts a whole API call (request, body read, decoding) as in flight, not only the fetch: a body is read after
 * the fetch resolves, and the TestClock must not be nudged while it is (the call's timeout runs on it).
 */
const trackCalls = <R>(layer: Layer.Layer<LicenseApi, never, R>): Layer.Layer<LicenseApi, never, R> =>
  Layer.effect(
    LicenseApi,
    Effect.gen(function* () {
      const api = yield* LicenseApi
      const track = <A, E>(call: Effect.Effect<A, E>) =>
        Effect.acquireUseRelease(
          inflightStart,
          () => call,
          (_, exit) => inflightEnd(Exit.isFailure(exit))
        )
      return LicenseApi.of({
        activate: (body) => track(api.activate(body)),
        sync: (id, body) => track(api.sync(id, body)),
        deactivate: (id, body) => track(api.deactivate(id, body)),
        activateTrial: (body) => track(api.activateTrial(body)),
        syncTrial: (id, body) => track(api.syncTrial(id, body))
      })
    })
  ).pipe(Layer.provide(layer))

export const emulatorLayer = (emulator: Emulator, host = "http://emulator.invalid") =>
  trackCalls(
    LicenseApi.layer({ host }).pipe(
      Layer.provide(FetchHttpClient.layer),
      Layer.provide(Layer.succeed(FetchHttpClient.Fetch, emulator.fetch as typeof globalThis.fetch))
    )
  )

/**
 * The client's HTTP over the real network to a served emulator (`startEmulator`): the Node HTTP layer an
 * application gets from `NodeLicensing`, never a proxy (the emulator is on loopback).
 */
export const loopbackLayer = (emulator: Emulator) =>
  trackCalls(LicenseApi.layer({ host: emulator.url }).pipe(Layer.provide(NodeHttp.layer({ proxy: "none" }))))

export interface SimOptions {
  /** Epoch ms the TestClock is set to before anything else (default {@link Start}). */
  readonly start?: number
  /**
   * `"in-process"` (default): the emulator's `fetch`, no socket. `"loopback"`: the emulator serves HTTP on
   * 127.0.0.1 at a free port, the client reaches it with `globalThis.fetch`, and the server closes with the scope.
   */
  readonly transport?: "in-process" | "loopback"
  /** The client's store (default the in-memory one), e.g. one that counts or fails its writes. */
  readonly store?: Layer.Layer<LicenseStore>
}

/** Sets the TestClock to the start ({@link Start}), makes an emulator on it, a product, a licence, and a client. */
export const makeSim = (
  licenseOptions: Omit<LicenseOptions, "productId"> = {},
  config: Partial<LicensingConfig> = {},
  machine: MachineIdentity = identity(),
  options: SimOptions = {}
): Effect.Effect<Sim, never, Scope.Scope> =>
  Effect.gen(function* () {
    yield* TestClock.setTime(options.start ?? Start)
    const clock = yield* Clock.Clock
    const now = () => clock.currentTimeMillisUnsafe()
    const loopback = options.transport === "loopback"
    const emulator = loopback
      ? yield* Effect.acquireRelease(
          Effect.promise(() => startEmulator({ now })),
          (served) => Effect.promise(() => served.close())
        )
      : createEmulator({ now })
    const product = yield* Effect.promise(() => emulator.createProduct())
    const license = yield* Effect.promise(() =>
      emulator.createLicense({ productId: product.productId, ...licenseOptions })
    )
    const api = loopback ? loopbackLayer(emulator) : emulatorLayer(emulator)
    const platform = Layer.mergeAll(api, options.store ?? LicenseStore.layerMemory, Fingerprint.layerStatic(machine))
    // A wrong option here is a mistake in the simulation itself: it stops the run with the configuration error.
    const context = yield* Layer.build(
      Licensing.layer({ productId: product.productId, publicKeyPem: product.publicKeyPem, ...config }).pipe(
        Layer.provideMerge(platform)
      )
    ).pipe(Effect.orDie)
    const licensing = Context.get(context, Licensing)
    const store = Context.get(context, LicenseStore)
    return { emulator, licensing, productId: product.productId, publicKeyPem: product.publicKeyPem, license, store }
  })

/** Resolves with the view once the machine is settled, or undefined after `turns` idle event-loop turns. */
const settledWithin = (licensing: Licensing["Service"], realMillis: number) =>
  Effect.callback<LicenseView | undefined>((resume) => {
    const view = () => Effect.runSync(licensing.current)
    const first = view()
    if (first.settled) {
      resume(Effect.succeed(first))
      return
    }
    const sub = licensing.actor.subscribe(() => {
      const v = view()
      if (v.settled) {
        cleanup()
        resume(Effect.succeed(v))
      }
    })
    // Real time here waits for in-process I/O (signing, fetch, verification), never for licence timing. With a
    // request in flight, wait for it. After a failed call the machine is most likely asleep in a retry on the
    // TestClock: a couple of event-loop turns, then report "not settled" so the caller nudges virtual time. After
    // a successful call (or none yet) it is working in real time: wait for the change, nudging only if nothing
    // happens for a while (a safety valve, not the normal path).
    let turns = 0
    let immediate: ReturnType<typeof globalThis.setImmediate> | undefined
    let timer: ReturnType<typeof globalThis.setTimeout> | undefined
    const giveUp = () => {
      cleanup()
      resume(Effect.succeed(undefined))
    }
    const tick = () => {
      if (inflight > 0) {
        turns = 0
        idleWaiters.add(tick)
        return
      }
      idleWaiters.delete(tick)
      turns++
      if (lastCallFailed ? turns > realMillis : turns > 2_000) return giveUp()
      if (turns < 200) immediate = globalThis.setImmediate(tick)
      else timer = globalThis.setTimeout(tick, 1)
    }
    tick()
    const cleanup = () => {
      sub.unsubscribe()
      idleWaiters.delete(tick)
      if (immediate !== undefined) globalThis.clearImmediate(immediate)
      if (timer !== undefined) globalThis.clearTimeout(timer)
    }
    return Effect.sync(cleanup)
  })

/**
 * Waits until the machine is settled. While it is not, it is either doing I/O (which finishes in real time) or
 * sleeping on the TestClock inside a retry; in the second case virtual time is nudged forward in growing steps.
 */
export const settled = (licensing: Licensing["Service"]): Effect.Effect<LicenseView> =>
  Effect.gen(function* () {
    let step = 100
    while (true) {
      const view = yield* settledWithin(licensing, 3)
      if (view !== undefined) return view
      yield* TestClock.adjust(step)
      step = Math.min(step * 2, 5_000)
    }
  })

/**
 * Moves virtual time to `until` (epoch ms), stepping to each deadline the machine reports (never more than
 * `maxStep`), settling after every step. `onStep` sees every settled view, for timelines and invariants.
 */
export const drive = (
  licensing: Licensing["Service"],
  until: number,
  onStep: (view: LicenseView, now: number) => void = () => {},
  maxStep = HOUR
): Effect.Effect<LicenseView> =>
  Effect.gen(function* () {
    let view = yield* settled(licensing)
    let now = yield* Clock.currentTimeMillis
    onStep(view, now)
    while (now < until) {
      const deadline = view.nextDeadline
      const target = Math.min(until, deadline !== undefined && deadline > now ? deadline : now + maxStep, now + maxStep)
      yield* TestClock.adjust(Math.max(1, target - now))
      view = yield* settled(licensing)
      now = yield* Clock.currentTimeMillis
      onStep(view, now)
    }
    return view
  })
