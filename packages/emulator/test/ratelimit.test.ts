import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { createEmulator, type Emulator, startEmulator } from "../src/index.ts"
import { activate, activationBody, call } from "./CryptlexCalls.ts"

const T0 = Date.parse("2030-01-01T00:00:00Z")

/** A /v3/ call that is refused for its body (unknown product), so it costs no setup and changes nothing. */
const probe = (base: string) => activate(base, activationBody("NO-SUCH-KEY", "no-such-product"))

const rateHeaders = (headers: Headers) => ({
  limit: headers.get("x-rate-limit-limit"),
  remaining: headers.get("x-rate-limit-remaining"),
  reset: headers.get("x-rate-limit-reset")
})

describe("rate limiting (reference-client.md row 23)", () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await startEmulator({ manualClock: { startAt: T0 }, rateLimit: { requests: 50, windowSeconds: 5 } })
  })
  afterAll(() => emulator?.close())

  it("counts 50 requests per 5 s on the emulator's clock, then answers 429 with Retry-After, and resets", async () => {
    const first = await probe(emulator.url)
    assert.strictEqual(first.status, 400)
    assert.deepStrictEqual(rateHeaders(first.headers), { limit: "50", remaining: "49", reset: "5" })
    for (let i = 2; i <= 50; i++) {
      const answer = await probe(emulator.url)
      assert.strictEqual(answer.status, 400)
      assert.strictEqual(answer.headers.get("x-rate-limit-remaining"), String(50 - i))
    }
    await emulator.clock.advance(2)
    const over = await probe(emulator.url)
    assert.strictEqual(over.status, 429)
    assert.match(over.body.message, /Too many requests/)
    assert.isUndefined(over.body.code)
    assert.strictEqual(over.headers.get("retry-after"), "3")
    assert.deepStrictEqual(rateHeaders(over.headers), { limit: "50", remaining: "0", reset: "3" })
    const log = await emulator.log()
    assert.strictEqual(log.at(-1)?.status, 429)

    // The admin API is never limited, even with the window used up.
    const admin = await call(emulator.url, "GET", "/__admin/clock")
    assert.strictEqual(admin.status, 200)
    assert.isNull(admin.headers.get("x-rate-limit-limit"))

    await emulator.clock.advance(3)
    const fresh = await probe(emulator.url)
    assert.strictEqual(fresh.status, 400)
    assert.deepStrictEqual(rateHeaders(fresh.headers), { limit: "50", remaining: "49", reset: "5" })
  })

  it("puts the headers on successes, 404s and injected faults alike", async () => {
    await emulator.clock.advance(10)
    const { productId } = await emulator.createProduct()
    const { key } = await emulator.createLicense({ productId })
    const created = await activate(emulator.url, activationBody(key, productId))
    assert.strictEqual(created.status, 201)
    assert.strictEqual(created.headers.get("x-rate-limit-remaining"), "49")
    const unknown = await call(emulator.url, "GET", "/v3/nothing-here")
    assert.strictEqual(unknown.status, 404)
    assert.strictEqual(unknown.headers.get("x-rate-limit-remaining"), "48")
    await emulator.addFault({ kind: "status", status: 503, count: 1 })
    const faulted = await probe(emulator.url)
    assert.strictEqual(faulted.status, 503)
    assert.strictEqual(faulted.headers.get("x-rate-limit-remaining"), "47")
    assert.strictEqual(faulted.headers.get("x-rate-limit-limit"), "50")
  })
})

describe("rate-limit options", () => {
  it("takes smaller numbers, keys the in-process fetch as one client, and false turns it off", async () => {
    const small = createEmulator({ manualClock: { startAt: T0 }, rateLimit: { requests: 2, windowSeconds: 60 } })
    // The in-process emulator has no socket (so no client IP): its fetch is one client.
    const inProcess = async () =>
      small.fetch(new URL("/v3/activations", small.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(activationBody("NO-SUCH-KEY", "no-such-product"))
      })
    const answers = [await inProcess(), await inProcess(), await inProcess()]
    assert.deepStrictEqual(
      answers.map((answer) => answer.status),
      [400, 400, 429]
    )
    assert.strictEqual(answers[2]!.headers.get("retry-after"), "60")
    assert.deepStrictEqual(rateHeaders(answers[2]!.headers), { limit: "2", remaining: "0", reset: "60" })
    await small.close()

    const off = await startEmulator({ manualClock: { startAt: T0 }, rateLimit: false })
    try {
      for (let i = 0; i < 60; i++) assert.strictEqual((await probe(off.url)).status, 400)
      const last = await probe(off.url)
      assert.isNull(last.headers.get("x-rate-limit-limit"))
      assert.isNull(last.headers.get("retry-after"))
    } finally {
      await off.close()
    }
  })

  it("refuses invalid rate-limit options with a TypeError naming the field", () => {
    assert.throws(
      () => createEmulator({ rateLimit: { requests: 0, windowSeconds: 5 } }),
      TypeError,
      /rateLimit.requests/
    )
    assert.throws(
      () => createEmulator({ rateLimit: { requests: 5, windowSeconds: 1.5 } }),
      TypeError,
      /rateLimit.windowSeconds/
    )
  })
})
