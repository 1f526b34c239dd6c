/**
 * The local state-chart inspector: a small HTTP server on loopback that shows a running {@link Licensing} client
 * in a browser. `GET /` is one self-contained page (no CDN, no framework): the lifecycle chart laid out by elkjs
 * in this process (`ChartLayout`, once, then served inline as SVG), the current state highlighted with the
 * containers it sits in, a timeline and a replay control fed by `GET /events`, a Server-Sent Events stream of every
 * {@link LicenseView} stamped with the time it was seen. `GET /chart.json` is the machine's graph, `GET /layout.json`
 * its layout, `GET /chart.svg[?state=<state>]` the chart as a standalone SVG file (styles inlined, that state
 * highlighted), `GET /state.json` the current view on its own.
 *
 * History: from the moment it starts, the inspector keeps the last {@link HistoryLimit} views in a ring buffer, so
 * a page opened later replays the timeline since then. Each event carries an SSE `id` (`<server>.<sequence>`); a
 * page that reconnects sends it back as `Last-Event-ID` (EventSource does) and gets only what it missed, so its
 * timeline has no duplicates. An id from another server (the watcher restarted on the same port) gets the whole
 * buffer.
 *
 * XState's own inspector (`@statelyai/inspect`) opens stately.ai, so it cannot work offline; this one needs only
 * the machine's graph (`Chart.toGraph`) and the `moments` stream (each view with the machine event that produced it,
 * worded by `LifecycleEvent` into the event's `event`, so the timeline says what happened and why). Times come from the Effect `Clock`, so under a
 * `TestClock` the timeline shows licence time, not wall time.
 *
 * The server answers only requests addressed to `127.0.0.1:<port>` or `localhost:<port>` (a page on another site
 * cannot read it through DNS rebinding), never throws into the host application, and shuts every open event stream
 * when closed.
 *
 * @example
 * const { url } = yield* Inspector.start(licensing)   // inside a scope; closing the scope stops the server
 * console.log(`inspector: ${url}`)
 *
 * @since 0.1.0
 */
import * as Http from "node:http"
import type { LicenseCause, LicenseView, Licensing } from "@licensure/core"
import * as Chart from "@licensure/core/Chart"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as ChartLayout from "./ChartLayout.ts"
import * as ChartSvg from "./ChartSvg.ts"
import * as Page from "./inspector/Page.ts"
import * as LifecycleEvent from "./LifecycleEvent.ts"

export interface InspectorOptions {
  /** TCP port; 0 (the default) lets the system choose one, reported in `url`. */
  readonly port?: number | undefined
  /** Loopback only. */
  readonly host?: "127.0.0.1" | undefined
  /** Marks every event's time as virtual (the client runs on a `TestClock`). */
  readonly virtual?: boolean | undefined
}

/**
 * Where the inspector's events come from: a running client (its history grows, `follow` publishes each change) or
 * a recording (fixed history, no follow: the page plays it).
 */
interface Feed {
  readonly history: ReadonlyArray<InspectorEvent>
  readonly current: () => InspectorEvent
  readonly follow?: (publish: (event: InspectorEvent) => void) => Effect.Effect<void, never, Scope.Scope>
  readonly replay: boolean
  /** How many events are kept for pages that open later. */
  readonly limit: number
}

export interface Inspector {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string
  /** Stops the server and ends every open event stream; closing the scope does the same. */
  readonly close: Effect.Effect<void>
}

/** What `/events` sends and `/state.json` answers: a view and the time (epoch ms, from the `Clock`) it was seen. */
export interface InspectorEvent extends LicenseView {
  readonly time: number
  /** `time` is virtual (a simulation's `TestClock`, the demo's year), not the wall clock. */
  readonly virtual?: boolean | undefined
  /**
   * What happened, in words (`sync timer`, `deadline: grace ended`, `sync failed: …`; in a recording also the
   * demo's script: `admin: suspend`), when the source knows.
   */
  readonly event?: string | undefined
  /** The machine event behind this moment, as core reports it (`Licensing.moments`), when there is one. */
  readonly cause?: LicenseCause | undefined
}

