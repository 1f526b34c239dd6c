import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest, HttpClientResponse } from "effect/http"
import { TestClock } from "effect/testing"
import { ActivationResponse, Endpoints } from "@licensure/core/Protocol"
import { createEmulator } from "../src/index.ts"
import { activationBody, verifyActivation } from "./CryptlexCalls.ts"

describe("createEmulator (in process)", () => {
  it.effect("serves Effect's FetchHttpClient through its fetch, on a clock bound to the TestClock", () =>
    Effect.gen(function* () {
      const clock = yield* Clock.Clock
      const emulator = createEmulator({ now: () => clock.currentTimeMillisUnsafe() })
      const { productId, publicKeyPem } = yield* Effect.promise(() => emulator.createProduct())
      const { key } = yield* Effect.promise(() => emulator.createLicense({ productId }))
      yield* TestClock.setTime(Date.parse("2035-05-05T00:00:00Z"))

      const conversation = Effect.gen(function* () {
        const client = yield* HttpClient.HttpClient
        const post = HttpClientRequest.post(new URL(Endpoints.activate(), emulator.url)).pipe(
          HttpClientRequest.bodyJsonUnsafe(activationBody(key, productId))
        )
        const response = yield* client.execute(post)
        assert.strictEqual(response.status, 201)
        const { activationToken } = yield* HttpClientResponse.schemaBodyJson(ActivationResponse)(response)
        const claims = yield* Effect.promise(() => verifyActivation(activationToken, publicKeyPem))
        assert.strictEqual(claims.issuedAt, Date.parse("2035-05-05T00:00:00Z") / 1000)

        yield* TestClock.adjust("2 hours")
        const synced = yield* client.execute(
          HttpClientRequest.patch(new URL(Endpoints.sync(claims.activationId), emulator.url)).pipe(
            HttpClientRequest.bodyJsonUnsafe(activationBody(key, productId))
          )
        )
        const renewed = yield* HttpClientResponse.schemaBodyJson(ActivationResponse)(synced)
        const later = yield* Effect.promise(() => verifyActivation(renewed.activationToken, publicKeyPem))
        assert.strictEqual(later.issuedAt, claims.issuedAt + 7200)

        // A dropped connection reaches the Effect client as a transport error, as a real network failure would.
        yield* Effect.promise(() => emulator.addFault({ kind: "drop", count: 1 }))
        const failure = yield* Effect.flip(client.execute(post))
        assert.strictEqual(failure.reason._tag, "TransportError")
      })
      yield* conversation.pipe(
        Effect.provide(FetchHttpClient.layer),
        Effect.provideService(FetchHttpClient.Fetch, emulator.fetch)
      )
      yield* Effect.promise(() => emulator.close())
    })
  )

  it("resolves relative URLs against its placeholder base and serves any absolute URL by path", async () => {
    const emulator = createEmulator({ manualClock: { startAt: 0 } })
    assert.strictEqual(emulator.url, "http://licensure-emulator.invalid")
    const relative = await emulator.fetch("/__admin/clock")
    assert.deepStrictEqual(await relative.json(), { now: 0 })
    const absolute = await emulator.fetch(new URL("http://anything.example/__admin/clock"))
    assert.deepStrictEqual(await absolute.json(), { now: 0 })
    const request = await emulator.fetch(new Request("http://x.test/v3/nothing"))
    assert.strictEqual(request.status, 404)
    await emulator.close()
  })

  it("fails like a refused connection after close", async () => {
    const emulator = createEmulator()
    await emulator.close()
    const error = await emulator.fetch("/__admin/clock").then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(error, TypeError)
    assert.strictEqual((error as TypeError).message, "fetch failed")
  })

  it("rejects an already aborted signal with its reason, without serving", async () => {
    const emulator = createEmulator({ manualClock: { startAt: 0 } })
    const abort = new AbortController()
    abort.abort(new Error("stop"))
    const error = await emulator.fetch("/v3/activations", { method: "POST", body: "{}", signal: abort.signal }).then(
      () => undefined,
      (e: unknown) => e
    )
    assert.strictEqual((error as Error).message, "stop")
    assert.deepStrictEqual(await emulator.log(), [])
    await emulator.close()
  })

  it("throws a TypeError naming the option for invalid options", () => {
    assert.throws(() => createEmulator({ keyBits: 512 }), TypeError, "keyBits")
    assert.throws(() => createEmulator({ now: () => 0, manualClock: { startAt: 0 } }), TypeError, "either")
  })

  it("decodes its admin answers into the helper types", async () => {
    const emulator = createEmulator({ manualClock: { startAt: Date.parse("2030-01-01T00:00:00Z") } })
    const { productId } = await emulator.createProduct({ allowTrial: false })
    const view = await emulator.getProduct(productId)
    assert.isFalse(view.allowTrial)
    assert.isTrue(Schema.is(Schema.String)(view.publicKeyPem))
    await emulator.close()
  })
})
