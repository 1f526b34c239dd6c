/**
 * Activation meter attributes over their own call, `POST /v3/activations/meter-attributes/{id}`, against the
 * emulator on 127.0.0.1 (real HTTP): increment, decrement and reset move the activation's uses and the licence's
 * totals; an increment past the licence's allowance is refused as `MeterUsesLimitReached` (LexActivator's 73) and
 * changes nothing; an unknown name never reaches the server (72); a gone activation, a 5xx, a 429 and a dropped
 * connection each come back typed, with LexActivator's status.
 */
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { ActivationMeters, ActivationToken, LicenseApi } from "@licensure/core"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { Effect } from "effect"
import { FetchHttpClient } from "effect/http"

const { targetOf, withUses } = ActivationMeters

let emulator: Emulator
let productId: string
let publicKeyPem: string
const accountId = "acc-meters"

beforeAll(async () => {
  emulator = await startEmulator()
  ;({ productId, publicKeyPem } = await emulator.createProduct({ accountId }))
})
afterEach(() => emulator.clearFaults())
afterAll(() => emulator?.close())

const http = <A, E, R>(effect: Effect.Effect<A, E, R>) => effect.pipe(Effect.provide(FetchHttpClient.layer))

/** A licence with a metered `exports` (5 allowed) and an unlimited `renders`, activated once. */
const activated = Effect.gen(function* () {
  const license = yield* Effect.promise(() =>
    emulator.createLicense({
      productId,
      meterAttributes: [
        { name: "exports", allowedUses: 5 },
        { name: "renders", allowedUses: -1 }
      ]
    })
  )
  const api = yield* http(LicenseApi.make({ host: emulator.url }))
  const token = yield* api.activate({
    key: license.key,
    productId,
    accountId,
    fingerprint: "m".repeat(64),
    hostname: "meters-test",
    appVersion: "1.0.0",
    os: "linux",
    userHash: "u".repeat(64)
  })
  const claims = yield* ActivationToken.verify(token, publicKeyPem)
  const meters = yield* http(ActivationMeters.ActivationMeters.make({ host: emulator.url }))
  return { license, claims, meters, target: targetOf(claims, { accountId }) }
})

const licenceMeter = (licenseId: string, name: string) =>
  Effect.promise(async () => (await emulator.getLicense(licenseId)).meterAttributes.find((m) => m.name === name)!)

