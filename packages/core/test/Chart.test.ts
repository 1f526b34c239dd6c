import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { toGraph, toMermaid, toScxml } from "../src/Chart.ts"
import { licenseMachine, SettledStates } from "../src/LicenseMachine.ts"

const committed = fileURLToPath(new URL("../../../docs/state-chart.mmd", import.meta.url))

describe("Chart", () => {
  it("the committed chart is exactly what the machine draws (regenerate: node scripts/write-chart.ts)", () => {
    assert.strictEqual(readFileSync(committed, "utf8").trimEnd(), toMermaid())
    const scxml = fileURLToPath(new URL("../../../docs/state-chart.scxml", import.meta.url))
    assert.strictEqual(readFileSync(scxml, "utf8").trimEnd(), toScxml())
  })

  it("draws every state and every transition target the machine defines", () => {
    const graph = toGraph()
    const states = Object.keys(licenseMachine.root.states)
    assert.deepStrictEqual([...graph.states].sort(), [...states].sort())
    for (const s of SettledStates) assert.include(graph.states, s)
    for (const e of graph.edges) {
      assert.include(states, e.from)
      assert.include(states, e.to)
    }
    assert.strictEqual(graph.initial, "loading")
    assert.isTrue(toMermaid().startsWith("stateDiagram-v2\n  [*] --> loading"))
  })
})
