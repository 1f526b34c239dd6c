/**
 * The start-up load (the stored record read, its tokens verified) and the reload that reads the store again, when
 * the store does not answer: every call that waits for the load (`check()`, the commands, `idle`) still ends, once
 * the load's bound ({@link LoadTimeoutMillis}) passes on the TestClock, with a typed `StoreFailure` that says so;
 * nothing stored is cleared or written over; the client reads the store again on the clock (30 s, then doubling)
 * and takes the licence up once a read answers, without a request, and a configured `licenseKey` is not used over a
 * read that only timed out; a reload with the store hung fails the same way and leaves the licence as it was. The client talks to the emulator over real HTTP on 127.0.0.1; the store is core's memory store with
 * its read held (the hang is the point, so it is the store's answer that is withheld, nothing else).
 *
 * And a record whose activation token verifies but whose feature-entitlements token is forged or another
 * activation's, read by a client starting on it: the licence loads and is licensed, the set is not believed and
 * the view says why (`featuresError`), and the licence stored is kept.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  FeatureEntitlementsApi,
  Fingerprint,
  Licensing,
  LicenseStore,
  type LicensingConfig,
  LoadTimeoutMillis,
  ReadRetryMaxMillis,
  ReadRetryMillis,
  type StoredRecord
} from "@licensure/core"
import { NodeHttp } from "@licensure/node-runtime"
import { identity, loopbackLayer, makeSim, type Sim } from "@licensure/testing"
import { Clock, Context, Deferred, Effect, Fiber, Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import { decodeProtectedHeader, decodeJwt, generateKeyPair, SignJWT } from "jose"

/** A memory store whose reads hang while `hung` is set; every read, save and clear is counted. */
const holdingStore = (initiallyHung: boolean) => {
  const state = { hung: initiallyHung, record: undefined as StoredRecord | undefined, reads: 0, saves: 0, clears: 0 }
  const layer = Layer.succeed(
    LicenseStore,
    LicenseStore.of({
      load: Effect.suspend(() => {
        state.reads++
        return state.hung ? Effect.never : Effect.succeed(Option.fromUndefinedOr(state.record))
      }),
      save: (record) =>
        Effect.sync(() => {
          state.saves++
          state.record = record
        }),
      clear: Effect.sync(() => {
        state.clears++
        state.record = undefined
      })
    })
  )
  return { state, layer }
}

/** A second client of the simulation's product on `store` (an app starting again), with `config` added. */
const clientOn = (sim: Sim, store: Layer.Layer<LicenseStore>, config: Partial<LicensingConfig> = {}) =>
  Layer.build(
    Licensing.layer({ productId: sim.productId, publicKeyPem: sim.publicKeyPem, ...config }).pipe(
      Layer.provideMerge(Layer.mergeAll(loopbackLayer(sim.emulator), store, Fingerprint.layerStatic(identity())))
    )
  ).pipe(
    Effect.orDie,
    Effect.map((context) => Context.get(context, Licensing))
  )

/** Lets forked work run (no real time passes) until `fiber` ends, at most 2000 turns; its exit, or undefined. */
const ended = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function* () {
    for (let turn = 0; turn < 2000 && fiber.pollUnsafe() === undefined; turn++) yield* Effect.yieldNow
    return fiber.pollUnsafe()
  })

