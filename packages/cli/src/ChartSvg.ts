/**
 * The laid-out chart (`ChartLayout.layout`) as SVG markup: compound states as containers with their name in the
 * top band, leaf states as boxes, ELK's orthogonal routes as paths (corners slightly rounded) ending in an arrow,
 * and each edge's labels in the box ELK reserved for them, one line per transition. The inspector page inlines this
 * markup (styled by the page's `chart.css`); `licensure chart --format svg` and the page's export link add that
 * same stylesheet inside the SVG, so the file stands alone.
 *
 * Classes and `data-*` attributes are the page's hooks: `g.state[data-state]` (with `compound` for a container and
 * `data-parent`), `g.edge[data-from][data-to]`, `text.edge-label[data-from][data-to]`. A `current` state gets
 * `current` and its containers `ancestor`; the edges leaving it or any of them get `next`.
 *
 * @since 0.1.0
 */
import { LabelLineHeight, type LaidOutChart, type Point } from "./ChartLayout.ts"
import { readAsset } from "./inspector/Assets.ts"

export interface SvgOptions {
  /** A stylesheet to embed in a `<style>` element (the standalone file); none when the page styles it. */
  readonly style?: string | undefined
  /** The state to highlight, with its containers and its ways out. */
  readonly current?: string | undefined
  /** Show every edge label (the page hides all but the current state's ways out until asked). */
  readonly allLabels?: boolean | undefined
}

/** The chart's stylesheet (`inspector/chart.css`): the page's and every exported SVG's. */
export const stylesheet = (): string => readAsset("chart.css")

const xml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const n = (v: number) => String(Math.round(v * 10) / 10)

/** An orthogonal route with its corners rounded (radius at most 6, less on short segments). */
const routePath = (points: ReadonlyArray<Point>): string => {
  if (points.length === 0) return ""
  const parts = [`M${n(points[0]!.x)},${n(points[0]!.y)}`]
  for (let i = 1; i < points.length - 1; i++) {
    const prev = points[i - 1]!
    const at = points[i]!
    const next = points[i + 1]!
    const before = Math.hypot(at.x - prev.x, at.y - prev.y)
    const after = Math.hypot(next.x - at.x, next.y - at.y)
    const r = Math.min(6, before / 2, after / 2)
    if (r < 0.5) {
      parts.push(`L${n(at.x)},${n(at.y)}`)
      continue
    }
    const inX = at.x + ((prev.x - at.x) / before) * r
    const inY = at.y + ((prev.y - at.y) / before) * r
    const outX = at.x + ((next.x - at.x) / after) * r
    const outY = at.y + ((next.y - at.y) / after) * r
    parts.push(`L${n(inX)},${n(inY)}`, `Q${n(at.x)},${n(at.y)} ${n(outX)},${n(outY)}`)
  }
  const last = points[points.length - 1]!
  parts.push(`L${n(last.x)},${n(last.y)}`)
  return parts.join(" ")
}

/** The state and the states it sits in, innermost first. */
export const ancestry = (chart: LaidOutChart, state: string): ReadonlyArray<string> => {
  const parent = new Map(chart.nodes.map((node) => [node.id, node.parent]))
  const chain: Array<string> = []
  for (let s: string | undefined = state; s !== undefined && parent.has(s); s = parent.get(s)) chain.push(s)
  return chain
}

/** The chart as one `<svg>` element (with the XML namespace, so it is also a file on its own). */
export const render = (chart: LaidOutChart, options: SvgOptions = {}): string => {
  const chain = options.current === undefined ? [] : ancestry(chart, options.current)
  const ways = new Set(chain)
  const stateClass = (id: string, compound: boolean) =>
    [
      "state",
      ...(compound ? ["compound"] : []),
      ...(id === options.current ? ["current"] : []),
      ...(id !== options.current && ways.has(id) ? ["ancestor"] : [])
    ].join(" ")
  const out: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" id="chart" class="chart${options.allLabels === true ? " all-labels" : ""}" role="img" aria-label="the licence lifecycle state chart" viewBox="0 0 ${chart.width} ${chart.height}" width="${chart.width}" height="${chart.height}">`
  ]
  if (options.style !== undefined) out.push(`<style>${xml(options.style)}</style>`)
  out.push(
    "<defs>",
    '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">',
    '<path d="M0,0 L10,5 L0,10 z" class="arrowhead"/>',
    "</marker>",
    "</defs>",
    '<rect class="paper" width="100%" height="100%"/>'
  )
  const node = (id: string, compound: boolean, body: string, parent: string | undefined, depth: number) =>
    `<g class="${stateClass(id, compound)}" data-state="${xml(id)}"${parent === undefined ? "" : ` data-parent="${xml(parent)}"`} data-depth="${depth}"${id === options.current ? ' aria-current="true"' : ""}>${body}<title>${xml(id)}</title></g>`

  out.push('<g class="containers">')
  for (const c of chart.nodes.filter((s) => s.compound)) {
    out.push(
      node(
        c.id,
        true,
        `<rect x="${n(c.x)}" y="${n(c.y)}" width="${n(c.width)}" height="${n(c.height)}" rx="12"/>` +
          `<text class="title" x="${n(c.x + 12)}" y="${n(c.y + 17)}">${xml(c.id)}</text>`,
        c.parent,
        c.depth
      )
    )
  }
  out.push("</g>", '<g class="edges">')
  for (const e of chart.edges) {
    const next = ways.has(e.from) ? " next" : ""
    out.push(
      `<g class="edge${next}" data-from="${xml(e.from)}" data-to="${xml(e.to)}">` +
        `<path d="${routePath(e.points)}" marker-end="url(#arrow)"/>` +
        `<title>${xml(`${e.from} → ${e.to}: ${e.labels.join(", ")}`)}</title></g>`
    )
  }
  out.push("</g>", '<g class="states">')
  if (chart.start !== undefined) {
    const initial = chart.nodes.find((s) => s.id === chart.initial)
    if (initial !== undefined) {
      out.push(
        `<circle class="initial" cx="${n(chart.start.x)}" cy="${n(chart.start.y)}" r="6"/>`,
        `<path class="initial-arrow" d="M${n(chart.start.x + 6)},${n(chart.start.y)} L${n(initial.x)},${n(chart.start.y)}" marker-end="url(#arrow)"/>`
      )
    }
  }
  for (const s of chart.nodes.filter((s) => !s.compound)) {
    out.push(
      node(
        s.id,
        false,
        `<rect x="${n(s.x)}" y="${n(s.y)}" width="${n(s.width)}" height="${n(s.height)}" rx="9"/>` +
          `<text x="${n(s.x + s.width / 2)}" y="${n(s.y + s.height / 2)}">${xml(s.id)}</text>`,
        s.parent,
        s.depth
      )
    )
  }
  out.push("</g>", '<g class="labels">')
  for (const e of chart.edges) {
    if (e.label === undefined) continue
    const { x, y, width } = e.label
    const lines = e.labels
      .map(
        (text, i) => `<tspan x="${n(x + width / 2)}" y="${n(y + 1 + LabelLineHeight * (i + 0.5))}">${xml(text)}</tspan>`
      )
      .join("")
    out.push(
      `<text class="edge-label${ways.has(e.from) ? " next" : ""}" data-from="${xml(e.from)}" data-to="${xml(e.to)}">${lines}</text>`
    )
  }
  out.push("</g>", "</svg>")
  return out.join("\n")
}

/** A standalone SVG file: the XML declaration, the drawing and its stylesheet, every label shown. */
export const toSvgFile = (chart: LaidOutChart, current?: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n${render(chart, { style: stylesheet(), current, allLabels: true })}\n`
