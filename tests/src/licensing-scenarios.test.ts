/**
 * Licensing scenarios beyond the plain lifecycle: trials and their extension, hosted-floating leases, an
 * activation deleted on the server, a rejected fingerprint (with and without re-activation), refusals that clear
 * and one that only halts sync, licence details (metadata, meters, user), the `changes` stream, a restart over
 * the same store, a store holding a token signed by another key, and deactivation.
 *
 * Each test runs one client against the in-process emulator on one `TestClock` (the simulation harness of
 * `@licensure/testing`): `drive` moves virtual time from deadline to deadline and the emulator's
 * request log shows what reached the server and when.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  Fingerprint,
  LicenseStore,
  Licensing,
  type LicensingConfig,
  type LicenseView,
  type MachineIdentity,
  type MachineSnapshot,
  stateOf
} from "@licensure/core"
import { createEmulator, type Emulator } from "@licensure/emulator"
import type { LicenseOptions, LogEntry, ProductOptions } from "@licensure/emulator/AdminApi"
import { DAY, drive, emulatorLayer, HOUR, identity, makeSim, settled, Start } from "@licensure/testing"
import { Clock, Context, Effect, Layer, Option, Stream } from "effect"
import { TestClock } from "effect/testing"
import { decodeJwt, generateKeyPair, SignJWT } from "jose"

/** A licence meter attribute without its id (a fresh GUID), after checking it has one. */
const withoutId = <M extends { readonly id?: string | undefined }>(meter: M): Omit<M, "id"> => {
  const { id, ...rest } = meter
  if (typeof id !== "string" || id === "") throw new Error(`expected the meter attribute to carry an id, got ${id}`)
  return rest
}

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

interface Server {
  readonly emulator: Emulator
  readonly productId: string
  readonly publicKeyPem: string
}

/** A second client for the same product and emulator over a given store service (a restart of the app). */
const startClient = (
  server: Server,
  store: LicenseStore["Service"],
  config: Partial<LicensingConfig> = {},
  machine: MachineIdentity = identity()
) =>
  Effect.gen(function* () {
    const platform = Layer.mergeAll(
      emulatorLayer(server.emulator),
      Layer.succeed(LicenseStore, store),
      Fingerprint.layerStatic(machine)
    )
    const context = yield* Layer.build(
      Licensing.layer({ productId: server.productId, publicKeyPem: server.publicKeyPem, ...config }).pipe(
        Layer.provide(platform)
      )
    )
    return Context.get(context, Licensing)
  })

/** Like `makeSim`, with the product's options too (trial policy, product metadata). */
const simulation = (
  options: {
    readonly product?: ProductOptions
    readonly license?: Omit<LicenseOptions, "productId">
    readonly config?: Partial<LicensingConfig>
  } = {}
) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(Start)
    const clock = yield* Clock.Clock
    const emulator = createEmulator({ now: () => clock.currentTimeMillisUnsafe() })
    const product = yield* promise(() => emulator.createProduct(options.product ?? {}))
    const license = yield* promise(() => emulator.createLicense({ productId: product.productId, ...options.license }))
    const store = Context.get(yield* Layer.build(LicenseStore.layerMemory), LicenseStore)
    const server = { emulator, productId: product.productId, publicKeyPem: product.publicKeyPem }
    const licensing = yield* startClient(server, store, options.config ?? {})
    return { ...server, license, store, licensing }
  })

const log = (emulator: Emulator) => promise(() => emulator.log())
const isPatch = (e: LogEntry) => e.method === "PATCH"
const stored = (store: LicenseStore["Service"]) => Effect.map(store.load, Option.isSome)

