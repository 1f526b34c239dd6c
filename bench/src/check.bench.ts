/**
 * Two figures of issue 9, in one process and the same minute.
 *
 * `check()` on a loaded client: `yield* licensing.check` in a loop inside one `Effect.gen` (a caller in Effect
 * pays exactly this), against the same loop over `yield* licensing.current` (reading the view, no evaluation) and
 * over `yield* Effect.succeed(view)` (the Effect floor of a yield). Target: at most 2 µs per `check`.
 *
 * Cold validate: what an app's start-up pays for the licence: a fresh `Licensing` layer over the durable
 * `NodeFileStore` (a stored activation on disk), built in a new scope, then the first `check`: open the record,
 * decrypt, decode, verify the token, evaluate. Against the sum of its primitives measured alone in the same rounds:
 * `NodeFileStore.load` of the same file, `ActivationToken.verify` of the same token, `Validation.validate` of its
 * claims. Also against the floors' sum (raw `readFileSync` + AES-256-GCM decrypt of the same size, `jose.jwtVerify`
 * with the key imported once). Target: cold validate at most 1.5x the sum of its primitives.
 *
 * Also, outside the headline: the same cold validate over a record that keeps a feature-entitlements token (what a
 * `NodeLicensing` app stores, since its platform fetches entitlements), whose second RSA check runs beside the
 * activation token's on load, against `FeatureEntitlements.verify` alone.
 *
 * Both clients use the emulator through its in-process `fetch` (activation and the entitlements fetch only; the
 * cold path makes no request) and a static machine identity. `BENCH_REPS` overrides the number of measured rounds
 * (default 15).
 */
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import {
  ActivationToken,
  FeatureEntitlements,
  FeatureEntitlementsApi,
  Licensing,
  LicenseStore,
  Validation
} from "@licensure/core"
import * as NodeFileStore from "@licensure/node-runtime/NodeFileStore"
import { createEmulator } from "@licensure/testing"
import { Context, Effect, Layer, Option } from "effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as Jose from "jose"
import { printTable, writeResult } from "./Harness.ts"
import { coldFixture } from "./probe/ColdFixture.ts"
import { ratioOf, rounds } from "./probe/Rounds.ts"

const reps = Number(process.env.BENCH_REPS ?? 15)
const root = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "licensure-bench-check-"))
const emulator = createEmulator()