describe("a store that does not answer", () => {
  it.effect("at start-up: check() waits out the load's bound, then answers unactivated with a StoreFailure", () =>
    Effect.gen(function* () {
      const store = holdingStore(true)
      const sim = yield* makeSim({}, {}, identity(), { transport: "loopback", store: store.layer })
      const checking = yield* Effect.forkChild(sim.licensing.check)
      const idle = yield* Effect.forkChild(sim.licensing.idle)
      yield* TestClock.adjust(LoadTimeoutMillis - 1)
      assert.isUndefined(yield* ended(checking), "answered before the load's bound")
      yield* TestClock.adjust(1)
      const exit = yield* ended(checking)
      assert.isDefined(exit, "check() still waits on a store that never answers")
      const view = yield* Fiber.join(checking)
      assert.strictEqual(view.state, "unactivated")
      assert.isFalse(view.licensed)
      assert.strictEqual(view.lastError?.operation, "load")
      assert.strictEqual(view.lastError?.kind, "StoreFailure")
      assert.match(view.lastError?.message ?? "", /could not be read within 30 s/)
      // The client reads the store again on the clock: not idle, asleep until the next read.
      assert.isUndefined(yield* ended(idle), "idle answered while a read of the store is still due")
      const quiet = yield* sim.licensing.quiet
      assert.strictEqual(quiet.wakesAt, (yield* Clock.currentTimeMillis) + ReadRetryMillis)
      // Nothing stored was cleared or written over because the read did not come.
      assert.strictEqual(store.state.saves, 0)
      assert.strictEqual(store.state.clears, 0)
    })
  )

  it.effect("a store that answers late: the client reads it again on the clock and is licensed, no request sent", () =>
    Effect.gen(function* () {
      const store = holdingStore(false)
      const sim = yield* makeSim({}, {}, identity(), { transport: "loopback", store: store.layer })
      const activated = yield* sim.licensing.activate(sim.license.key)
      yield* sim.licensing.flush
      const saved = store.state.record!
      yield* Effect.promise(() => sim.emulator.clearLog())

      // A restart on the same store, hung: a slow network home directory at log-in.
      store.state.hung = true
      store.state.reads = 0
      yield* Effect.scoped(
        Effect.gen(function* () {
          const client = yield* clientOn(sim, store.layer)
          const checking = yield* Effect.forkChild(client.check)
          yield* TestClock.adjust(LoadTimeoutMillis)
          assert.isDefined(yield* ended(checking), "check() still waits on the hung store")
          assert.strictEqual((yield* Fiber.join(checking)).state, "unactivated")
          // Reads again after each wait, doubling: 30 s, then (the second read timing out too) 60 s.
          yield* TestClock.adjust(ReadRetryMillis)
          assert.strictEqual(store.state.reads, 2, "the store was read again after the first wait")
          yield* TestClock.adjust(LoadTimeoutMillis)
          const second = yield* client.quiet
          assert.strictEqual(second.view.state, "unactivated")
          assert.strictEqual(second.wakesAt, (yield* Clock.currentTimeMillis) + 2 * ReadRetryMillis)

          // The store answers now: the next read finds the licence, checked offline.
          store.state.hung = false
          yield* TestClock.adjust(2 * ReadRetryMillis)
          // The read answered; its token check is real WebCrypto work, so this waits in real time, on nothing else.
          const view = yield* client.idle
          assert.strictEqual(view.state, "active")
          assert.isTrue(view.licensed)
          assert.isUndefined(view.lastError, "the read that answered clears the store failure")
          assert.strictEqual(view.license?.activationId, activated.license?.activationId)
          assert.strictEqual(store.state.reads, 3)
          // Nothing more is read once a read answered.
          yield* TestClock.adjust(ReadRetryMaxMillis)
          assert.strictEqual(store.state.reads, 3)
        })
      )
      assert.deepStrictEqual(yield* Effect.promise(() => sim.emulator.log()), [], "the late store cost no request")
      assert.strictEqual(store.state.record?.token, saved.token)
      assert.strictEqual(store.state.clears, 0)
    })
  )

  it.effect("with a licenseKey configured, a read that timed out does not activate over the stored record", () =>
    Effect.gen(function* () {
      const store = holdingStore(true)
      // The simulation's own client keeps its own store: every read of the held one is the client's below.
      const sim = yield* makeSim({}, {}, identity(), { transport: "loopback" })
      // The configured key serves a record that is unusable; this one is only slow.
      const client = yield* clientOn(sim, store.layer, { licenseKey: sim.license.key })
      const checking = yield* Effect.forkChild(client.check)
      yield* TestClock.adjust(LoadTimeoutMillis)
      assert.isDefined(yield* ended(checking), "check() still waits on the hung store")
      const view = yield* Fiber.join(checking)
      assert.strictEqual(view.state, "unactivated")
      assert.strictEqual(view.lastError?.kind, "StoreFailure")
      assert.deepStrictEqual(yield* Effect.promise(() => sim.emulator.log()), [], "an activation was sent")
      assert.strictEqual(store.state.saves, 0)
      // A command takes over at once, and ends the wait for the next read: the client is idle after it, with no
      // time moved (the wait it ended was 30 s on the clock).
      store.state.hung = false
      const activated = yield* client.activate(sim.license.key)
      assert.strictEqual(activated.state, "active")
      const idle = yield* client.idle
      assert.strictEqual(idle.state, "active")
      const readsBefore = store.state.reads
      yield* TestClock.adjust(ReadRetryMaxMillis)
      assert.strictEqual(store.state.reads, readsBefore, "the store was read again after a command moved on")
      assert.strictEqual((yield* client.current).state, "active")
    })
  )

  it.effect("on a reload: it fails with a typed load error after the bound, and the licence stays as it was", () =>
    Effect.gen(function* () {
      const store = holdingStore(false)
      const sim = yield* makeSim({}, {}, identity(), { transport: "loopback", store: store.layer })
      const activated = yield* sim.licensing.activate(sim.license.key)
      assert.strictEqual(activated.state, "active")
      yield* sim.licensing.flush
      const saved = store.state.record
      assert.isDefined(saved)
      store.state.hung = true
      const reloading = yield* Effect.forkChild(Effect.result(sim.licensing.reload))
      yield* TestClock.adjust(LoadTimeoutMillis)
      const exit = yield* ended(reloading)
      assert.isDefined(exit, "reload() still waits on a store that never answers")
      const result = yield* Fiber.join(reloading)
      assert.isTrue(result._tag === "Failure", "a reload that could not read is a failure")
      if (result._tag === "Failure") {
        assert.strictEqual(result.failure.operation, "load")
        assert.strictEqual(result.failure.reason._tag, "StoreFailure")
        assert.match(result.failure.message, /could not be read within 30 s/)
      }
      const view = yield* sim.licensing.current
      assert.strictEqual(view.state, "active")
      assert.isTrue(view.licensed)
      assert.strictEqual(view.license?.activationId, activated.license?.activationId)
      // The licence held is written back as it was (its clock mark may move): the same token, key and fingerprint.
      assert.strictEqual(store.state.record?.token, saved?.token)
      assert.strictEqual(store.state.record?.key, saved?.key)
      assert.strictEqual(store.state.record?.fingerprint, saved?.fingerprint)
      assert.strictEqual(store.state.clears, 0)
    })
  )
})

