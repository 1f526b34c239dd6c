/**
 * The Cryptlex API client over real HTTP: the emulator served on 127.0.0.1 (a free port) and Effect's fetch
 * client, so every answer is parsed from real bytes off a socket. Each server `code` the emulator produces by
 * itself is provoked the way a customer would meet it (a revoked licence, a full seat count, a VM, …); the codes
 * only Cryptlex's own policies produce come from `status` faults carrying `{message, code}` bodies. Transport
 * troubles (dropped connection, refused connection, an answer slower than the timeout) and garbled answers come
 * from faults too. A tiny `node:http` server stands in where the request itself is under test (headers, body,
 * base path), since the emulator's log does not record headers.
 */
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { FetchHttpClient } from "effect/http"
import * as ActivationToken from "../src/ActivationToken.ts"
import { failureFromApi } from "../src/LicensingError.ts"
import {
  ApiError,
  isSetupFailure,
  isTransient,
  isUncodedRefusal,
  LibraryVersion,
  LicenseApi,
  type LicenseApiConfig,
  NetworkFailure,
  resolveHost
} from "../src/LicenseApi.ts"
import {
  type ActivationRequest,
  Hosts,
  MaxBodyBytes,
  ServerErrorCodes,
  type TrialActivationRequest,
  type DeactivationRequest
} from "../src/Protocol.ts"
// The emulator depends on core, so core cannot list it as a dependency: its source is imported by path.
import { type Emulator, startEmulator } from "../../emulator/src/index.ts"

const fingerprint = (machine: string) => Buffer.from(machine.padEnd(32, ".")).toString("hex").slice(0, 64)
const machineA = fingerprint("machine-a")
const machineB = fingerprint("machine-b")

const activationBody = (key: string, productId: string, extra: Partial<ActivationRequest> = {}): ActivationRequest => ({
  key,
  productId,
  fingerprint: machineA,
  hostname: "api-test",
  appVersion: "1.0.0",
  os: "linux",
  osVersion: "6.1",
  userHash: "b".repeat(64),
  ...extra
})

const deactivationBody = (productId: string, extra: Partial<DeactivationRequest> = {}): DeactivationRequest => ({
  productId,
  accountId: "",
  fingerprint: machineA,
  userHash: "b".repeat(64),
  os: "linux",
  ...extra
})

const trialBody = (productId: string, extra: Partial<TrialActivationRequest> = {}): TrialActivationRequest => ({
  productId,
  fingerprint: machineA,
  hostname: "api-test",
  appVersion: "1.0.0",
  os: "linux",
  userHash: "b".repeat(64),
  ...extra
})

let emulator: Emulator
let productId: string
let publicKeyPem: string
let noTrialProductId: string

beforeAll(async () => {
  emulator = await startEmulator()
  ;({ productId, publicKeyPem } = await emulator.createProduct({ allowedTrialActivations: 1 }))
  ;({ productId: noTrialProductId } = await emulator.createProduct({ allowTrial: false }))
})
afterEach(async () => {
  await emulator.clearFaults()
  await emulator.clearLog()
})
afterAll(() => emulator?.close())

/** The API client over real HTTP (Effect's fetch client) against `host`, default the emulator. */
const client = (config: LicenseApiConfig = {}) =>
  LicenseApi.make({ host: emulator.url, ...config }).pipe(Effect.provide(FetchHttpClient.layer))

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

const licence = (options: Omit<Parameters<Emulator["createLicense"]>[0], "productId"> = {}, product = productId) =>
  promise(() => emulator.createLicense({ productId: product, ...options }))

const activationIdOf = (token: string) =>
  Effect.map(ActivationToken.verify(token, publicKeyPem), (claims) => claims.activationId)

/** Asserts the failure is a `ServerRefused` with this code and status, on this operation. */
const assertRefused = (error: ApiError, operation: ApiError["operation"], code: string, status: number) => {
  assert.strictEqual(error._tag, "ApiError")
  assert.strictEqual(error.operation, operation)
  assert.strictEqual(error.reason._tag, "ServerRefused", error.message)
  if (error.reason._tag !== "ServerRefused") return
  assert.strictEqual(error.reason.code, code)
  assert.strictEqual(error.reason.status, status)
  assert.isAbove(error.reason.message.length, 0)
  assert.include(error.message, code)
  assert.isFalse(isTransient(error))
}