try {
  const { machine, product, license, config, storeOptions, platform, fileClient } = await coldFixture(
    emulator,
    NodePath.join(root, "store"),
    "bench-host",
    { featureEntitlements: [{ featureName: "export-pdf", featureDisplayName: "Export to PDF", value: "true" }] }
  )
  // The entitlements call over the same in-process fetch: this client's record keeps the entitlements token.
  const entitledOptions = { ...storeOptions, directory: NodePath.join(root, "store-entitled") }
  const entitlementsApi = FeatureEntitlementsApi.layer({ host: "http://emulator.invalid" }).pipe(
    Layer.provide(
      FetchHttpClient.layer.pipe(
        Layer.provide(Layer.succeed(FetchHttpClient.Fetch, emulator.fetch as typeof globalThis.fetch))
      )
    )
  )
  const entitledClient = Licensing.layer(config).pipe(
    Layer.provideMerge(Layer.merge(platform(NodeFileStore.layer(entitledOptions)), entitlementsApi))
  )

  // Activate once through the durable store: the file the cold path opens is the one an app leaves on disk.
  await Effect.runPromise(
    Effect.gen(function* () {
      const licensing = Context.get(yield* Layer.build(fileClient), Licensing)
      const view = yield* licensing.activate(license.key)
      if (!view.licensed) throw new Error(`activation ended ${view.state}`)
      yield* licensing.flush
    }).pipe(Effect.scoped)
  )
  await Effect.runPromise(
    Effect.gen(function* () {
      const licensing = Context.get(yield* Layer.build(entitledClient), Licensing)
      const view = yield* licensing.activate(license.key)
      if (view.features.length !== 1) throw new Error(`the entitled activation has ${view.features.length} features`)
      yield* licensing.flush
    }).pipe(Effect.scoped)
  )
  const entitledRecord = await Effect.runPromise(NodeFileStore.make(entitledOptions).load)
  const entitlementsToken = Option.isSome(entitledRecord) ? entitledRecord.value.featureEntitlementsToken : undefined
  if (entitlementsToken === undefined) throw new Error("the entitled activation stored no entitlements token")
  const stored = await Effect.runPromise(NodeFileStore.make(storeOptions).load)
  if (Option.isNone(stored)) throw new Error("the activation was not stored")
  const token = stored.value.token
  const expected = { productId: product.productId, key: license.key, fingerprint: machine.fingerprint }
  const claims = await Effect.runPromise(ActivationToken.verify(token, product.publicKeyPem, expected))
  const joseKey = await Jose.importSPKI(product.publicKeyPem, "RS256")

  // The raw read floor: a file of the stored file's size, sealed with a plain AES-256-GCM key.
  const storedBytes = NodeFs.readFileSync(NodeFileStore.filePath(storeOptions))
  const aesKey = NodeCrypto.randomBytes(32)
  const iv = NodeCrypto.randomBytes(12)
  const cipher = NodeCrypto.createCipheriv("aes-256-gcm", aesKey, iv)
  const rawFile = NodePath.join(root, "raw.bin")
  NodeFs.writeFileSync(rawFile, Buffer.concat([cipher.update(storedBytes), cipher.final()]))
  const tag = cipher.getAuthTag()
  const rawRead = () => {
    const decipher = NodeCrypto.createDecipheriv("aes-256-gcm", aesKey, iv)
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(NodeFs.readFileSync(rawFile)), decipher.final()])
  }

  const coldOnce = Effect.gen(function* () {
    const licensing = Context.get(yield* Layer.build(fileClient), Licensing)
    const view = yield* licensing.check
    if (!view.licensed) throw new Error(`the cold check ended ${view.state}, not licensed`)
  }).pipe(Effect.scoped)
  const entitledOnce = Effect.gen(function* () {
    const licensing = Context.get(yield* Layer.build(entitledClient), Licensing)
    const view = yield* licensing.check
    if (!view.licensed || view.features.length !== 1) throw new Error(`the entitled cold check ended ${view.state}`)
  }).pipe(Effect.scoped)
  const store = NodeFileStore.make(storeOptions)
  let sink = 0
  const cold = await rounds(
    {
      "cold validate (new layer, first check)": async (n) => {
        for (let i = 0; i < n; i++) await Effect.runPromise(coldOnce)
      },
      "primitive: NodeFileStore.load": async (n) => {
        for (let i = 0; i < n; i++) if (Option.isSome(await Effect.runPromise(store.load))) sink++
      },
      "primitive: ActivationToken.verify": async (n) => {
        for (let i = 0; i < n; i++)
          await Effect.runPromise(ActivationToken.verify(token, product.publicKeyPem, expected))
      },
      "primitive: Validation.validate": (n) => {
        const now = Date.now()
        for (let i = 0; i < n; i++) if (Validation.validate({ claims, expected, now, lastSeenAt: now }) === "ok") sink++
      },
      "floor: readFileSync + AES-GCM decrypt": (n) => {
        for (let i = 0; i < n; i++) sink += rawRead().length
      },
      "floor: jose.jwtVerify": async (n) => {
        for (let i = 0; i < n; i++) await Jose.jwtVerify(token, joseKey)
      },
      "cold validate, record with entitlements": async (n) => {
        for (let i = 0; i < n; i++) await Effect.runPromise(entitledOnce)
      },
      "primitive: FeatureEntitlements.verify": async (n) => {
        for (let i = 0; i < n; i++)
          await Effect.runPromise(FeatureEntitlements.verify(entitlementsToken, product.publicKeyPem))
      }
    },
    { n: 20, reps }
  )

  // check() on a loaded client, in one Effect.gen per round so the figure is the yield, not a runPromise.
  const loaded = await Effect.runPromise(
    Effect.gen(function* () {
      const context = yield* Layer.build(
        Licensing.layer(config).pipe(Layer.provideMerge(platform(LicenseStore.layerMemory)))
      )
      const licensing = Context.get(context, Licensing)
      yield* licensing.activate(license.key)
      const view = yield* licensing.check
      if (!view.licensed) throw new Error(`the loaded client is ${view.state}, not licensed`)
      const loop = (effect: Effect.Effect<{ readonly licensed: boolean }>) => (n: number) =>
        Effect.runPromise(
          Effect.gen(function* () {
            for (let i = 0; i < n; i++) if ((yield* effect).licensed) sink++
          })
        )
      return yield* Effect.promise(() =>
        rounds(
          {
            "yield* licensing.check": loop(licensing.check),
            "yield* licensing.current": loop(licensing.current),
            "yield* Effect.succeed(view) (floor)": loop(Effect.succeed(view))
          },
          { n: 20_000, reps }
        )
      )
    }).pipe(Effect.scoped)
  )
  if (sink === 0) throw new Error("nothing answered")

  const get = (name: string) => cold[name]?.median ?? Number.NaN
  const primitives =
    get("primitive: NodeFileStore.load") +
    get("primitive: ActivationToken.verify") +
    get("primitive: Validation.validate")
  const floors =
    get("floor: readFileSync + AES-GCM decrypt") + get("floor: jose.jwtVerify") + get("primitive: Validation.validate")
  const coldMedian = get("cold validate (new layer, first check)")
  const coldOverPrimitives = coldMedian / primitives
  const coldOverFloors = coldMedian / floors
  // What the entitlements token adds to a start-up, against what its check costs alone.
  const entitlementsAdded = get("cold validate, record with entitlements") - coldMedian
  const entitlementsVerify = get("primitive: FeatureEntitlements.verify")
  const checkNs = loaded["yield* licensing.check"]?.median ?? Number.NaN
  const checkOverFloor = ratioOf(loaded["yield* licensing.check"], loaded["yield* Effect.succeed(view) (floor)"])

  const µs = (ns: number) => ns / 1000
  printTable(
    `Cold validate and its primitives (µs/op; 20 ops x ${reps} rounds, alternating)`,
    ["case", "median", "min"],
    Object.entries(cold).map(([name, s]) => [name, µs(s.median), µs(s.min)])
  )
  printTable(
    `check() on a loaded client (ns/op; 20,000 ops x ${reps} rounds, alternating)`,
    ["case", "median", "min"],
    Object.entries(loaded).map(([name, s]) => [name, s.median, s.min])
  )
  console.log(`\ncold validate / sum of primitives: ${coldOverPrimitives.toFixed(2)}x (target <= 1.5x)`)
  console.log(`cold validate / sum of floors: ${coldOverFloors.toFixed(2)}x`)
  console.log(
    `a stored entitlements token adds ${µs(entitlementsAdded).toFixed(0)} µs to the cold validate (its verify alone: ${µs(entitlementsVerify).toFixed(0)} µs)`
  )
  console.log(
    `check(): ${µs(checkNs).toFixed(2)} µs per call (target <= 2 µs); ${checkOverFloor.toFixed(1)}x a bare yield`
  )

  const path = writeResult(
    "check",
    {
      label: "cold validate / sum of its primitives (medians)",
      value: coldOverPrimitives,
      unit: "x",
      target: "<= 1.5x; check() <= 2 µs",
      met: coldOverPrimitives <= 1.5 && µs(checkNs) <= 2
    },
    {
      reps,
      unit: { cold: "ns/op", check: "ns/op" },
      coldOverPrimitives,
      coldOverFloors,
      entitlementsAddedMicros: µs(entitlementsAdded),
      entitlementsVerifyMicros: µs(entitlementsVerify),
      checkMicros: µs(checkNs),
      checkOverBareYield: checkOverFloor,
      cold,
      check: loaded
    }
  )
  console.log(`wrote ${path}`)
} finally {
  await emulator.close()
  NodeFs.rmSync(root, { recursive: true, force: true })
}
