/**
 * The node:http face of the emulator: each incoming request becomes a Web `Request` (body streamed, so the
 * handler's size limit applies while reading) handed to the same handler as the in-process `fetch`, and the
 * `Response` is written back. A dropped request destroys the socket; a request the client abandons aborts the
 * handler's signal. Parse-level garbage (bad request lines, oversize headers) is answered by the client-error
 * hook and never reaches the handler.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { Readable } from "node:stream"
import { Dropped, type Handler } from "./Router.ts"

const toRequest = (req: IncomingMessage, base: string, signal: AbortSignal): Request => {
  const headers = new Headers()
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!)
  const method = req.method ?? "GET"
  const hasBody = method !== "GET" && method !== "HEAD"
  return new Request(new URL(req.url ?? "/", base), {
    method,
    headers,
    signal,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" } : {})
  } as RequestInit)
}

const plain = (res: ServerResponse, status: number, message: string): void => {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", connection: "close" })
  res.end(JSON.stringify({ message }))
}

const serve = async (handler: Handler, base: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const abandon = new AbortController()
  res.on("close", () => {
    if (!res.writableFinished) abandon.abort(new Error("The client closed the connection"))
  })
  let request: Request
  try {
    request = toRequest(req, base, abandon.signal)
  } catch (error) {
    // Methods fetch refuses (CONNECT, TRACE, TRACK) and header values it rejects end here.
    const status = /method/i.test(String(error)) ? 405 : 400
    plain(res, status, `Expected a request the emulator can read, got one it cannot: ${(error as Error).message}`)
    return
  }
  const outcome = await handler(request, req.socket.remoteAddress ?? "unknown")
  if (outcome === Dropped) {
    req.socket.destroy()
    return
  }
  if (res.destroyed) return
  const headers: Record<string, string> = {}
  outcome.headers.forEach((value, name) => {
    headers[name] = value
  })
  // The rest of an unread body (after a 413, say) is not worth draining: close the connection instead.
  if (!req.complete) headers.connection = "close"
  const body = outcome.body === null ? undefined : Buffer.from(await outcome.arrayBuffer())
  res.writeHead(outcome.status, headers)
  res.end(body)
}

export interface RunningServer {
  readonly url: string
  readonly close: () => Promise<void>
}

export const listen = (handler: Handler, port: number, host: string): Promise<RunningServer> =>
  new Promise((resolve, reject) => {
    const sockets = new Set<Socket>()
    let base = ""
    const server: Server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
      req.on("error", () => undefined)
      res.on("error", () => undefined)
      serve(handler, base, req, res).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) plain(res, 500, `Emulator internal error: ${String(error)}`)
        else res.destroy()
      })
    })
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      socket.on("error", () => undefined)
    })
    server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
      if (socket.writable && !(socket as Socket & { _httpMessage?: unknown })._httpMessage) {
        const status = error.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request"
        const body = JSON.stringify({
          message: `Expected an HTTP/1.1 request, got unreadable input (${error.code ?? error.message})`
        })
        socket.end(
          `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
        )
      } else {
        socket.destroy()
      }
    })
    server.once("error", reject)
    server.listen(port, host, () => {
      server.off("error", reject)
      server.on("error", () => undefined)
      const address = server.address() as AddressInfo
      const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address
      base = `http://${hostPart}:${address.port}`
      resolve({
        url: base,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            for (const socket of sockets) socket.destroy()
          })
      })
    })
  })
