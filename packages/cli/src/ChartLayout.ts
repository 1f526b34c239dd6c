/**
 * The lifecycle chart laid out by elkjs (the Eclipse Layout Kernel, as Stately's visualizer uses it): the layered
 * algorithm over the machine's own graph (`Chart.toGraph`), compound states as containers holding their children
 * (`hierarchyHandling: INCLUDE_CHILDREN`, so one layering spans every level and an edge may cross containers), every
 * edge routed orthogonally by ELK and its label placed by ELK as part of the layering. Nothing is hand-placed.
 *
 * Transitions between the same two states become one edge carrying every distinct label (one line each), so the
 * drawing has one arrow per way out, not one per guard. The result is plain data in absolute coordinates (the
 * chart's top-left is 0,0), computed once by the inspector and by `licensure chart --format svg`, and drawn by
 * `ChartSvg.render`.
 *
 * DECISION: layout runs in Node, not in the page. Measured on this chart (24 states, 31 edges): in Chromium,
 * `elk.bundled.js` (1.6 MB of transpiled Java) takes 0.3–0.5 s to parse and 0.5 s to lay out, on every page load;
 * in Node, importing elkjs takes 0.15 s and the first layout 0.3–0.6 s (0.2 s warm), once per process, while the
 * inspector is already serving (it starts in milliseconds and only the drawing routes wait). The page then gets a
 * ready SVG inline (35 KB of HTML, first highlight 0.2–0.45 s after navigation), and `licensure chart --format
 * svg` is the same drawing.
 *
 * Text is measured by a width estimate per character (Node has no fonts); boxes are sized generously so the
 * system font fits.
 *
 * @since 0.1.0
 */
import type { ChartEdge, ChartGraph } from "@licensure/core/Chart"
import type { ELK as ElkApi } from "elkjs/lib/elk-api.js"
import * as ElkBundled from "elkjs/lib/elk.bundled.js"

// elkjs is CommonJS whose `module.exports` is the class. An import (not `createRequire`) lets esbuild inline it in
// the bundled bin. At run time the namespace's `default` is that class both in Node (a CommonJS module's default is
// `module.exports`) and in esbuild's bundle (node-mode interop in a `"type": "module"` package); the types disagree
// by module setting (the class for a bundler, the namespace for nodenext), hence the cast.
const ELK = ElkBundled.default as unknown as new () => ElkApi

export interface Point {
  readonly x: number
  readonly y: number
}

