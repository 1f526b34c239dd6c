/**
 * The inspector page's script, inlined into the page by `Page.ts` (a classic script: no modules, no framework, no
 * network beyond the inspector's own origin). The chart is already in the page: laid out by elkjs in the inspector
 * process and inlined as SVG (`ChartSvg.ts`), so nothing here places anything. The script follows `events`
 * (Server-Sent Events: the inspector's history since it started, then every change) to move the highlight, fill
 * the header and grow the timeline, and lets the reader step back through that timeline (replay) and export the
 * chart as shown. A page serving a recording (`data-source="replay"`) plays it once it has arrived.
 *
 * Every event has an id `<server>.<sequence>`; EventSource sends the last one back when it reconnects and the
 * server resumes after it. The page also ignores an id it has already seen, so a timeline never shows a moment
 * twice, and keeps what it had when the inspector restarts under it (a new server name).
 */

const TIMELINE_LIMIT = 500

const tone = (view) => (view.status.code === 0 ? "ok" : view.settled ? "bad" : "busy")

/** Each state's parent (compound states own the commands their children share), from the drawing itself. */
const parents = new Map()
for (const node of document.querySelectorAll("#chart g.state[data-parent]")) {
  parents.set(node.getAttribute("data-state"), node.getAttribute("data-parent"))
}

/** The state and every state it sits in: the edges leaving any of them are the ways out of the state. */
const withAncestors = (state) => {
  const chain = []
  for (let s = state; s !== undefined && s !== null; s = parents.get(s)) chain.push(s)
  return chain
}

const visited = new Set()

