/**
 * The operations as a service of their own (issue 9): over the memory store, a static fingerprint and a fake
 * `LicenseApi` written here (it signs real RS256 tokens with jose and records every body it is sent), with no
 * machine and no emulator. Each operation answers with a result, never a failure; meter increments wait in a
 * `Ref` and go out with the next sync, and a failed sync keeps them.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import { exportSPKI, generateKeyPair, SignJWT } from "jose"
import { Fingerprint, type MachineIdentity } from "../src/Fingerprint.ts"
import { ApiError, LicenseApi, NetworkFailure, ServerRefused } from "../src/LicenseApi.ts"
import { LicenseOperations } from "../src/LicenseOperations.ts"
import { LicenseStore, RecordVersion, type StoredRecord } from "../src/LicenseStore.ts"
import { type ActivationClaims, type ActivationRequest, ActivationTokenClaims } from "../src/Protocol.ts"

const keys = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true })
const publicKeyPem = await exportSPKI(keys.publicKey)
const PRODUCT = "prod-ops"
const KEY = "OPS-KEY-0001"
const FP = "c".repeat(64)
const NOW = Date.parse("2026-03-01T00:00:00Z")

const identity: MachineIdentity = {
  fingerprint: FP,
  components: [{ name: "machine-id", strength: "primary", hash: FP }],
  vmName: undefined,
  container: false,
  os: "linux",
  osVersion: "6.1",
  hostname: "ops-host",
  userHash: "d".repeat(64),
  sources: ["test"]
}

const claims = (issuedAt: number): ActivationClaims => ({
  activationId: "act-ops",
  licenseId: "lic-ops",
  productId: PRODUCT,
  key: KEY,
  fingerprint: FP,
  fingerprintMatchingStrategy: "exact",
  os: "linux",
  licenseType: "node-locked",
  issuedAt,
  expiresAt: issuedAt + 30 * 86400,
  serverSyncInterval: 3600,
  serverSyncGraceExpiresAt: issuedAt + 7 * 86400,
  allowedClockOffset: 3600,
  leaseExpiresAt: 0,
  leaseDuration: 0,
  suspended: false,
  productMetadata: [],
  licenseMetadata: [],
  userMetadata: [],
  activationMetadata: [],
  licenseMeterAttributes: [],
  activationMeterAttributes: []
})

const sign = () =>
  Effect.promise(() =>
    new SignJWT(Schema.encodeSync(ActivationTokenClaims)(claims(Math.floor(NOW / 1000))) as Record<string, unknown>)
      .setProtectedHeader({ alg: "RS256", typ: "JWT" })
      .sign(keys.privateKey)
  )

/**
 * A fake API: answers from `script` (a signed token, the error to fail with, or a token once the deferred is done),
 * recording every body.
 */
const fakeApi = (script: Array<"token" | ApiError | Deferred.Deferred<void>>) => {
  const bodies: Array<{ call: string; body: ActivationRequest | object }> = []
  const next = (call: string, body: object) =>
    Effect.suspend(() => {
      bodies.push({ call, body })
      const step = script.shift() ?? "token"
      if (step === "token") return sign()
      return step instanceof ApiError ? Effect.fail(step) : Effect.andThen(Deferred.await(step), sign())
    })
  const layer = Layer.succeed(
    LicenseApi,
    LicenseApi.of({
      activate: (body) => next("activate", body),
      sync: (_, body) => next("sync", body),
      deactivate: (_, body) => Effect.asVoid(next("deactivate", body)),
      activateTrial: (body) => next("activateTrial", body),
      syncTrial: (_, body) => next("syncTrial", body)
    })
  )
  return { bodies, layer }
}

const refused = (code: "LICENSE_NOT_EFFECTIVE" | "ACTIVATION_LIMIT_REACHED") =>
  new ApiError({ operation: "activate", reason: new ServerRefused({ status: 400, code, message: `refused: ${code}` }) })
const dropped = new ApiError({
  operation: "sync",
  reason: new NetworkFailure({ timedOut: false, message: "connection reset" })
})

const provide = (api: ReturnType<typeof fakeApi>) =>
  Effect.provide(
    LicenseOperations.layer({ productId: PRODUCT, publicKeyPem, retry: { retries: 0 } }).pipe(
      Layer.provideMerge(Layer.mergeAll(api.layer, LicenseStore.layerMemory, Fingerprint.layerStatic(identity)))
    )
  )

