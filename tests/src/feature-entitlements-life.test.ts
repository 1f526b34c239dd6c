/**
 * Feature entitlements in the client's life (issue 11), over real HTTP to the emulator on 127.0.0.1: fetched after
 * the activation and after every sync, verified with the product's key, kept in the licence file and available
 * offline on both faces (`features`, `feature(name)`, the view's `features`). A fetch that fails is reported on the
 * view and keeps the set before it; it never fails the activation. A feature that expires while the app runs
 * changes the published view at that second, by the machine's own deadline (TestClock).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { FeatureEntitlementsApi, Fingerprint, LicenseApi, LicenseStore, Licensing } from "@licensure/core"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { NodeHttp } from "@licensure/node-runtime"
import { createNodeLicensing } from "@licensure/node-runtime/NodeLicensing"
import { drive, identity, settled } from "@licensure/testing"
import { Clock, Context, Effect, Layer, SubscriptionRef } from "effect"
import { TestClock } from "effect/testing"

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterEach(() => emulator.clearFaults())
afterAll(() => emulator?.close())
const made: Array<string> = []
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const features = [
  { featureName: "export-pdf", featureDisplayName: "Export to PDF", value: "true" },
  { featureName: "seats", featureDisplayName: "Seats", value: "10", baseValue: "5" }
]

const client = (product: { productId: string; publicKeyPem: string }, directory: string, host = emulator.url) =>
  createNodeLicensing({
    productId: product.productId,
    publicKeyPem: product.publicKeyPem,
    host,
    directory,
    fingerprint: { platform: "linux", env: {}, hostname: "features-life", username: "tester" },
    http: { proxy: "none" },
    retry: { retries: 0 }
  })

const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "licensure-features-"))
  made.push(dir)
  return dir
}

/** The entitlements call only: GET on an activation's sub-path (the sync is a PATCH on the activation itself). */
const failEntitlements = () =>
  emulator.addFault({ kind: "status", status: 503, match: { method: "GET", path: "/v3/activations/" } })