describe("trials", () => {
  it.effect(
    "a trial is active until its end, then expired (LA_TRIAL_EXPIRED); an extension arrives at the next sync",
    () =>
      Effect.gen(function* () {
        const sim = yield* simulation({ product: { trialLength: 14 * 86400, trialServerSyncInterval: 86400 } })
        const started = yield* sim.licensing.activateTrial
        assert.strictEqual(started.state, "trialActive")
        assert.isTrue(started.licensed)
        assert.deepStrictEqual(started.status, { name: "LA_OK", code: 0 })
        assert.strictEqual(started.license?.kind, "trial")
        assert.strictEqual(started.license?.type, "trial")
        assert.isUndefined(started.license?.key)
        assert.strictEqual(started.license?.expiresAt, Start + 14 * DAY)
        const trialId = started.license!.activationId

        let endedAt: number | undefined
        let licensedUntil = 0
        yield* drive(sim.licensing, Start + 15 * DAY, (v, now) => {
          if (v.state === "trialExpired" && endedAt === undefined) endedAt = now
          if (v.licensed) licensedUntil = now
        })
        assert.isDefined(endedAt)
        assert.isAtLeast(endedAt!, Start + 14 * DAY)
        assert.isAtMost(endedAt!, Start + 14 * DAY + 2000)
        assert.isBelow(licensedUntil, endedAt!)
        const expired = yield* sim.licensing.current
        assert.strictEqual(expired.state, "trialExpired")
        assert.deepStrictEqual(expired.status, { name: "LA_TRIAL_EXPIRED", code: 25 })
        assert.isFalse(expired.licensed)
        // The client kept syncing the trial daily, so it can hear about an extension.
        const trialSyncs = (yield* log(sim.emulator)).filter((e) => isPatch(e) && e.path.endsWith(trialId))
        assert.isAtLeast(trialSyncs.length, 14)

        yield* promise(() => sim.emulator.updateTrialActivation(trialId, { expiresAt: Start + 30 * DAY }))
        const nextSync = expired.nextSyncAt!
        const now = yield* Clock.currentTimeMillis
        assert.isAbove(nextSync, now)
        assert.isAtMost(nextSync, now + DAY)
        const before = yield* drive(sim.licensing, nextSync - 1000)
        assert.strictEqual(before.state, "trialExpired", "nothing changes on the client before its next trial sync")
        const after = yield* drive(sim.licensing, nextSync + 1000)
        assert.strictEqual(after.state, "trialActive")
        assert.strictEqual(after.license?.expiresAt, Start + 30 * DAY)
        assert.strictEqual(after.license?.activationId, trialId)
        assert.isTrue(after.licensed)
        const last = (yield* log(sim.emulator)).at(-1)!
        assert.deepStrictEqual(
          [last.method, last.path, last.status],
          ["PATCH", `/v3/trial-activations/${trialId}`, 200]
        )
        assert.isAtLeast(last.at, nextSync)
      })
  )
  it.effect("a trial deleted on the server: the next trial sync gets 404 → unactivated, store cleared", () =>
    Effect.gen(function* () {
      const sim = yield* simulation({ product: { trialServerSyncInterval: 3600 } })
      const started = yield* sim.licensing.activateTrial
      yield* sim.licensing.flush
      assert.isTrue(yield* stored(sim.store))
      yield* promise(() => sim.emulator.deleteTrialActivation(started.license!.activationId))
      const view = yield* drive(sim.licensing, Start + HOUR + 1000)
      yield* sim.licensing.flush
      assert.strictEqual(view.state, "unactivated")
      assert.deepStrictEqual(view.status, { name: "LA_E_ACTIVATION_NOT_FOUND", code: 59 })
      assert.isFalse(yield* stored(sim.store))
    })
  )

  it.effect("a product without trials refuses activateTrial with TRIAL_NOT_ALLOWED (LA_E_TRIAL_NOT_ALLOWED)", () =>
    Effect.gen(function* () {
      const sim = yield* simulation({ product: { allowTrial: false } })
      const error = yield* Effect.flip(sim.licensing.activateTrial)
      assert.strictEqual(error.code, "TRIAL_NOT_ALLOWED")
      assert.deepStrictEqual(error.status, { name: "LA_E_TRIAL_NOT_ALLOWED", code: 61 })
      assert.strictEqual(error.state, "unactivated")
      assert.strictEqual((yield* sim.licensing.current).state, "unactivated")
    })
  )
})

