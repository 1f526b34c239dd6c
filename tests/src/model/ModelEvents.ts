/**
 * The events the model tries in each snapshot and the keys that keep the graph finite. Traversal with an explicit
 * `events` function does not discover delayed or done events by itself, so this offers, per snapshot: the
 * commands (and the reloads another process's write causes) (in every state, so that unhandled and guard-blocked commands are exercised too), the state's own
 * `xstate.after.*` wake event read from its node, and its invoked actor's done event with each representative
 * output. Snapshots are keyed on the state and the few context facts the guards read.
 */
import type {
  DeactivateResult,
  LicenseContext,
  LicenseEvent,
  LoadResult,
  OperationResult
} from "@licensure/core/LicenseMachine"
import type { AnyStateNode, EventObject } from "xstate"
import {
  ActivationVariants,
  AllVariants,
  FailureVariants,
  type FactsVariant,
  FixedNow,
  LicenseKey,
  LoadFailure,
  TrialVariants
} from "./ModelFixtures.ts"

type ActorOutput = LoadResult | OperationResult | DeactivateResult

/** A command, a delayed wake, or an invoked actor's completion carrying its output. */
export type ModelEvent =
  | LicenseEvent
  | { readonly type: `xstate.after.${string}` }
  | { readonly type: `xstate.done.actor.${string}`; readonly output: ActorOutput }

/** The part of a snapshot the model reads; `machine` gives the state node for `value`. */
export interface ModelSnapshot {
  readonly value: unknown
  readonly context: LicenseContext
  readonly machine: { readonly root: AnyStateNode }
}

const commands: ReadonlyArray<LicenseEvent> = [
  { type: "ACTIVATE", key: LicenseKey },
  { type: "ACTIVATE_TRIAL" },
  { type: "DEACTIVATE" },
  { type: "SYNC" },
  { type: "CHECK" },
  // Raised by the machine itself (a deadline while a sync is in flight); the model sends it like the timer would.
  { type: "WAKE" },
  // Another process changed the stored record: it holds an activation, cannot be used, or is gone.
  { type: "RELOAD", result: { type: "loaded", facts: ActivationVariants[0]!.facts } },
  { type: "RELOAD", result: { type: "empty", failure: LoadFailure } },
  { type: "RELOAD", result: { type: "empty" } }
]

const ok = (variants: ReadonlyArray<FactsVariant>): Array<OperationResult> =>
  variants.map((v) => ({ type: "ok", facts: v.facts, at: FixedNow }))

const failed: ReadonlyArray<OperationResult & DeactivateResult> = FailureVariants.map((f) => ({
  type: "failed",
  failure: f.failure,
  at: FixedNow
}))

const outputsFor = (actorId: string, context: LicenseContext): ReadonlyArray<ActorOutput> => {
  switch (actorId) {
    case "load":
      return [
        { type: "empty" },
        { type: "empty", failure: LoadFailure },
        ...AllVariants.map((v): LoadResult => ({ type: "loaded", facts: v.facts }))
      ]
    case "activate":
      return [...ok(ActivationVariants), ...failed]
    case "activateTrial":
      return [...ok(TrialVariants), ...failed]
    case "sync":
      return [...ok(context.facts?.kind === "trial" ? TrialVariants : ActivationVariants), ...failed]
    case "reactivate":
      return [...ok(ActivationVariants), ...failed]
    case "deactivate":
      return [{ type: "ok" }, ...failed]
    default:
      throw new Error(`expected an invoked actor id of the licence machine, got ${actorId}`)
  }
}

/** The active state nodes, from the top-level one down to the leaf (the value names one child per level). */
export const activeNodesOf = (snapshot: ModelSnapshot): ReadonlyArray<AnyStateNode> => {
  const nodes: Array<AnyStateNode> = []
  let value = snapshot.value
  let parent = snapshot.machine.root
  while (value !== undefined) {
    const key = typeof value === "string" ? value : Object.keys(value as object)[0]
    const node = key === undefined ? undefined : parent.states[key]
    if (node === undefined)
      throw new Error(`expected a state value of the machine, got ${JSON.stringify(snapshot.value)}`)
    nodes.push(node)
    value = typeof value === "string" ? undefined : (value as Record<string, unknown>)[key!]
    parent = node
  }
  return nodes
}

/** Everything worth sending to this snapshot: the commands, and the wakes and completions of every active node. */
export const eventsFor = (snapshot: ModelSnapshot): ReadonlyArray<ModelEvent> => {
  const nodes = activeNodesOf(snapshot)
  const wakes = nodes.flatMap((node) =>
    node.after.map((a): ModelEvent => ({ type: a.eventType as `xstate.after.${string}` }))
  )
  const done = nodes
    .flatMap((node) => node.invoke)
    .flatMap((invoke) =>
      outputsFor(invoke.id, snapshot.context).map(
        (output): ModelEvent => ({ type: `xstate.done.actor.${invoke.id}`, output })
      )
    )
  return [...commands, ...wakes, ...done]
}

const outputLabel = (output: ActorOutput): string => {
  if ("facts" in output) return `${output.type}(${output.facts.token})`
  if ("failure" in output && output.failure !== undefined) {
    return `${output.type}(${output.failure.kind}${output.failure.code === undefined ? "" : ` ${output.failure.code}`})`
  }
  return output.type
}

/** Short and unique among the events {@link eventsFor} offers. */
export const serializeEvent = (event: EventObject): string => {
  const output =
    (event as { output?: ActorOutput; result?: LoadResult }).output ?? (event as { result?: LoadResult }).result
  return output === undefined ? event.type : `${event.type}:${outputLabel(output)}`
}

/**
 * The state key: the state, which facts (by variant name), the last status, and the sync flags. Time is fixed, so
 * whether the next sync is due is a fact of the snapshot, not of the clock.
 */
export const serializeState = (snapshot: ModelSnapshot): string => {
  const c = snapshot.context
  const syncDue = c.nextSyncAt !== undefined && FixedNow >= c.nextSyncAt
  return JSON.stringify([
    snapshot.value,
    c.facts?.token ?? null,
    c.status ?? null,
    c.syncFailing,
    c.syncHalted,
    syncDue
  ])
}
