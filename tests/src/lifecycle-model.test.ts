/**
 * Model-based tests of the real client (issue 9): a small model of the licence's life as a user and a vendor
 * see it (commands, the vendor's changes on the server, an outage, time) is walked by `xstate/graph`'s
 * `createTestModel`, and its paths (the shortest to each state, every simple path, and one through each transition)
 * are run against the real
 * `Licensing` over the emulator on one TestClock, a fresh client and server per path. After each step the view
 * must show the model's state, with the LexActivator status that state stands for.
 *
 * The model is not the licence machine: it says what must be seen from outside, so a machine that takes a wrong
 * turn inside fails here whatever its own chart says.
 */
import { assert, describe, it } from "@effect/vitest"
import type { LicenseView } from "@licensure/core"
import { DAY, drive, during, makeSim, type Sim, settled } from "@licensure/testing"
import { Clock, Effect } from "effect"
import { TestClock } from "effect/testing"
import { assign, createMachine } from "xstate"
import { type AdjacencyValue, createTestModel } from "xstate/graph"

/** What the vendor has done on the server: the model remembers it across the client's own comings and goings. */
interface Server {
  readonly suspended: boolean
  readonly expired: boolean
  /** This machine's trial has run out (a new trial activation answers with the same, expired, trial). */
  readonly trialEnded: boolean
}

/** Where an activation lands, as the server's licence stands. */
const activated = [
  { guard: ({ context }: { context: Server }) => context.suspended, target: "suspended" },
  { guard: ({ context }: { context: Server }) => context.expired, target: "expired" },
  { target: "active" }
] as const

/** What the user and the vendor can do, and what happens to the licence, as the model sees it. */
const lifecycle = createMachine({
  id: "lifecycle",
  types: {} as { context: Server },
  context: { suspended: false, expired: false, trialEnded: false },
  initial: "unactivated",
  states: {
    unactivated: {
      on: {
        ACTIVATE: [...activated],
        START_TRIAL: [
          { guard: ({ context }) => context.trialEnded, target: "trialExpired" },
          { target: "trialActive" }
        ],
        // The vendor puts the licence right while this machine has no activation.
        RESUME: { guard: ({ context }) => context.suspended, actions: assign({ suspended: false }) },
        RENEW: { guard: ({ context }) => context.expired, actions: assign({ expired: false }) }
      }
    },
    active: {
      on: {
        SUSPEND: { target: "suspended", actions: assign({ suspended: true }) },
        REVOKE: "revoked",
        OUTAGE: "grace",
        EXPIRE: { target: "expired", actions: assign({ expired: true }) },
        DEACTIVATE: "unactivated",
        CHECK: "active"
      }
    },
    suspended: {
      on: {
        RESUME: { target: "active", actions: assign({ suspended: false }) },
        REVOKE: "revoked",
        DEACTIVATE: "unactivated"
      }
    },
    // Deactivating while the server is unreachable fails and keeps the activation: nothing is lost.
    grace: { on: { RECOVER: "active", DEACTIVATE: "grace", CHECK: "grace" } },
    expired: { on: { RENEW: { target: "active", actions: assign({ expired: false }) }, DEACTIVATE: "unactivated" } },
    revoked: {},
    trialActive: {
      on: { TRIAL_ENDS: { target: "trialExpired", actions: assign({ trialEnded: true }) }, ACTIVATE: [...activated] }
    },
    trialExpired: { on: { ACTIVATE: [...activated] } }
  }
})

/** The LexActivator status each model state stands for. */
const statusOf: Record<string, string> = {
  unactivated: "LA_FAIL",
  active: "LA_OK",
  suspended: "LA_SUSPENDED",
  grace: "LA_OK",
  expired: "LA_EXPIRED",
  revoked: "LA_E_REVOKED",
  trialActive: "LA_OK",
  trialExpired: "LA_TRIAL_EXPIRED"
}

type Run = <A, E>(effect: Effect.Effect<A, E>) => Promise<A>

/** One step's executor: what the step does to the client or the server, then the client settles. */
const executors = (sim: Sim, run: Run, seen: Array<LicenseView>) => {
  const { licensing, emulator, license } = sim
  const step =
    <E>(effect: Effect.Effect<unknown, E>) =>
    () =>
      run(
        Effect.gen(function* () {
          if (process.env.MODEL_TRACE) console.log("  step", (yield* licensing.current).state)
          // A refused command (a deactivation during the outage) is data here: the model says what it leaves.
          // Its retries sleep on the TestClock, which `during` moves as the client says.
          seen.push((yield* during(licensing, effect)).view)
        })
      )
  const server = (change: () => Promise<unknown>) => step(Effect.andThen(Effect.promise(change), licensing.sync))
  return {
    ACTIVATE: step(licensing.activate(license.key)),
    START_TRIAL: step(licensing.activateTrial),
    DEACTIVATE: step(licensing.deactivate),
    CHECK: step(licensing.check),
    SUSPEND: server(() => emulator.updateLicense(license.id, { suspended: true })),
    RESUME: server(() => emulator.updateLicense(license.id, { suspended: false })),
    REVOKE: server(() => emulator.updateLicense(license.id, { revoked: true })),
    OUTAGE: server(() => emulator.addFault({ kind: "drop" })),
    RECOVER: server(() => emulator.clearFaults()),
    EXPIRE: step(
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        yield* Effect.promise(() => emulator.updateLicense(license.id, { expiresAt: new Date(now).toISOString() }))
        yield* licensing.sync
        yield* TestClock.adjust(2000)
      })
    ),
    RENEW: step(
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const later = new Date(now + 30 * DAY).toISOString()
        yield* Effect.promise(() => emulator.updateLicense(license.id, { expiresAt: later }))
        if ((yield* licensing.current).license !== undefined) yield* licensing.sync
      })
    ),
    // Time itself: `drive` steps the TestClock from deadline to deadline.
    TRIAL_ENDS: () =>
      run(
        Effect.gen(function* () {
          seen.push(yield* drive(licensing, (yield* Clock.currentTimeMillis) + 15 * DAY))
        })
      )
  }
}