describe("hosted-floating leases", () => {
  const floating = { type: "hosted-floating", leaseDuration: 1800, serverSyncInterval: 3600 } as const

  it.effect("the lease is renewed before each lease end and the licence stays active for a day", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim(floating)
      const first = yield* sim.licensing.activate(sim.license.key)
      assert.strictEqual(first.license?.type, "hosted-floating")
      assert.strictEqual(first.license?.leaseDuration, 1800)
      assert.strictEqual(first.license?.leaseExpiresAt, Start + 1800 * 1000)
      let unlicensed = 0
      const states = new Set<string>()
      const final = yield* drive(sim.licensing, Start + DAY, (v) => {
        states.add(v.state)
        if (!v.licensed) unlicensed++
      })
      assert.strictEqual(unlicensed, 0)
      assert.deepStrictEqual([...states], ["active"])
      assert.strictEqual(final.state, "active")
      const entries = yield* log(sim.emulator)
      assert.deepStrictEqual(entries[0] && [entries[0].method, entries[0].status], ["POST", 201])
      assert.isTrue(entries.slice(1).every((e) => isPatch(e) && e.status === 200))
      // Twice an hour or more: the sync interval (1 h) is longer than the lease (30 min).
      assert.isAtLeast(entries.length - 1, 47)
      for (let i = 1; i < entries.length; i++) {
        assert.isBelow(entries[i]!.at, entries[i - 1]!.at + 1800 * 1000, `renewal ${i} came after the lease ended`)
      }
      const now = yield* Clock.currentTimeMillis
      assert.isAbove(final.license!.leaseExpiresAt!, now)
      const onServer = yield* promise(() => sim.emulator.getLicense(sim.license.id))
      assert.strictEqual(onServer.activations.length, 1)
    })
  )

  it.effect("a lease duration asked for by the client is granted when the licence allows it", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ ...floating, allowClientLeaseDuration: true }, { leaseDuration: 900 })
      const view = yield* sim.licensing.activate(sim.license.key)
      assert.strictEqual(view.license?.leaseDuration, 900)
      assert.strictEqual(view.license?.leaseExpiresAt, Start + 900 * 1000)
      // Renewed a minute before that lease ends, not at the one-hour sync interval.
      assert.strictEqual(view.nextSyncAt, Start + 900 * 1000 - 60 * 1000)
    })
  )

  it.effect("with the server down past the lease end, the lease lapses: unactivated, store cleared, LeaseLapsed", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim(floating)
      yield* sim.licensing.activate(sim.license.key)
      yield* drive(sim.licensing, Start + 2 * HOUR)
      const outage = { from: Start + 2 * HOUR, until: Start + 6 * HOUR }
      yield* promise(() => sim.emulator.addFault({ kind: "drop", ...outage }))
      const timeline: Array<string> = []
      let leaseEnd = 0
      let lapsedAt: number | undefined
      yield* drive(sim.licensing, Start + 8 * HOUR, (v, now) => {
        if (timeline.at(-1) !== v.state) timeline.push(v.state)
        if (v.license?.leaseExpiresAt !== undefined) leaseEnd = v.license.leaseExpiresAt
        if (v.state === "unactivated" && lapsedAt === undefined) lapsedAt = now
      })
      yield* sim.licensing.flush
      assert.deepStrictEqual(timeline, ["active", "grace", "unactivated"])
      assert.isAtLeast(lapsedAt!, leaseEnd)
      assert.isAtMost(lapsedAt!, leaseEnd + 2000)
      assert.isBelow(lapsedAt!, outage.until)
      const view = yield* sim.licensing.current
      assert.strictEqual(view.clearedBecause?.kind, "LeaseLapsed")
      assert.isFalse(view.licensed)
      assert.isUndefined(view.license)
      assert.isFalse(yield* stored(sim.store))
      // Nothing was renewed during the outage, and nothing is sent once the lease is gone.
      const after = (yield* log(sim.emulator)).filter((e) => e.at >= outage.from)
      assert.isAbove(after.length, 0)
      assert.isTrue(after.every((e) => e.status === 0 && e.at < outage.until))
      // On the server the lapsed lease freed its seat.
      assert.strictEqual((yield* promise(() => sim.emulator.getLicense(sim.license.id))).activations.length, 0)
    })
  )
})

