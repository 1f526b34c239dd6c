/**
 * The catalog of transitions a machine defines: one entry per transition definition, that is per candidate of an
 * event (`on`, invoke `onDone`, delayed `after`) and per `always` candidate, in definition order. It is the
 * denominator of model coverage, keyed by the definition objects themselves so that the transition data XState
 * reports while replaying a path maps back to exactly one entry.
 */
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from "xstate"

export interface DefinedTransition {
  /** Readable and unique, e.g. `renewDue --xstate.done.actor.sync#2 [syncRevoked]--> revoked`. */
  readonly id: string
  readonly source: string
  /** The event type, or `always` for an eventless transition. */
  readonly eventType: string
  /** Position among the candidates for this event (or among the `always` candidates). */
  readonly index: number
  readonly guard: string | undefined
  readonly target: string
  /** Targetless: runs its actions without leaving the state (the chart draws no edge for it). */
  readonly internal: boolean
  readonly definition: AnyTransitionDefinition
}

export interface TransitionCatalog {
  readonly all: ReadonlyArray<DefinedTransition>
  /** The entry for a definition XState handed back, or `undefined` if it is not one of the machine's own. */
  readonly lookup: (definition: AnyTransitionDefinition) => DefinedTransition | undefined
  /** The `always` candidates of a state, in the order XState tries them. */
  readonly alwaysOf: (state: string) => ReadonlyArray<DefinedTransition>
}

const guardName = (guard: unknown): string | undefined => {
  if (guard === undefined) return undefined
  if (typeof guard === "string") return guard
  // A named guard with parameters: fixed ones (the verdict compared) are part of the name, so it stays unique.
  if (typeof guard === "object" && guard !== null && "type" in guard && typeof guard.type === "string") {
    const params = (guard as { params?: unknown }).params
    return params === undefined || typeof params === "function"
      ? guard.type
      : `${guard.type}(${Object.values(params as object).join(",")})`
  }
  // The licence machine names all its guards; anything else would be a new kind of guard this catalog must learn.
  throw new Error(`expected a named guard, got ${typeof guard}`)
}

/** Every state node under `node`, parents first. */
const descendants = (node: AnyStateNode): Array<AnyStateNode> =>
  (Object.values(node.states) as Array<AnyStateNode>).flatMap((child) => [child, ...descendants(child)])

const entry = (
  node: AnyStateNode,
  eventType: string,
  index: number,
  definition: AnyTransitionDefinition
): DefinedTransition => {
  const targets = definition.target ?? []
  if (targets.length > 1) {
    throw new Error(`expected at most one target for ${node.key} ${eventType}#${index}, got ${targets.length}`)
  }
  const guard = guardName(definition.guard)
  // A targetless transition runs its actions and stays (the sync's CHECK and WAKE): its target is its source.
  const target = targets[0]?.key ?? node.key
  const label = guard === undefined ? "" : ` [${guard}]`
  return {
    id: `${node.key} --${eventType}#${index}${label}--> ${target}`,
    source: node.key,
    eventType,
    index,
    guard,
    target,
    internal: targets.length === 0,
    definition
  }
}

/** Walks every state node, compound ones too (a command handled once on a parent is one transition). */
export const catalogOf = (machine: AnyStateMachine): TransitionCatalog => {
  const all: Array<DefinedTransition> = []
  const byDefinition = new Map<AnyTransitionDefinition, DefinedTransition>()
  const always = new Map<string, Array<DefinedTransition>>()
  for (const node of descendants(machine.root)) {
    for (const [eventType, definitions] of node.transitions) {
      definitions.forEach((definition, index) => {
        const e = entry(node, eventType, index, definition)
        all.push(e)
        byDefinition.set(definition, e)
      })
    }
    const eventless = (node.always ?? []).map((definition, index) => entry(node, "always", index, definition))
    for (const e of eventless) {
      all.push(e)
      byDefinition.set(e.definition, e)
    }
    always.set(node.key, eventless)
  }
  return {
    all,
    lookup: (definition) => byDefinition.get(definition),
    alwaysOf: (state) => always.get(state) ?? []
  }
}