describe("a stored entitlements token that is not this activation's", () => {
  it.effect("a client starting on it is licensed, shows no features and says why, and keeps the licence stored", () =>
    Effect.gen(function* () {
      const store = holdingStore(false)
      const sim = yield* makeSim(
        { featureEntitlements: [{ featureName: "export-pdf", featureDisplayName: "Export to PDF", value: "true" }] },
        {},
        identity(),
        { transport: "loopback", store: store.layer, entitlements: true }
      )
      // Two activations of this machine one after the other: the first one's entitlements token is real, signed by
      // the product's key, and belongs to another activation than the record that is kept.
      yield* sim.licensing.activate(sim.license.key)
      yield* sim.licensing.flush
      const earlier = store.state.record
      yield* sim.licensing.deactivate
      const current = yield* sim.licensing.activate(sim.license.key)
      yield* sim.licensing.flush
      const record = store.state.record
      assert.isDefined(earlier?.featureEntitlementsToken)
      assert.isDefined(record?.featureEntitlementsToken)
      assert.deepStrictEqual(
        current.features.map((f) => f.name),
        ["export-pdf"]
      )
      assert.notStrictEqual(earlier?.token, record?.token)
      const theirs = earlier!.featureEntitlementsToken!
      // The same claims as the good set, signed by a key that is not the product's.
      const other = yield* Effect.promise(() => generateKeyPair("RS256", { modulusLength: 2048 }))
      const mine = record!.featureEntitlementsToken!
      const forged = yield* Effect.promise(() =>
        new SignJWT(decodeJwt(mine))
          .setProtectedHeader(decodeProtectedHeader(mine) as { alg: string })
          .sign(other.privateKey)
      )

      /** A second client, as after a restart, on the store holding `entitlementsToken` beside the licence. */
      const restartWith = (entitlementsToken: string) =>
        Effect.scoped(
          Effect.gen(function* () {
            store.state.record = { ...record!, featureEntitlementsToken: entitlementsToken }
            const platform = Layer.mergeAll(
              loopbackLayer(sim.emulator),
              FeatureEntitlementsApi.layer({ host: sim.emulator.url }).pipe(
                Layer.provide(NodeHttp.layer({ proxy: "none" }))
              ),
              store.layer,
              Fingerprint.layerStatic(identity())
            )
            const context = yield* Layer.build(
              Licensing.layer({ productId: sim.productId, publicKeyPem: sim.publicKeyPem }).pipe(
                Layer.provideMerge(platform)
              )
            ).pipe(Effect.orDie)
            const client = Context.get(context, Licensing)
            const view = yield* client.check
            yield* client.flush
            return view
          })
        )

      // The deactivation cleared the record once; what counts from here is what a restart does.
      store.state.clears = 0
      for (const [name, token, kind] of [
        ["forged", forged, "TokenError"],
        ["another activation's", theirs, "EntitlementsMismatch"]
      ] as const) {
        const view = yield* restartWith(token)
        assert.strictEqual(view.state, "active", name)
        assert.isTrue(view.licensed, `${name}: the licence itself is not refused for its entitlements token`)
        assert.isTrue(view.settled, name)
        assert.strictEqual(view.license?.activationId, current.license?.activationId, name)
        assert.deepStrictEqual(view.features, [], `${name}: a set that is not this activation's is never believed`)
        assert.strictEqual(view.featuresError?.kind, kind, name)
        assert.deepStrictEqual(view.featuresError?.status, { name: "LA_E_FEATURE_ENTITLEMENTS_INVALID", code: 107 })
        // The licence stored is kept: the same token, key and fingerprint.
        assert.strictEqual(store.state.record?.token, record?.token, name)
        assert.strictEqual(store.state.record?.key, record?.key, name)
        assert.strictEqual(store.state.clears, 0, name)
      }
      const mismatch = yield* restartWith(theirs)
      assert.include(
        mismatch.featuresError?.message ?? "",
        `expected entitlements for activation ${current.license?.activationId}`
      )
      // The good set, as a check that the restart itself reads the entitlements token at all.
      const good = yield* restartWith(mine)
      assert.deepStrictEqual(
        good.features.map((f) => f.name),
        ["export-pdf"]
      )
      assert.isUndefined(good.featuresError)
    })
  )
})