describe("the server forgets or refuses the activation", () => {
  it.effect(
    "an activation deleted on the server: the next sync gets 404 → unactivated, LA_E_ACTIVATION_NOT_FOUND",
    () =>
      Effect.gen(function* () {
        const sim = yield* makeSim({ serverSyncInterval: 3600 })
        const activated = yield* sim.licensing.activate(sim.license.key)
        yield* promise(() => sim.emulator.deleteActivation(activated.license!.activationId))
        const view = yield* drive(sim.licensing, Start + HOUR + 1000)
        yield* sim.licensing.flush
        assert.strictEqual(view.state, "unactivated")
        assert.deepStrictEqual(view.status, { name: "LA_E_ACTIVATION_NOT_FOUND", code: 59 })
        assert.strictEqual(view.clearedBecause?.kind, "NotFound")
        assert.isFalse(yield* stored(sim.store))
        const last = (yield* log(sim.emulator)).at(-1)!
        assert.deepStrictEqual([last.method, last.status], ["PATCH", 404])
      })
  )

  const fingerprintFault = {
    kind: "status",
    status: 400,
    body: { message: "The fingerprint differs from the activation's", code: "INVALID_ACTIVATION_FINGERPRINT" },
    count: 1,
    match: { method: "PATCH" }
  } as const

  it.effect("a fingerprint rejected on sync → fingerprintMismatch, store cleared, no more requests", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 })
      yield* sim.licensing.activate(sim.license.key)
      yield* promise(() => sim.emulator.addFault(fingerprintFault))
      const view = yield* drive(sim.licensing, Start + HOUR + 1000)
      yield* sim.licensing.flush
      assert.strictEqual(view.state, "fingerprintMismatch")
      assert.deepStrictEqual(view.status, { name: "LA_E_MACHINE_FINGERPRINT", code: 63 })
      assert.strictEqual(view.clearedBecause?.code, "INVALID_ACTIVATION_FINGERPRINT")
      assert.isFalse(view.licensed)
      assert.isFalse(yield* stored(sim.store))
      const requests = (yield* log(sim.emulator)).length
      const later = yield* drive(sim.licensing, Start + 2 * DAY)
      assert.strictEqual(later.state, "fingerprintMismatch")
      assert.strictEqual((yield* log(sim.emulator)).length, requests)
    })
  )

  it.effect("with reactivateOnFingerprintRejected: deactivate then activate → active again on a new activation", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 }, { reactivateOnFingerprintRejected: true })
      const first = yield* sim.licensing.activate(sim.license.key)
      yield* promise(() => sim.emulator.clearLog())
      yield* promise(() => sim.emulator.addFault(fingerprintFault))
      const view = yield* drive(sim.licensing, Start + HOUR + 1000)
      yield* sim.licensing.flush
      assert.strictEqual(view.state, "active")
      assert.isTrue(view.licensed)
      const firstId = first.license!.activationId
      assert.notStrictEqual(view.license!.activationId, firstId)
      assert.deepStrictEqual(
        (yield* log(sim.emulator)).map((e) => [e.method, e.path, e.status]),
        [
          ["PATCH", `/v3/activations/${firstId}`, 400],
          ["POST", `/v3/activations/${firstId}/deactivate`, 204],
          ["POST", "/v3/activations", 201]
        ]
      )
      const record = yield* sim.store.load
      assert.isTrue(Option.isSome(record))
      assert.strictEqual(decodeJwt(Option.getOrThrow(record).token).aid, view.license!.activationId)
      const onServer = yield* promise(() => sim.emulator.getLicense(sim.license.id))
      assert.deepStrictEqual(
        onServer.activations.map((a) => a.id),
        [view.license!.activationId]
      )
    })
  )

  it.effect("INVALID_LICENSE_KEY on sync clears the activation (LA_E_LICENSE_KEY)", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 })
      yield* sim.licensing.activate(sim.license.key)
      yield* promise(() =>
        sim.emulator.addFault({
          kind: "status",
          status: 400,
          body: { message: "No licence has this key", code: "INVALID_LICENSE_KEY" },
          count: 1
        })
      )
      const view = yield* drive(sim.licensing, Start + HOUR + 1000)
      yield* sim.licensing.flush
      assert.strictEqual(view.state, "unactivated")
      assert.deepStrictEqual(view.status, { name: "LA_E_LICENSE_KEY", code: 54 })
      assert.strictEqual(view.clearedBecause?.code, "INVALID_LICENSE_KEY")
      assert.isFalse(yield* stored(sim.store))
    })
  )

  it.effect("an unknown code on sync halts background sync but keeps the licence", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 })
      yield* sim.licensing.activate(sim.license.key)
      yield* promise(() => sim.emulator.clearLog())
      yield* promise(() =>
        sim.emulator.addFault({
          kind: "status",
          status: 400,
          body: { message: "An audit of this seat is pending", code: "SEAT_AUDIT_PENDING" },
          count: 1
        })
      )
      let unlicensed = 0
      const view = yield* drive(sim.licensing, Start + 4 * DAY, (v) => {
        if (!v.licensed) unlicensed++
      })
      yield* sim.licensing.flush
      assert.strictEqual(view.state, "active")
      assert.strictEqual(unlicensed, 0)
      assert.strictEqual(view.lastError?.kind, "UnknownServerCode")
      assert.strictEqual(view.lastError?.code, "SEAT_AUDIT_PENDING")
      assert.isUndefined(view.nextSyncAt)
      assert.isUndefined(view.clearedBecause)
      assert.isTrue(yield* stored(sim.store))
      // One refused sync, then silence for days, although the server would answer again.
      assert.deepStrictEqual(
        (yield* log(sim.emulator)).map((e) => [e.method, e.status, e.at]),
        [["PATCH", 400, Start + HOUR]]
      )
      // An explicit sync from the application resumes the schedule.
      const resumed = yield* sim.licensing.sync
      assert.strictEqual(resumed.state, "active")
      assert.isUndefined(resumed.lastError)
      assert.isDefined(resumed.nextSyncAt)
      assert.deepStrictEqual(
        (yield* log(sim.emulator)).map((e) => e.status),
        [400, 200]
      )
    })
  )
})

