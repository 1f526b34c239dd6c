/**
 * Model-based exploration of the licence machine. `xstate/graph` builds the reachable graph over the
 * representative events and gives a shortest path to every state key; each path is then replayed from the
 * initial snapshot through XState's pure `transition`, and from the replayed snapshot every outgoing edge is taken
 * again while `getTransitionData` and `getMicrosteps` say which defined transitions fired, including the `always`
 * candidates chosen in `evaluating`. The result is the set of covered transitions and every disagreement found
 * between the graph, the replay, the fired transitions and the invariants. Invoked actors are never run: the
 * model delivers their done events itself.
 */
import { stateOf as leafOf } from "@licensure/core"
import { licenseMachine } from "@licensure/core/LicenseMachine"
import type {
  ActivateOptions,
  DeactivateResult,
  LicenseContext,
  LicenseEvent,
  LoadResult,
  MachineConfig,
  OperationResult
} from "@licensure/core/LicenseMachine"
import { type EventObject, fromPromise, getMicrosteps, initialTransition, type SnapshotFrom, transition } from "xstate"
import { getAdjacencyMap, getShortestPaths, type TraversalOptions } from "xstate/graph"
import { invariantViolations } from "./Invariants.ts"
import { eventsFor, serializeEvent, serializeState } from "./ModelEvents.ts"
import { configFor } from "./ModelFixtures.ts"
import { catalogOf, type DefinedTransition, type TransitionCatalog } from "./TransitionCatalog.ts"

const neverRun = (name: string) => () =>
  Promise.reject(new Error(`the model delivers ${name}'s done event itself; the actor must not run`))

/** The machine with actor logic present (traversal creates, but never starts, the invoked children). */
export const modelMachine = licenseMachine.provide({
  actors: {
    load: fromPromise<LoadResult, MachineConfig>(neverRun("load")),
    activate: fromPromise<OperationResult, { key: string; options: ActivateOptions }>(neverRun("activate")),
    activateTrial: fromPromise<OperationResult, object>(neverRun("activateTrial")),
    sync: fromPromise<OperationResult, { facts: NonNullable<LicenseContext["facts"]>; options: ActivateOptions }>(
      neverRun("sync")
    ),
    reactivate: fromPromise<OperationResult, { facts: NonNullable<LicenseContext["facts"]>; options: ActivateOptions }>(
      neverRun("reactivate")
    ),
    deactivate: fromPromise<DeactivateResult, { facts: NonNullable<LicenseContext["facts"]> }>(neverRun("deactivate"))
  }
})

type Machine = typeof modelMachine
type Snapshot = SnapshotFrom<Machine>

export interface Exploration {
  readonly reactivateOnFingerprintRejected: boolean
  readonly catalog: TransitionCatalog
  /** State keys reached (graph vertices). */
  readonly vertices: number
  /** (state key, event) pairs tried and replayed (graph edges). */
  readonly edges: number
  /** Ids of the defined transitions that fired at least once. */
  readonly covered: ReadonlySet<string>
  /** Disagreements and invariant violations, as sentences; empty when everything held. */
  readonly problems: ReadonlyArray<string>
}

type Guard = (args: { context: LicenseContext; event: EventObject }, params: unknown) => boolean

/** The leaf state (every leaf name is unique in the machine). */
const stateOf = (snapshot: Snapshot): string => leafOf(snapshot.value)

interface Fired {
  readonly transitions: ReadonlyArray<DefinedTransition>
  readonly final: Snapshot
  readonly problems: ReadonlyArray<string>
}