export interface Box {
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

/** One state's box; a compound state's box holds its children's, its name sits in its top band. */
export interface LaidOutNode extends Box {
  readonly id: string
  readonly parent: string | undefined
  readonly compound: boolean
  /** 0 for a top-level state, 1 for its children, … */
  readonly depth: number
}

/** All the transitions from one state to another: ELK's route (start, bend points, end) and its label's box. */
export interface LaidOutEdge {
  readonly from: string
  readonly to: string
  readonly labels: ReadonlyArray<string>
  readonly points: ReadonlyArray<Point>
  readonly label: Box | undefined
}

export interface LaidOutChart {
  readonly width: number
  readonly height: number
  readonly initial: string
  /** Parents before their children, in the graph's order: drawing in this order puts children on top. */
  readonly nodes: ReadonlyArray<LaidOutNode>
  readonly edges: ReadonlyArray<LaidOutEdge>
  /** The initial-state marker: a dot left of the initial state's box. */
  readonly start: Point | undefined
}

/** Font sizes the drawing uses (`ChartSvg`, `page.css`), and the estimated width of one character in each. */
export const StateFontSize = 13
export const LabelFontSize = 10
export const LabelLineHeight = 12
const StateCharWidth = 7.6
const LabelCharWidth = 5.9
const LeafHeight = 34
const CompoundTitleBand = 26
const Margin = 24
const StartMarkerGap = 28

/** `SYNC [hasFacts]`, `always`, `[verdictIs(active)]`: how a transition is written on its edge. */
export const edgeLabel = (e: ChartEdge): string => {
  if (e.event === "always") return e.guard === undefined ? "always" : `[${e.guard}]`
  return e.guard === undefined ? e.event : `${e.event} [${e.guard}]`
}

const mergeEdges = (edges: ReadonlyArray<ChartEdge>) => {
  const merged = new Map<string, { from: string; to: string; labels: Array<string> }>()
  for (const e of edges) {
    const key = `${e.from}\u0000${e.to}`
    const entry = merged.get(key) ?? { from: e.from, to: e.to, labels: [] }
    const label = edgeLabel(e)
    if (!entry.labels.includes(label)) entry.labels.push(label)
    merged.set(key, entry)
  }
  return [...merged.values()]
}

const labelSize = (lines: ReadonlyArray<string>) => ({
  width: Math.ceil(Math.max(...lines.map((l) => l.length)) * LabelCharWidth) + 6,
  height: lines.length * LabelLineHeight + 2
})

interface ElkIn {
  id: string
  width?: number
  height?: number
  layoutOptions?: Record<string, string>
  children?: Array<ElkIn>
  edges?: Array<{
    id: string
    sources: Array<string>
    targets: Array<string>
    labels: Array<{ id: string; text: string; width: number; height: number }>
  }>
}

interface ElkOut {
  id: string
  x?: number
  y?: number
  width?: number
  height?: number
  children?: Array<ElkOut>
  edges?: Array<{
    id: string
    sections?: Array<{ startPoint: Point; endPoint: Point; bendPoints?: Array<Point> }>
    labels?: Array<{ x?: number; y?: number; width?: number; height?: number }>
  }>
}

const LayoutOptions: Record<string, string> = {
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  "elk.hierarchyHandling": "INCLUDE_CHILDREN",
  "elk.edgeRouting": "ORTHOGONAL",
  "elk.edgeLabels.placement": "CENTER",
  "elk.layered.edgeLabels.sideSelection": "SMART_DOWN",
  "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
  "elk.layered.crossingMinimization.strategy": "LAYER_SWEEP",
  "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
  "elk.spacing.nodeNode": "22",
  "elk.layered.spacing.nodeNodeBetweenLayers": "30",
  "elk.spacing.edgeNode": "14",
  "elk.spacing.edgeEdge": "7",
  "elk.layered.spacing.edgeNodeBetweenLayers": "10",
  "elk.layered.spacing.edgeEdgeBetweenLayers": "6",
  "elk.spacing.edgeLabel": "3",
  "elk.spacing.labelLabel": "4",
  "elk.layered.mergeEdges": "false",
  // Coordinates of every shape and edge section relative to the root, so nothing needs re-basing here.
  "elk.json.shapeCoords": "ROOT",
  "elk.json.edgeCoords": "ROOT"
}

const CompoundOptions: Record<string, string> = {
  "elk.padding": `[top=${CompoundTitleBand + 8},left=14,bottom=14,right=14]`,
  "elk.nodeLabels.placement": "[H_LEFT, V_TOP, INSIDE]"
}

const elk = new ELK()

/** Lays the graph out; rejects only if ELK itself fails (a bug, not a condition of the chart). */
export const layout = async (graph: ChartGraph): Promise<LaidOutChart> => {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]))
  const pairs = mergeEdges(graph.edges)
  const elkNode = (id: string): ElkIn => {
    const node = byId.get(id)!
    if (node.children.length === 0) {
      return { id, width: Math.ceil(id.length * StateCharWidth) + 28, height: LeafHeight }
    }
    return {
      id,
      layoutOptions: {
        ...CompoundOptions,
        // A container at least as wide as its own name.
        "elk.nodeSize.constraints": "MINIMUM_SIZE",
        "elk.nodeSize.minimum": `(${Math.ceil(id.length * StateCharWidth) + 28}, ${CompoundTitleBand + 20})`
      },
      children: node.children.map(elkNode)
    }
  }
  const root: ElkIn = {
    id: "root",
    layoutOptions: {
      ...LayoutOptions,
      "elk.padding": `[top=${Margin},left=${Margin + StartMarkerGap},bottom=${Margin},right=${Margin}]`
    },
    children: graph.nodes.filter((n) => n.parent === undefined).map((n) => elkNode(n.id)),
    edges: pairs.map((p, i) => ({
      id: `e${i}`,
      sources: [p.from],
      targets: [p.to],
      labels: [{ id: `e${i}.label`, text: p.labels.join("\n"), ...labelSize(p.labels) }]
    }))
  }
  const out = (await elk.layout(root as never)) as unknown as ElkOut

  const nodes: Array<LaidOutNode> = []
  const visit = (n: ElkOut, parent: string | undefined, depth: number) => {
    const source = byId.get(n.id)!
    nodes.push({
      id: n.id,
      parent,
      compound: source.children.length > 0,
      depth,
      x: n.x ?? 0,
      y: n.y ?? 0,
      width: n.width ?? 0,
      height: n.height ?? 0
    })
    for (const child of n.children ?? []) visit(child, n.id, depth + 1)
  }
  for (const child of out.children ?? []) visit(child, undefined, 0)
  // ELK keeps the children in the input's order; restore the graph's own order (parents first) to be sure.
  const order = new Map(graph.states.map((s, i) => [s, i]))
  nodes.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0))

  const laidOutEdges = new Map<string, ElkOut["edges"] extends Array<infer E> | undefined ? E : never>()
  const collect = (n: ElkOut) => {
    for (const e of n.edges ?? []) laidOutEdges.set(e.id, e)
    for (const child of n.children ?? []) collect(child)
  }
  collect(out)
  const edges = pairs.map((p, i): LaidOutEdge => {
    const e = laidOutEdges.get(`e${i}`)
    const section = e?.sections?.[0]
    const points = section === undefined ? [] : [section.startPoint, ...(section.bendPoints ?? []), section.endPoint]
    const l = e?.labels?.[0]
    const label = l === undefined ? undefined : { x: l.x ?? 0, y: l.y ?? 0, width: l.width ?? 0, height: l.height ?? 0 }
    return { from: p.from, to: p.to, labels: p.labels, points, label }
  })

  const initial = nodes.find((n) => n.id === graph.initial)
  return {
    width: Math.ceil(out.width ?? 0),
    height: Math.ceil(out.height ?? 0),
    initial: graph.initial,
    nodes,
    edges,
    start: initial === undefined ? undefined : { x: initial.x - StartMarkerGap + 4, y: initial.y + initial.height / 2 }
  }
}
