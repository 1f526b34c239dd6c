/**
 * The lifecycle machine as a picture: a Mermaid `stateDiagram-v2`, W3C SCXML and a plain JSON graph, derived from the
 * machine definition itself (so they cannot drift from it), for the README, the CLI's `chart` command and the
 * inspector page. XState ships no Mermaid export, so the state nodes are walked here.
 *
 * @since 0.1.0
 */
import type { AnyStateMachine, AnyStateNode } from "xstate"
import { licenseMachine } from "./LicenseMachine.ts"

export interface ChartEdge {
  readonly from: string
  readonly to: string
  readonly event: string
  readonly guard: string | undefined
}

/** One state node: its parent (`undefined` at the top), its children (none for a leaf) and its tags. */
export interface ChartNode {
  readonly id: string
  readonly parent: string | undefined
  readonly children: ReadonlyArray<string>
  readonly tags: ReadonlyArray<string>
}

export interface ChartGraph {
  readonly initial: string
  /** Every state node's key, parents before their children (keys are unique in the machine). */
  readonly states: ReadonlyArray<string>
  /** The leaf states: the ones a snapshot can rest in. */
  readonly leaves: ReadonlyArray<string>
  readonly nodes: ReadonlyArray<ChartNode>
  readonly edges: ReadonlyArray<ChartEdge>
}

/** Every state node under `node`, depth first, parents first. */
const descendants = (node: AnyStateNode): Array<AnyStateNode> =>
  (Object.values(node.states) as Array<AnyStateNode>).flatMap((child) => [child, ...descendants(child)])

const eventLabel = (eventType: string): string => {
  if (eventType.startsWith("xstate.after.")) return `after ${eventType.split(".")[2]}`
  if (eventType.startsWith("xstate.done.actor.")) return `${eventType.slice("xstate.done.actor.".length)} done`
  return eventType
}

/** A guard's name; fixed parameters (the verdict `evaluating` compares) are part of it: `verdictIs(active)`. */
const guardName = (guard: unknown): string | undefined => {
  if (guard === undefined) return undefined
  if (typeof guard === "string") return guard
  if (typeof guard === "object" && guard !== null && "type" in guard) {
    const params = (guard as { params?: unknown }).params
    const name = String((guard as { type: unknown }).type)
    return params === undefined || params === null || typeof params !== "object"
      ? name
      : `${name}(${Object.values(params).join(",")})`
  }
  return "guard"
}

/** Every transition the machine defines, including `always` and delayed ones, in definition order. */
export const toGraph = (machine: AnyStateMachine = licenseMachine): ChartGraph => {
  const root = machine.root
  const all = descendants(root)
  const edges: Array<ChartEdge> = []
  for (const node of all) {
    for (const transitions of node.transitions.values()) {
      for (const t of transitions) {
        for (const target of t.target ?? []) {
          edges.push({ from: node.key, to: target.key, event: eventLabel(t.eventType), guard: guardName(t.guard) })
        }
      }
    }
    for (const t of node.always ?? []) {
      for (const target of t.target ?? []) {
        edges.push({ from: node.key, to: target.key, event: "always", guard: guardName(t.guard) })
      }
    }
  }
  const nodes = all.map((node) => ({
    id: node.key,
    parent: node.parent === root ? undefined : node.parent?.key,
    children: Object.keys(node.states),
    tags: [...node.tags]
  }))
  return {
    initial: root.initial.target[0]?.key ?? "",
    states: nodes.map((n) => n.id),
    leaves: nodes.filter((n) => n.children.length === 0).map((n) => n.id),
    nodes,
    edges
  }
}

/** The leaf states that carry `tag` themselves or through a parent. */
export const statesTagged = (tag: string, machine: AnyStateMachine = licenseMachine): ReadonlyArray<string> => {
  const graph = toGraph(machine)
  const byId = new Map(graph.nodes.map((n) => [n.id, n]))
  const tagged = (id: string | undefined): boolean => {
    const node = id === undefined ? undefined : byId.get(id)
    return node !== undefined && (node.tags.includes(tag) || tagged(node.parent))
  }
  return graph.leaves.filter((leaf) => tagged(leaf))
}