describe("licence details", () => {
  it.effect("metadata, user fields and meters are readable; incrementMeter sends the uses with the next sync", () =>
    Effect.gen(function* () {
      const sim = yield* simulation({
        product: { metadata: [{ key: "edition", value: "studio" }] },
        license: {
          serverSyncInterval: 3600,
          metadata: [{ key: "seats", value: "5" }],
          user: { name: "Ada Lovelace", email: "ada@example.com", company: "Analytical Engines Ltd" },
          meterAttributes: [{ name: "exports", allowedUses: 100 }]
        },
        config: { metadata: [{ key: "install", value: "workstation-7" }] }
      })
      yield* sim.licensing.activate(sim.license.key)
      const details = (yield* sim.licensing.license)!
      assert.deepStrictEqual(details.productMetadata, [{ key: "edition", value: "studio" }])
      assert.deepStrictEqual(details.licenseMetadata, [{ key: "seats", value: "5" }])
      assert.deepStrictEqual(details.activationMetadata, [{ key: "install", value: "workstation-7" }])
      assert.deepStrictEqual(details.user, {
        name: "Ada Lovelace",
        email: "ada@example.com",
        company: "Analytical Engines Ltd"
      })
      assert.deepStrictEqual(details.licenseMeterAttributes.map(withoutId), [
        { name: "exports", allowedUses: 100, totalUses: 0, grossUses: 0 }
      ])
      assert.deepStrictEqual(details.activationMeterAttributes, [{ name: "exports", uses: 0 }])
      assert.strictEqual(details.key, sim.license.key)
      assert.strictEqual(details.licenseId, sim.license.id)

      yield* promise(() => sim.emulator.clearLog())
      const after = yield* sim.licensing.incrementMeter("exports", 3)
      assert.deepStrictEqual(after.license?.activationMeterAttributes, [{ name: "exports", uses: 3 }])
      assert.deepStrictEqual(after.license?.licenseMeterAttributes.map(withoutId), [
        { name: "exports", allowedUses: 100, totalUses: 3, grossUses: 3 }
      ])
      assert.deepStrictEqual(
        (yield* log(sim.emulator)).map((e) => [e.method, e.status]),
        [["PATCH", 200]]
      )
      const onServer = yield* promise(() => sim.emulator.getLicense(sim.license.id))
      assert.strictEqual(onServer.meterAttributes[0]?.totalUses, 3)
      assert.deepStrictEqual(onServer.activations[0]?.meterAttributes, [{ name: "exports", uses: 3 }])

      // The increment went once: the regular syncs after it do not send it again.
      const later = yield* drive(sim.licensing, Start + 3 * HOUR + 1000)
      assert.isAtLeast((yield* log(sim.emulator)).length, 3)
      assert.deepStrictEqual(later.license?.activationMeterAttributes, [{ name: "exports", uses: 3 }])
      const stillThree = yield* promise(() => sim.emulator.getLicense(sim.license.id))
      assert.strictEqual(stillThree.meterAttributes[0]?.totalUses, 3)
    })
  )
})