describe("feature entitlements in the licence's life", () => {
  it("are fetched after the activation, offered on the view and both lookups, and kept in the file for offline use", async () => {
    const product = await emulator.createProduct()
    const { key } = await emulator.createLicense({ productId: product.productId, featureEntitlements: features })
    const directory = tempDir()
    const licensing = client(product, directory)
    try {
      const view = await licensing.activate(key)
      assert.strictEqual(view.state, "active", JSON.stringify(view.lastError))
      assert.deepStrictEqual(
        view.features.map((f) => [f.name, f.displayName, f.value, f.baseValue]),
        [
          ["export-pdf", "Export to PDF", "true", undefined],
          ["seats", "Seats", "10", "5"]
        ]
      )
      assert.isUndefined(view.featuresError)
      assert.deepStrictEqual(
        (await licensing.features()).map((f) => f.name),
        ["export-pdf", "seats"]
      )
      const seats = await licensing.feature("seats")
      assert.strictEqual(seats._tag, "Entitled")
      assert.deepStrictEqual(seats.status, { name: "LA_OK", code: 0 })
      const missing = await licensing.feature("teleport")
      assert.strictEqual(missing._tag, "NotFound")
      assert.deepStrictEqual(missing.status, { name: "LA_E_FEATURE_ENTITLEMENT_NOT_FOUND", code: 108 })
    } finally {
      await licensing.close()
    }
    // Port 9 (discard): nothing answers; the stored, re-verified set is what the app gets.
    const offline = client(product, directory, "http://127.0.0.1:9")
    try {
      const view = await offline.check()
      assert.strictEqual(view.state, "active", JSON.stringify(view.lastError ?? view.clearedBecause))
      assert.deepStrictEqual(
        view.features.map((f) => f.name),
        ["export-pdf", "seats"]
      )
      assert.strictEqual((await offline.feature("export-pdf"))._tag, "Entitled")
    } finally {
      await offline.close()
    }
  })

  it("a failed fetch is reported, never fails the activation, and keeps the previous set until a fetch succeeds", async () => {
    const product = await emulator.createProduct()
    const { key, id } = await emulator.createLicense({
      productId: product.productId,
      featureEntitlements: features
    })
    const licensing = client(product, tempDir())
    try {
      await failEntitlements()
      const view = await licensing.activate(key)
      assert.strictEqual(view.state, "active", JSON.stringify(view.lastError))
      assert.isTrue(view.licensed)
      assert.deepStrictEqual(view.features, [])
      assert.strictEqual(view.featuresError?.kind, "ServerFailure")
      assert.deepStrictEqual(view.featuresError?.status, { name: "LA_E_SERVER", code: 91 })
      assert.isUndefined(view.lastError, "the activation itself did not fail")

      await emulator.clearFaults()
      const synced = await licensing.sync()
      assert.deepStrictEqual(
        synced.features.map((f) => f.name),
        ["export-pdf", "seats"]
      )
      assert.isUndefined(synced.featuresError)

      // The vendor changes the features, but the next fetch fails: the set before it stays in force.
      await emulator.updateLicense(id, { featureEntitlements: [{ featureName: "other", value: "1" }] })
      await failEntitlements()
      const kept = await licensing.sync()
      assert.strictEqual(kept.state, "active")
      assert.deepStrictEqual(
        kept.features.map((f) => f.name),
        ["export-pdf", "seats"]
      )
      assert.strictEqual(kept.featuresError?.kind, "ServerFailure")

      await emulator.clearFaults()
      const fresh = await licensing.sync()
      assert.deepStrictEqual(
        fresh.features.map((f) => f.name),
        ["other"]
      )
    } finally {
      await licensing.close()
    }
  })

  it.effect("a feature that expires while the app runs leaves the published view at that second (TestClock)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const start = Date.parse("2030-01-01T00:00:00Z")
        yield* TestClock.setTime(start)
        const clock = yield* Clock.Clock
        const served = yield* Effect.acquireRelease(
          Effect.promise(() => startEmulator({ now: () => clock.currentTimeMillisUnsafe() })),
          (emulator) => Effect.promise(() => emulator.close())
        )
        const expiresAt = start + 3 * 60 * 60 * 1000 + 17_000
        const product = yield* Effect.promise(() => served.createProduct())
        const { key } = yield* Effect.promise(() =>
          served.createLicense({
            productId: product.productId,
            featureEntitlements: [
              { featureName: "beta", value: "on", expiresAt },
              { featureName: "core", value: "on" }
            ]
          })
        )
        const http = NodeHttp.layer({ proxy: "none" })
        const platform = Layer.mergeAll(
          LicenseApi.layer({ host: served.url }).pipe(Layer.provide(http)),
          FeatureEntitlementsApi.layer({ host: served.url }).pipe(Layer.provide(http)),
          LicenseStore.layerMemory,
          Fingerprint.layerStatic(identity())
        )
        const context = yield* Layer.build(
          Licensing.layer({ productId: product.productId, publicKeyPem: product.publicKeyPem }).pipe(
            Layer.provide(platform)
          )
        ).pipe(Effect.orDie)
        const licensing = Context.get(context, Licensing)
        const activated = yield* licensing.activate(key)
        assert.deepStrictEqual(
          activated.features.map((f) => f.name),
          ["beta", "core"]
        )
        // In force through the second `expiresAt` names, out from the next one (FeatureEntitlements.isExpired).
        const deadline = (Math.floor(expiresAt / 1000) + 1) * 1000
        // Hourly syncs (each fetching the set again) up to one millisecond before: still in force on the
        // published view, and the machine's next deadline is the feature's (no check() asked for).
        const before = yield* drive(licensing, deadline - 1)
        assert.strictEqual(yield* Clock.currentTimeMillis, deadline - 1)
        assert.strictEqual(before.nextDeadline, deadline, "the machine wakes when the feature runs out")
        assert.deepStrictEqual(
          (yield* SubscriptionRef.get(licensing.ref)).features.map((f) => f.name),
          ["beta", "core"]
        )
        yield* TestClock.adjust(1)
        yield* settled(licensing)
        const after = yield* SubscriptionRef.get(licensing.ref)
        assert.deepStrictEqual(
          after.features.map((f) => f.name),
          ["core"]
        )
        assert.strictEqual(after.state, "active")
        const beta = yield* licensing.feature("beta")
        assert.strictEqual(beta._tag, "Expired")
        assert.deepStrictEqual(beta.status, { name: "LA_E_FEATURE_ENTITLEMENT_NOT_FOUND", code: 108 })
      })
    )
  )
})