/**
 * Mermaid source: compound states as `state name { … }` blocks, then the transitions; identical edges that differ
 * only by guard are drawn once.
 */
export const toMermaid = (machine: AnyStateMachine = licenseMachine): string => {
  const graph = toGraph(machine)
  const lines = ["stateDiagram-v2", `  [*] --> ${graph.initial}`]
  const byId = new Map(graph.nodes.map((n) => [n.id, n]))
  const block = (id: string, indent: string) => {
    const node = byId.get(id)
    if (node === undefined || node.children.length === 0) return
    lines.push(`${indent}state ${id} {`)
    for (const child of node.children) {
      if ((byId.get(child)?.children.length ?? 0) > 0) block(child, `${indent}  `)
      else lines.push(`${indent}  ${child}`)
    }
    lines.push(`${indent}}`)
  }
  for (const node of graph.nodes) if (node.parent === undefined) block(node.id, "  ")
  const seen = new Set<string>()
  for (const e of graph.edges) {
    const label = e.guard === undefined ? e.event : `${e.event} [${e.guard}]`
    const line = `  ${e.from} --> ${e.to}: ${label}`
    if (!seen.has(line)) {
      seen.add(line)
      lines.push(line)
    }
  }
  return lines.join("\n")
}

const xml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** The SCXML event name for an XState event: delays as `xstate.after.<name>`, actor completions as SCXML's own `done.invoke.<id>`. */
const scxmlEvent = (eventType: string): string =>
  eventType.startsWith("xstate.done.actor.") ? `done.invoke.${eventType.slice("xstate.done.actor.".length)}` : eventType

/**
 * W3C SCXML 1.0 (`http://www.w3.org/2005/07/scxml`): one `<state>` per state with its `<invoke>`s, one
 * `<transition>` per transition definition, in order, `cond` naming the guard (the guards are the machine's own
 * functions, so SCXML gets their names, not their code) and no `event` for eventless (`always`) ones; a
 * targetless transition (actions only) has no `target`. Tags become a space-separated `licensure:tags` attribute.
 */
export const toScxml = (machine: AnyStateMachine = licenseMachine): string => {
  const root = machine.root
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<scxml xmlns="http://www.w3.org/2005/07/scxml" xmlns:licensure="https://licensure.dev/scxml" version="1.0" name="${xml(String(machine.id))}" initial="${xml(root.initial.target[0]?.key ?? "")}">`
  ]
  const write = (node: AnyStateNode, indent: string) => {
    const tags = [...node.tags]
    lines.push(
      `${indent}<state id="${xml(node.key)}"${tags.length > 0 ? ` licensure:tags="${xml(tags.join(" "))}"` : ""}>`
    )
    for (const invoke of node.invoke)
      lines.push(`${indent}  <invoke id="${xml(String(invoke.id))}" type="licensure:${xml(String(invoke.src))}"/>`)
    const transition = (
      event: string | undefined,
      t: { target?: ReadonlyArray<AnyStateNode> | undefined; guard?: unknown }
    ) => {
      const guard = guardName(t.guard)
      const target = (t.target ?? []).map((n) => n.key).join(" ")
      lines.push(
        `${indent}  <transition${event === undefined ? "" : ` event="${xml(scxmlEvent(event))}"`}${guard === undefined ? "" : ` cond="${xml(guard)}"`}${target === "" ? "" : ` target="${xml(target)}"`}/>`
      )
    }
    for (const t of node.always ?? []) transition(undefined, t)
    for (const [eventType, transitions] of node.transitions) for (const t of transitions) transition(eventType, t)
    for (const child of Object.values(node.states) as Array<AnyStateNode>) write(child, `${indent}  `)
    lines.push(`${indent}</state>`)
  }
  for (const node of Object.values(root.states) as Array<AnyStateNode>) write(node, "  ")
  lines.push("</scxml>")
  return lines.join("\n")
}