describe("the changes stream", () => {
  it.effect("delivers every settled state, in order, as the licence moves through its life", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 })
      // The settled states as the machine itself goes through them, for comparison with the stream.
      const fromActor: Array<string> = []
      const note = (snapshot: MachineSnapshot) => {
        const state = stateOf(snapshot.value)
        if (snapshot.hasTag("settled") && fromActor.at(-1) !== state) fromActor.push(state)
      }
      note(sim.licensing.actor.getSnapshot())
      sim.licensing.actor.subscribe(note)
      const views: Array<LicenseView> = []
      yield* Effect.forkScoped(Stream.runForEach(sim.licensing.changes, (v) => Effect.sync(() => views.push(v))))
      yield* untilTrue(() => views.length > 0)

      yield* sim.licensing.activate(sim.license.key)
      yield* Effect.promise(() => sim.emulator.updateLicense(sim.license.id, { suspended: true }))
      yield* drive(sim.licensing, Start + HOUR + 1000)
      yield* Effect.promise(() => sim.emulator.updateLicense(sim.license.id, { suspended: false }))
      yield* drive(sim.licensing, Start + 2 * HOUR + 1000)
      yield* sim.licensing.deactivate
      yield* untilTrue(() => views.at(-1)?.state === "unactivated" && views.length > 3)

      const settledStates = views.filter((v) => v.settled).map((v) => v.state)
      const deduped = settledStates.filter((s, i) => s !== settledStates[i - 1])
      assert.deepStrictEqual(deduped, ["unactivated", "active", "suspended", "active", "unactivated"])
      assert.deepStrictEqual(deduped, fromActor)
      // The working states between them come through too, each view consistent with its own flag.
      assert.isTrue(views.some((v) => v.state === "renewDue" && !v.settled))
      assert.isTrue(views.some((v) => v.state === "deactivating" && !v.settled))
      const suspended = views.find((v) => v.state === "suspended")!
      assert.deepStrictEqual(suspended.status, { name: "LA_SUSPENDED", code: 21 })
    })
  )
})

