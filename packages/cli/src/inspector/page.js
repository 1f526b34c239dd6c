/**
 * The inspector page's script, inlined into the page by `Page.ts` (a classic script: no modules, no framework, no
 * network beyond the inspector's own origin). It draws the chart from `chart.json` as SVG, then follows `events`
 * (Server-Sent Events, the current view first) to move the highlight and grow the timeline.
 *
 * Layout: every state gets a column, starting from its breadth-first depth from the initial state and then moved
 * one state at a time while that makes the drawing cheaper (an edge inside a column is the worst, an edge that
 * skips columns is bad, a crowded column or one more column a little bad). Rows follow the mean height of each
 * state's neighbours, a few sweeps each way. A tall column is drawn as two staggered half-columns, so edges into
 * its far half pass between the boxes of its near half. Edges between the same two states become one path with
 * every label; an edge to the next column bends to the left of its direction (so the two directions of a pair stay
 * apart), a longer one goes around the chart: forward over the top, backward under the bottom.
 */

const SVG_NS = "http://www.w3.org/2000/svg"
const NODE_W = 150
const NODE_H = 34
const COLUMN_GAP = 120
const ROW_STEP = 64
const STAGGER_SHIFT = NODE_W + 40
const STAGGER_OVER = 6
const MARGIN = 40
const CHANNEL_STEP = 16
const TIMELINE_LIMIT = 500

const svgElement = (name, attributes, parent) => {
  const element = document.createElementNS(SVG_NS, name)
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value))
  if (parent !== undefined) parent.appendChild(element)
  return element
}

const edgeLabel = (e) => {
  if (e.event === "always") return e.guard === undefined ? "always" : "[" + e.guard + "]"
  return e.guard === undefined ? e.event : e.event + " [" + e.guard + "]"
}

/** One entry per (from, to) pair, with the distinct labels of every transition between them. */
const mergeEdges = (edges) => {
  const merged = new Map()
  for (const e of edges) {
    const key = e.from + "\u0000" + e.to
    const entry = merged.get(key) ?? { from: e.from, to: e.to, labels: [] }
    const label = edgeLabel(e)
    if (!entry.labels.includes(label)) entry.labels.push(label)
    merged.set(key, entry)
  }
  return [...merged.values()]
}

const breadthFirstDepths = (graph, pairs) => {
  const next = new Map(graph.states.map((s) => [s, []]))
  for (const e of pairs) next.get(e.from)?.push(e.to)
  const depth = new Map([[graph.initial, 0]])
  const queue = [graph.initial]
  while (queue.length > 0) {
    const s = queue.shift()
    for (const t of next.get(s) ?? []) {
      if (!depth.has(t)) {
        depth.set(t, depth.get(s) + 1)
        queue.push(t)
      }
    }
  }
  // States the initial state cannot reach still get drawn, in a last column.
  const deepest = Math.max(0, ...depth.values())
  for (const s of graph.states) if (!depth.has(s)) depth.set(s, deepest + 1)
  return depth
}

const drawingCost = (graph, pairs, column) => {
  let cost = 0
  for (const e of pairs) {
    const from = column.get(e.from)
    const to = column.get(e.to)
    const span = Math.abs(to - from)
    cost += span === 0 ? 3 : span - 1 + (to < from ? 0.2 : 0)
  }
  const sizes = new Map()
  for (const s of graph.states) sizes.set(column.get(s), (sizes.get(column.get(s)) ?? 0) + 1)
  for (const n of sizes.values()) cost += Math.max(0, n - 10)
  return cost + Math.max(...column.values())
}

/** Columns of states, left to right, the initial state alone in the first. */
const columnsOf = (graph, pairs) => {
  const column = breadthFirstDepths(graph, pairs)
  let best = drawingCost(graph, pairs, column)
  for (let round = 0, improved = true; improved && round < 100; round++) {
    improved = false
    for (const s of graph.states) {
      if (s === graph.initial) continue
      const was = column.get(s)
      for (const to of [was - 1, was + 1, was - 2, was + 2]) {
        if (to < 1) continue
        column.set(s, to)
        const cost = drawingCost(graph, pairs, column)
        if (cost < best) {
          best = cost
          improved = true
          break
        }
        column.set(s, was)
      }
    }
  }
  const columns = []
  for (const s of graph.states) {
    const c = column.get(s)
    if (columns[c] === undefined) columns[c] = []
    columns[c].push(s)
  }
  return columns.filter((c) => c !== undefined)
}

const rowStep = (column) => (column.length > STAGGER_OVER ? ROW_STEP / 2 : ROW_STEP)

