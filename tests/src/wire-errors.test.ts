/**
 * Error answers as LexActivator reads them (reference-client.md rows 17, 20, 23): a `node:http` server of the
 * test's own stands between the client and an in-process emulator, as a proxy would. It passes requests on to the
 * emulator until told to answer a sync itself, with a status and a body of its choosing: an uncoded 4xx (what a
 * proxy or gateway sends) or a Cryptlex refusal whose body lacks its `message`.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Fingerprint, LicenseApi, LicenseStore, Licensing } from "@licensure/core"
import { createEmulator, type Emulator } from "@licensure/emulator"
import { identity, Start } from "@licensure/testing"
import { Clock, Context, Effect, Layer, Option } from "effect"
import { FetchHttpClient } from "effect/http"
import { TestClock } from "effect/testing"

/** What the stand-in answers a sync (`PATCH`) with instead of passing it on; `undefined` passes it on. */
interface Answer {
  readonly status: number
  readonly body: string
}

/** A `node:http` server on 127.0.0.1 (port 0) in front of `emulator`; closed with the scope. */
const standIn = (emulator: Emulator) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{
          url: string
          bodies: Array<string>
          patches: () => number
          answer: (a: Answer | undefined) => void
          close: () => Promise<void>
        }>((resolve) => {
          let answer: Answer | undefined
          const bodies: Array<string> = []
          let patches = 0
          const server = createServer((request, response) => {
            const chunks: Array<Buffer> = []
            request.on("data", (chunk: Buffer) => chunks.push(chunk))
            request.on("end", () => {
              const method = request.method ?? "GET"
              bodies.push(Buffer.concat(chunks).toString("utf8"))
              if (method === "PATCH") patches++
              if (method === "PATCH" && answer !== undefined) {
                response.writeHead(answer.status, { "content-type": "text/plain" })
                response.end(answer.body)
                return
              }
              const body = Buffer.concat(chunks)
              void emulator
                .fetch(`http://emulator.invalid${request.url ?? "/"}`, {
                  method,
                  headers: { "content-type": "application/json" },
                  ...(body.length > 0 ? { body: body.toString("utf8") } : {})
                })
                .then(async (passed) => {
                  response.writeHead(passed.status, { "content-type": "application/json" })
                  response.end(await passed.text())
                })
            })
          })
          server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as AddressInfo
            resolve({
              url: `http://127.0.0.1:${port}`,
              bodies,
              patches: () => patches,
              answer: (a) => {
                answer = a
              },
              close: () =>
                new Promise<void>((done) => {
                  server.closeAllConnections()
                  server.close(() => done())
                })
            })
          })
        })
    ),
    (server) => Effect.promise(() => server.close())
  )

/**
 * A client behind the stand-in, on a machine of host name `hostname`; retries within a call wait 0 ms, so a retry
 * needs no clock.
 */
const behind = (hostname = "sim-host") =>
  Effect.gen(function* () {
    yield* TestClock.setTime(Start)
    const clock = yield* Clock.Clock
    const emulator = createEmulator({ now: () => clock.currentTimeMillisUnsafe() })
    const product = yield* Effect.promise(() => emulator.createProduct())
    const license = yield* Effect.promise(() =>
      emulator.createLicense({ productId: product.productId, serverSyncInterval: 3600 })
    )
    const proxy = yield* standIn(emulator)
    const context = yield* Layer.build(
      Licensing.layer({
        productId: product.productId,
        publicKeyPem: product.publicKeyPem,
        retry: { base: "0 millis", cap: "0 millis", retries: 4 }
      }).pipe(
        Layer.provideMerge(
          Layer.mergeAll(
            LicenseApi.layer({ host: proxy.url }).pipe(Layer.provide(FetchHttpClient.layer)),
            LicenseStore.layerMemory,
            Fingerprint.layerStatic(identity("a".repeat(64), hostname))
          )
        )
      )
    )
    const licensing = Context.get(context, Licensing)
    const store = Context.get(context, LicenseStore)
    return { licensing, store, proxy, emulator, license }
  })

/** {@link behind}, activated. */
const activated = Effect.gen(function* () {
  const setup = yield* behind()
  assert.strictEqual((yield* setup.licensing.activate(setup.license.key)).state, "active")
  return setup
})