describe("activation meters over POST /v3/activations/meter-attributes/{id}", () => {
  it.effect("increment, decrement and reset move the activation's uses and the licence's totals", () =>
    Effect.gen(function* () {
      const { license, claims, meters, target } = yield* activated
      assert.isString(claims.licenseMeterAttributes[0]?.id, "the token's lma carries the meter's id")
      const up = yield* meters.increment(target, "exports", 3)
      assert.deepStrictEqual(up, {
        name: "exports",
        uses: 3,
        licenseAllowedUses: 5,
        licenseTotalUses: 3,
        licenseGrossUses: 3
      })
      const down = yield* meters.decrement(withUses(target, up), "exports", 1)
      assert.strictEqual(down.uses, 2)
      assert.strictEqual(down.licenseTotalUses, 2)
      const reset = yield* meters.reset(withUses(target, down), "exports")
      assert.deepStrictEqual([reset.uses, reset.licenseTotalUses, reset.licenseGrossUses], [0, 0, 3])
      const meter = yield* licenceMeter(license.id, "exports")
      assert.deepStrictEqual([meter.totalUses, meter.grossUses], [0, 3])
      const view = yield* Effect.promise(() => emulator.getLicense(license.id))
      assert.deepStrictEqual(view.activations[0]?.meterAttributes, [
        { name: "exports", uses: 0 },
        { name: "renders", uses: 0 }
      ])
    })
  )

  it.effect("a decrement below zero stops at zero, and an unlimited meter takes any increment", () =>
    Effect.gen(function* () {
      const { meters, target } = yield* activated
      const down = yield* meters.decrement(target, "exports", 4)
      assert.deepStrictEqual([down.uses, down.licenseTotalUses], [0, 0])
      const many = yield* meters.increment(target, "renders", 1_000_000)
      assert.deepStrictEqual([many.uses, many.licenseAllowedUses], [1_000_000, -1])
    })
  )

  it.effect("an increment past the allowance is MeterUsesLimitReached (73) and changes nothing", () =>
    Effect.gen(function* () {
      const { license, meters, target } = yield* activated
      yield* meters.increment(target, "exports", 5)
      const error = yield* Effect.flip(meters.increment(target, "exports", 1))
      assert.strictEqual(error.reason._tag, "MeterUsesLimitReached")
      assert.strictEqual(error.operation, "increment")
      assert.strictEqual(error.meter, "exports")
      assert.deepStrictEqual(error.status, { name: "LA_E_METER_ATTRIBUTE_USES_LIMIT_REACHED", code: 73 })
      assert.strictEqual((yield* licenceMeter(license.id, "exports")).totalUses, 5)
    })
  )

  it.effect("an unknown name is MeterAttributeNotFound (72) and a negative amount LA_FAIL, neither sent", () =>
    Effect.gen(function* () {
      const { meters, target } = yield* activated
      yield* Effect.promise(() => emulator.clearLog())
      const unknown = yield* Effect.flip(meters.increment(target, "pages", 1))
      assert.strictEqual(unknown.reason._tag, "MeterAttributeNotFound")
      assert.strictEqual(unknown.status.code, 72)
      const negative = yield* Effect.flip(meters.decrement(target, "exports", -2))
      assert.strictEqual(negative.reason._tag, "InvalidMeterAmount")
      assert.strictEqual(negative.status.code, 1)
      const fractional = yield* Effect.flip(meters.increment(target, "exports", 0.5))
      assert.strictEqual(fractional.reason._tag, "InvalidMeterAmount")
      assert.deepStrictEqual(yield* Effect.promise(() => emulator.log()), [])
    })
  )

  it.effect("a deleted activation is refused with INVALID_ACTIVATION_ID, LexActivator's 59", () =>
    Effect.gen(function* () {
      const { claims, meters, target } = yield* activated
      yield* Effect.promise(() => emulator.deleteActivation(claims.activationId))
      const error = yield* Effect.flip(meters.increment(target, "exports", 1))
      assert.strictEqual(error.reason._tag, "ServerRefused")
      assert.strictEqual("code" in error.reason ? error.reason.code : undefined, "INVALID_ACTIVATION_ID")
      assert.strictEqual(error.status.code, 59)
    })
  )

  it.effect("injected faults on the call come back typed: 503 → 91, 429 → 90 with Retry-After, drop → 48", () =>
    Effect.gen(function* () {
      const { license, meters, target } = yield* activated
      const path = "/v3/activations/meter-attributes"
      yield* Effect.promise(() => emulator.addFault({ kind: "status", status: 503, count: 1, match: { path } }))
      const server = yield* Effect.flip(meters.increment(target, "exports", 1))
      assert.deepStrictEqual([server.reason._tag, server.status.code], ["ServerFailure", 91])
      yield* Effect.promise(() =>
        emulator.addFault({ kind: "status", status: 429, retryAfter: 7, count: 1, match: { path } })
      )
      const limited = yield* Effect.flip(meters.increment(target, "exports", 1))
      assert.deepStrictEqual([limited.reason._tag, limited.status.code], ["RateLimited", 90])
      assert.strictEqual("retryAfterSeconds" in limited.reason ? limited.reason.retryAfterSeconds : 0, 7)
      yield* Effect.promise(() => emulator.addFault({ kind: "drop", count: 1, match: { path } }))
      const dropped = yield* Effect.flip(meters.reset(target, "exports"))
      assert.deepStrictEqual([dropped.reason._tag, dropped.status.code], ["NetworkFailure", 48])
      yield* Effect.promise(() => emulator.addFault({ kind: "malformed", body: "{}", count: 1, match: { path } }))
      const garbled = yield* Effect.flip(meters.increment(target, "exports", 1))
      assert.deepStrictEqual([garbled.reason._tag, garbled.status.code], ["MalformedResponse", 91])
      assert.strictEqual((yield* licenceMeter(license.id, "exports")).totalUses, 0, "no fault counted a use")
    })
  )
})