/** Orders each column by the mean height of its neighbours in the columns beside it. */
const orderRows = (columns, pairs) => {
  const y = new Map()
  const place = (column) => {
    column.forEach((s, i) => {
      y.set(s, (i - (column.length - 1) / 2) * rowStep(column))
    })
  }
  columns.forEach(place)
  const index = new Map()
  columns.forEach((column, c) => {
    for (const s of column) index.set(s, c)
  })
  const neighbours = new Map()
  for (const e of pairs) {
    for (const [a, b] of [
      [e.from, e.to],
      [e.to, e.from]
    ]) {
      if (Math.abs(index.get(a) - index.get(b)) !== 1) continue
      if (!neighbours.has(a)) neighbours.set(a, [])
      neighbours.get(a).push(b)
    }
  }
  const sweep = (column) => {
    const keyed = column.map((s, i) => {
      const near = neighbours.get(s) ?? []
      return { s, i, key: near.length === 0 ? y.get(s) : near.reduce((sum, n) => sum + y.get(n), 0) / near.length }
    })
    keyed.sort((a, b) => a.key - b.key || a.i - b.i)
    column.splice(0, column.length, ...keyed.map((k) => k.s))
    place(column)
  }
  for (let round = 0; round < 4; round++) {
    for (let c = 1; c < columns.length; c++) sweep(columns[c])
    for (let c = columns.length - 2; c >= 1; c--) sweep(columns[c])
  }
  return columns
}

/** Box centres and column indexes for every state. */
const layout = (graph, pairs) => {
  const columns = orderRows(columnsOf(graph, pairs), pairs)
  const tallest = Math.max(1, ...columns.map((c) => (c.length - 1) * rowStep(c)))
  const middle = MARGIN + NODE_H / 2 + tallest / 2
  const positions = new Map()
  let x = MARGIN + NODE_W / 2
  columns.forEach((column, c) => {
    const staggered = column.length > STAGGER_OVER
    const step = rowStep(column)
    const top = middle - ((column.length - 1) * step) / 2
    column.forEach((s, i) => {
      const dx = staggered && i % 2 === 1 ? STAGGER_SHIFT : 0
      positions.set(s, { x: x + dx, y: top + i * step, column: c })
    })
    x += (staggered ? NODE_W + STAGGER_SHIFT : NODE_W) + COLUMN_GAP
  })
  return {
    positions,
    width: x - COLUMN_GAP + MARGIN - NODE_W / 2,
    top: MARGIN,
    bottom: MARGIN + NODE_H + tallest
  }
}

/** Where the ray from a box's centre towards `toward` leaves the box. */
const boxExit = (centre, toward, padding) => {
  const dx = toward.x - centre.x
  const dy = toward.y - centre.y
  const halfW = NODE_W / 2 + padding
  const halfH = NODE_H / 2 + padding
  const scale = Math.min(dx === 0 ? Infinity : halfW / Math.abs(dx), dy === 0 ? Infinity : halfH / Math.abs(dy))
  return scale >= 1 ? toward : { x: centre.x + dx * scale, y: centre.y + dy * scale }
}

const point = (p) => p.x.toFixed(1) + "," + p.y.toFixed(1)

/** A short edge: one quadratic curve bending to the left of its direction. */
const bentEdge = (a, b) => {
  const dx = b.x - a.x
  const dy = b.y - a.y
  const length = Math.hypot(dx, dy)
  const bend = Math.min(50, 12 + length * 0.1)
  const control = { x: (a.x + b.x) / 2 + (dy / length) * bend, y: (a.y + b.y) / 2 - (dx / length) * bend }
  const start = boxExit(a, control, 0)
  const end = boxExit(b, control, 3)
  const mid = { x: 0.25 * start.x + 0.5 * control.x + 0.25 * end.x, y: 0.25 * start.y + 0.5 * control.y + 0.25 * end.y }
  return { d: "M" + point(start) + " Q" + point(control) + " " + point(end), mid }
}

/** A long edge: out of the side facing the target, around the chart at `channel`, into the target's side. */
const channelEdge = (a, b, channel) => {
  const direction = Math.sign(b.x - a.x)
  const start = { x: a.x + (direction * NODE_W) / 2, y: a.y }
  const end = { x: b.x - direction * (NODE_W / 2 + 3), y: b.y }
  // A cubic with both inner control points at height h reaches 0.25·y + 0.75·h at its middle.
  const h = (channel - 0.25 * (start.y + end.y) * 0.5) / 0.75
  const c1 = { x: start.x + direction * 30, y: h }
  const c2 = { x: end.x - direction * 30, y: h }
  return {
    d: "M" + point(start) + " C" + point(c1) + " " + point(c2) + " " + point(end),
    mid: { x: (start.x + end.x) / 2, y: channel }
  }
}