// Each code the emulator produces by itself, with how to provoke it.
const naturalCodes: ReadonlyArray<{
  readonly code: string
  readonly status: number
  readonly operation: ApiError["operation"]
  readonly provoke: Effect.Effect<ApiError, unknown>
}> = [
  {
    code: "INVALID_LICENSE_KEY",
    status: 400,
    operation: "activate",
    provoke: Effect.gen(function* () {
      const api = yield* client()
      return yield* Effect.flip(api.activate(activationBody("NO-SUCH-KEY", productId)))
    })
  },
  {
    code: "INVALID_PRODUCT_ID",
    status: 400,
    operation: "activate",
    provoke: Effect.gen(function* () {
      const { key } = yield* licence()
      const api = yield* client()
      return yield* Effect.flip(api.activate(activationBody(key, "00000000-0000-4000-8000-000000000000")))
    })
  },
  {
    code: "REVOKED_LICENSE",
    status: 400,
    operation: "activate",
    provoke: Effect.gen(function* () {
      const { key } = yield* licence({ revoked: true })
      const api = yield* client()
      return yield* Effect.flip(api.activate(activationBody(key, productId)))
    })
  },
  {
    code: "INVALID_LICENSE_TYPE",
    status: 400,
    operation: "activate",
    provoke: Effect.gen(function* () {
      const { key } = yield* licence({ type: "on-premise-floating" })
      const api = yield* client()
      return yield* Effect.flip(api.activate(activationBody(key, productId)))
    })
  },
  {
    code: "VM_ACTIVATION_NOT_ALLOWED",
    status: 400,
    operation: "activate",
    provoke: Effect.gen(function* () {
      const { key } = yield* licence({ allowVmActivation: false })
      const api = yield* client()
      return yield* Effect.flip(api.activate(activationBody(key, productId, { vmName: "KVM" })))
    })
  },
  {
    code: "CONTAINER_ACTIVATION_NOT_ALLOWED",
    status: 400,
    operation: "activate",
    provoke: Effect.gen(function* () {
      const { key } = yield* licence({ allowContainerActivation: false })
      const api = yield* client()
      return yield* Effect.flip(api.activate(activationBody(key, productId, { container: true })))
    })
  },
  {
    // Under 400, where LexActivator reads it (reference-client.md row 20).
    code: "ACTIVATION_LIMIT_REACHED",
    status: 400,
    operation: "activate",
    provoke: Effect.gen(function* () {
      const { key } = yield* licence({ allowedActivations: 1 })
      const api = yield* client()
      yield* Effect.orDie(api.activate(activationBody(key, productId)))
      return yield* Effect.flip(api.activate(activationBody(key, productId, { fingerprint: machineB })))
    })
  },
  {
    code: "INVALID_ACTIVATION_FINGERPRINT",
    status: 400,
    operation: "sync",
    provoke: Effect.gen(function* () {
      const { key } = yield* licence()
      const api = yield* client()
      const id = yield* Effect.orDie(Effect.flatMap(api.activate(activationBody(key, productId)), activationIdOf))
      return yield* Effect.flip(api.sync(id, activationBody(key, productId, { fingerprint: machineB })))
    })
  },
  {
    code: "METER_ATTRIBUTE_USES_LIMIT_REACHED",
    status: 400,
    operation: "activate",
    provoke: Effect.gen(function* () {
      const { key } = yield* licence({ meterAttributes: [{ name: "exports", allowedUses: 2 }] })
      const api = yield* client()
      return yield* Effect.flip(
        api.activate(activationBody(key, productId, { meterAttributes: [{ name: "exports", usesIncrement: 3 }] }))
      )
    })
  },
  {
    code: "DEACTIVATION_LIMIT_REACHED",
    status: 409,
    operation: "deactivate",
    provoke: Effect.gen(function* () {
      const { key } = yield* licence({ allowedDeactivations: 0 })
      const api = yield* client()
      const id = yield* Effect.orDie(Effect.flatMap(api.activate(activationBody(key, productId)), activationIdOf))
      return yield* Effect.flip(api.deactivate(id, deactivationBody(productId)))
    })
  },
  {
    code: "INVALID_ACCOUNT_ID",
    status: 400,
    operation: "activate",
    provoke: Effect.gen(function* () {
      const product = yield* promise(() => emulator.createProduct({ accountId: "acc-right" }))
      const { key } = yield* promise(() => emulator.createLicense({ productId: product.productId }))
      const api = yield* client()
      return yield* Effect.flip(api.activate(activationBody(key, product.productId, { accountId: "acc-wrong" })))
    })
  },
  {
    code: "TRIAL_NOT_ALLOWED",
    status: 400,
    operation: "activateTrial",
    provoke: Effect.gen(function* () {
      const api = yield* client()
      return yield* Effect.flip(api.activateTrial(trialBody(noTrialProductId)))
    })
  },
  {
    code: "TRIAL_ACTIVATION_LIMIT_REACHED",
    status: 400,
    operation: "activateTrial",
    provoke: Effect.gen(function* () {
      // The product allows one trial activation; another test may already have taken it with machine A.
      const api = yield* client()
      yield* Effect.ignore(api.activateTrial(trialBody(productId)))
      return yield* Effect.flip(api.activateTrial(trialBody(productId, { fingerprint: fingerprint("machine-t") })))
    })
  }
]

