/**
 * Simulation: one licensing client and one in-process emulator on the same `TestClock`, for tests, the demo and
 * users who want to see years of their licence policy in seconds.
 *
 * The emulator's `now` reads the test's Effect `Clock`, and the client's HTTP goes through Effect's
 * `FetchHttpClient`: by default with the emulator's in-process `fetch`, or, with `transport: "loopback"`, over a
 * real HTTP server on 127.0.0.1 (the demo's choice). {@link drive} moves virtual time from deadline to deadline
 * and, after each step, waits for the client to be idle (`Licensing.quiet`), because a woken timer may start I/O
 * that TestClock cannot see.
 */
import {
  FeatureEntitlementsApi,
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
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import { TestClock } from "effect/testing"
import { NodeHttp } from "@licensure/node-runtime"

/** Where a simulation's virtual time starts unless told otherwise: 2026-01-01T00:00:00Z, in epoch milliseconds. */
export const Start = Date.parse("2026-01-01T00:00:00Z")
/**
 * One hour in milliseconds, for moving virtual time and writing deadlines.
 * @example yield* TestClock.adjust(HOUR * 12)
 */
export const HOUR = 3_600_000
/**
 * One day in milliseconds (24 {@link HOUR}s).
 * @example yield* drive(sim.licensing, Start + 90 * DAY)
 */
export const DAY = 24 * HOUR

/**
 * A fixed machine identity for a simulated client: `fingerprint` (64 hex characters) is also its primary component,
 * `hostname` its weak one. Two calls with different fingerprints are two machines; the same fingerprint with another
 * hostname is the same machine that drifted.
 * @example Fingerprint.layerStatic(identity("c".repeat(64), "laptop-2"))
 */
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

/**
 * What {@link makeSim} sets up: the emulator (to change the licence behind the client's back: suspend, revoke, fail
 * the next call), the running client, the product it licenses with its public key, the licence made for it and the
 * client's store.
 * @example const { licensing, license } = yield* makeSim({ serverSyncInterval: 3600 })
 */
export interface Sim {
  /** The emulator the client talks to, on the same TestClock; its admin calls change the licence on the server. */
  readonly emulator: Emulator
  /** The licensing client under test, not yet activated. */
  readonly licensing: Licensing["Service"]
  /** The emulator product the client is configured for. */
  readonly productId: string
  /** The product's RSA public key (PEM) the client verifies tokens with. */
  readonly publicKeyPem: string
  /** The licence made for the simulation: its id (for the emulator's admin calls) and the key to activate. */
  readonly license: { readonly id: string; readonly key: string }
  /** The client's store, to read what was persisted or to plant a record. */
  readonly store: LicenseStore["Service"]
}

/**
 * What stands between the client and the in-process emulator in a test ({@link SimOptions.wire}): given each request
 * and the emulator's own `fetch`, it answers as the test wants (hold it, lose the answer, replay an old one).
 */
export type Wire = (request: Request, serve: (request: Request) => Promise<Response>) => Promise<Response>

/** The emulator's in-process `fetch` as the client's HTTP client: no socket, no port; through `wire` when given. */
const inProcessHttp = (emulator: Emulator, wire?: Wire) => {
  const fetch =
    wire === undefined
      ? emulator.fetch
      : (input: string | URL | Request, init?: RequestInit) =>
          wire(new Request(input, init), (request) => emulator.fetch(request))
  return FetchHttpClient.layer.pipe(
    Layer.provide(Layer.succeed(FetchHttpClient.Fetch, fetch as typeof globalThis.fetch))
  )
}

/**
 * A {@link LicenseApi} layer that calls the emulator's in-process `fetch`: no socket, no port, the emulator's clock
 * and the client's the same TestClock. `host` only names the URL the requests carry.
 * @example Layer.mergeAll(emulatorLayer(emulator), LicenseStore.layerMemory, Fingerprint.layerStatic(identity()))
 */
export const emulatorLayer = (emulator: Emulator, host = "http://emulator.invalid", wire?: Wire) =>
  LicenseApi.layer({ host }).pipe(Layer.provide(inProcessHttp(emulator, wire)))

/** The feature-entitlements call over the same transport as {@link emulatorLayer} / {@link loopbackLayer}. */
const entitlementsLayer = (emulator: Emulator, loopback: boolean) =>
  loopback
    ? FeatureEntitlementsApi.layer({ host: emulator.url }).pipe(Layer.provide(NodeHttp.layer({ proxy: "none" })))
    : FeatureEntitlementsApi.layer({ host: "http://emulator.invalid" }).pipe(Layer.provide(inProcessHttp(emulator)))

/**
 * The client's HTTP over the real network to a served emulator (`startEmulator`): the Node HTTP layer an
 * application gets from `NodeLicensing`, never a proxy (the emulator is on loopback).
 */
export const loopbackLayer = (emulator: Emulator) =>
  LicenseApi.layer({ host: emulator.url }).pipe(Layer.provide(NodeHttp.layer({ proxy: "none" })))

/**
 * How {@link makeSim} sets the simulation up beyond the licence and the configuration: the start time, the transport
 * and the store.
 */
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
  /**
   * Gives the client the feature-entitlements call too (as `NodeLicensing` does), so it fetches the entitlements
   * after the activation and every sync: one more request each time. Off by default, so a simulation counts only
   * the licence's own calls unless it asks.
   */
  readonly entitlements?: boolean
  /** In-process only: a {@link Wire} of the test's own between the client's licence calls and the emulator. */
  readonly wire?: Wire
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
    const api = loopback ? loopbackLayer(emulator) : emulatorLayer(emulator, undefined, options.wire)
    const base = Layer.mergeAll(api, options.store ?? LicenseStore.layerMemory, Fingerprint.layerStatic(machine))
    const platform = options.entitlements === true ? Layer.merge(base, entitlementsLayer(emulator, loopback)) : base
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

/**
 * Waits until the client is idle and returns its view. While a retry sleeps on the TestClock (the client says
 * until when: `Licensing.quiet`), virtual time moves exactly there; real time only passes for real work (I/O to
 * the in-process emulator, WebCrypto), never guessed.
 */
export const settled = (licensing: Licensing["Service"]): Effect.Effect<LicenseView> =>
  Effect.gen(function* () {
    while (true) {
      const quiet = yield* licensing.quiet
      if (quiet.wakesAt === undefined) return quiet.view
      const now = yield* Clock.currentTimeMillis
      yield* TestClock.adjust(Math.max(1, quiet.wakesAt - now))
    }
  })

/**
 * Runs `effect` (a command: `sync`, `activate`, …) while moving virtual time as the client needs it: whenever the
 * client is quiet with a retry asleep, the TestClock moves to when it wakes. A command whose operation retries on
 * the clock would otherwise wait for a clock nobody moves. Returns the command's exit and the settled view.
 */
export const during = <A, E>(
  licensing: Licensing["Service"],
  effect: Effect.Effect<A, E>
): Effect.Effect<{ readonly exit: Exit.Exit<A, E>; readonly view: LicenseView }> =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(effect)
    while (true) {
      // The command ends, or everything the client runs falls asleep in a retry: then move to when it wakes.
      const wakesAt = yield* Effect.race(
        Effect.map(Fiber.await(fiber), () => undefined),
        licensing.asleep
      )
      if (wakesAt === undefined) break
      yield* TestClock.adjust(Math.max(1, wakesAt - (yield* Clock.currentTimeMillis)))
    }
    const exit = yield* Fiber.await(fiber)
    return { exit, view: yield* settled(licensing) }
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
