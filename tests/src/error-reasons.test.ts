/**
 * One error type with a typed reason (issue 9): `Effect.catchReason` picks a reason by tag, an exhaustive
 * switch covers every reason, and each carries what its kind needs (the server's code, the wait).
 */
import { assert, describe, it } from "@effect/vitest"
import { Fingerprint, LicenseApi, LicenseStore, Licensing, type LicensingErrorReasons } from "@licensure/core"
import { createEmulator } from "@licensure/emulator"
import { identity } from "@licensure/testing"
import { Context, Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"

const setup = Effect.gen(function* () {
  const emulator = createEmulator()
  const product = yield* Effect.promise(() => emulator.createProduct())
  const api = LicenseApi.layer({ host: "http://emulator.invalid" }).pipe(
    Layer.provide(FetchHttpClient.layer),
    Layer.provide(Layer.succeed(FetchHttpClient.Fetch, emulator.fetch as typeof globalThis.fetch))
  )
  const context = yield* Layer.build(
    Licensing.layer({ productId: product.productId, publicKeyPem: product.publicKeyPem, retry: { retries: 0 } }).pipe(
      Layer.provide(Layer.mergeAll(api, LicenseStore.layerMemory, Fingerprint.layerStatic(identity())))
    )
  )
  return { licensing: Context.get(context, Licensing), emulator, productId: product.productId }
})

/** Every reason, once: the compiler refuses this function if a reason is added and not handled here. */
const describeReason = (reason: LicensingErrorReasons.LicensingErrorReason): string => {
  switch (reason._tag) {
    case "ServerRefused":
    case "UnknownServerCode":
      return `refused: ${reason.code}`
    case "RateLimited":
      return `wait ${reason.retryAfterMillis ?? "?"} ms`
    case "TokenRejected":
      return `token: ${reason.tokenReason ?? "?"}`
    case "NetworkFailure":
    case "NotFound":
    case "ServerFailure":
    case "MalformedResponse":
    case "StoreFailure":
    case "FingerprintFailure":
    case "LeaseLapsed":
    case "ActivationCleared":
    case "InternalError":
    case "NotActivated":
    case "Closed":
    case "AlreadyLicensed":
    case "MeterAttributeNotFound":
    case "InvalidMeterAmount":
      return `${reason._tag}: ${reason.message}`
    default:
      return reason satisfies never
  }
}

describe("LicensingError reasons", () => {
  it.live("catchReason picks the server's refusal by tag, with its code", () =>
    Effect.gen(function* () {
      const { licensing } = yield* setup
      const code = yield* licensing.activate("NO-SUCH-KEY-000").pipe(
        Effect.as("activated"),
        Effect.catchReason("LicensingError", "ServerRefused", (reason) => Effect.succeed(reason.code)),
        Effect.orElseSucceed(() => "another reason")
      )
      assert.strictEqual(code, "INVALID_LICENSE_KEY")
    })
  )

  it.live("a command that needs an activation fails with the NotActivated reason; kind and status agree", () =>
    Effect.gen(function* () {
      const { licensing } = yield* setup
      const error = yield* Effect.flip(licensing.sync)
      assert.strictEqual(error.reason._tag, "NotActivated")
      assert.strictEqual(error.kind, error.reason._tag)
      assert.strictEqual(describeReason(error.reason), `NotActivated: ${error.message}`)
      assert.deepStrictEqual(error.status, { name: "LA_FAIL", code: 1 })
    })
  )

  it.live("a rate limit carries its wait", () =>
    Effect.gen(function* () {
      const { licensing, emulator, productId } = yield* setup
      const { key } = yield* Effect.promise(() => emulator.createLicense({ productId }))
      yield* Effect.promise(() => emulator.addFault({ kind: "status", status: 429, retryAfter: 7200, count: 1 }))
      const error = yield* Effect.flip(licensing.activate(key))
      assert.strictEqual(error.reason._tag, "RateLimited")
      assert.strictEqual(describeReason(error.reason), "wait 7200000 ms")
      assert.strictEqual(error.status.name, "LA_E_RATE_LIMIT")
    })
  )
})