export class InspectorError extends Schema.TaggedError<InspectorError>()("InspectorError", {
  reason: Schema.Literals(["badOption", "assets", "listen"]),
  message: Schema.String
}) {}

const MaxBufferedBytes = 1 << 20

/** How many views the inspector remembers for pages that open (or reconnect) later. */
export const HistoryLimit = 500

/**
 * The chart's layout, computed once per process and machine graph: ELK takes from a few hundred milliseconds to
 * a second or two on a cold JIT, and the machine does not change while the process lives.
 */
const layouts = new Map<string, Promise<ChartLayout.LaidOutChart>>()
const layoutOf = (graph: Chart.ChartGraph, json: string) => {
  let laidOut = layouts.get(json)
  if (laidOut === undefined) {
    laidOut = ChartLayout.layout(graph)
    layouts.set(json, laidOut)
  }
  return laidOut
}

const errorMessage = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause))

const send = (
  res: Http.ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Http.OutgoingHttpHeaders = {}
) => {
  res.writeHead(status, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...headers
  })
  res.end(res.req.method === "HEAD" ? undefined : body)
}

const sendText = (res: Http.ServerResponse, status: number, text: string, headers: Http.OutgoingHttpHeaders = {}) =>
  send(res, status, "text/plain; charset=utf-8", `${text}\n`, headers)

const checkOptions = (options: InspectorOptions): Effect.Effect<{ port: number; host: string }, InspectorError> => {
  const port = options.port ?? 0
  const host = options.host ?? "127.0.0.1"
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Effect.fail(
      new InspectorError({
        reason: "badOption",
        message: `expected port to be an integer 0–65535, got ${String(port)}`
      })
    )
  }
  if (host !== "127.0.0.1") {
    return Effect.fail(
      new InspectorError({ reason: "badOption", message: `expected host "127.0.0.1" (loopback only), got "${host}"` })
    )
  }
  return Effect.succeed({ port, host })
}

/**
 * Starts the inspector for one client. The server lives until `close` runs or the scope closes, whichever is first.
 * Fails with {@link InspectorError} for a bad option, unreadable page assets or a port that cannot be bound.
 */
export const start = (
  licensing: Licensing["Service"],
  options: InspectorOptions = {}
): Effect.Effect<Inspector, InspectorError, Scope.Scope> =>
  Effect.gen(function* () {
    const clock = yield* Clock.Clock
    const stamp = (view: LicenseView, cause?: LicenseCause, previous?: LicenseView): InspectorEvent => {
      const time = clock.currentTimeMillisUnsafe()
      const event = LifecycleEvent.describe(cause, view, previous, time)
      return {
        ...view,
        time,
        ...(options.virtual === true ? { virtual: true } : {}),
        ...(event !== undefined ? { event } : {}),
        ...(cause !== undefined ? { cause } : {})
      }
    }
    // One subscriber stamps each change once; every open stream gets the same event. A view equal to the last one
    // (the stream's replay of the current value, or a snapshot that changed nothing visible) is not a change.
    let latestView = yield* licensing.current
    let latestJson = JSON.stringify(latestView)
    return yield* serve(
      {
        history: [stamp(latestView)],
        current: () => stamp(Effect.runSync(licensing.current)),
        replay: false,
        limit: HistoryLimit,
        follow: (publish) =>
          Effect.asVoid(
            Effect.forkScoped(
              Stream.runForEach(licensing.moments, ({ view, cause }) =>
                Effect.sync(() => {
                  if (view === latestView) return
                  const json = JSON.stringify(view)
                  const previous = latestView
                  latestView = view
                  if (json === latestJson) return
                  latestJson = json
                  publish(stamp(view, cause, previous))
                })
              )
            )
          )
      },
      options
    )
  })

/**
 * Serves a recorded run (`licensure demo --record`, read by `InspectionRecord.read`): the page gets every event,
 * then a `replay-end` event, and plays the recording with its scrubber. Nothing is live.
 */
export const replay = (
  events: ReadonlyArray<InspectorEvent>,
  options: InspectorOptions = {}
): Effect.Effect<Inspector, InspectorError, Scope.Scope> => {
  const last = events[events.length - 1]
  if (last === undefined) {
    return Effect.fail(
      new InspectorError({ reason: "badOption", message: "expected a recording with at least one event, got none" })
    )
  }
  return serve({ history: events, current: () => last, replay: true, limit: events.length }, options)
}

