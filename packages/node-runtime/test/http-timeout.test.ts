import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { HttpClient } from "effect/http"
import * as NodeHttp from "../src/NodeHttp.ts"
import { forwardProxy, silentServer, stallingServer } from "./fixtures/LocalServers.ts"

// Small bounds keep the suite quick (undici checks its timers about once a second, so each case still takes up to a
// second: they run concurrently); the assertions are on the kind of failure, never on elapsed time.
const options: NodeHttp.NodeHttpOptions = { connectTimeout: 200, readTimeout: 200, proxy: "none" }

const withClient = <A, E>(
  use: (client: HttpClient.HttpClient) => Effect.Effect<A, E>,
  layerOptions: NodeHttp.NodeHttpOptions = options
) => HttpClient.HttpClient.pipe(Effect.flatMap(use), Effect.provide(NodeHttp.layer(layerOptions)))

describe("NodeHttp timeouts", { concurrent: true }, () => {
  it.live("fails with a connect timeout when the connection (here the TLS handshake) never completes", () =>
    Effect.gen(function* () {
      const { port } = yield* silentServer
      const error = yield* withClient((client) => Effect.flip(client.get(`https://127.0.0.1:${port}/v3/activations`)))
      assert.strictEqual(error._tag, "HttpClientError")
      assert.strictEqual(error.reason._tag, "TransportError")
      assert.strictEqual(NodeHttp.timeoutKind(error), "connect")
      assert.include(error.message, `connect timeout: no connection to 127.0.0.1:${port} within 200 ms`)
    })
  )

  it.live("fails with a read timeout when the server accepts the request and never answers", () =>
    Effect.gen(function* () {
      const { port } = yield* silentServer
      const error = yield* withClient((client) => Effect.flip(client.get(`http://127.0.0.1:${port}/v3/activations`)))
      assert.strictEqual(error.reason._tag, "TransportError")
      assert.strictEqual(NodeHttp.timeoutKind(error), "read")
      assert.include(error.message, `read timeout: 127.0.0.1:${port} sent nothing for 200 ms`)
    })
  )

  it.live("fails with a read timeout when the body stops halfway", () =>
    Effect.gen(function* () {
      const { port } = yield* stallingServer
      const error = yield* withClient((client) =>
        Effect.gen(function* () {
          const response = yield* client.get(`http://127.0.0.1:${port}/`)
          assert.strictEqual(response.status, 200)
          return yield* Effect.flip(response.text)
        })
      )
      assert.strictEqual(error._tag, "HttpClientError")
      assert.strictEqual(error.reason._tag, "DecodeError")
      assert.strictEqual(NodeHttp.timeoutKind(error), "read")
    })
  )

  it.live("bounds the wait through a proxy as well", () =>
    Effect.gen(function* () {
      const { port } = yield* silentServer
      const proxy = yield* forwardProxy
      const error = yield* withClient((client) => Effect.flip(client.get(`http://127.0.0.1:${port}/slow`)), {
        ...options,
        proxy: { url: proxy.url }
      })
      assert.strictEqual(NodeHttp.timeoutKind(error), "read")
      assert.deepStrictEqual(proxy.log.forwarded, [`GET http://127.0.0.1:${port}/slow`])
    })
  )

  it.live("leaves other failures unclassified", () =>
    Effect.gen(function* () {
      const error = yield* withClient((client) => Effect.flip(client.get("http://127.0.0.1:1/")))
      assert.strictEqual(error.reason._tag, "TransportError")
      assert.isUndefined(NodeHttp.timeoutKind(error))
    })
  )
})