const selfLoop = (p) => {
  const x = p.x + NODE_W / 4
  const y = p.y - NODE_H / 2
  return {
    d:
      "M" +
      point({ x: x - 12, y }) +
      " C" +
      point({ x: x - 24, y: y - 40 }) +
      " " +
      point({ x: x + 24, y: y - 40 }) +
      " " +
      point({ x: x + 12, y }),
    mid: { x, y: y - 32 }
  }
}

const shortLabel = (labels) => {
  const text = labels.join(", ")
  return text.length > 34 ? text.slice(0, 33) + "…" : text
}

const drawChart = (graph) => {
  const pairs = mergeEdges(graph.edges)
  const { positions, width, top, bottom } = layout(graph, pairs)
  const svg = document.getElementById("chart")
  const defs = svgElement("defs", {}, svg)
  const marker = svgElement(
    "marker",
    {
      id: "arrow",
      viewBox: "0 0 10 10",
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: "auto-start-reverse"
    },
    defs
  )
  svgElement("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }, marker)

  const edgeLayer = svgElement("g", { class: "edges" }, svg)
  // Labels go under the boxes: a state's name always wins over an edge's.
  const labelLayer = svgElement("g", { class: "labels" }, svg)
  const nodeLayer = svgElement("g", { class: "states" }, svg)

  // Long edges get their own lane around the chart, the shortest nearest to it.
  const span = (e) => Math.abs(positions.get(e.to).column - positions.get(e.from).column)
  const long = pairs.filter((e) => span(e) >= 2).sort((a, b) => span(a) - span(b))
  const lane = new Map()
  let over = 0
  let under = 0
  for (const e of long) {
    const forward = positions.get(e.to).column > positions.get(e.from).column
    lane.set(e, forward ? top - 22 - CHANNEL_STEP * over++ : bottom + 22 + CHANNEL_STEP * under++)
  }
  const minY = Math.min(0, top - 22 - CHANNEL_STEP * over - 10)
  const maxY = bottom + 22 + CHANNEL_STEP * under + MARGIN / 2

  for (const e of pairs) {
    const a = positions.get(e.from)
    const b = positions.get(e.to)
    if (a === undefined || b === undefined) continue
    const geometry = e.from === e.to ? selfLoop(a) : lane.has(e) ? channelEdge(a, b, lane.get(e)) : bentEdge(a, b)
    const group = svgElement("g", { class: "edge", "data-from": e.from, "data-to": e.to }, edgeLayer)
    svgElement("path", { d: geometry.d, "marker-end": "url(#arrow)" }, group)
    svgElement("title", {}, group).textContent = e.from + " → " + e.to + ": " + e.labels.join(", ")
    const label = svgElement(
      "text",
      {
        class: lane.has(e) ? "edge-label lane" : "edge-label",
        x: geometry.mid.x.toFixed(1),
        y: geometry.mid.y.toFixed(1),
        "data-from": e.from,
        "data-to": e.to
      },
      labelLayer
    )
    label.textContent = shortLabel(e.labels)
  }

  const start = positions.get(graph.initial)
  if (start !== undefined) {
    const x = start.x - NODE_W / 2 - 30
    svgElement("circle", { class: "initial", cx: x, cy: start.y, r: 6 }, nodeLayer)
    svgElement(
      "path",
      {
        class: "initial-arrow",
        d: "M" + (x + 6) + "," + start.y + " L" + (x + 26) + "," + start.y,
        "marker-end": "url(#arrow)"
      },
      nodeLayer
    )
  }

  for (const s of graph.states) {
    const p = positions.get(s)
    const group = svgElement(
      "g",
      {
        class: "state",
        "data-state": s,
        transform: "translate(" + (p.x - NODE_W / 2) + "," + (p.y - NODE_H / 2) + ")"
      },
      nodeLayer
    )
    svgElement("rect", { width: NODE_W, height: NODE_H, rx: 9 }, group)
    const text = svgElement("text", { x: NODE_W / 2, y: NODE_H / 2 }, group)
    text.textContent = s
    svgElement("title", {}, group).textContent = s
  }

  svg.setAttribute("viewBox", "0 " + minY + " " + width + " " + (maxY - minY))
  svg.setAttribute("width", String(width))
  svg.setAttribute("height", String(maxY - minY))
}

const tone = (view) => (view.status.code === 0 ? "ok" : view.settled ? "bad" : "busy")

/** Each state's parent (compound states own the commands their children share), from `chart.json`'s nodes. */
const parents = new Map()

/** The state and every state it sits in: the edges leaving any of them are the ways out of the state. */
const withAncestors = (state) => {
  const chain = []
  for (let s = state; s !== undefined; s = parents.get(s)) chain.push(s)
  return chain
}

const highlight = (view) => {
  const ways = new Set(withAncestors(view.state))
  for (const node of document.querySelectorAll("#chart .state")) {
    const current = node.getAttribute("data-state") === view.state
    node.classList.toggle("current", current)
    node.classList.remove("ok", "bad", "busy")
    if (current) {
      node.classList.add(tone(view), "visited")
      node.setAttribute("aria-current", "true")
    } else {
      node.removeAttribute("aria-current")
    }
  }
  for (const edge of document.querySelectorAll("#chart [data-from]")) {
    edge.classList.toggle("next", ways.has(edge.getAttribute("data-from")))
  }
}

const formatTime = (ms) => new Date(ms).toISOString().replace("T", " ").replace(".000Z", "Z")

const describeError = (failure) =>
  failure === undefined
    ? "—"
    : failure.operation + ": " + failure.kind + (failure.code ? " " + failure.code : "") + " — " + failure.message

const cell = (row, className, text) => {
  const span = document.createElement("span")
  span.className = className
  span.textContent = text
  row.appendChild(span)
  return span
}

let lastEntry = ""

const addToTimeline = (view) => {
  const error = describeError(view.lastError)
  // A reconnect replays the current view; one line per moment is enough.
  const key = [view.time, view.state, view.status.name, error].join("\u0000")
  if (key === lastEntry) return
  lastEntry = key
  const list = document.getElementById("timeline")
  const item = document.createElement("li")
  item.setAttribute("data-state", view.state)
  item.className = tone(view)
  const time = document.createElement("time")
  time.dateTime = new Date(view.time).toISOString()
  time.textContent = formatTime(view.time)
  item.appendChild(time)
  cell(item, "state", view.state)
  cell(item, "status", view.status.name + " (" + view.status.code + ")")
  cell(item, "error", error).title = error
  list.insertBefore(item, list.firstChild)
  while (list.children.length > TIMELINE_LIMIT) list.removeChild(list.lastChild)
}

/** "in 2 h", "3 d ago": the distance from the licence clock `now` to `ms`, in its largest whole unit. */
const relative = (ms, now) => {
  const diff = ms - now
  const abs = Math.abs(diff)
  const units = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["min", 60_000],
    ["s", 1000]
  ]
  const [unit, size] = units.find(([, s]) => abs >= s) ?? ["s", 1000]
  const n = Math.round(abs / size)
  if (n === 0) return "now"
  return diff >= 0 ? "in " + n + " " + unit : n + " " + unit + " ago"
}