describe("restart", () => {
  it.effect("a second client over the same store loads the activation without a network call and is active", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 })
      const activated = yield* sim.licensing.activate(sim.license.key)
      yield* sim.licensing.flush
      yield* promise(() => sim.emulator.clearLog())
      yield* TestClock.adjust(10 * 60_000)
      const again = yield* startClient(sim, sim.store)
      const view = yield* settled(again)
      assert.strictEqual(view.state, "active")
      assert.isTrue(view.licensed)
      assert.strictEqual(view.license?.activationId, activated.license?.activationId)
      assert.strictEqual(view.license?.lastSyncedAt, activated.license?.lastSyncedAt)
      assert.strictEqual(view.nextSyncAt, activated.nextSyncAt)
      assert.deepStrictEqual(yield* log(sim.emulator), [])
    })
  )

  it.effect(
    "a stored token signed by another key → unactivated, TokenRejected, nothing thrown; activation recovers",
    () =>
      Effect.gen(function* () {
        const sim = yield* makeSim({ serverSyncInterval: 3600 })
        yield* sim.licensing.activate(sim.license.key)
        yield* sim.licensing.flush
        const genuine = Option.getOrThrow(yield* sim.store.load)
        // The same claims, signed by a key that is not the product's.
        const { privateKey } = yield* promise(() => generateKeyPair("RS256", { modulusLength: 2048 }))
        const forged = yield* promise(() =>
          new SignJWT(decodeJwt(genuine.token)).setProtectedHeader({ alg: "RS256", typ: "JWT" }).sign(privateKey)
        )
        assert.notStrictEqual(forged, genuine.token)
        const store = Context.get(yield* Layer.build(LicenseStore.layerMemory), LicenseStore)
        yield* store.save({ ...genuine, token: forged })
        yield* promise(() => sim.emulator.clearLog())

        const client = yield* startClient(sim, store)
        const view = yield* settled(client)
        assert.strictEqual(view.state, "unactivated")
        assert.isFalse(view.licensed)
        assert.isUndefined(view.license)
        assert.strictEqual(view.clearedBecause?.kind, "TokenRejected")
        assert.strictEqual(view.clearedBecause?.code, "badSignature")
        assert.strictEqual(view.clearedBecause?.operation, "load")
        assert.deepStrictEqual(yield* log(sim.emulator), [])

        const recovered = yield* client.activate(sim.license.key)
        yield* client.flush
        assert.strictEqual(recovered.state, "active")
        assert.isUndefined(recovered.clearedBecause)
        const record = Option.getOrThrow(yield* store.load)
        assert.notStrictEqual(record.token, forged)
      })
  )
})

describe("deactivation", () => {
  it.effect("deactivate posts to …/deactivate (as LexActivator does), frees the seat, clears the store", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 })
      const activated = yield* sim.licensing.activate(sim.license.key)
      yield* promise(() => sim.emulator.clearLog())
      const view = yield* sim.licensing.deactivate
      yield* sim.licensing.flush
      assert.strictEqual(view.state, "unactivated")
      assert.isUndefined(view.license)
      assert.isUndefined(view.clearedBecause)
      assert.isFalse(yield* stored(sim.store))
      assert.deepStrictEqual(
        (yield* log(sim.emulator)).map((e) => [e.method, e.path, e.status]),
        [["POST", `/v3/activations/${activated.license!.activationId}/deactivate`, 204]]
      )
      assert.strictEqual((yield* promise(() => sim.emulator.getLicense(sim.license.id))).activations.length, 0)
      // With nothing left to deactivate, the command says so.
      const again = yield* Effect.flip(sim.licensing.deactivate)
      assert.strictEqual(again.kind, "NotActivated")
    })
  )

  it.effect("past the deactivation limit: LicensingError DEACTIVATION_LIMIT_REACHED and the licence stays active", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600, allowedDeactivations: 0 })
      yield* sim.licensing.activate(sim.license.key)
      const error = yield* Effect.flip(sim.licensing.deactivate)
      yield* sim.licensing.flush
      assert.strictEqual(error._tag, "LicensingError")
      assert.strictEqual(error.operation, "deactivate")
      assert.strictEqual(error.code, "DEACTIVATION_LIMIT_REACHED")
      assert.deepStrictEqual(error.status, { name: "LA_E_DEACTIVATION_LIMIT", code: 60 })
      assert.strictEqual(error.state, "active")
      const view = yield* sim.licensing.current
      assert.strictEqual(view.state, "active")
      assert.isTrue(view.licensed)
      assert.isTrue(yield* stored(sim.store))
      assert.strictEqual((yield* promise(() => sim.emulator.getLicense(sim.license.id))).activations.length, 1)
    })
  )
})

/** Lets the event loop turn until `condition` holds (stream deliveries are asynchronous), at most 200 turns. */
const untilTrue = (condition: () => boolean) =>
  Effect.gen(function* () {
    for (let turn = 0; turn < 200 && !condition(); turn++) {
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    }
    assert.isTrue(condition(), "the condition did not come true")
  })
