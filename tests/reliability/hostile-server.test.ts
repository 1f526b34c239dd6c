/**
 * A hostile server of the test's own (plain `node:http`) on every endpoint the client calls: activate, sync,
 * deactivate, trial activate and trial sync (issue 10). Each endpoint gets every fault below; the client is the real
 * `Licensing` over `LicenseApi` and the Node HTTP layer (`NodeHttp`, the app's own), with a memory store, no
 * retries and a one-second request timeout so the suite stays short. Per case it counts:
 * - wrongly accepted: a licence granted (or a trial started) from a faulty answer;
 * - crashed: a command that failed with anything but a typed `LicensingError`, or an `InternalError`;
 * - hung: a command that did not end within its bound;
 * - data lost: a stored activation gone after a faulty answer to sync or deactivate (no verified,
 *   server-coded refusal ever comes from this server, so nothing here may clear it).
 */
import { createSign, generateKeyPairSync } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { gzipSync } from "node:zlib"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Fingerprint, LicenseApi, LicenseStore, Licensing, type MachineIdentity } from "@licensure/core"
import * as NodeHttp from "@licensure/node-runtime/NodeHttp"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { report, tally, within } from "./Tally.ts"

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 })
const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 })
const publicKeyPem = keys.publicKey.export({ type: "spki", format: "pem" }).toString()
const productId = "prod-hostile"
const key = "HOSTILE-KEY-1"
const fingerprint = "9".repeat(64)

const machine: MachineIdentity = {
  fingerprint,
  components: [{ name: "machine-id", strength: "primary", hash: fingerprint }],
  vmName: undefined,
  container: false,
  os: "linux",
  osVersion: "6.1",
  hostname: "hostile",
  userHash: "8".repeat(64),
  sources: ["test"]
}

const b64 = (value: string | Buffer) => Buffer.from(value).toString("base64url")
const sign = (privateKey: typeof keys.privateKey, payload: unknown) => {
  const input = `${b64(JSON.stringify({ alg: "RS256", typ: "JWT" }))}.${b64(JSON.stringify(payload))}`
  return `${input}.${b64(createSign("RSA-SHA256").update(input).sign(privateKey))}`
}
const activationClaims = (fp = fingerprint) => {
  const iat = Math.floor(Date.now() / 1000)
  return {
    aid: "act-1",
    lid: "lic-1",
    pid: productId,
    key,
    fp,
    iat,
    eat: 0,
    ssi: 3600,
    ssgpeat: iat + 86_400,
    aco: 3600
  }
}
const trialClaims = (fp = fingerprint) => {
  const iat = Math.floor(Date.now() / 1000)
  return { aid: "trial-1", pid: productId, fp, iat, eat: iat + 14 * 86_400 }
}

type Answer = (request: IncomingMessage, response: ServerResponse) => void
const send =
  (status: number, body?: string | Buffer, headers: Record<string, string> = {}): Answer =>
  (_, response) => {
    response.writeHead(status, { "content-type": "application/json", ...headers })
    response.end(body)
  }

/** Faults a token endpoint (activate, sync, trial) answers with a success status. */
const successFaults = (field: "activationToken" | "trialActivationToken", claims: () => object) =>
  [
    ["200 with an empty body", send(200, "")],
    ["200 with a body that is not JSON", send(200, "<html>captive portal</html>", { "content-type": "text/html" })],
    ["200 with a JSON array", send(200, "[]")],
    ["200 with the token a number", send(200, JSON.stringify({ [field]: 123 }))],
    ["200 with the token empty", send(200, JSON.stringify({ [field]: "" }))],
    ["200 with the token abc.def.ghi", send(200, JSON.stringify({ [field]: "abc.def.ghi" }))],
    [
      "200 with a token from another signer",
      send(200, JSON.stringify({ [field]: sign(stranger.privateKey, claims()) }))
    ],
    [
      "200 with a real token for another machine",
      send(200, JSON.stringify({ [field]: sign(keys.privateKey, { ...claims(), fp: "7".repeat(64) }) }))
    ],
    ["200 with a 1 MiB body", send(200, JSON.stringify({ [field]: "x".repeat(1024 * 1024) }))],
    [
      "200 with a 50 MB gzip bomb",
      send(200, gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20)), { "content-encoding": "gzip" })
    ],
    ["204 where a token is due", send(204)],
    ["200 with __proto__ pollution", send(200, `{"__proto__":{"${field}":"a.b.c"}}`)]
  ] as const

