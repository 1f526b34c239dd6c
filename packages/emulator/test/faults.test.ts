import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { ActivationResponse } from "@licensure/core/Protocol"
import { type Emulator, startEmulator } from "../src/index.ts"
import { activate, activationBody, call, verifyActivation } from "./CryptlexCalls.ts"

const T0 = Date.parse("2030-01-01T00:00:00Z")
let emulator: Emulator
let productId: string
let publicKeyPem: string
let key: string

beforeAll(async () => {
  emulator = await startEmulator({ manualClock: { startAt: T0 } })
  ;({ productId, publicKeyPem } = await emulator.createProduct())
  ;({ key } = await emulator.createLicense({ productId, allowedActivations: 0 }))
})
afterEach(async () => {
  await emulator.clearFaults()
  await emulator.clearLog()
})
afterAll(() => emulator?.close())

const body = () => activationBody(key, productId)

describe("drop", () => {
  it("closes the connection without an answer over HTTP, then serves again", async () => {
    await emulator.addFault({ kind: "drop", count: 1 })
    try {
      await fetch(`${emulator.url}/v3/activations`, { method: "POST", body: JSON.stringify(body()) })
      assert.fail("expected the request to fail")
    } catch (error) {
      assert.instanceOf(error, TypeError)
      assert.strictEqual((error as TypeError).message, "fetch failed")
    }
    assert.strictEqual((await activate(emulator.url, body())).status, 201)
    const log = await emulator.log()
    assert.deepStrictEqual(
      log.map((entry) => [entry.status, entry.fault]),
      [
        [0, "drop"],
        [201, undefined]
      ]
    )
  })

  it("rejects the in-process fetch with TypeError('fetch failed') like a network error", async () => {
    await emulator.addFault({ kind: "drop", count: 1 })
    const attempt = emulator.fetch("/v3/activations", { method: "POST", body: JSON.stringify(body()) })
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(error, TypeError)
    assert.strictEqual((error as TypeError).message, "fetch failed")
    const next = await emulator.fetch("/v3/activations", { method: "POST", body: JSON.stringify(body()) })
    assert.strictEqual(next.status, 201)
  })
})

describe("status", () => {
  it("answers 429 with the Retry-After header and a JSON message, for the next N requests only", async () => {
    await emulator.addFault({ kind: "status", status: 429, retryAfter: 30, count: 2 })
    for (let i = 0; i < 2; i++) {
      const answer = await activate(emulator.url, body())
      assert.strictEqual(answer.status, 429)
      assert.strictEqual(answer.headers.get("retry-after"), "30")
      assert.isString(answer.body.message)
    }
    assert.strictEqual((await activate(emulator.url, body())).status, 201)
    assert.deepStrictEqual(
      (await emulator.log()).map((entry) => entry.fault ?? null),
      ["status", "status", null]
    )
  })

  it("answers 503 by default, and sends a given body verbatim or as JSON", async () => {
    await emulator.addFault({ kind: "status", count: 1 })
    assert.strictEqual((await activate(emulator.url, body())).status, 503)
    await emulator.addFault({ kind: "status", status: 500, body: { message: "db down", code: "X" }, count: 1 })
    const json = await activate(emulator.url, body())
    assert.strictEqual(json.status, 500)
    assert.deepStrictEqual(json.body, { message: "db down", code: "X" })
    await emulator.addFault({ kind: "status", status: 502, body: "<html>bad gateway</html>", count: 1 })
    const raw = await fetch(`${emulator.url}/v3/activations`, { method: "POST", body: JSON.stringify(body()) })
    assert.strictEqual(raw.status, 502)
    assert.strictEqual(await raw.text(), "<html>bad gateway</html>")
  })
})

describe("malformed", () => {
  it("answers 200 with a body that is not JSON by default, or JSON of the wrong shape", async () => {
    await emulator.addFault({ kind: "malformed", count: 1 })
    const broken = await fetch(`${emulator.url}/v3/activations`, { method: "POST", body: JSON.stringify(body()) })
    assert.strictEqual(broken.status, 200)
    assert.include(broken.headers.get("content-type"), "application/json")
    const text = await broken.text()
    assert.throws(() => JSON.parse(text))

    await emulator.addFault({ kind: "malformed", status: 201, body: { activationToken: 42 }, count: 1 })
    const wrong = await activate(emulator.url, body())
    assert.strictEqual(wrong.status, 201)
    assert.isTrue(Schema.decodeUnknownExit(ActivationResponse)(wrong.body)._tag === "Failure")
  })
})