describe("an uncoded 4xx on sync (a proxy's answer, rows 20, 23)", () => {
  for (const [status, body] of [
    [400, ""],
    [401, "Unauthorized"],
    [403, "<html><body>Forbidden by policy</body></html>"],
    [405, '{"message":"Method Not Allowed"}']
  ] as const) {
    it.effect(`${status} is LA_E_INET, tried once, and keeps the activation in grace`, () =>
      Effect.gen(function* () {
        const { licensing, store, proxy } = yield* activated
        proxy.answer({ status, body })
        const before = proxy.patches()
        const error = yield* Effect.flip(licensing.sync)
        assert.strictEqual(error.kind, "ServerFailure", error.message)
        assert.deepStrictEqual(error.status, { name: "LA_E_INET", code: 48 })
        assert.strictEqual(proxy.patches() - before, 1, "an uncoded 4xx is not retried within the call")
        // Kept as after a network failure: the licence stays usable in grace, and the record is still stored.
        assert.strictEqual(error.state, "grace")
        assert.strictEqual((yield* licensing.current).state, "grace")
        const record = yield* store.load
        assert.isTrue(Option.isSome(record))
        if (Option.isSome(record)) assert.strictEqual(record.value.lastSyncFailure?.status, status)
        // The background sync tries again at its cadence, and succeeds once the proxy lets it through.
        proxy.answer(undefined)
        assert.strictEqual((yield* licensing.sync).state, "active")
      })
    )
  }

  it.effect("408 and 5xx stay transient: retried within the call (five attempts), 5xx as LA_E_SERVER", () =>
    Effect.gen(function* () {
      const { licensing, proxy } = yield* activated
      proxy.answer({ status: 503, body: "" })
      const before = proxy.patches()
      const error = yield* Effect.flip(licensing.sync)
      assert.strictEqual(proxy.patches() - before, 5)
      assert.deepStrictEqual(error.status, { name: "LA_E_SERVER", code: 91 })
      proxy.answer({ status: 408, body: "" })
      const again = proxy.patches()
      const timedOut = yield* Effect.flip(licensing.sync)
      assert.strictEqual(proxy.patches() - again, 5)
      assert.deepStrictEqual(timedOut.status, { name: "LA_E_INET", code: 48 })
      assert.strictEqual(timedOut.state, "grace")
    })
  )
})

describe("a coded refusal without a message (row 17)", () => {
  for (const body of ['{"code":"REVOKED_LICENSE"}', '{"code":"REVOKED_LICENSE","message":null}']) {
    it.effect(`${body} on sync revokes as the coded answer would`, () =>
      Effect.gen(function* () {
        const { licensing, store, proxy } = yield* activated
        proxy.answer({ status: 400, body })
        const error = yield* Effect.flip(licensing.sync)
        assert.strictEqual(error.kind, "ServerRefused", error.message)
        assert.strictEqual(error.code, "REVOKED_LICENSE")
        assert.deepStrictEqual(error.status, { name: "LA_E_REVOKED", code: 53 })
        // The message says what came instead of one.
        assert.include(error.message, "REVOKED_LICENSE")
        assert.strictEqual((yield* licensing.current).state, "revoked")
        assert.isTrue(Option.isNone(yield* store.load))
      })
    )
  }
})

describe("the request's hostname (row 12: 1–1024 characters)", () => {
  for (const [name, hostname, sent] of [
    ["an empty host name is sent as the fallback", "", "localhost"],
    ["a blank host name is sent as the fallback", "  \t ", "localhost"],
    ["an over-long host name is cut to 1024 characters", "h".repeat(2000), "h".repeat(1024)]
  ] as const) {
    it.effect(`${name}, and the server takes it (activation and trial)`, () =>
      Effect.gen(function* () {
        const { licensing, emulator, license, proxy } = yield* behind(hostname)
        assert.strictEqual((yield* licensing.activate(license.key)).state, "active")
        const onServer = yield* Effect.promise(() => emulator.getLicense(license.id))
        assert.strictEqual(onServer.activations[0]?.hostname, sent)
        yield* licensing.deactivate
        yield* licensing.activateTrial
        const hostnames = proxy.bodies
          .filter((body) => body.startsWith("{"))
          .map((body) => (JSON.parse(body) as { hostname?: unknown }).hostname)
          .filter((h) => h !== undefined)
        assert.isAtLeast(hostnames.length, 2)
        for (const h of hostnames) assert.strictEqual(h, sent)
      })
    )
  }
})