/** Faults any endpoint can get: error statuses, broken transports, hostile bodies. */
const errorFaults: ReadonlyArray<readonly [string, Answer]> = [
  ["500 with plain text", send(500, "Internal Server Error", { "content-type": "text/plain" })],
  ["502 with an HTML page", send(502, "<html><body>Bad gateway</body></html>", { "content-type": "text/html" })],
  ["503 with Retry-After 1", send(503, JSON.stringify({ message: "maintenance" }), { "retry-after": "1" })],
  [
    "429 with Retry-After 99999999999",
    send(429, JSON.stringify({ message: "slow" }), { "retry-after": "99999999999" })
  ],
  ["418 with a message", send(418, JSON.stringify({ message: "teapot" }))],
  ["301 to another server", send(301, "", { location: "http://127.0.0.1:9/elsewhere" })],
  ["400 with a code this client does not know", send(400, JSON.stringify({ message: "new", code: "BRAND_NEW_CODE" }))],
  ["400 with code and message null", send(400, JSON.stringify({ message: null, code: null }))],
  ["401 with an empty object", send(401, "{}")],
  ["403 with HTML", send(403, "<h1>Forbidden</h1>", { "content-type": "text/html" })],
  ["409 without a code", send(409, JSON.stringify({ message: "conflict" }))],
  ["410 gone", send(410, "")],
  ["405 method not allowed", send(405, "", { allow: "GET" })],
  ["422 with a JSON array", send(422, "[1,2,3]")],
  ["500 with a 1 MiB body", send(500, "e".repeat(1024 * 1024))],
  ["500 with a gzip bomb", send(500, gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20)), { "content-encoding": "gzip" })],
  [
    "500 with an endless body",
    (request, response) => {
      response.writeHead(500, { "content-type": "text/plain" })
      const chunk = Buffer.alloc(64 * 1024, 0x65)
      const pump = () => {
        while (!response.destroyed && response.write(chunk)) {}
      }
      response.on("drain", pump)
      request.socket.on("close", () => response.destroy())
      pump()
    }
  ],
  [
    "headers, then a byte every 400 ms",
    (request, response) => {
      response.writeHead(400, { "content-type": "application/json" })
      const timer = setInterval(() => response.write(" "), 400)
      request.socket.on("close", () => clearInterval(timer))
    }
  ],
  ["no answer at all", () => {}],
  ["the connection dropped", (request) => request.socket.destroy()]
]

interface Server {
  readonly url: string
  fault: { readonly method: string; readonly path: RegExp; readonly answer: Answer } | undefined
  readonly close: () => Promise<void>
}

