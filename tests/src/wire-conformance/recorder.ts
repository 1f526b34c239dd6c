/**
 * A recording proxy (plain `node:http`) between the client and any server: it forwards each request unchanged and
 * keeps what went over the wire both ways (method, path, headers, body; status, headers, body), so one suite can
 * check the same exchanges against the reference-shaped server and against the emulator.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

export interface Exchange {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly body: any
  readonly status: number
  readonly responseHeaders: Headers
  readonly response: any
}

export interface Recorder {
  readonly url: string
  readonly exchanges: Array<Exchange>
  readonly close: () => Promise<void>
}

const parse = (text: string): any => {
  if (text === "") return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export const startRecorder = async (target: string): Promise<Recorder> => {
  const exchanges: Array<Exchange> = []
  const server = createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", async () => {
      const raw = Buffer.concat(chunks).toString("utf8")
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === "string" && !["host", "connection", "content-length"].includes(name)) headers[name] = value
      }
      try {
        const forwarded = await fetch(new URL(request.url ?? "/", target), {
          method: request.method ?? "GET",
          headers,
          ...(raw === "" ? {} : { body: raw })
        })
        const text = await forwarded.text()
        exchanges.push({
          method: request.method ?? "",
          path: request.url ?? "",
          headers: request.headers,
          body: parse(raw),
          status: forwarded.status,
          responseHeaders: forwarded.headers,
          response: parse(text)
        })
        const out: Record<string, string> = {}
        forwarded.headers.forEach((value, name) => {
          if (!["content-length", "transfer-encoding", "connection", "content-encoding"].includes(name))
            out[name] = value
        })
        response.writeHead(forwarded.status, out)
        response.end(text)
      } catch (error) {
        response.writeHead(502, { "content-type": "application/json" })
        response.end(JSON.stringify({ message: `recorder could not reach ${target}: ${String(error)}` }))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