/** Takes `event` in `source` and names the defined transitions that fired, checking each microstep's target. */
const fire = (machine: Machine, catalog: TransitionCatalog, source: Snapshot, event: LicenseEvent): Fired => {
  const problems: Array<string> = []
  const where = () => `${serializeState(source)} + ${serializeEvent(event)}`
  const taken = machine.getTransitionData(source, event)
  if (taken.length === 0) {
    const [final] = transition(machine, source, event)
    if (serializeState(final) !== serializeState(source) || final.context !== source.context) {
      problems.push(`${where()}: no transition is enabled, yet the snapshot changed to ${serializeState(final)}`)
    }
    return { transitions: [], final, problems }
  }
  if (taken.length > 1) problems.push(`${where()}: ${taken.length} transitions enabled without parallel states`)
  const first = catalog.lookup(taken[0]!)
  if (first === undefined) {
    problems.push(`${where()}: XState took a transition that is not in the catalog`)
    return { transitions: [], final: source, problems }
  }
  const fired: Array<DefinedTransition> = [first]
  const micro = getMicrosteps(machine, source, event).map(([snapshot]) => snapshot)
  const guards = machine.implementations.guards as unknown as Record<string, Guard>
  // A targetless transition (on the state itself or on an ancestor, as `ready`'s RELOAD of a failed read) stays.
  let expectedState = first.internal ? stateOf(source) : first.target
  for (let step = 0; ; step++) {
    const current = micro[step]
    if (current === undefined) {
      problems.push(`${where()}: expected microstep ${step} into ${expectedState}, there were ${micro.length}`)
      break
    }
    if (stateOf(current) !== expectedState) {
      problems.push(`${where()}: microstep ${step} should enter ${expectedState}, entered ${stateOf(current)}`)
      break
    }
    const candidates = catalog.alwaysOf(expectedState)
    if (candidates.length === 0) {
      if (step !== micro.length - 1) problems.push(`${where()}: ${micro.length - step - 1} unexplained microsteps`)
      break
    }
    // The machine's own guards, asked in definition order with the context the entry actions left: the next
    // microstep must agree with the first candidate that passes.
    const chosen = candidates.find((c) => {
      if (c.guard === undefined) return true
      const definition = c.definition.guard as string | { type: string; params?: unknown }
      const name = typeof definition === "string" ? definition : definition.type
      const guard = guards[name]
      if (guard === undefined) throw new Error(`expected guard ${name} to be implemented`)
      const given = typeof definition === "string" ? undefined : definition.params
      const params = typeof given === "function" ? given({ context: current.context, event }) : given
      return guard({ context: current.context, event }, params)
    })
    if (chosen === undefined) {
      // Guarded eventless transitions that all fail leave the machine where it is (renewDue's lease check).
      if (step !== micro.length - 1) problems.push(`${where()}: no always candidate of ${expectedState} passes`)
      break
    }
    fired.push(chosen)
    expectedState = chosen.target
  }
  // The macrostep's result is its last microstep.
  return { transitions: fired, final: micro[micro.length - 1] ?? source, problems }
}

/** Explores `machine` (the model machine, or a variant of it made with `provide`) from the fixtures' config. */
export const explore = (machine: Machine, reactivateOnFingerprintRejected: boolean): Exploration => {
  const catalog = catalogOf(machine)
  const input = configFor(reactivateOnFingerprintRejected)
  // The model also sends done and delayed events, which the machine's event type does not list.
  const options: TraversalOptions<Snapshot, LicenseEvent, MachineConfig> = {
    input,
    events: (snapshot) => eventsFor(snapshot) as ReadonlyArray<LicenseEvent>,
    serializeState: (snapshot) => serializeState(snapshot),
    serializeEvent
  }
  const adjacency = getAdjacencyMap(machine, options)
  const paths = getShortestPaths(machine, options)
  const problems: Array<string> = []
  const covered = new Set<string>()
  let edges = 0
  const vertices = Object.keys(adjacency).length
  if (paths.length !== vertices) problems.push(`${paths.length} shortest paths for ${vertices} graph vertices`)

  for (const path of paths) {
    const key = serializeState(path.state)
    const [init, ...steps] = path.steps
    // The graph opens each path with the initial snapshot, under an event the machine's event type does not list.
    const initType: string | undefined = init?.event.type
    if (init === undefined || initType !== "xstate.init") {
      problems.push(`${key}: the path does not start at xstate.init`)
      continue
    }
    let source = initialTransition(machine, input)[0]
    let replayed = serializeState(source) === serializeState(init.state)
    for (const step of steps) {
      if (!replayed) break
      source = transition(machine, source, step.event)[0]
      replayed = serializeState(source) === serializeState(step.state)
    }
    if (!replayed || serializeState(source) !== key) {
      problems.push(`${key}: replaying the shortest path reached ${serializeState(source)}`)
      continue
    }
    const vertex = adjacency[key as keyof typeof adjacency]
    if (vertex === undefined) {
      problems.push(`${key}: a shortest path ends at a state the adjacency map does not hold`)
      continue
    }
    for (const { event, state: graphNext } of Object.values(vertex.transitions)) {
      edges++
      const result = fire(machine, catalog, source, event)
      problems.push(...result.problems)
      for (const t of result.transitions) covered.add(t.id)
      if (serializeState(result.final) !== serializeState(graphNext)) {
        problems.push(
          `${key} + ${serializeEvent(event)}: replay reached ${serializeState(result.final)}, the graph says ${serializeState(graphNext)}`
        )
      }
      for (const p of invariantViolations(stateOf(result.final), result.final.context)) {
        problems.push(`${key} + ${serializeEvent(event)} -> ${p}`)
      }
    }
  }
  return { reactivateOnFingerprintRejected, catalog, vertices, edges, covered, problems }
}

const explorations = new Map<boolean, Exploration>()

/** Explores the model machine once per flag value and remembers the result for the other tests of the run. */
export const exploration = (reactivateOnFingerprintRejected: boolean): Exploration => {
  const known = explorations.get(reactivateOnFingerprintRejected)
  if (known !== undefined) return known
  const result = explore(modelMachine, reactivateOnFingerprintRejected)
  explorations.set(reactivateOnFingerprintRejected, result)
  return result
}