const localTime = (ms) => new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })

/** A deadline as local time and relative to the licence clock, or `none` when there is none. */
const when = (ms, now, none) => (ms === undefined ? none : localTime(ms) + " (" + relative(ms, now) + ")")

const showSummary = (view) => {
  const now = view.time
  document.getElementById("current-state").textContent = view.state
  document.getElementById("current-status").textContent = view.status.name + " (" + view.status.code + ")"
  document.getElementById("licensed").textContent = view.licensed ? "yes" : "no"
  // A simulation's clock is far from the page's: say so, so nobody reads virtual time as wall time.
  const virtual = Math.abs(now - Date.now()) > 60_000
  document.getElementById("clock").textContent = localTime(now) + (virtual ? " (virtual time)" : "")
  document.getElementById("next-sync").textContent = when(view.nextSyncAt, now, "—")
  document.getElementById("grace").textContent = when(view.license?.graceExpiresAt, now, "no grace deadline")
  document.getElementById("expires").textContent = when(view.license?.expiresAt, now, "never / unknown")
  document.getElementById("lease").textContent = when(view.license?.leaseExpiresAt, now, "no lease")
}

const setConnection = (text, className) => {
  const badge = document.getElementById("connection")
  badge.textContent = text
  badge.className = className
}

const follow = () => {
  const events = new EventSource("events")
  events.onopen = () => setConnection("live", "live")
  events.onerror = () => setConnection("reconnecting…", "down")
  events.onmessage = (message) => {
    const view = JSON.parse(message.data)
    highlight(view)
    showSummary(view)
    addToTimeline(view)
  }
}

document.getElementById("all-labels").addEventListener("change", (event) => {
  document.body.classList.toggle("all-labels", event.target.checked)
})

fetch("chart.json")
  .then((response) => {
    if (!response.ok) throw new Error("chart.json answered " + response.status)
    return response.json()
  })
  .then((graph) => {
    for (const node of graph.nodes ?? []) if (node.parent !== undefined) parents.set(node.id, node.parent)
    drawChart(graph)
    document.body.setAttribute("data-chart", "ready")
    follow()
  })
  .catch((error) => {
    setConnection("chart failed: " + error.message, "down")
  })