// Codes that only Cryptlex's own policies (accounts, plans, releases, devices, geo and IP rules, offline files)
// produce, each with the status it is injected under: 400, where LexActivator reads activation codes
// (reference-client.md row 20), and 403 for the policy refusals.
const injectedCodes = {
  AUTHENTICATION_FAILED: 403,
  COUNTRY_NOT_ALLOWED: 403,
  IP_ADDRESS_NOT_ALLOWED: 403,
  INVALID_OFFLINE_REQUEST: 400,
  NO_ERROR: 400,
  LICENSE_NOT_EFFECTIVE: 400,
  INVALID_RELEASE_VERSION_FORMAT: 400,
  RELEASE_VERSION_NOT_ALLOWED: 400,
  FREE_PLAN_ACTIVATION_LIMIT_REACHED: 400,
  INVALID_ACTIVATION_ID: 400,
  INVALID_LICENSE_ID: 400,
  INVALID_DEVICE_ID: 400,
  INVALID_DEVICE_CHALLENGE_SIGNATURE: 400,
  ACTIVATION_CLONE_DETECTED: 400
} as const

// The code the emulator sends with a 404 for a missing activation; it is NotFound, not a refusal (row 18).
const notFoundCodes = ["ACTIVATION_NOT_FOUND"] as const

