/**
 * The local state-chart inspector: a small HTTP server on loopback that shows a running {@link Licensing} client
 * in a browser. `GET /` is one self-contained page (no CDN, no framework) that draws the lifecycle chart from
 * `GET /chart.json`, highlights the current state and keeps a timeline fed by `GET /events`, a Server-Sent Events
 * stream of every {@link LicenseView} stamped with the time it was seen (the current view first). `GET /state.json`
 * is the current view on its own.
 *
 * XState's own inspector (`@statelyai/inspect`) opens stately.ai, so it cannot work offline; this one needs only
 * the machine's graph (`Chart.toGraph`) and the `changes` stream. Times come from the Effect `Clock`, so under a
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
import type { LicenseView, Licensing } from "@licensure/core"
import * as Chart from "@licensure/core/Chart"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Page from "./inspector/Page.ts"

export interface InspectorOptions {
  /** TCP port; 0 (the default) lets the system choose one, reported in `url`. */
  readonly port?: number | undefined
  /** Loopback only. */
  readonly host?: "127.0.0.1" | undefined
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
}

export class InspectorError extends Schema.TaggedError<InspectorError>()("InspectorError", {
  reason: Schema.Literals(["badOption", "assets", "listen"]),
  message: Schema.String
}) {}

const MaxBufferedBytes = 1 << 20

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
    const { port, host } = yield* checkOptions(options)
    const page = yield* Effect.try({
      try: Page.read,
      catch: (cause) =>
        new InspectorError({ reason: "assets", message: `cannot read the inspector page: ${errorMessage(cause)}` })
    })
    const chartJson = JSON.stringify(Chart.toGraph())
    const clock = yield* Clock.Clock
    const stamp = (view: LicenseView): InspectorEvent => ({ ...view, time: clock.currentTimeMillisUnsafe() })

    // One subscriber stamps each change once; every open stream gets the same event. A view equal to the last one
    // (the stream's replay of the current value, or a snapshot that changed nothing visible) is not a change.
    let latestView = yield* licensing.current
    let latestJson = JSON.stringify(latestView)
    let latest = stamp(latestView)
    const streams = new Set<Http.ServerResponse>()
    const write = (res: Http.ServerResponse, event: InspectorEvent) => {
      if (res.destroyed || res.writableEnded) {
        streams.delete(res)
        return
      }
      // A tab that stopped reading (a paused debugger, a sleeping laptop) would otherwise buffer every change of a
      // long simulation; dropping it is harmless, EventSource reconnects and starts again from the current view.
      if (res.writableLength > MaxBufferedBytes) {
        streams.delete(res)
        res.destroy()
        return
      }
      try {
        res.write(`data: ${JSON.stringify(event)}\n\n`)
      } catch {
        streams.delete(res)
        res.destroy()
      }
    }
    const pump = yield* Effect.forkScoped(
      Stream.runForEach(licensing.changes, (view) =>
        Effect.sync(() => {
          if (view === latestView) return
          const json = JSON.stringify(view)
          latestView = view
          if (json === latestJson) return
          latestJson = json
          latest = stamp(view)
          for (const res of streams) write(res, latest)
        })
      )
    )

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
      write(res, latest)
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
      let path: string
      try {
        path = new URL(req.url ?? "/", "http://inspector.invalid").pathname
      } catch {
        sendText(res, 400, `expected a request path, got "${req.url}"`)
        return
      }
      const route = routes.get(path)
      if (route === undefined) {
        sendText(res, 404, `no such page: ${path} (expected one of ${[...routes.keys()].join(", ")})`)
        return
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        sendText(res, 405, `expected GET or HEAD, got ${req.method}`, { allow: "GET, HEAD" })
        return
      }
      route(res)
    }
    const routes = new Map<string, (res: Http.ServerResponse) => void>([
      [
        "/",
        (res) =>
          send(res, 200, "text/html; charset=utf-8", page.html, {
            "content-security-policy": page.contentSecurityPolicy
          })
      ],
      ["/chart.json", (res) => send(res, 200, "application/json", chartJson)],
      [
        "/state.json",
        (res) => send(res, 200, "application/json", JSON.stringify(stamp(Effect.runSync(licensing.current))))
      ],
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

    const server = Http.createServer((req, res) => {
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
    server.on("clientError", (_error, socket) => socket.destroy())
    server.on("error", () => {})

    let closing: Promise<void> | undefined
    // Registered before listening, so an interrupted or failed start leaves no server behind.
    const shutdown = () => {
      closing ??= new Promise<void>((resolve) => {
        for (const res of streams) res.end()
        streams.clear()
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    }
    const close = Effect.andThen(Fiber.interrupt(pump), Effect.promise(shutdown))
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
      server.once("error", onError)
      server.listen(port, host, () => {
        server.off("error", onError)
        // Interrupted while binding: the finalizer already ran, so the socket that just opened closes here.
        if (closing !== undefined) server.close()
        const address = server.address()
        resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : port))
      })
    })
    allowedHosts.add(`127.0.0.1:${bound}`)
    allowedHosts.add(`localhost:${bound}`)

    return { url: `http://${host}:${bound}/`, close }
  })