const model = createTestModel(lifecycle)

/** Runs `paths` one by one, each on a fresh client and server, and returns how many steps ran. */
const runPaths = (paths: ReturnType<typeof model.getShortestPaths>) =>
  Effect.gen(function* () {
    let steps = 0
    for (const path of paths) {
      if (process.env.MODEL_TRACE) console.log("path:", path.description)
      yield* Effect.scoped(
        Effect.gen(function* () {
          const sim = yield* makeSim({ serverSyncInterval: 3600, serverSyncGracePeriod: (3 * DAY) / 1000 })
          const context = yield* Effect.context<never>()
          const run: Run = (effect) => Effect.runPromiseWith(context)(effect)
          const seen: Array<LicenseView> = [yield* settled(sim.licensing)]
          const states = Object.fromEntries(
            Object.keys(statusOf).map((name) => [
              name,
              () => {
                const view = seen.at(-1)!
                const where = `${path.description}: expected ${name}`
                assert.strictEqual(view.state, name, `${where}, the client shows ${view.state}`)
                assert.strictEqual(view.status.name, statusOf[name], `${where} as ${statusOf[name]}`)
                assert.strictEqual(view.licensed, statusOf[name] === "LA_OK", `${where}: licensed`)
                if (name === "grace") assert.isDefined(view.lastError, "grace says why")
              }
            ])
          )
          yield* Effect.promise(() => path.test({ states, events: executors(sim, run, seen) }))
          steps += path.steps.length
        })
      )
    }
    return steps
  })

describe("the licence's life, model-based, on the real client over the emulator", () => {
  it.effect(
    "reaches every state of the model by its shortest path",
    () =>
      Effect.gen(function* () {
        const paths = model.getShortestPaths()
        const reached = new Set(paths.flatMap((p) => p.steps.map((step) => String(step.state.value))))
        assert.sameMembers([...reached], Object.keys(statusOf), "the paths pass through every state")
        const steps = yield* runPaths(paths)
        console.log(`lifecycle model: ${paths.length} shortest paths, ${steps} steps, all as the model says`)
      }),
    { timeout: 120_000 }
  )

  it.effect(
    "runs every simple path of the model (a state being its value and the server's flags)",
    () =>
      Effect.gen(function* () {
        // xstate/graph's default key for a state also holds what no step changes, and its simple paths then
        // number in the hundreds of thousands; a state here is what the model says it is: its value and the
        // server's flags. Each path visits no such state twice.
        const paths = model.getSimplePaths({
          serializeState: (state) => JSON.stringify([state.value, state.context])
        })
        const reached = new Set(paths.flatMap((p) => p.steps.map((step) => String(step.state.value))))
        assert.sameMembers([...reached], Object.keys(statusOf), "the simple paths pass through every state")
        assert.isAtLeast(paths.length, 60)
        const steps = yield* runPaths(paths)
        console.log(`lifecycle model: ${paths.length} simple paths, ${steps} steps, all as the model says`)
      }),
    { timeout: 300_000 }
  )

  it.effect(
    "takes every transition out of every state the model can reach (the shortest path there, then the event)",
    () =>
      Effect.gen(function* () {
        // Simple paths number in the hundreds of thousands once the server's flags are part of the state, so
        // coverage is by transition: each (state, event) pair of the adjacency map, reached the shortest way.
        const adjacency = model.getAdjacencyMap()
        const keyOf = (state: { value: unknown; context: unknown }) => JSON.stringify([state.value, state.context])
        const shortest = new Map(
          model
            .getShortestPaths({ allowDuplicatePaths: true })
            .map((p) => [keyOf(p.state), p.steps.slice(1).map((step) => step.event)])
        )
        type Vertex = AdjacencyValue<ReturnType<typeof model.getShortestPaths>[number]["state"], { type: string }>
        const vertices = Object.values(adjacency) as Array<Vertex>
        const paths: ReturnType<typeof model.getShortestPaths> = []
        const taken = new Set<string>()
        let handled = 0
        for (const vertex of vertices) {
          const before = shortest.get(keyOf(vertex.state))
          if (before === undefined) throw new Error(`expected a shortest path to ${keyOf(vertex.state)}`)
          for (const { event } of Object.values(vertex.transitions)) {
            // Only the events this state takes (the model ignores the rest, and so does nobody's test).
            if (!vertex.state.can(event)) continue
            handled++
            paths.push(...model.getPathsFromEvents([...before, event]).slice(0, 1))
            taken.add(`${String(vertex.state.value)}:${event.type}`)
          }
        }
        assert.strictEqual(paths.length, handled, "one path per transition of the adjacency map")
        const modelled = Object.values(lifecycle.root.states).flatMap((node) =>
          [...node.transitions.keys()].map((event) => `${node.key}:${event}`)
        )
        assert.sameMembers([...taken], modelled, "every transition the model defines is taken")
        const steps = yield* runPaths(paths)
        console.log(`lifecycle model: ${paths.length} transition paths, ${steps} steps, all as the model says`)
      }),
    { timeout: 300_000 }
  )
})