describe("LicenseApi over real HTTP", () => {
  it("covers every known server code, between the emulator's own and the injected ones", () => {
    const covered = [...naturalCodes.map((c) => c.code), ...Object.keys(injectedCodes), ...notFoundCodes].sort()
    assert.deepStrictEqual(covered, [...ServerErrorCodes].sort())
  })

  describe("successful calls", () => {
    it.effect("activate answers a token for this key, product and machine; sync answers a fresh one", () =>
      Effect.gen(function* () {
        const { id: licenseId, key } = yield* licence()
        const api = yield* client()
        const token = yield* api.activate(activationBody(key, productId))
        const claims = yield* ActivationToken.verify(token, publicKeyPem, { productId, key, fingerprint: machineA })
        assert.strictEqual(claims.licenseId, licenseId)
        const again = yield* api.sync(claims.activationId, activationBody(key, productId))
        const synced = yield* ActivationToken.verify(again, publicKeyPem, { productId, key, fingerprint: machineA })
        assert.strictEqual(synced.activationId, claims.activationId)
        const log = yield* promise(() => emulator.log())
        assert.deepStrictEqual(
          log.map((e) => [e.method, e.path, e.status]),
          [
            ["POST", "/v3/activations", 201],
            ["PATCH", `/v3/activations/${claims.activationId}`, 200]
          ]
        )
      })
    )

    it.effect("deactivate frees the seat on the server", () =>
      Effect.gen(function* () {
        const { id: licenseId, key } = yield* licence()
        const api = yield* client()
        const id = yield* Effect.flatMap(api.activate(activationBody(key, productId)), activationIdOf)
        assert.strictEqual((yield* promise(() => emulator.getLicense(licenseId))).activations.length, 1)
        yield* api.deactivate(id, deactivationBody(productId))
        assert.strictEqual((yield* promise(() => emulator.getLicense(licenseId))).activations.length, 0)
        const log = yield* promise(() => emulator.log())
        const last = log.at(-1)!
        // LexActivator 3.34 deactivates with POST …/deactivate and counts only 204 as done (reference-client.md row 4).
        assert.deepStrictEqual([last.method, last.path, last.status], ["POST", `/v3/activations/${id}/deactivate`, 204])
      })
    )

    it.effect("activateTrial and syncTrial answer trial tokens for this machine", () =>
      Effect.gen(function* () {
        const product = yield* promise(() => emulator.createProduct())
        const api = yield* client()
        const token = yield* api.activateTrial(trialBody(product.productId))
        const claims = yield* ActivationToken.verifyTrial(token, product.publicKeyPem, {
          productId: product.productId,
          fingerprint: machineA
        })
        const again = yield* api.syncTrial(claims.trialActivationId, trialBody(product.productId))
        const synced = yield* ActivationToken.verifyTrial(again, product.publicKeyPem, {
          productId: product.productId,
          fingerprint: machineA
        })
        assert.strictEqual(synced.trialActivationId, claims.trialActivationId)
        assert.strictEqual(synced.expiresAt, claims.expiresAt)
      })
    )
  })

  describe("server codes reach the typed reason", () => {
    for (const { code, status, operation, provoke } of naturalCodes) {
      it.effect(`${code} (${status}, produced by the emulator) → ServerRefused on ${operation}`, () =>
        Effect.gen(function* () {
          assertRefused(yield* provoke, operation, code, status)
        })
      )
    }

    it.effect("INVALID_ACTIVATION_FINGERPRINT on a trial sync → ServerRefused on syncTrial", () =>
      Effect.gen(function* () {
        const product = yield* promise(() => emulator.createProduct())
        const api = yield* client()
        const token = yield* api.activateTrial(trialBody(product.productId))
        const claims = yield* ActivationToken.verifyTrial(token, product.publicKeyPem)
        const error = yield* Effect.flip(
          api.syncTrial(claims.trialActivationId, trialBody(product.productId, { fingerprint: machineB }))
        )
        assertRefused(error, "syncTrial", "INVALID_ACTIVATION_FINGERPRINT", 400)
      })
    )

    for (const [code, status] of Object.entries(injectedCodes)) {
      it.effect(`${code} (injected under ${status} with a {message, code} body) → ServerRefused, message kept`, () =>
        Effect.gen(function* () {
          const message = `refused by policy: ${code.toLowerCase()}`
          yield* promise(() => emulator.addFault({ kind: "status", status, body: { message, code }, count: 1 }))
          const { key } = yield* licence()
          const api = yield* client()
          const error = yield* Effect.flip(api.activate(activationBody(key, productId)))
          assertRefused(error, "activate", code, status)
          if (error.reason._tag === "ServerRefused") assert.strictEqual(error.reason.message, message)
        })
      )
    }

    it.effect("a code this client does not know → UnknownServerCode, kept verbatim with its status", () =>
      Effect.gen(function* () {
        yield* promise(() =>
          emulator.addFault({
            kind: "status",
            status: 422,
            body: { message: "licence is on holiday", code: "LICENSE_ON_HOLIDAY_v2" },
            count: 1
          })
        )
        const { key } = yield* licence()
        const api = yield* client()
        const error = yield* Effect.flip(api.activate(activationBody(key, productId)))
        assert.deepStrictEqual(
          error.reason._tag === "UnknownServerCode"
            ? { code: error.reason.code, status: error.reason.status, message: error.reason.message }
            : error.reason._tag,
          { code: "LICENSE_ON_HOLIDAY_v2", status: 422, message: "licence is on holiday" }
        )
        assert.include(error.message, "LICENSE_ON_HOLIDAY_v2")
        assert.isFalse(isTransient(error))
      })
    )

    it.effect("an error body without a code is judged by its status (400 → ServerFailure with the message)", () =>
      Effect.gen(function* () {
        yield* promise(() =>
          emulator.addFault({
            kind: "status",
            status: 400,
            body: { message: "fingerprint: Expected string, got the number 5" },
            count: 1
          })
        )
        const { key } = yield* licence()
        const api = yield* client()
        const error = yield* Effect.flip(api.activate(activationBody(key, productId)))
        assert.strictEqual(error.reason._tag, "ServerFailure")
        if (error.reason._tag === "ServerFailure") assert.strictEqual(error.reason.status, 400)
        assert.strictEqual(error.reason.message, "fingerprint: Expected string, got the number 5")
      })
    )
  })

  describe("statuses without a code", () => {
    it.effect("404 on sync, deactivate and trial sync of an unknown id → NotFound", () =>
      Effect.gen(function* () {
        const { key } = yield* licence()
        const api = yield* client()
        const sync = yield* Effect.flip(api.sync("no-such-activation", activationBody(key, productId)))
        const deactivate = yield* Effect.flip(api.deactivate("no-such-activation", deactivationBody(productId)))
        const syncTrial = yield* Effect.flip(api.syncTrial("no-such-trial", trialBody(productId)))
        for (const [error, operation] of [
          [sync, "sync"],
          [deactivate, "deactivate"],
          [syncTrial, "syncTrial"]
        ] as const) {
          assert.strictEqual(error.operation, operation)
          assert.strictEqual(error.reason._tag, "NotFound")
          assert.isFalse(isTransient(error))
        }
        assert.include(sync.reason.message, "no-such-activation")
        assert.deepStrictEqual(
          (yield* promise(() => emulator.log())).map((e) => e.status),
          [404, 404, 404]
        )
      })
    )

    // LexActivator 3.34: a 404 clears on sync only with ACTIVATION_NOT_FOUND (or, here, no code at all); on
    // deactivate any 404 means the activation is gone (reference-client.md rows 18–19).
    it.effect(
      "404 with ACTIVATION_NOT_FOUND or no code → NotFound; another code on sync stays a refusal, on deactivate it is gone",
      () =>
        Effect.gen(function* () {
          const { key } = yield* licence()
          const api = yield* client()
          const id = yield* Effect.flatMap(api.activate(activationBody(key, productId)), activationIdOf)
          const fault = (code?: string) =>
            promise(() =>
              emulator.addFault({
                kind: "status",
                status: 404,
                body: code === undefined ? { message: "gone" } : { message: "gone", code },
                count: 1
              })
            )
          yield* fault("ACTIVATION_NOT_FOUND")
          assert.strictEqual((yield* Effect.flip(api.sync(id, activationBody(key, productId)))).reason._tag, "NotFound")
          yield* fault()
          assert.strictEqual((yield* Effect.flip(api.sync(id, activationBody(key, productId)))).reason._tag, "NotFound")
          yield* fault("INVALID_LICENSE_KEY")
          const coded = yield* Effect.flip(api.sync(id, activationBody(key, productId)))
          assert.strictEqual(coded.reason._tag, "ServerRefused")
          yield* fault("INVALID_LICENSE_KEY")
          const gone = yield* Effect.flip(api.deactivate(id, deactivationBody(productId)))
          assert.strictEqual(gone.reason._tag, "NotFound")
        })
    )

    it.effect("an activation deleted on the server answers its next sync with NotFound", () =>
      Effect.gen(function* () {
        const { key } = yield* licence()
        const api = yield* client()
        const id = yield* Effect.flatMap(api.activate(activationBody(key, productId)), activationIdOf)
        yield* promise(() => emulator.deleteActivation(id))
        const error = yield* Effect.flip(api.sync(id, activationBody(key, productId)))
        assert.strictEqual(error.reason._tag, "NotFound")
      })
    )

    it.effect("429 with Retry-After → RateLimited with retryAfterSeconds; without it, none", () =>
      Effect.gen(function* () {
        yield* promise(() => emulator.addFault({ kind: "status", status: 429, retryAfter: 30, count: 1 }))
        const { key } = yield* licence()
        const api = yield* client()
        const limited = yield* Effect.flip(api.activate(activationBody(key, productId)))
        assert.strictEqual(limited.reason._tag, "RateLimited")
        if (limited.reason._tag === "RateLimited") assert.strictEqual(limited.reason.retryAfterSeconds, 30)
        assert.isTrue(isTransient(limited))

        yield* promise(() => emulator.addFault({ kind: "status", status: 429, count: 1 }))
        const bare = yield* Effect.flip(api.activate(activationBody(key, productId)))
        assert.strictEqual(bare.reason._tag, "RateLimited")
        assert.isFalse("retryAfterSeconds" in bare.reason)
      })
    )

    // LicenseApi's own doc for parseRetryAfter promises an HTTP date too, counted from the server's `Date`.
    it.effect("429 with Retry-After as an HTTP date → retryAfterSeconds counted from the server's Date header", () =>
      Effect.gen(function* () {
        const serverNow = Date.parse("2026-03-01T12:00:00Z")
        const server = yield* standIn(() => ({
          status: 429,
          headers: {
            date: new Date(serverNow).toUTCString(),
            "retry-after": new Date(serverNow + 120_000).toUTCString(),
            "content-type": "application/json"
          },
          body: JSON.stringify({ message: "slow down" })
        }))
        const api = yield* client({ host: server.url })
        const error = yield* Effect.flip(api.activate(activationBody("KEY-1", productId)))
        assert.strictEqual(error.reason._tag, "RateLimited")
        if (error.reason._tag === "RateLimited") assert.strictEqual(error.reason.retryAfterSeconds, 120)
      })
    )

    it.effect("503 → ServerFailure with the status and the server's message", () =>
      Effect.gen(function* () {
        yield* promise(() =>
          emulator.addFault({ kind: "status", status: 503, body: { message: "down for maintenance" }, count: 1 })
        )
        const { key } = yield* licence()
        const api = yield* client()
        const error = yield* Effect.flip(api.activate(activationBody(key, productId)))
        assert.strictEqual(error.reason._tag, "ServerFailure")
        if (error.reason._tag === "ServerFailure") {
          assert.strictEqual(error.reason.status, 503)
          assert.strictEqual(error.reason.message, "down for maintenance")
        }
        assert.isTrue(isTransient(error))
      })
    )

    it.effect("500 with a plain-text body → ServerFailure quoting the text", () =>
      Effect.gen(function* () {
        yield* promise(() => emulator.addFault({ kind: "status", status: 500, body: "upstream exploded", count: 1 }))
        const { key } = yield* licence()
        const api = yield* client()
        const error = yield* Effect.flip(api.activate(activationBody(key, productId)))
        assert.strictEqual(error.reason._tag, "ServerFailure")
        assert.strictEqual(error.reason.message, "HTTP 500: upstream exploded")
      })
    )

    // LexActivator reports LA_E_SERVER only above 499; an uncoded 4xx is LA_E_INET, made once (rows 20, 23).
    it.effect("an uncoded 400/401/403/405 (a proxy's answer) → ServerFailure with its status, not retried", () =>
      Effect.gen(function* () {
        for (const [status, body] of [
          [400, ""],
          [401, "Unauthorized"],
          [403, "<html>Forbidden</html>"],
          [405, JSON.stringify({ message: "Method Not Allowed" })]
        ] as const) {
          const server = yield* standIn(() => ({ status, body }))
          const api = yield* client({ host: server.url })
          const error = yield* Effect.flip(api.sync("act-1", activationBody("KEY-1", productId)))
          assert.strictEqual(error.reason._tag, "ServerFailure", error.message)
          if (error.reason._tag === "ServerFailure") assert.strictEqual(error.reason.status, status)
          assert.isTrue(isUncodedRefusal(error.reason))
          assert.isFalse(isTransient(error), `an uncoded ${status} is not retried within the call`)
        }
        for (const status of [408, 500, 502]) {
          const server = yield* standIn(() => ({ status, body: "" }))
          const api = yield* client({ host: server.url })
          const error = yield* Effect.flip(api.sync("act-1", activationBody("KEY-1", productId)))
          assert.isFalse(isUncodedRefusal(error.reason))
          assert.isTrue(isTransient(error), `${status} stays transient`)
        }
      })
    )

    it.effect("a code without a string message is still the code; the message says what came", () =>
      Effect.gen(function* () {
        for (const [body, came] of [
          [{ code: "REVOKED_LICENSE" }, 'no "message"'],
          [{ code: "REVOKED_LICENSE", message: null }, '"message": null'],
          [{ code: "REVOKED_LICENSE", message: 42 }, '"message": 42']
        ] as const) {
          const server = yield* standIn(() => ({ status: 400, body: JSON.stringify(body) }))
          const api = yield* client({ host: server.url })
          const error = yield* Effect.flip(api.sync("act-1", activationBody("KEY-1", productId)))
          assert.strictEqual(error.reason._tag, "ServerRefused", error.message)
          if (error.reason._tag === "ServerRefused") {
            assert.strictEqual(error.reason.code, "REVOKED_LICENSE")
            assert.strictEqual(error.reason.message, `HTTP 400 REVOKED_LICENSE, with ${came}`)
          }
        }
        const unknown = yield* standIn(() => ({ status: 400, body: JSON.stringify({ code: "SOMETHING_NEW" }) }))
        const api = yield* client({ host: unknown.url })
        const error = yield* Effect.flip(api.activate(activationBody("KEY-1", productId)))
        assert.strictEqual(error.reason._tag, "UnknownServerCode", error.message)
      })
    )
  })

  describe("garbled answers and transport failures", () => {
    it.effect("a truncated JSON body → MalformedResponse saying a JSON body was expected", () =>
      Effect.gen(function* () {
        yield* promise(() => emulator.addFault({ kind: "malformed", count: 1 }))
        const { key } = yield* licence()
        const api = yield* client()
        const error = yield* Effect.flip(api.activate(activationBody(key, productId)))
        assert.strictEqual(error.reason._tag, "MalformedResponse")
        if (error.reason._tag === "MalformedResponse") assert.strictEqual(error.reason.status, 200)
        assert.include(error.reason.message, "expected a JSON body")
        assert.isTrue(isTransient(error))
      })
    )

    it.effect("JSON of the wrong shape → MalformedResponse naming the field it expected", () =>
      Effect.gen(function* () {
        yield* promise(() => emulator.addFault({ kind: "malformed", status: 201, body: { token: "x" }, count: 2 }))
        const { key } = yield* licence()
        const api = yield* client()
        const activation = yield* Effect.flip(api.activate(activationBody(key, productId)))
        assert.strictEqual(activation.reason._tag, "MalformedResponse")
        assert.include(activation.reason.message, `expected {"activationToken": "<JWT>"}`)
        const trial = yield* Effect.flip(api.activateTrial(trialBody(productId)))
        assert.strictEqual(trial.reason._tag, "MalformedResponse")
        assert.include(trial.reason.message, `expected {"trialActivationToken": "<JWT>"}`)
      })
    )

    it.effect("a dropped connection → NetworkFailure, not timed out", () =>
      Effect.gen(function* () {
        yield* promise(() => emulator.addFault({ kind: "drop", count: 1 }))
        const { key } = yield* licence()
        const api = yield* client()
        const error = yield* Effect.flip(api.activate(activationBody(key, productId)))
        assert.strictEqual(error.reason._tag, "NetworkFailure")
        if (error.reason._tag === "NetworkFailure") assert.isFalse(error.reason.timedOut)
        assert.isTrue(isTransient(error))
        assert.deepStrictEqual(
          (yield* promise(() => emulator.log())).map((e) => [e.status, e.fault]),
          [[0, "drop"]]
        )
      })
    )

    it.effect("a refused connection (nothing listening) → NetworkFailure", () =>
      Effect.gen(function* () {
        const port = yield* promise(() => freePort())
        const api = yield* client({ host: `http://127.0.0.1:${port}` })
        const error = yield* Effect.flip(api.activate(activationBody("K", productId)))
        assert.strictEqual(error.reason._tag, "NetworkFailure")
        if (error.reason._tag === "NetworkFailure") {
          assert.isFalse(error.reason.timedOut)
          // The socket's own cause survives, so support can tell refused from DNS from TLS.
          assert.strictEqual(error.reason.errno, "ECONNREFUSED")
          assert.include(error.message, "ECONNREFUSED")
        }
      })
    )

    it.effect("an unknown host keeps its DNS cause (ENOTFOUND or EAI_AGAIN, getaddrinfo)", () =>
      Effect.gen(function* () {
        const api = yield* client({ host: "http://no-such-host.invalid" })
        const error = yield* Effect.flip(api.activate(activationBody("K", productId)))
        assert.strictEqual(error.reason._tag, "NetworkFailure")
        if (error.reason._tag === "NetworkFailure") {
          assert.include(["ENOTFOUND", "EAI_AGAIN"], error.reason.errno)
          assert.strictEqual(error.reason.syscall, "getaddrinfo")
        }
      })
    )

    it.effect("a body past the cap is refused after reading just past it, success or refusal alike", () =>
      Effect.gen(function* () {
        let written = 0
        const endless = yield* Effect.acquireRelease(
          Effect.promise(
            () =>
              new Promise<{ url: string; close: () => Promise<void> }>((resolve) => {
                const server = createServer((request, response) => {
                  request.resume()
                  const status = request.url?.includes("deactivate") ? 500 : 201
                  response.writeHead(status, { "content-type": "application/json" })
                  // An endless body: a chunk whenever the socket drains, until the client hangs up.
                  const chunk = Buffer.alloc(64 * 1024, 0x20)
                  const pump = () => {
                    while (!response.destroyed && response.write(chunk)) written += chunk.length
                  }
                  response.on("drain", pump)
                  pump()
                })
                server.listen(0, "127.0.0.1", () => {
                  const { port } = server.address() as AddressInfo
                  resolve({
                    url: `http://127.0.0.1:${port}`,
                    close: () =>
                      new Promise<void>((done) => {
                        server.closeAllConnections()
                        server.close(() => done())
                      })
                  })
                })
              })
          ),
          (s) => Effect.promise(() => s.close())
        )
        const api = yield* client({ host: endless.url, maxResponseBytes: 100_000 })
        const error = yield* Effect.flip(api.activate(activationBody("K", productId)))
        assert.strictEqual(error.reason._tag, "MalformedResponse", error.message)
        assert.include(error.message, "at most 100000 bytes")
        assert.isTrue(isTransient(error), "a hostile body is a server fault: retried, never a refusal")
        const refusal = yield* Effect.flip(api.deactivate("act-1", deactivationBody(productId)))
        assert.strictEqual(refusal.reason._tag, "ServerFailure", refusal.message)
        // The server kept writing until the client hung up; the client read only a bounded part of it.
        assert.isBelow(written, 64 * 1024 * 1024)
      })
    )

    // Live clock: the timeout runs on Effect's Clock, and the delay is the emulator's real-time wait.
    it.live("an answer slower than the configured timeout → NetworkFailure with timedOut", () =>
      Effect.gen(function* () {
        yield* promise(() => emulator.addFault({ kind: "delay", delayMs: 20_000, count: 1 }))
        const { key } = yield* licence()
        const api = yield* client({ timeout: "200 millis" })
        const error = yield* Effect.flip(api.activate(activationBody(key, productId)))
        assert.strictEqual(error.reason._tag, "NetworkFailure")
        if (error.reason._tag === "NetworkFailure") assert.isTrue(error.reason.timedOut)
        assert.include(error.reason.message, "no answer within")
        assert.isTrue(isTransient(error))
      })
    )

    it.effect("a request body over the protocol's limit is refused before anything is sent", () =>
      Effect.gen(function* () {
        const { key } = yield* licence()
        const api = yield* client()
        const big = activationBody(key, productId, {
          metadata: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: "v".repeat(4000) }))
        })
        assert.isAbove(JSON.stringify(big).length, MaxBodyBytes)
        const error = yield* Effect.flip(api.activate(big))
        assert.strictEqual(error.reason._tag, "MalformedResponse")
        if (error.reason._tag === "MalformedResponse") assert.strictEqual(error.reason.status, 0)
        assert.include(error.reason.message, String(MaxBodyBytes))
        assert.deepStrictEqual(yield* promise(() => emulator.log()), [])
      })
    )
  })

  describe("the request itself", () => {
    it.effect("carries the default User-Agent, JSON headers, no Authorization, and the body as sent", () =>
      Effect.gen(function* () {
        const echo = yield* echoServer
        const api = yield* client({ host: echo.url })
        const body = activationBody("KEY-1", productId)
        const token = yield* api.activate(body)
        assert.strictEqual(token, "a.b.c")
        const [seen] = echo.requests
        assert.strictEqual(echo.requests.length, 1)
        assert.strictEqual(seen!.method, "POST")
        assert.strictEqual(seen!.url, "/v3/activations")
        assert.strictEqual(seen!.headers["user-agent"], `licensure/${LibraryVersion}`)
        assert.strictEqual(seen!.headers["content-type"], "application/json")
        assert.strictEqual(seen!.headers.accept, "application/json")
        assert.isUndefined(seen!.headers.authorization)
        assert.deepStrictEqual(JSON.parse(seen!.body), body)
      })
    )

    it.effect("carries a configured User-Agent, and a host with a base path and trailing slash keeps the path", () =>
      Effect.gen(function* () {
        const echo = yield* echoServer
        const api = yield* client({ host: `${echo.url}/cryptlex//`, userAgent: "acme-cad/7.2 (licensure)" })
        yield* api.sync("act/1", activationBody("KEY-1", productId))
        yield* api.deactivate("act-2", deactivationBody(productId))
        assert.deepStrictEqual(
          echo.requests.map((r) => [r.method, r.url, r.headers["user-agent"]]),
          [
            ["PATCH", "/cryptlex/v3/activations/act%2F1", "acme-cad/7.2 (licensure)"],
            ["POST", "/cryptlex/v3/activations/act-2/deactivate", "acme-cad/7.2 (licensure)"]
          ]
        )
      })
    )

    it("resolveHost maps the named hosts and trims trailing slashes from a URL", () => {
      assert.strictEqual(resolveHost(undefined), Hosts.default)
      assert.strictEqual(resolveHost("default"), "https://api.cryptlex.com")
      assert.strictEqual(resolveHost("eu"), "https://api.eu.cryptlex.com")
      assert.strictEqual(resolveHost("https://licensing.example.com/"), "https://licensing.example.com")
      assert.strictEqual(resolveHost("http://127.0.0.1:8080///"), "http://127.0.0.1:8080")
      assert.strictEqual(resolveHost("http://10.0.0.5/api"), "http://10.0.0.5/api")
    })
  })
})