const serve = (feed: Feed, options: InspectorOptions): Effect.Effect<Inspector, InspectorError, Scope.Scope> =>
  Effect.gen(function* () {
    const { port, host } = yield* checkOptions(options)
    const page = yield* Effect.try({
      try: Page.read,
      catch: (cause) =>
        new InspectorError({ reason: "assets", message: `cannot read the inspector page: ${errorMessage(cause)}` })
    })
    const graph = Chart.toGraph()
    const chartJson = JSON.stringify(graph)
    // Started now, awaited by the routes that draw: the server is up (and keeping history) while ELK works.
    const laidOut = layoutOf(graph, chartJson)
    laidOut.catch(() => {})
    const states = new Set(graph.states)
    const clock = yield* Clock.Clock
    // This server's name in event ids: a page that reconnects to a restarted inspector on the same port must not
    // take the new server's sequence numbers for the old one's.
    const server = clock.currentTimeMillisUnsafe().toString(36) + Math.random().toString(36).slice(2, 8)
    let sequence = 0
    const history: Array<{ readonly id: number; readonly data: string }> = []
    const remember = (event: InspectorEvent) => {
      const entry = { id: ++sequence, data: JSON.stringify(event) }
      history.push(entry)
      if (history.length > feed.limit) history.shift()
      return entry
    }
    for (const event of feed.history) remember(event)
    const streams = new Set<Http.ServerResponse>()
    const write = (res: Http.ServerResponse, event: { readonly id: number; readonly data: string }) => {
      if (res.destroyed || res.writableEnded) {
        streams.delete(res)
        return
      }
      // A tab that stopped reading (a paused debugger, a sleeping laptop) would otherwise buffer every change of a
      // long simulation; dropping it is harmless, EventSource reconnects and resumes after the last event it got.
      if (res.writableLength > MaxBufferedBytes) {
        streams.delete(res)
        res.destroy()
        return
      }
      try {
        res.write(`id: ${server}.${event.id}\ndata: ${event.data}\n\n`)
      } catch {
        streams.delete(res)
        res.destroy()
      }
    }
    const followScope = yield* Scope.make()
    if (feed.follow !== undefined) {
      yield* Scope.provide(
        feed.follow((event) => {
          const entry = remember(event)
          for (const res of streams) write(res, entry)
        }),
        followScope
      )
    }

    const openStream = (res: Http.ServerResponse) => {
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-content-type-options": "nosniff"
      })
      if (res.req.method === "HEAD") {
        res.end()
        return
      }
      res.write("retry: 1000\n\n")
      streams.add(res)
      res.on("close", () => streams.delete(res))
      const after = resumeAfter(res.req.headers["last-event-id"])
      for (const entry of history) if (entry.id > after) write(res, entry)
      // A recording is all there: the page starts playing once it has it.
      if (feed.replay && !res.destroyed) res.write(`event: replay-end\ndata: ${history.length}\n\n`)
    }
    /** The sequence number a reconnecting page already has, or 0 (send everything) for a new page or server. */
    const resumeAfter = (lastEventId: string | Array<string> | undefined): number => {
      const match = /^([a-z0-9]+)\.(\d+)$/.exec(typeof lastEventId === "string" ? lastEventId.trim() : "")
      return match !== null && match[1] === server ? Number(match[2]) : 0
    }

    const allowedHosts = new Set<string>()
    const handle = (req: Http.IncomingMessage, res: Http.ServerResponse) => {
      // A browser error or a closed socket must not surface as an unhandled 'error' event in the host.
      res.on("error", () => {})
      req.on("error", () => {})
      const hostHeader = (req.headers.host ?? "").toLowerCase()
      if (!allowedHosts.has(hostHeader)) {
        sendText(
          res,
          403,
          `expected a request addressed to ${[...allowedHosts].join(" or ")}, got host "${hostHeader}"`
        )
        return
      }
      let url: URL
      try {
        url = new URL(req.url ?? "/", "http://inspector.invalid")
      } catch {
        sendText(res, 400, `expected a request path, got "${req.url}"`)
        return
      }
      const route = routes.get(url.pathname)
      if (route === undefined) {
        sendText(res, 404, `no such page: ${url.pathname} (expected one of ${[...routes.keys()].join(", ")})`)
        return
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        sendText(res, 405, `expected GET or HEAD, got ${req.method}`, { allow: "GET, HEAD" })
        return
      }
      route(res, url)
    }
    /** Answers once the layout is there; a layout that failed is a 500 naming ELK's error. */
    const drawn = (res: Http.ServerResponse, answer: (chart: ChartLayout.LaidOutChart) => void) => {
      laidOut.then(answer, (cause) => {
        if (!res.headersSent) sendText(res, 500, `the chart layout failed: ${errorMessage(cause)}`)
      })
    }
    let pageHtml: string | undefined
    const routes = new Map<string, (res: Http.ServerResponse, url: URL) => void>([
      [
        "/",
        (res) =>
          drawn(res, (chart) => {
            pageHtml ??= page.html(ChartSvg.render(chart), { replay: feed.replay })
            send(res, 200, "text/html; charset=utf-8", pageHtml, {
              "content-security-policy": page.contentSecurityPolicy
            })
          })
      ],
      ["/chart.json", (res) => send(res, 200, "application/json", chartJson)],
      ["/layout.json", (res) => drawn(res, (chart) => send(res, 200, "application/json", JSON.stringify(chart)))],
      [
        "/chart.svg",
        (res, url) => {
          const state = url.searchParams.get("state") ?? undefined
          if (state !== undefined && !states.has(state)) {
            sendText(res, 400, `expected state to be one of ${graph.states.join(", ")}, got "${state}"`)
            return
          }
          drawn(res, (chart) =>
            send(res, 200, "image/svg+xml; charset=utf-8", ChartSvg.toSvgFile(chart, state), {
              "content-disposition": `attachment; filename="licensure-chart${state === undefined ? "" : `-${state}`}.svg"`,
              // A standalone file with its own styles and no scripts; nothing in it may load anything.
              "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'"
            })
          )
        }
      ],
      ["/state.json", (res) => send(res, 200, "application/json", JSON.stringify(feed.current()))],
      ["/events", openStream],
      // Browsers ask for it unprompted; "nothing here" without an error in the console.
      [
        "/favicon.ico",
        (res) => {
          res.writeHead(204, { "cache-control": "max-age=86400" })
          res.end()
        }
      ]
    ])

    const httpServer = Http.createServer((req, res) => {
      try {
        handle(req, res)
      } catch (cause) {
        try {
          if (!res.headersSent) sendText(res, 500, `inspector failed: ${errorMessage(cause)}`)
          else res.destroy()
        } catch {
          res.destroy()
        }
      }
    })
    // Malformed requests and late socket errors are the client's problem, not the host application's.
    httpServer.on("clientError", (_error, socket) => socket.destroy())
    httpServer.on("error", () => {})

    let closing: Promise<void> | undefined
    // Registered before listening, so an interrupted or failed start leaves no server behind.
    const shutdown = () => {
      closing ??= new Promise<void>((resolve) => {
        for (const res of streams) res.end()
        streams.clear()
        httpServer.close(() => resolve())
        httpServer.closeAllConnections()
      })
      return closing
    }
    const close = Effect.andThen(Scope.close(followScope, Exit.void), Effect.promise(shutdown))
    yield* Effect.addFinalizer(() => close)

    const bound = yield* Effect.callback<number, InspectorError>((resume) => {
      const onError = (cause: Error) =>
        resume(
          Effect.fail(
            new InspectorError({
              reason: "listen",
              message: `cannot listen on ${host}:${port}: ${errorMessage(cause)}`
            })
          )
        )
      httpServer.once("error", onError)
      httpServer.listen(port, host, () => {
        httpServer.off("error", onError)
        // Interrupted while binding: the finalizer already ran, so the socket that just opened closes here.
        if (closing !== undefined) httpServer.close()
        const address = httpServer.address()
        resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : port))
      })
    })
    allowedHosts.add(`127.0.0.1:${bound}`)
    allowedHosts.add(`localhost:${bound}`)

    return { url: `http://${host}:${bound}/`, close }
  })
