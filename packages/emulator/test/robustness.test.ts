import { connect } from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { MaxBodyBytes } from "@licensure/core/Protocol"
import { type Emulator, startEmulator } from "../src/index.ts"
import { activate, activationBody, call } from "./CryptlexCalls.ts"

let emulator: Emulator
let productId: string
let key: string
let port: number

beforeAll(async () => {
  emulator = await startEmulator()
  port = Number(new URL(emulator.url).port)
  ;({ productId } = await emulator.createProduct())
  ;({ key } = await emulator.createLicense({ productId, allowedActivations: 0 }))
})
afterAll(() => emulator?.close())

/** Writes raw bytes on a fresh TCP connection and collects whatever comes back until the server closes it. */
const raw = (bytes: Uint8Array | string): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1")
    const chunks: Array<Buffer> = []
    socket.on("data", (chunk) => chunks.push(chunk))
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNRESET" || error.code === "EPIPE") resolve(Buffer.concat(chunks).toString("latin1"))
      else reject(error)
    })
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")))
    socket.end(bytes)
  })

const stillServing = async () => {
  const answer = await activate(emulator.url, activationBody(key, productId))
  assert.strictEqual(answer.status, 201)
}

describe("bad bodies", () => {
  it("answers non-JSON, empty and non-object bodies with 400 and a message saying what was expected", async () => {
    const cases: Array<[string, string]> = [
      ["{not json", "invalid JSON"],
      ["", "empty body"],
      ["[1,2,3]", "Expected object, got an array"],
      ["null", "Expected object, got null"],
      ['"text"', "Expected object"]
    ]
    for (const [body, expected] of cases) {
      const response = await fetch(`${emulator.url}/v3/activations`, { method: "POST", body })
      assert.strictEqual(response.status, 400, body)
      const answer = (await response.json()) as { message: string }
      assert.include(answer.message, expected, body)
    }
  })

  it("names each missing or mistyped field", async () => {
    const answer = await activate(emulator.url, { key, productId, fingerprint: 7, os: "beos" })
    assert.strictEqual(answer.status, 400)
    for (const part of [
      "fingerprint: Expected string, got the number 7",
      "hostname: Missing",
      "os: Expected",
      'got the string "beos"'
    ]) {
      assert.include(answer.body.message, part)
    }
  })

  it("refuses metadata keys over 256 and values over 4096 characters, naming the entry", async () => {
    const longKey = await activate(
      emulator.url,
      activationBody(key, productId, { metadata: [{ key: "k".repeat(257), value: "v" }] })
    )
    assert.strictEqual(longKey.status, 400)
    assert.include(longKey.body.message, "metadata[0].key")
    const longValue = await activate(
      emulator.url,
      activationBody(key, productId, {
        metadata: [
          { key: "ok", value: "v" },
          { key: "big", value: "v".repeat(4097) }
        ]
      })
    )
    assert.strictEqual(longValue.status, 400)
    assert.include(longValue.body.message, "metadata[1].value")
    const atLimits = activationBody(key, productId, { metadata: [{ key: "k".repeat(256), value: "v".repeat(4096) }] })
    assert.strictEqual((await activate(emulator.url, atLimits)).status, 201)
  })

  it("answers 413 to a body over 64 KiB, whether streamed or declared", async () => {
    const big = JSON.stringify({ ...activationBody(key, productId), hostname: "h".repeat(MaxBodyBytes) })
    const response = await fetch(`${emulator.url}/v3/activations`, { method: "POST", body: big })
    assert.strictEqual(response.status, 413)
    assert.include(((await response.json()) as { message: string }).message, String(MaxBodyBytes))
    const declared = await raw(
      "POST /v3/activations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n{"
    )
    assert.match(declared, /^HTTP\/1\.1 413 /)
    await stillServing()
  })

  it("answers 413 to a chunked upload without a length as soon as it passes 64 KiB", async () => {
    const chunk = new TextEncoder().encode(`["${"x".repeat(8190)}",`)
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Up to 80 KiB: past the limit, and short of twice of it.
        if (sent >= 80 * 1024) return controller.close()
        sent += chunk.byteLength
        controller.enqueue(chunk)
      }
    })
    const response = await fetch(`${emulator.url}/v3/activations`, {
      method: "POST",
      body: stream,
      duplex: "half"
    } as RequestInit)
    assert.strictEqual(response.status, 413)
    await response.arrayBuffer()
    await stillServing()
  })

  it("never answers a 5xx to any JSON value sent to any endpoint", async () => {
    const paths = ["/v3/activations", "/v3/activations/x", "/v3/trial-activations", "/v3/trial-activations/y"]
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.constantFrom("POST", "PATCH", "DELETE", "GET", "PUT"),
        fc.oneof(fc.jsonValue(), fc.record({ key: fc.string(), productId: fc.string(), metadata: fc.anything() })),
        async (path, method, value) => {
          const response = await fetch(`${emulator.url}${path}`, {
            method,
            ...(method === "GET" ? {} : { body: JSON.stringify(value) ?? "" })
          })
          await response.arrayBuffer()
          return response.status < 500
        }
      ),
      { numRuns: 60 }
    )
    await stillServing()
  })
})

describe("bad requests", () => {
  it("answers 404 for unknown paths and 405 with Allow for wrong methods", async () => {
    const unknown = await call(emulator.url, "GET", "/nothing/here")
    assert.strictEqual(unknown.status, 404)
    const wrong = await call(emulator.url, "PUT", "/v3/activations/abc", {})
    assert.strictEqual(wrong.status, 405)
    assert.strictEqual(wrong.headers.get("allow"), "PATCH, DELETE")
    const admin = await call(emulator.url, "DELETE", "/__admin/clock")
    assert.strictEqual(admin.status, 405)
    assert.strictEqual(admin.headers.get("allow"), "GET, POST")
  })

  it("answers 400 to a badly encoded id", async () => {
    const answer = await call(emulator.url, "DELETE", "/v3/activations/%E0%A4%A")
    assert.strictEqual(answer.status, 400)
  })

  it("survives random bytes, a garbage request line, oversize headers and a TRACE", async () => {
    const bytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)
    const garbage = await raw(bytes)
    assert.match(garbage, /^HTTP\/1\.1 400 [\s\S]*"message":"Expected an HTTP\/1\.1 request/)
    assert.match(await raw("HELLO THERE\r\n\r\n"), /^HTTP\/1\.1 400 /)
    const header = await raw(`GET /v3/activations HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(40_000)}\r\n\r\n`)
    assert.match(header, /^HTTP\/1\.1 431 /)
    const trace = await raw("TRACE /v3/activations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert.match(trace, /^HTTP\/1\.1 405 /)
    await stillServing()
  })

  it("survives a client that disconnects mid-body", async () => {
    const cut = await raw(
      'POST /v3/activations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"key":'
    )
    assert.strictEqual(cut, "")
    await stillServing()
  })
})