/** Answers the good way (tokens signed by the product key) except where `fault` matches. */
const startServer = async (): Promise<Server> => {
  const state: { fault: Server["fault"] } = { fault: undefined }
  const server = createServer((request, response) => {
    request.resume()
    request.on("end", () => {
      const path = request.url ?? ""
      const fault = state.fault
      if (fault !== undefined && fault.method === request.method && fault.path.test(path)) {
        return fault.answer(request, response)
      }
      if (path.endsWith("/deactivate")) return send(204)(request, response)
      if (path.startsWith("/v3/trial-activations")) {
        return send(200, JSON.stringify({ trialActivationToken: sign(keys.privateKey, trialClaims()) }))(
          request,
          response
        )
      }
      return send(200, JSON.stringify({ activationToken: sign(keys.privateKey, activationClaims()) }))(
        request,
        response
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get fault() {
      return state.fault
    },
    set fault(value) {
      state.fault = value
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

let server: Server
beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server?.close()
  console.log(report())
})

/** A fresh client with its own memory store; `run` executes one of its commands as a Promise. */
const client = async () => {
  const api = LicenseApi.layer({ host: server.url, timeout: "1 second" }).pipe(
    Layer.provide(NodeHttp.layer({ proxy: "none" }))
  )
  const scope = await Effect.runPromise(Scope.make())
  const context = await Effect.runPromise(
    Layer.buildWithScope(
      Licensing.layer({ productId, publicKeyPem, retry: { retries: 0 } }).pipe(
        Layer.provideMerge(Layer.mergeAll(api, LicenseStore.layerMemory, Fingerprint.layerStatic(machine)))
      ),
      scope
    )
  )
  const licensing = Context.get(context, Licensing)
  return {
    licensing,
    run: <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.result(effect)),
    stored: () => Effect.runPromise(Effect.map(Context.get(context, LicenseStore).load, (o) => o._tag === "Some")),
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

type Endpoint = "activate" | "sync" | "deactivate" | "activateTrial" | "syncTrial"
const route: Record<Endpoint, { method: string; path: RegExp }> = {
  activate: { method: "POST", path: /^\/v3\/activations$/ },
  sync: { method: "PATCH", path: /^\/v3\/activations\/[^/]+$/ },
  deactivate: { method: "POST", path: /\/deactivate$/ },
  activateTrial: { method: "POST", path: /^\/v3\/trial-activations$/ },
  syncTrial: { method: "PATCH", path: /^\/v3\/trial-activations\/[^/]+$/ }
}
const faultsOf = (endpoint: Endpoint): ReadonlyArray<readonly [string, Answer]> =>
  endpoint === "deactivate"
    ? errorFaults
    : [
        ...successFaults(
          endpoint === "activate" || endpoint === "sync" ? "activationToken" : "trialActivationToken",
          endpoint === "activate" || endpoint === "sync" ? activationClaims : trialClaims
        ),
        ...errorFaults
      ]

/** The bound every command must end within: the one-second request timeout, plus verification and slack. */
const Bound = 8_000

describe("reliability: a hostile server on every endpoint", () => {
  for (const endpoint of ["activate", "sync", "deactivate", "activateTrial", "syncTrial"] as const) {
    it(`${endpoint}: every fault ends in a typed error within ${Bound} ms, grants nothing and loses nothing`, async () => {
      const counts = tally(`server ${endpoint}`)
      const faults = faultsOf(endpoint)
      assert.isAtLeast(faults.length, 20)
      const heapBefore = process.memoryUsage().heapUsed
      for (const [name, answer] of faults) {
        counts.tried++
        server.fault = undefined
        const c = await client()
        try {
          const { licensing } = c
          // Set up what the endpoint needs: an activation (or a trial) made the good way.
          if (endpoint === "sync" || endpoint === "deactivate") await c.run(licensing.activate(key))
          if (endpoint === "syncTrial") await c.run(licensing.activateTrial)
          server.fault = { ...route[endpoint], answer }
          const command =
            endpoint === "activate"
              ? licensing.activate(key)
              : endpoint === "activateTrial"
                ? licensing.activateTrial
                : endpoint === "deactivate"
                  ? licensing.deactivate
                  : licensing.sync
          const outcome = await within(Bound, c.run(command))
          if (outcome === undefined) {
            counts.hung++
            assert.fail(`${endpoint} / ${name}: no answer within ${Bound} ms`)
          }
          const result = outcome!.value
          const view = await Effect.runPromise(licensing.current)
          if (result._tag === "Success") {
            // Only a deactivation may succeed here (none does: no fault is a 2xx); a token call must fail.
            counts.wronglyAccepted++
            assert.fail(`${endpoint} / ${name}: succeeded with state ${view.state}`)
          } else {
            const error = result.failure as { _tag?: string; kind?: string }
            if (error._tag !== "LicensingError" || error.kind === "InternalError") counts.crashed++
            assert.strictEqual(error._tag, "LicensingError", `${endpoint} / ${name}`)
            assert.notStrictEqual(error.kind, "InternalError", `${endpoint} / ${name}`)
          }
          if (endpoint === "activate" || endpoint === "activateTrial") {
            if (view.licensed) counts.wronglyAccepted++
            assert.isFalse(view.licensed, `${endpoint} / ${name}: licensed from a faulty answer`)
          } else {
            const kept = await c.stored()
            if (!kept || view.license === undefined) counts.dataLost++
            assert.isTrue(kept, `${endpoint} / ${name}: the stored activation was lost`)
            assert.isDefined(view.license, `${endpoint} / ${name}: the licence was dropped`)
          }
        } finally {
          server.fault = undefined
          await c.close()
        }
      }
      // Endless bodies, bombs and 1 MiB answers must not have been held: the heap stays within 64 MB of the start.
      const grown = process.memoryUsage().heapUsed - heapBefore
      assert.isBelow(grown, 64 * 1024 * 1024, `heap grew ${Math.round(grown / 1024 / 1024)} MB`)
      assert.deepStrictEqual(
        {
          wronglyAccepted: counts.wronglyAccepted,
          crashed: counts.crashed,
          hung: counts.hung,
          dataLost: counts.dataLost
        },
        { wronglyAccepted: 0, crashed: 0, hung: 0, dataLost: 0 }
      )
    })
  }
})