describe("LicenseOperations", () => {
  it.effect("activates with a verified token, and a refusal is a failed result carrying the server's code", () => {
    const api = fakeApi(["token", refused("ACTIVATION_LIMIT_REACHED")])
    return Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const ops = yield* LicenseOperations
      const ok = yield* ops.activate(KEY, { metadata: [{ key: "seat", value: "7" }] })
      assert.strictEqual(ok.type, "ok")
      if (ok.type === "ok") {
        assert.strictEqual(ok.facts.key, KEY)
        assert.strictEqual(ok.facts.claims.productId, PRODUCT)
        assert.strictEqual(ok.startedAt, NOW)
      }
      const sent = api.bodies[0]?.body as ActivationRequest | undefined
      assert.deepStrictEqual(sent?.metadata, [{ key: "seat", value: "7" }])
      const no = yield* ops.activate(KEY, {})
      assert.strictEqual(no.type, "failed")
      if (no.type === "failed") {
        assert.strictEqual(no.failure.code, "ACTIVATION_LIMIT_REACHED")
        assert.isFalse(no.failure.transient)
      }
    }).pipe(provide(api))
  })

  it.effect("sends pending meters with the sync, keeps them when it fails, and clears them when it lands", () => {
    // The fake's tokens always say 0 uses: a request that went unanswered is taken as not counted.
    const api = fakeApi(["token", dropped, dropped, "token", "token"])
    return Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const ops = yield* LicenseOperations
      const activated = yield* ops.activate(KEY, {})
      assert.strictEqual(activated.type, "ok")
      if (activated.type !== "ok") return
      yield* ops.addMeter("exports", 2)
      yield* ops.addMeter("exports", 1)
      // The request with the meters goes unanswered, and so does the one without them that would say if it landed.
      const failed = yield* ops.sync(activated.facts, {})
      assert.strictEqual(failed.type, "failed")
      if (failed.type === "failed") assert.isTrue(failed.failure.transient)
      assert.deepStrictEqual([...(yield* ops.pendingMeters)], [["exports", 3]], "a failed sync keeps the meters")
      // The next sync asks first (no meters), finds them not counted, and sends them.
      const synced = yield* ops.sync(activated.facts, {})
      assert.strictEqual(synced.type, "ok")
      assert.deepStrictEqual([...(yield* ops.pendingMeters)], [])
      const sent = api.bodies.filter((b) => b.call === "sync").map((b) => (b.body as ActivationRequest).meterAttributes)
      assert.deepStrictEqual(sent, [
        [{ name: "exports", usesIncrement: 3 }],
        undefined,
        undefined,
        [{ name: "exports", usesIncrement: 3 }]
      ])
    }).pipe(provide(api))
  })

  it.effect("a meter added while an activation is in flight stays for the next sync", () => {
    const held = Deferred.makeUnsafe<void>()
    const api = fakeApi([held, "token"])
    return Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const ops = yield* LicenseOperations
      const activating = yield* Effect.forkChild(ops.activate(KEY, {}))
      while (api.bodies.length === 0) yield* Effect.yieldNow
      yield* ops.addMeter("exports", 2)
      yield* Deferred.succeed(held, undefined)
      const activated = yield* Fiber.join(activating)
      assert.strictEqual(activated.type, "ok")
      assert.deepStrictEqual([...(yield* ops.pendingMeters)], [["exports", 2]], "the activation carried none of it")
      if (activated.type !== "ok") return
      yield* ops.sync(activated.facts, {})
      const sent = api.bodies.map((b) => (b.body as ActivationRequest).meterAttributes)
      assert.deepStrictEqual(sent, [undefined, [{ name: "exports", usesIncrement: 2 }]])
    }).pipe(provide(api))
  })

  it.effect(
    "a refused increment is dropped: the sync goes again without it and lands, with the refusal as notice",
    () => {
      const meterRefused = new ApiError({
        operation: "sync",
        reason: new ServerRefused({ status: 400, code: "METER_ATTRIBUTE_USES_LIMIT_REACHED", message: "uses used up" })
      })
      const api = fakeApi(["token", meterRefused, "token"])
      return Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        const ops = yield* LicenseOperations
        const activated = yield* ops.activate(KEY, {})
        if (activated.type !== "ok") return assert.fail("the activation failed")
        yield* ops.addMeter("exports", 50)
        const synced = yield* ops.sync(activated.facts, {})
        assert.strictEqual(synced.type, "ok")
        if (synced.type === "ok") {
          assert.strictEqual(synced.notice?.code, "METER_ATTRIBUTE_USES_LIMIT_REACHED")
          assert.strictEqual(synced.notice?.operation, "sync")
        }
        assert.deepStrictEqual(
          [...(yield* ops.pendingMeters)],
          [],
          "a refused increment is not kept to be refused again"
        )
        const sent = api.bodies
          .filter((b) => b.call === "sync")
          .map((b) => (b.body as ActivationRequest).meterAttributes)
        assert.deepStrictEqual(sent, [[{ name: "exports", usesIncrement: 50 }], undefined])
      }).pipe(provide(api))
    }
  )

  it.effect("loads a stored record, and answers empty with the reason when it is not this product's", () => {
    const api = fakeApi([])
    return Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const ops = yield* LicenseOperations
      const store = yield* LicenseStore
      assert.deepStrictEqual(yield* ops.load, { type: "empty" })
      const token = yield* sign()
      const record: StoredRecord = {
        version: RecordVersion,
        productId: PRODUCT,
        kind: "activation",
        key: KEY,
        token,
        fingerprint: FP,
        components: identity.components,
        lastSeenAt: NOW,
        lastSyncedAt: NOW
      }
      yield* store.save(record)
      const loaded = yield* ops.load
      assert.strictEqual(loaded.type, "loaded")
      yield* store.save({ ...record, token: `${token.slice(0, -4)}AAAA` })
      const forged = yield* ops.load
      assert.strictEqual(forged.type, "empty")
      if (forged.type === "empty") assert.strictEqual(forged.failure?.kind, "TokenRejected")
      assert.isTrue(Option.isSome(yield* store.load), "a failed load keeps the record")
      assert.strictEqual(api.bodies.length, 0, "loading never calls the server")
    }).pipe(provide(api))
  })

  it.effect(
    "loads a stored entitlements token with the record: offered when it verifies, dropped and reported when forged or another activation's",
    () => {
      const api = fakeApi([])
      const entitlements = (aid: string, key: typeof keys.privateKey = keys.privateKey) =>
        Effect.promise(() =>
          new SignJWT({
            aid,
            lid: "lic-ops",
            iat: Math.floor(NOW / 1000),
            fe: [{ featureName: "export-pdf", value: "on" }]
          })
            .setProtectedHeader({ alg: "RS256", typ: "JWT" })
            .sign(key)
        )
      return Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        const ops = yield* LicenseOperations
        const store = yield* LicenseStore
        const record: StoredRecord = {
          version: RecordVersion,
          productId: PRODUCT,
          kind: "activation",
          key: KEY,
          token: yield* sign(),
          fingerprint: FP,
          components: identity.components,
          lastSeenAt: NOW,
          lastSyncedAt: NOW
        }
        const loadWith = (featureEntitlementsToken: string) =>
          Effect.gen(function* () {
            yield* store.save({ ...record, featureEntitlementsToken })
            const loaded = yield* ops.load
            assert.strictEqual(loaded.type, "loaded", "the licence loads whatever the entitlements token is")
            return loaded.type === "loaded" ? loaded.facts : assert.fail("not loaded")
          })

        const good = yield* loadWith(yield* entitlements("act-ops"))
        assert.deepStrictEqual(
          good.entitlements?.verified.entitlements.map((f) => [f.name, f.value]),
          [["export-pdf", "on"]]
        )
        assert.isUndefined(good.entitlementsFailure)

        const other = yield* Effect.promise(() => generateKeyPair("RS256", { modulusLength: 2048 }))
        const forged = yield* loadWith(yield* entitlements("act-ops", other.privateKey))
        assert.isUndefined(forged.entitlements, "a set signed by another key is never believed")
        assert.strictEqual(forged.entitlementsFailure?.kind, "TokenError")
        assert.strictEqual(forged.entitlementsFailure?.status.name, "LA_E_FEATURE_ENTITLEMENTS_INVALID")

        const elsewhere = yield* loadWith(yield* entitlements("act-someone-else"))
        assert.isUndefined(elsewhere.entitlements, "another activation's set is never believed")
        assert.strictEqual(elsewhere.entitlementsFailure?.kind, "EntitlementsMismatch")
        assert.include(elsewhere.entitlementsFailure?.message ?? "", "act-someone-else")
      }).pipe(provide(api))
    }
  )
})
