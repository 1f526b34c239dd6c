/**
 * The SCXML export (issue 12), parsed by a real XML parser (Chromium's DOMParser, strict XML) and checked
 * against the machine: the W3C namespace, one <state> per state, one <transition> per transition definition,
 * every target an existing state, the initial state, and the same document from `licensure chart --format scxml`.
 */
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Chart from "@licensure/core/Chart"
import * as LicenseMachine from "@licensure/core/LicenseMachine"
import { type Browser, chromium } from "playwright-core"
import type { AnyStateNode } from "xstate"

/** The browser's parser, as the page has it (this file is compiled without the DOM library). */
interface XmlElement {
  readonly localName: string
  readonly namespaceURI: string | null
  readonly children: ArrayLike<XmlElement> & Iterable<XmlElement>
  readonly textContent: string | null
  getAttribute(name: string): string | null
}
declare const DOMParser: new () => {
  parseFromString(
    text: string,
    type: string
  ): { documentElement: XmlElement; getElementsByTagName(name: string): ArrayLike<XmlElement> }
}

const ChromiumPath = "/usr/bin/chromium"
let browser: Browser
beforeAll(async () => {
  if (!existsSync(ChromiumPath)) throw new Error(`${ChromiumPath} is missing: install Debian's chromium package`)
  browser = await chromium.launch({
    executablePath: ChromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu"]
  })
})
afterAll(() => browser?.close())

describe("the SCXML export", () => {
  it("is well-formed W3C SCXML that matches the machine, state by state and transition by transition", async () => {
    const scxml = Chart.toScxml()
    const page = await browser.newPage()
    const parsed = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, "application/xml")
      const error = doc.getElementsByTagName("parsererror")[0]
      const root = doc.documentElement
      // Every <state>, nested ones too, parents first, with the id of the <state> it sits in.
      const walk = (parent: XmlElement, parentId: string | null): Array<{ e: XmlElement; parentId: string | null }> =>
        [...parent.children]
          .filter((e) => e.localName === "state")
          .flatMap((e) => [{ e, parentId }, ...walk(e, e.getAttribute("id"))])
      const states = walk(root, null)
      return {
        error: error === undefined ? null : error.textContent,
        rootName: root.localName,
        namespace: root.namespaceURI,
        version: root.getAttribute("version"),
        initial: root.getAttribute("initial"),
        states: states.map(({ e: s, parentId }) => ({
          id: s.getAttribute("id"),
          parent: parentId,
          transitions: [...s.children]
            .filter((e) => e.localName === "transition")
            .map((t) => ({
              event: t.getAttribute("event"),
              cond: t.getAttribute("cond"),
              target: t.getAttribute("target")
            }))
        }))
      }
    }, scxml)
    await page.close()
    assert.isNull(parsed.error)
    assert.strictEqual(parsed.rootName, "scxml")
    assert.strictEqual(parsed.namespace, "http://www.w3.org/2005/07/scxml")
    assert.strictEqual(parsed.version, "1.0")
    assert.strictEqual(parsed.initial, "loading")

    // The machine's own nesting, walked here from its state nodes.
    const nodes: Array<{ id: string; parent: string | null }> = []
    const walkMachine = (node: AnyStateNode, parent: string | null) => {
      for (const child of Object.values(node.states) as Array<AnyStateNode>) {
        nodes.push({ id: child.key, parent })
        walkMachine(child, child.key)
      }
    }
    walkMachine(LicenseMachine.licenseMachine.root, null)
    const machineStates = nodes.map((n) => n.id)
    assert.deepStrictEqual(
      parsed.states.map((s) => ({ id: s.id, parent: s.parent })),
      nodes
    )
    assert.include(machineStates, "renewDue")
    assert.strictEqual(nodes.find((n) => n.id === "active")?.parent, "licensed")
    const ids = new Set(machineStates)
    for (const state of parsed.states) {
      for (const t of state.transitions) {
        for (const target of (t.target ?? "").split(" ").filter((x: string) => x !== ""))
          assert.isTrue(ids.has(target), target)
      }
    }
    // Every edge of the JSON graph is a targeted transition in the SCXML (the graph is drawn from the same walk).
    const targeted = parsed.states.flatMap((s) =>
      s.transitions.filter((t) => t.target !== null).map((t) => `${s.id}->${t.target}`)
    )
    const graph = Chart.toGraph().edges.map((e) => `${e.from}->${e.to}`)
    assert.sameMembers(targeted, graph)
    // An actor's completion uses SCXML's own event name.
    assert.isTrue(parsed.states.some((s) => s.transitions.some((t) => t.event === "done.invoke.sync")))
  })

  it("is what `licensure chart --format scxml` prints", () => {
    const bin = fileURLToPath(new URL("../../packages/cli/src/bin/licensure.ts", import.meta.url))
    const run = spawnSync(process.execPath, [bin, "chart", "--format", "scxml"], { encoding: "utf8" })
    assert.strictEqual(run.status, 0, run.stderr)
    assert.strictEqual(run.stdout.trimEnd(), Chart.toScxml())
    const wrong = spawnSync(process.execPath, [bin, "chart", "--format", "png"], { encoding: "utf8" })
    assert.strictEqual(wrong.status, 2)
    assert.include(wrong.stderr, "--format expects one of mermaid, scxml, json")
  })
})
