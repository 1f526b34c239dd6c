/**
 * The SVG export (issue 12): the chart laid out by elkjs (`ChartLayout`) and drawn by `ChartSvg`, checked as
 * numbers (every state placed, children inside their containers, siblings apart, every edge routed by ELK) and as
 * a file: well-formed XML in the SVG namespace (Chromium's strict parser), every state drawn, the stylesheet inside
 * it (so it renders styled on its own), and the same document from `licensure chart --format svg`.
 */
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as ChartLayout from "@licensure/cli/ChartLayout"
import * as ChartSvg from "@licensure/cli/ChartSvg"
import * as Chart from "@licensure/core/Chart"
import { type Browser, chromium } from "playwright-core"

/** The browser's globals the page functions use (this file is compiled without the DOM library). */
declare const document: { querySelector(selector: string): any; querySelectorAll(selector: string): any }
declare const DOMParser: new () => { parseFromString(text: string, type: string): any }
declare const getComputedStyle: (element: any) => { fill: string; visibility: string }

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

const graph = Chart.toGraph()

describe("the chart's layout", () => {
  it("places every state, keeps each child inside its container and siblings apart, and routes every edge", async () => {
    const chart = await ChartLayout.layout(graph)
    assert.deepStrictEqual(
      chart.nodes.map((n) => n.id),
      [...graph.states]
    )
    const byId = new Map(chart.nodes.map((n) => [n.id, n]))
    for (const node of chart.nodes) {
      assert.isAbove(node.width, 0, node.id)
      assert.isAbove(node.height, 0, node.id)
      assert.isTrue(node.x >= 0 && node.y >= 0, `${node.id} inside the drawing`)
      assert.isTrue(node.x + node.width <= chart.width && node.y + node.height <= chart.height, node.id)
      assert.strictEqual(node.compound, graph.nodes.find((n) => n.id === node.id)!.children.length > 0)
      if (node.parent === undefined) continue
      const parent = byId.get(node.parent)!
      assert.isTrue(
        node.x >= parent.x &&
          node.y >= parent.y &&
          node.x + node.width <= parent.x + parent.width &&
          node.y + node.height <= parent.y + parent.height,
        `${node.id} inside ${parent.id}`
      )
      for (const sibling of chart.nodes) {
        if (sibling === node || sibling.parent !== node.parent) continue
        const apart =
          node.x + node.width <= sibling.x ||
          sibling.x + sibling.width <= node.x ||
          node.y + node.height <= sibling.y ||
          sibling.y + sibling.height <= node.y
        assert.isTrue(apart, `${node.id} and ${sibling.id} overlap`)
      }
    }
    // One edge per pair of states, each with ELK's orthogonal route and a label box.
    const pairs = new Set(graph.edges.map((e) => `${e.from}>${e.to}`))
    assert.strictEqual(chart.edges.length, pairs.size)
    for (const e of chart.edges) {
      assert.isAtLeast(e.points.length, 2, `${e.from}>${e.to}`)
      for (let i = 1; i < e.points.length; i++) {
        const a = e.points[i - 1]!
        const b = e.points[i]!
        // Where a route crosses a container's border ELK joins two sections, a fraction of a pixel apart.
        assert.isTrue(Math.abs(a.x - b.x) < 1 || Math.abs(a.y - b.y) < 1, `${e.from}>${e.to} is orthogonal`)
      }
      assert.isDefined(e.label)
      const labelled = graph.edges.filter((g) => g.from === e.from && g.to === e.to).map(ChartLayout.edgeLabel)
      assert.sameMembers([...e.labels], [...new Set(labelled)])
    }
  })
})

describe("the SVG export", () => {
  it("is a well-formed standalone SVG with every state, styled by its own stylesheet", async () => {
    const file = ChartSvg.toSvgFile(await ChartLayout.layout(graph), "grace")
    const page = await browser.newPage()
    await page.goto(`data:image/svg+xml;base64,${Buffer.from(file).toString("base64")}`)
    const parsed = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, "image/svg+xml")
      const rendered = document.querySelector('g.state.compound[data-state="ready"] rect')
      return {
        errors: doc.getElementsByTagName("parsererror").length,
        root: doc.documentElement.localName,
        namespace: doc.documentElement.namespaceURI,
        states: [...doc.querySelectorAll("g.state")].map((g: any) => g.getAttribute("data-state")),
        current: [...doc.querySelectorAll("g.state.current")].map((g: any) => g.getAttribute("data-state")),
        ancestors: [...doc.querySelectorAll("g.state.ancestor")].map((g: any) => g.getAttribute("data-state")),
        labels: doc.querySelectorAll("text.edge-label").length,
        // The file as the browser shows it: its own <style> applies (a container's fill is the chart's, not black).
        fill: rendered === null ? null : getComputedStyle(rendered).fill,
        labelShown: getComputedStyle(document.querySelector("text.edge-label")!).visibility
      }
    }, file)
    await page.close()
    assert.strictEqual(parsed.errors, 0)
    assert.strictEqual(parsed.root, "svg")
    assert.strictEqual(parsed.namespace, "http://www.w3.org/2000/svg")
    assert.sameMembers(parsed.states, [...graph.states])
    assert.deepStrictEqual(parsed.current, ["grace"])
    assert.sameMembers(parsed.ancestors, ["licensed", "standing", "activated", "ready"])
    assert.strictEqual(parsed.labels, new Set(graph.edges.map((e) => `${e.from}>${e.to}`)).size)
    assert.strictEqual(parsed.fill, "rgb(233, 238, 252)")
    assert.strictEqual(parsed.labelShown, "visible")
  })

  it("is what `licensure chart --format svg` prints: the same layout", async () => {
    const bin = fileURLToPath(new URL("../../packages/cli/src/bin/licensure.ts", import.meta.url))
    const run = spawnSync(process.execPath, [bin, "chart", "--format", "svg"], { encoding: "utf8" })
    assert.strictEqual(run.status, 0, run.stderr)
    assert.strictEqual(run.stdout, ChartSvg.toSvgFile(await ChartLayout.layout(graph)))
    assert.match(
      run.stdout,
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/
    )
  })
})