const highlight = (view) => {
  const ways = new Set(withAncestors(view.state))
  for (const node of document.querySelectorAll("#chart g.state")) {
    const id = node.getAttribute("data-state")
    const current = id === view.state
    node.classList.toggle("current", current)
    node.classList.toggle("ancestor", !current && ways.has(id))
    node.classList.toggle("visited", visited.has(id))
    node.classList.remove("ok", "bad", "busy")
    if (current) {
      node.classList.add(tone(view))
      node.setAttribute("aria-current", "true")
    } else {
      node.removeAttribute("aria-current")
    }
  }
  for (const edge of document.querySelectorAll("#chart [data-from]")) {
    edge.classList.toggle("next", ways.has(edge.getAttribute("data-from")))
  }
  const exportLink = document.getElementById("export-svg")
  exportLink.setAttribute("href", "chart.svg?state=" + encodeURIComponent(view.state))
  exportLink.setAttribute("download", "licensure-chart-" + view.state + ".svg")
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

/** What the page has seen, oldest first: `{ id, view }`, the replay's steps. */
const moments = []
/** The last sequence number seen from each inspector server (a restarted watcher is a new server). */
const lastSequence = new Map()

/** False for an event the page already has: one per moment, whatever the reconnects. */
const isNew = (id) => {
  const cut = id.lastIndexOf(".")
  const server = id.slice(0, cut)
  const sequence = Number(id.slice(cut + 1))
  if (sequence <= (lastSequence.get(server) ?? 0)) return false
  lastSequence.set(server, sequence)
  return true
}

/** The simulation's clock (the demo's year, a test's `TestClock`) is not the reader's: said on every time shown. */
const isVirtual = (view) => view.virtual === true || Math.abs(view.time - Date.now()) > 60_000

const addToTimeline = (moment) => {
  const view = moment.view
  // What happened and why (the event that produced the moment, in words, when the source says), then the last error.
  const event = view.event ?? "—"
  const error = describeError(view.lastError)
  const list = document.getElementById("timeline")
  const item = document.createElement("li")
  item.setAttribute("data-state", view.state)
  item.setAttribute("data-id", moment.id)
  item.className = tone(view)
  const time = document.createElement("time")
  time.dateTime = new Date(view.time).toISOString()
  time.textContent = formatTime(view.time) + (isVirtual(view) ? " (virtual)" : "")
  item.appendChild(time)
  cell(item, "state", view.state)
  cell(item, "status", view.status.name + " (" + view.status.code + ")")
  cell(item, "event", event).title = event
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
  const virtual = isVirtual(view)
  document.getElementById("clock").textContent = localTime(now) + (virtual ? " (virtual time)" : "")
  document.getElementById("next-sync").textContent = when(view.nextSyncAt, now, "—")
  document.getElementById("grace").textContent = when(view.license?.graceExpiresAt, now, "no grace deadline")
  document.getElementById("expires").textContent = when(view.license?.expiresAt, now, "never / unknown")
  document.getElementById("lease").textContent = when(view.license?.leaseExpiresAt, now, "no lease")
}

/** Replay: `undefined` follows the live licence; a moment's id shows that moment instead. */
let replaying

const slider = document.getElementById("replay")

const show = (index) => {
  const moment = moments[index]
  if (moment === undefined) return
  highlight(moment.view)
  showSummary(moment.view)
  for (const item of document.querySelectorAll("#timeline li.shown")) item.classList.remove("shown")
  if (replaying !== undefined) {
    document.querySelector('#timeline li[data-id="' + CSS.escape(moment.id) + '"]')?.classList.add("shown")
  }
  slider.max = String(Math.max(0, moments.length - 1))
  slider.value = String(index)
  document.getElementById("replay-at").textContent =
    replaying === undefined
      ? "live"
      : "step " + (index + 1) + " of " + moments.length + " (" + formatTime(moment.view.time) + ")"
  document.body.setAttribute("data-mode", replaying === undefined ? "live" : "replay")
}

const replayTo = (index) => {
  const target = Math.max(0, Math.min(moments.length - 1, index))
  if (moments[target] === undefined) return
  replaying = moments[target].id
  show(target)
}

/** Where the replay is, as an index into `moments` (the oldest left, if its moment fell out of the buffer). */
const replayIndex = () =>
  Math.max(
    0,
    moments.findIndex((m) => m.id === replaying)
  )

const goLive = () => {
  replaying = undefined
  show(moments.length - 1)
}

/** A page serving a recording (`licensure inspect --replay`) plays it; its last moment stands for "live". */
const isRecording = document.body.getAttribute("data-source") === "replay"
const PLAY_STEP_MS = 700
let player

const stopPlaying = () => {
  if (player !== undefined) clearInterval(player)
  player = undefined
  document.body.removeAttribute("data-playing")
}

/** Plays the timeline from its first moment, one step every PLAY_STEP_MS, and stops at the last. */
const play = () => {
  stopPlaying()
  if (moments.length === 0) return
  replayTo(0)
  document.body.setAttribute("data-playing", "true")
  player = setInterval(() => {
    const next = replayIndex() + 1
    if (next > moments.length - 1) {
      stopPlaying()
      if (!isRecording) goLive()
      return
    }
    replayTo(next)
  }, PLAY_STEP_MS)
}

slider.addEventListener("input", () => {
  stopPlaying()
  replayTo(Number(slider.value))
})
document.getElementById("replay-back").addEventListener("click", () => {
  stopPlaying()
  replayTo((replaying === undefined ? moments.length - 1 : replayIndex()) - 1)
})
document.getElementById("replay-forward").addEventListener("click", () => {
  stopPlaying()
  if (replaying === undefined) return
  const next = replayIndex() + 1
  if (next >= moments.length - 1 && !isRecording) goLive()
  else replayTo(next)
})
document.getElementById("replay-play").addEventListener("click", play)
document.getElementById("replay-live").addEventListener("click", () => {
  stopPlaying()
  if (isRecording) replayTo(moments.length - 1)
  else goLive()
})

const receive = (id, view) => {
  if (!isNew(id)) return
  for (const s of withAncestors(view.state)) visited.add(s)
  moments.push({ id, view })
  while (moments.length > TIMELINE_LIMIT) moments.shift()
  addToTimeline(moments[moments.length - 1])
  // While the reader looks at the past, the licence moving on grows the slider; the chart stays where it is.
  show(replaying === undefined ? moments.length - 1 : replayIndex())
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
  events.onmessage = (message) => receive(message.lastEventId, JSON.parse(message.data))
  // A recording has all arrived: play it (once; a reconnect does not restart it).
  let played = false
  events.addEventListener("replay-end", () => {
    if (played) return
    played = true
    setConnection("recording", "live")
    play()
  })
}

document.getElementById("all-labels").addEventListener("change", (event) => {
  document.getElementById("chart").classList.toggle("all-labels", event.target.checked)
})

document.body.setAttribute("data-chart", "ready")
follow()