describe("delay", () => {
  it("holds a request and then serves it normally", async () => {
    await emulator.addFault({ kind: "delay", delayMs: 20, count: 1 })
    const answer = await activate(emulator.url, body())
    assert.strictEqual(answer.status, 201)
    await verifyActivation(answer.body.activationToken, publicKeyPem)
    assert.deepStrictEqual(
      (await emulator.log()).map((entry) => [entry.status, entry.fault]),
      [[201, "delay"]]
    )
  })

  it("keeps a long-delayed request pending while others are served, until the client aborts", async () => {
    await emulator.addFault({ kind: "delay", delayMs: 600_000, count: 1 })
    const abort = new AbortController()
    let settled = false
    const pending = fetch(`${emulator.url}/v3/activations`, {
      method: "POST",
      body: JSON.stringify(body()),
      signal: abort.signal
    }).finally(() => {
      settled = true
    })
    // Another full round trip completes while the delayed one is held.
    assert.strictEqual((await activate(emulator.url, body())).status, 201)
    assert.isFalse(settled)
    abort.abort()
    const error = await pending.then(
      () => undefined,
      (e: unknown) => e
    )
    assert.strictEqual((error as Error).name, "AbortError")
  })

  it("lets an in-process caller abort a delayed request", async () => {
    await emulator.addFault({ kind: "delay", delayMs: 600_000, count: 1 })
    const abort = new AbortController()
    const pending = emulator.fetch("/v3/activations", {
      method: "POST",
      body: JSON.stringify(body()),
      signal: abort.signal
    })
    abort.abort()
    const error = await pending.then(
      () => undefined,
      (e: unknown) => e
    )
    assert.strictEqual((error as Error).name, "AbortError")
  })

  it("refuses a delay fault without delayMs with 400", async () => {
    const answer = await call(emulator.url, "POST", "/__admin/faults", { kind: "delay" })
    assert.strictEqual(answer.status, 400)
    assert.include(answer.body.message, "delayMs")
  })
})

describe("matching", () => {
  it("applies only inside its time window on the emulator's clock", async () => {
    const now = await emulator.clock.now()
    await emulator.addFault({
      kind: "status",
      status: 503,
      from: now + 60_000,
      until: new Date(now + 120_000).toISOString()
    })
    assert.strictEqual((await activate(emulator.url, body())).status, 201)
    await emulator.clock.advance(60)
    assert.strictEqual((await activate(emulator.url, body())).status, 503)
    await emulator.clock.advance(59)
    assert.strictEqual((await activate(emulator.url, body())).status, 503)
    await emulator.clock.advance(1)
    assert.strictEqual((await activate(emulator.url, body())).status, 201)
  })

  it("matches method and path prefix, and never touches /__admin/", async () => {
    await emulator.addFault({ kind: "status", status: 500, match: { method: "patch", path: "/v3/activations/" } })
    await emulator.addFault({ kind: "drop", match: { path: "/__admin/" } })
    const created = await activate(emulator.url, body())
    assert.strictEqual(created.status, 201)
    const { activationId } = await verifyActivation(created.body.activationToken, publicKeyPem)
    assert.strictEqual((await call(emulator.url, "PATCH", `/v3/activations/${activationId}`, body())).status, 500)
    const deactivated = await call(emulator.url, "POST", `/v3/activations/${activationId}/deactivate`, {
      productId,
      accountId: "",
      fingerprint: body().fingerprint,
      os: "linux",
      userHash: body().userHash
    })
    assert.strictEqual(deactivated.status, 204)
    assert.strictEqual((await call(emulator.url, "GET", "/__admin/clock")).status, 200)
  })

  it("lists faults and stops applying them once cleared", async () => {
    const { id } = await emulator.addFault({ kind: "status", status: 500 })
    const listed = await call(emulator.url, "GET", "/__admin/faults")
    assert.deepStrictEqual(
      listed.body.map((fault: { id: string }) => fault.id),
      [id]
    )
    assert.strictEqual((await activate(emulator.url, body())).status, 500)
    assert.strictEqual((await call(emulator.url, "DELETE", "/__admin/faults")).status, 204)
    assert.strictEqual((await activate(emulator.url, body())).status, 201)
  })

  it("refuses a fault of an unknown kind with 400 naming the field", async () => {
    const answer = await call(emulator.url, "POST", "/__admin/faults", { kind: "explode" })
    assert.strictEqual(answer.status, 400)
    assert.include(answer.body.message, "kind")
  })
})