interface SeenRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** How the stand-in server answers a request: status, headers and body. */
interface Answer {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body?: string
}

/** What a Cryptlex server answers on success: `{activationToken}` for POST and PATCH, 204 for a deactivation. */
const successAnswer = (method: string, url: string): Answer =>
  method === "DELETE" || url.endsWith("/deactivate")
    ? { status: 204 }
    : {
        status: method === "POST" ? 201 : 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ activationToken: "a.b.c" })
      }

/** A `node:http` server on 127.0.0.1 that records each request and answers with `answer`; closed with the scope. */
const standIn = (answer: (method: string, url: string) => Answer = successAnswer) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ url: string; requests: Array<SeenRequest>; close: () => Promise<void> }>((resolve) => {
          const requests: Array<SeenRequest> = []
          const server = createServer((request, response) => {
            const chunks: Array<Buffer> = []
            request.on("data", (chunk: Buffer) => chunks.push(chunk))
            request.on("end", () => {
              const method = request.method ?? ""
              requests.push({
                method,
                url: request.url ?? "",
                headers: request.headers,
                body: Buffer.concat(chunks).toString("utf8")
              })
              const { status, headers, body } = answer(method, request.url ?? "")
              response.writeHead(status, headers)
              response.end(body)
            })
          })
          server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as AddressInfo
            resolve({
              url: `http://127.0.0.1:${port}`,
              requests,
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

const echoServer = standIn()

/** A port that was free a moment ago and has nothing listening on it now. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })

describe("a request the platform cannot send (a module its HTTP client needs is missing)", () => {
  const missing = (errno: string) =>
    new ApiError({
      operation: "sync",
      reason: new NetworkFailure({ timedOut: false, message: "needs the undici package", errno })
    })

  it("is not retried within the call, but a sync that meets it keeps the licence in grace", () => {
    for (const errno of ["ERR_MODULE_NOT_FOUND", "MODULE_NOT_FOUND"]) {
      assert.isTrue(isSetupFailure(missing(errno).reason), errno)
      assert.isFalse(isTransient(missing(errno)), errno)
      assert.isTrue(failureFromApi("sync", missing(errno)).transient, errno)
      assert.isFalse(failureFromApi("activate", missing(errno)).transient, errno)
    }
    // Any other socket failure is still worth another try.
    assert.isFalse(isSetupFailure(missing("ECONNREFUSED").reason))
    assert.isTrue(isTransient(missing("ECONNREFUSED")))
  })
})
