import { networkCause } from "@licensure/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { HttpBody, HttpClient, HttpClientRequest } from "effect/http"
import * as NodeHttp from "../src/NodeHttp.ts"
import { closedPort, type Echo, echoServer, forwardProxy } from "./fixtures/LocalServers.ts"
import { selfSignedCertificate } from "./fixtures/SelfSignedCertificate.ts"

const certificate = selfSignedCertificate()

/** Runs one request through a client built from `options`, returning the echoed request. */
const echo = (options: NodeHttp.NodeHttpOptions, request: HttpClientRequest.HttpClientRequest) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(request)
    assert.strictEqual(response.status, 200)
    return (yield* response.json) as unknown as Echo
  }).pipe(Effect.provide(NodeHttp.layer(options)))

const failure = (options: NodeHttp.NodeHttpOptions, url: string) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    return yield* Effect.flip(client.get(url))
  }).pipe(Effect.provide(NodeHttp.layer(options)))

describe("NodeHttp", () => {
  for (const [name, options] of [
    ["the platform's fetch (direct, defaults)", { proxy: "none" }],
    ["the undici dispatcher (explicit timeouts)", { proxy: "none", connectTimeout: 5_000, readTimeout: 5_000 }]
  ] as const) {
    it.live(`never follows a redirect, on ${name}: the 302 is the answer`, () =>
      Effect.gen(function* () {
        let followed = 0
        const serve = (handler: (response: import("node:http").ServerResponse) => void) =>
          Effect.acquireRelease(
            Effect.promise(async () => {
              const { createServer } = await import("node:http")
              const server = createServer((request, response) => {
                request.resume()
                handler(response)
              })
              await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
              return { server, port: (server.address() as { port: number }).port }
            }),
            ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
          )
        const elsewhere = yield* serve((response) => {
          followed++
          response.end("{}")
        })
        const moved = yield* serve((response) => {
          response.writeHead(302, { location: `http://127.0.0.1:${elsewhere.port}/elsewhere` })
          response.end()
        })
        const status = yield* Effect.gen(function* () {
          const client = yield* HttpClient.HttpClient
          const response = yield* client.get(`http://127.0.0.1:${moved.port}/v3/activations`)
          return response.status
        }).pipe(Effect.provide(NodeHttp.layer(options)))
        assert.strictEqual(status, 302)
        assert.strictEqual(followed, 0)
      })
    )
  }

  it.live("sends requests straight to the server when no proxy is configured", () =>
    Effect.gen(function* () {
      const target = yield* echoServer()
      const proxy = yield* forwardProxy
      const seen = yield* echo(
        { proxy: "env", env: {} },
        HttpClientRequest.post(`http://127.0.0.1:${target.port}/v3/activations?x=1`).pipe(
          HttpClientRequest.setBody(HttpBody.text('{"key":"K"}', "application/json"))
        )
      )
      assert.deepStrictEqual(seen, {
        method: "POST",
        url: "/v3/activations?x=1",
        host: `127.0.0.1:${target.port}`,
        body: '{"key":"K"}'
      })
      assert.deepStrictEqual(proxy.log, { forwarded: [], tunnels: [], credentials: [] })
    })
  )

  it.live("sends http requests through HTTP_PROXY as absolute-URI requests", () =>
    Effect.gen(function* () {
      const target = yield* echoServer()
      const proxy = yield* forwardProxy
      const url = `http://127.0.0.1:${target.port}/v3/activations/a1`
      const seen = yield* echo(
        { env: { HTTP_PROXY: proxy.url } },
        HttpClientRequest.patch(url).pipe(HttpClientRequest.setBody(HttpBody.text('{"fingerprint":"f"}')))
      )
      assert.strictEqual(seen.method, "PATCH")
      assert.strictEqual(seen.url, "/v3/activations/a1")
      assert.strictEqual(seen.body, '{"fingerprint":"f"}')
      assert.deepStrictEqual(proxy.log.forwarded, [`PATCH ${url}`])
      assert.deepStrictEqual(proxy.log.tunnels, [])
    })
  )

  it.live("tunnels https requests through HTTPS_PROXY with CONNECT, verifying the server's certificate", () =>
    Effect.gen(function* () {
      const target = yield* echoServer(certificate)
      const proxy = yield* forwardProxy
      const seen = yield* echo(
        { env: { HTTPS_PROXY: proxy.url }, ca: certificate.cert },
        HttpClientRequest.get(`https://127.0.0.1:${target.port}/v3/products/p1/trial-activations`)
      )
      assert.strictEqual(seen.url, "/v3/products/p1/trial-activations")
      assert.deepStrictEqual(proxy.log.tunnels, [`127.0.0.1:${target.port}`])
      assert.deepStrictEqual(proxy.log.forwarded, [])
    })
  )

  it.live("refuses an https server whose certificate it does not trust, through the proxy too", () =>
    Effect.gen(function* () {
      const target = yield* echoServer(certificate)
      const proxy = yield* forwardProxy
      const error = yield* failure({ env: { HTTPS_PROXY: proxy.url } }, `https://127.0.0.1:${target.port}/`)
      assert.strictEqual(error.reason._tag, "TransportError")
      // fetch wraps the TLS error ("fetch failed"); the certificate's own code is kept in the cause chain.
      const cause = networkCause(error)
      assert.match(`${cause.errno} ${cause.detail}`, /self-signed|certificate|CERT/i)
      assert.deepStrictEqual(proxy.log.tunnels, [`127.0.0.1:${target.port}`])
    })
  )

  it.live("uses HTTP_PROXY only for http and HTTPS_PROXY only for https", () =>
    Effect.gen(function* () {
      const plain = yield* echoServer()
      const secure = yield* echoServer(certificate)
      const proxy = yield* forwardProxy
      yield* echo(
        { env: { HTTPS_PROXY: proxy.url }, ca: certificate.cert },
        HttpClientRequest.get(`http://127.0.0.1:${plain.port}/`)
      )
      yield* echo(
        { env: { HTTP_PROXY: proxy.url }, ca: certificate.cert },
        HttpClientRequest.get(`https://127.0.0.1:${secure.port}/`)
      )
      assert.deepStrictEqual(proxy.log, { forwarded: [], tunnels: [], credentials: [] })
    })
  )

  it.live("prefers the lower-case proxy variables, as curl does", () =>
    Effect.gen(function* () {
      const target = yield* echoServer()
      const proxy = yield* forwardProxy
      const deadPort = yield* closedPort
      yield* echo(
        { env: { http_proxy: proxy.url, HTTP_PROXY: `http://127.0.0.1:${deadPort}` } },
        HttpClientRequest.get(`http://127.0.0.1:${target.port}/lower`)
      )
      assert.deepStrictEqual(proxy.log.forwarded, [`GET http://127.0.0.1:${target.port}/lower`])
    })
  )

  it.live("reads process.env when no environment is given", () =>
    Effect.gen(function* () {
      const target = yield* echoServer()
      const proxy = yield* forwardProxy
      const saved = {
        http_proxy: process.env.http_proxy,
        HTTP_PROXY: process.env.HTTP_PROXY,
        no_proxy: process.env.no_proxy,
        NO_PROXY: process.env.NO_PROXY
      }
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          delete process.env.http_proxy
          delete process.env.no_proxy
          delete process.env.NO_PROXY
          process.env.HTTP_PROXY = proxy.url
        }),
        () =>
          Effect.sync(() => {
            for (const [name, value] of Object.entries(saved)) {
              if (value === undefined) delete process.env[name]
              else process.env[name] = value
            }
          })
      )
      yield* echo({}, HttpClientRequest.get(`http://127.0.0.1:${target.port}/from-process-env`))
      assert.deepStrictEqual(proxy.log.forwarded, [`GET http://127.0.0.1:${target.port}/from-process-env`])
    })
  )

  describe("NO_PROXY", () => {
    it.live("sends a listed host straight to the server", () =>
      Effect.gen(function* () {
        const target = yield* echoServer()
        const proxy = yield* forwardProxy
        const env = { HTTP_PROXY: proxy.url, NO_PROXY: "licensing.example.com, 127.0.0.1" }
        const seen = yield* echo({ env }, HttpClientRequest.get(`http://127.0.0.1:${target.port}/direct`))
        assert.strictEqual(seen.url, "/direct")
        assert.deepStrictEqual(proxy.log, { forwarded: [], tunnels: [], credentials: [] })
      })
    )

    it.live("bypasses for a host:port entry only on that port", () =>
      Effect.gen(function* () {
        const listed = yield* echoServer()
        const other = yield* echoServer()
        const proxy = yield* forwardProxy
        const env = { http_proxy: proxy.url, no_proxy: `127.0.0.1:${listed.port}` }
        yield* echo({ env }, HttpClientRequest.get(`http://127.0.0.1:${listed.port}/listed`))
        yield* echo({ env }, HttpClientRequest.get(`http://127.0.0.1:${other.port}/other`))
        assert.deepStrictEqual(proxy.log.forwarded, [`GET http://127.0.0.1:${other.port}/other`])
      })
    )

    it.live("with * sends everything direct", () =>
      Effect.gen(function* () {
        const target = yield* echoServer(certificate)
        const proxy = yield* forwardProxy
        const env = { HTTPS_PROXY: proxy.url, NO_PROXY: "*" }
        yield* echo({ env, ca: certificate.cert }, HttpClientRequest.get(`https://localhost:${target.port}/`))
        assert.deepStrictEqual(proxy.log, { forwarded: [], tunnels: [], credentials: [] })
      })
    )

    it.live("applies to an explicit proxy too, and a suffix entry covers the host", () =>
      Effect.gen(function* () {
        const target = yield* echoServer()
        const proxy = yield* forwardProxy
        const options = { proxy: { url: proxy.url, noProxy: [".localhost"] } }
        yield* echo(options, HttpClientRequest.get(`http://localhost:${target.port}/suffix`))
        yield* echo(options, HttpClientRequest.get(`http://127.0.0.1:${target.port}/proxied`))
        assert.deepStrictEqual(proxy.log.forwarded, [`GET http://127.0.0.1:${target.port}/proxied`])
      })
    )
  })

  it.live("sends the credentials in the proxy URL to the proxy as Proxy-Authorization, for http and https", () =>
    Effect.gen(function* () {
      const plain = yield* echoServer()
      const secure = yield* echoServer(certificate)
      const proxy = yield* forwardProxy
      const options = { proxy: { url: `http://licensing:p%40ss@127.0.0.1:${proxy.port}` }, ca: certificate.cert }
      const seen = yield* echo(options, HttpClientRequest.get(`http://127.0.0.1:${plain.port}/auth`))
      yield* echo(options, HttpClientRequest.get(`https://127.0.0.1:${secure.port}/auth`))
      const basic = `Basic ${Buffer.from("licensing:p@ss").toString("base64")}`
      assert.deepStrictEqual(proxy.log.credentials, [basic, basic])
      assert.strictEqual(seen.url, "/auth")
    })
  )

  it.live('ignores the environment with proxy: "none"', () =>
    Effect.gen(function* () {
      const target = yield* echoServer()
      const deadPort = yield* closedPort
      const seen = yield* echo(
        { proxy: "none", env: { HTTP_PROXY: `http://127.0.0.1:${deadPort}` } },
        HttpClientRequest.get(`http://127.0.0.1:${target.port}/none`)
      )
      assert.strictEqual(seen.url, "/none")
    })
  )

  it.live("fails with a transport error when the proxy refuses connections", () =>
    Effect.gen(function* () {
      const target = yield* echoServer()
      const deadPort = yield* closedPort
      const error = yield* failure({ env: { HTTP_PROXY: `127.0.0.1:${deadPort}` } }, `http://127.0.0.1:${target.port}/`)
      assert.strictEqual(error.reason._tag, "TransportError")
      assert.isUndefined(NodeHttp.timeoutKind(error))
    })
  )

  it.live("answers a malformed proxy setting with a failure naming the variable and what was expected", () =>
    Effect.gen(function* () {
      const error = yield* failure({ env: { HTTPS_PROXY: "socks5://proxy:1080" } }, "https://127.0.0.1:1/")
      assert.strictEqual(error.reason._tag, "TransportError")
      assert.include(
        error.message,
        'invalid NodeHttp options: HTTPS_PROXY is "socks5://proxy:1080", expected an http:// or https:// proxy URL'
      )
    })
  )

  it.live("answers bad timeouts with a failure naming the option", () =>
    Effect.gen(function* () {
      const error = yield* failure({ readTimeout: 0 }, "http://127.0.0.1:1/")
      assert.include(error.message, "expected readTimeout to be a positive whole number of milliseconds, got 0")
    })
  )
})
