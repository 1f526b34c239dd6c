import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type { AnyStateNode } from "xstate"
import { statesTagged, toGraph, toMermaid, toScxml } from "../src/Chart.ts"
import { licenseMachine } from "../src/LicenseMachine.ts"

const committed = fileURLToPath(new URL("../../../docs/state-chart.mmd", import.meta.url))

/** Every state node key in the machine, walked here independently of Chart.ts. */
const allKeys = (node: AnyStateNode): Array<string> =>
  (Object.values(node.states) as Array<AnyStateNode>).flatMap((child) => [child.key, ...allKeys(child)])

describe("Chart", () => {
  it("the committed chart is exactly what the machine draws (regenerate: node scripts/write-chart.ts)", () => {
    assert.strictEqual(readFileSync(committed, "utf8").trimEnd(), toMermaid())
    const scxml = fileURLToPath(new URL("../../../docs/state-chart.scxml", import.meta.url))
    assert.strictEqual(readFileSync(scxml, "utf8").trimEnd(), toScxml())
  })

  it("draws every state node, nested, and every transition target the machine defines", () => {
    const graph = toGraph()
    const states = allKeys(licenseMachine.root)
    assert.deepStrictEqual([...graph.states].sort(), [...states].sort())
    assert.strictEqual(new Set(states).size, states.length, "state keys are unique, so a leaf name is a state name")
    for (const e of graph.edges) {
      assert.include(states, e.from)
      assert.include(states, e.to)
    }
    const parentOf = new Map(graph.nodes.map((n) => [n.id, n.parent]))
    assert.strictEqual(parentOf.get("active"), "licensed")
    assert.strictEqual(parentOf.get("renewDue"), "activated")
    assert.strictEqual(parentOf.get("ready"), undefined)
    assert.strictEqual(graph.initial, "loading")
    assert.isTrue(toMermaid().startsWith("stateDiagram-v2\n  [*] --> loading"))
    assert.include(toMermaid(), "  state ready {")
  })

  it("is drawn with at most 40 edges, each command once on the parent that owns it (issue 9)", () => {
    const graph = toGraph()
    assert.isAtMost(graph.edges.length, 40)
    for (const event of ["ACTIVATE", "ACTIVATE_TRIAL", "DEACTIVATE", "SYNC", "CHECK"]) {
      assert.strictEqual(graph.edges.filter((e) => e.event === event).length, 1, event)
    }
  })

  it("tags say which states are settled and which are licensed (no list kept beside the machine)", () => {
    assert.sameMembers(
      [...statesTagged("settled")],
      [
        "unactivated",
        "revoked",
        "fingerprintMismatch",
        "active",
        "grace",
        "graceOver",
        "expired",
        "suspended",
        "clockTampered",
        "osUserMismatch",
        "releaseNotAllowed",
        "trialActive",
        "trialExpired"
      ]
    )
    assert.sameMembers([...statesTagged("licensed")], ["active", "grace", "trialActive"])
    assert.notInclude(statesTagged("settled"), "renewDue")
  })
})