describe("a reload during the start-up load", () => {
  it.effect(
    "asked before the first load finished, it waits for it, then takes up what another process wrote since",
    () =>
      Effect.gen(function* () {
        const store = holdingStore(false)
        const sim = yield* makeSim({ serverSyncInterval: 3600 }, {}, identity(), {
          transport: "loopback",
          store: store.layer
        })
        yield* sim.licensing.activate(sim.license.key)
        yield* sim.licensing.flush
        const older = store.state.record!
        yield* TestClock.adjust(60_000)
        const synced = yield* sim.licensing.sync
        yield* sim.licensing.flush
        const newer = store.state.record!
        assert.notStrictEqual(newer.token, older.token, "the sync brought a new token")

        // The restarted client's start-up read is held until `release`, and answers with the older record; by then
        // another process has written the newer one, which every later read sees.
        const release = yield* Deferred.make<void>()
        let reads = 0
        const startupStore = Layer.succeed(
          LicenseStore,
          LicenseStore.of({
            load: Effect.suspend(() => {
              reads++
              return reads === 1
                ? Effect.as(Deferred.await(release), Option.some(older))
                : Effect.succeed(Option.some(newer))
            }),
            save: (record) =>
              Effect.sync(() => {
                store.state.saves++
                store.state.record = record
              }),
            clear: Effect.sync(() => {
              store.state.clears++
            })
          })
        )
        const view = yield* Effect.scoped(
          Effect.gen(function* () {
            const context = yield* Layer.build(
              Licensing.layer({ productId: sim.productId, publicKeyPem: sim.publicKeyPem }).pipe(
                Layer.provideMerge(
                  Layer.mergeAll(loopbackLayer(sim.emulator), startupStore, Fingerprint.layerStatic(identity()))
                )
              )
            ).pipe(Effect.orDie)
            const client = Context.get(context, Licensing)
            const reloading = yield* Effect.forkChild(Effect.result(client.reload))
            yield* Effect.yieldNow
            assert.strictEqual((yield* client.current).state, "loading", "the reload came before the load finished")
            assert.strictEqual(reads, 1, "the reload waits for the start-up load before it reads")
            yield* Deferred.succeed(release, undefined)
            const exit = yield* ended(reloading)
            assert.isDefined(exit, "the reload never finished")
            const result = yield* Fiber.join(reloading)
            assert.isTrue(result._tag === "Success", `the reload failed: ${JSON.stringify(result)}`)
            yield* client.flush
            return yield* client.check
          })
        )
        assert.strictEqual(reads, 2, "one start-up read and one reload read")
        assert.strictEqual(view.state, "active")
        assert.strictEqual(view.license?.lastSyncedAt, synced.license?.lastSyncedAt, "the newer record was taken up")
        assert.strictEqual(store.state.record?.token, newer.token, "what is stored is the newer record")
      })
  )
})
