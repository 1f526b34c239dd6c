/**
 * Wire conformance, written from `../shared/protocol/reference-client.md` (the lists in ./reference.ts): the
 * Node client (`createNodeLicensing`, real fingerprint on a fake root, real encrypted file store, real HTTP)
 * talks through a recording proxy to a server, and every exchange is checked against what LexActivator sends and
 * what Cryptlex answers: method, path, headers and body keys of each request; status and shape of each answer;
 * and the client's reaction (state, LexActivator status, what stays stored).
 *
 * The same suite runs twice: against a reference-shaped `node:http` server of the test's own (which sends the
 * quirky shapes the reference tolerates), and against the emulator, which must pass it from the server side.
 * A last block checks reactions only the reference-shaped server can provoke.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { createNodeLicensing } from "@licensure/node-runtime/NodeLicensing"
import { ActivationMeters, ActivationToken, Releases, UserLogin } from "@licensure/core"
import { Effect } from "effect"
import { FetchHttpClient } from "effect/http"
import { decodeJwt } from "jose"
import { type Exchange, type Recorder, startRecorder } from "./recorder.ts"
import {
  ActivationBodyKeys,
  ActivationBodyRequired,
  AnswerStatus,
  Calls,
  DeactivationBodyKeys,
  FeatureEntitlementsQuery,
  FeatureTokenClaimKeys,
  LexStatusFor,
  MeterAnswerKeys,
  MeterBodyKeys,
  MoreCalls,
  OrganizationAddressKeys,
  ReleaseStatusFor,
  TrialBodyKeys,
  TrialBodyRequired,
  TrialTokenClaimKeys,
  UserLicensesQuery
} from "./reference.ts"
import { type ReferenceServer, startReferenceServer } from "./reference-server.ts"

/** What the suite needs from a server: a product with an account, licences, and forgetting an activation. */
interface Backend {
  readonly url: string
  readonly productId: string
  readonly accountId: string
  readonly publicKeyPem: string
  readonly licence: (options?: { allowedActivations?: number; allowedDeactivations?: number }) => Promise<string>
  readonly forget: (activationId: string) => Promise<void>
  readonly close: () => Promise<void>
}

const referenceBackend = async (): Promise<Backend & { server: ReferenceServer }> => {
  const server = await startReferenceServer()
  return {
    server,
    url: server.url,
    productId: server.productId,
    accountId: server.accountId,
    publicKeyPem: server.publicKeyPem,
    licence: async (options) => server.licence(options),
    forget: async (id) => server.forget(id),
    close: server.close
  }
}

const emulatorBackend = async (): Promise<Backend> => {
  const emulator: Emulator = await startEmulator()
  const accountId = "acc-emulated"
  const { productId, publicKeyPem } = await emulator.createProduct({ accountId })
  return {
    url: emulator.url,
    productId,
    accountId,
    publicKeyPem,
    licence: async (options = {}) =>
      (
        await emulator.createLicense({
          productId,
          allowedActivations: options.allowedActivations ?? 1,
          allowedDeactivations: options.allowedDeactivations ?? 10
        })
      ).key,
    forget: (id) => emulator.deleteActivation(id),
    close: () => emulator.close()
  }
}

const made: Array<string> = []
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}
const fakeRoot = (machineId: string) => {
  const root = tempDir("licensure-wire-root-")
  mkdirSync(join(root, "etc"))
  writeFileSync(join(root, "etc", "machine-id"), `${machineId}\n`)
  return root
}
const machines = { a: "0c8f0e2a9b7d41c3a5e6f7081928374a", b: "1e1d2c3b4a5f46e7b8c9d0e1f2a3b4c5" } as const

const clients: Array<{ close: () => Promise<void> }> = []
const client = (backend: Backend, recorder: Recorder, options: { machine?: string; accountId?: string } = {}) => {
  const licensing = createNodeLicensing({
    productId: backend.productId,
    publicKeyPem: backend.publicKeyPem,
    accountId: options.accountId ?? backend.accountId,
    appVersion: "2.4.1",
    host: recorder.url,
    directory: tempDir("licensure-wire-store-"),
    fingerprint: {
      root: fakeRoot(options.machine ?? machines.a),
      platform: "linux",
      env: {},
      hostname: "workstation",
      username: "tester"
    },
    http: { proxy: "none" },
    retry: { retries: 0 }
  })
  clients.push(licensing)
  return licensing
}

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close()
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** The feature-entitlements fetch that follows every activation and sync (reference-client.md §3 item 1). */
const isEntitlementsFetch = (exchange: Exchange) =>
  exchange.method === "GET" && /^\/v3\/activations\/[^/]+\/feature-entitlements(\?|$)/.test(exchange.path)

/** The last exchange other than an entitlements fetch: the call a command made. */
const lastCommand = (recorder: Recorder): Exchange | undefined =>
  recorder.exchanges.findLast((exchange) => !isEntitlementsFetch(exchange))

/**
 * The entitlements fetch right after the last activation or sync: `GET /v3/activations/{aid}/feature-entitlements
 * ?accountId={acc}&licenseId={lid}`, in that order, with `X-Account-Id`, answered 200 `{featureEntitlementsToken}`.
 */
const assertEntitlementsFetched = (recorder: Recorder, activationId: string, accountId: string) => {
  const exchange = recorder.exchanges.at(-1)
  assert.isDefined(exchange, "expected a feature-entitlements request, none was sent")
  assert.isTrue(
    isEntitlementsFetch(exchange!),
    `expected the entitlements fetch last, got ${exchange!.method} ${exchange!.path}`
  )
  const url = new URL(exchange!.path, "http://x")
  assert.strictEqual(url.pathname, MoreCalls.featureEntitlements.path(encodeURIComponent(activationId)))
  assert.deepStrictEqual([...url.searchParams.keys()], [...FeatureEntitlementsQuery])
  assert.strictEqual(url.searchParams.get("accountId"), accountId)
  assert.isNotEmpty(url.searchParams.get("licenseId"))
  assert.strictEqual(exchange!.headers["x-account-id"], accountId)
  assert.isUndefined(exchange!.headers.authorization, "no Authorization outside /v3/me")
  assert.strictEqual(exchange!.status, 200)
  assert.deepStrictEqual(Object.keys(exchange!.response), ["featureEntitlementsToken"])
  assert.deepStrictEqual(
    Object.keys(decodeJwt(exchange!.response.featureEntitlementsToken)).sort(),
    [...FeatureTokenClaimKeys].sort()
  )
  // Exactly one fetch per activation or sync.
  const before = recorder.exchanges.at(-2)
  assert.isTrue(before !== undefined && !isEntitlementsFetch(before), "one entitlements fetch, not two")
}

/** The one exchange of the last call to `call`, checked for method and path. */
const lastCall = (recorder: Recorder, call: keyof typeof Calls, id = ""): Exchange => {
  const exchange = lastCommand(recorder)
  assert.isDefined(exchange, `expected a ${call} request, none was sent`)
  assert.strictEqual(exchange!.method, Calls[call].method, `${call}: method`)
  assert.strictEqual(exchange!.path, Calls[call].path(encodeURIComponent(id)), `${call}: path`)
  return exchange!
}

/** Rows 8 and 14: JSON in, and `X-Account-Id` on every call when the account is known. */
const assertHeaders = (exchange: Exchange, accountId: string) => {
  assert.strictEqual(exchange.headers["content-type"], "application/json")
  assert.strictEqual(exchange.headers["x-account-id"], accountId)
  assert.isUndefined(exchange.headers.authorization, "no Authorization outside /v3/me")
}

const assertBodyKeys = (
  body: Record<string, unknown>,
  allowed: ReadonlyArray<string>,
  required: ReadonlyArray<string>,
  what: string
) => {
  const keys = Object.keys(body)
  const foreign = keys.filter((key) => !allowed.includes(key))
  assert.deepStrictEqual(foreign, [], `${what}: keys LexActivator never sends`)
  const missing = required.filter((key) => !keys.includes(key))
  assert.deepStrictEqual(missing, [], `${what}: keys the reference requires`)
  // Field limits of the Web API reference (rows 10, 12).
  const fingerprint = String(body.fingerprint)
  assert.isAtLeast(fingerprint.length, 64)
  assert.isAtMost(fingerprint.length, 1024)
  if ("hostname" in body) assert.isAtLeast(String(body.hostname).length, 1)
}

const rejection = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as { code?: string; status: { name: string; code: number }; state: string; message: string }
  }
  assert.fail("expected the call to be refused")
}

const activationIdOf = (token: string) => String(decodeJwt(token).aid)

for (const [name, start] of [
  ["the reference-shaped server", referenceBackend],
  ["the emulator", emulatorBackend]
] as const) {
  describe(`wire conformance against ${name}`, () => {
    let backend: Backend
    let recorder: Recorder
    beforeAll(async () => {
      backend = await start()
      recorder = await startRecorder(backend.url)
    })
    afterAll(async () => {
      await recorder?.close()
      await backend?.close()
    })

    it("activate, sync and deactivate: LexActivator's method, path, headers and body keys; 201, 200, 204", async () => {
      const key = await backend.licence()
      const licensing = client(backend, recorder)
      const activated = await licensing.activate(key)
      const activation = lastCall(recorder, "activate")
      assertHeaders(activation, backend.accountId)
      assertBodyKeys(activation.body, ActivationBodyKeys, ActivationBodyRequired, "activation body")
      assert.strictEqual(activation.body.accountId, backend.accountId)
      assert.include(AnswerStatus.activated, activation.status)
      assert.strictEqual(activated.state, "active")
      assert.deepStrictEqual(activated.status, LexStatusFor.ok)
      const id = activationIdOf(activation.response.activationToken)
      assertEntitlementsFetched(recorder, id, backend.accountId)

      const synced = await licensing.sync()
      const sync = lastCall(recorder, "sync", id)
      assertEntitlementsFetched(recorder, id, backend.accountId)
      assertHeaders(sync, backend.accountId)
      assertBodyKeys(sync.body, ActivationBodyKeys, ActivationBodyRequired, "sync body")
      assert.include(AnswerStatus.synced, sync.status)
      assert.strictEqual(synced.state, "active")

      const done = await licensing.deactivate()
      const deactivation = lastCall(recorder, "deactivate", id)
      assertHeaders(deactivation, backend.accountId)
      assert.sameMembers(Object.keys(deactivation.body), [...DeactivationBodyKeys])
      assert.strictEqual(deactivation.body.id, id)
      assert.strictEqual(deactivation.body.fingerprint, activation.body.fingerprint)
      assert.strictEqual(deactivation.body.userHash, activation.body.userHash)
      assert.include(AnswerStatus.deactivated, deactivation.status)
      assert.isUndefined(deactivation.response)
      assert.strictEqual(done.state, "unactivated")
      assert.isUndefined(await licensing.license())
    })

    it("a second machine past the limit: 400 ACTIVATION_LIMIT_REACHED → LA_E_ACTIVATION_LIMIT, nothing stored", async () => {
      const key = await backend.licence({ allowedActivations: 1 })
      await client(backend, recorder).activate(key)
      const other = client(backend, recorder, { machine: machines.b })
      const error = await rejection(other.activate(key))
      const refused = lastCall(recorder, "activate")
      assert.strictEqual(refused.status, AnswerStatus.ACTIVATION_LIMIT_REACHED)
      assert.strictEqual(refused.response.code, "ACTIVATION_LIMIT_REACHED")
      assert.strictEqual(error.code, "ACTIVATION_LIMIT_REACHED")
      assert.deepStrictEqual(error.status, LexStatusFor.ACTIVATION_LIMIT_REACHED)
      assert.strictEqual((await other.view()).state, "unactivated")
    })

    it("deactivation past the limit: 409 DEACTIVATION_LIMIT_REACHED → LA_E_DEACTIVATION_LIMIT, still active and stored", async () => {
      const key = await backend.licence({ allowedDeactivations: 0 })
      const licensing = client(backend, recorder)
      await licensing.activate(key)
      const error = await rejection(licensing.deactivate())
      const refused = lastCommand(recorder)!
      assert.strictEqual(refused.method, "POST")
      assert.match(refused.path, /\/deactivate$/)
      assert.strictEqual(refused.status, AnswerStatus.DEACTIVATION_LIMIT_REACHED)
      assert.strictEqual(refused.response.code, "DEACTIVATION_LIMIT_REACHED")
      assert.strictEqual(error.code, "DEACTIVATION_LIMIT_REACHED")
      assert.deepStrictEqual(error.status, LexStatusFor.DEACTIVATION_LIMIT_REACHED)
      const view = await licensing.view()
      assert.strictEqual(view.state, "active")
      assert.isTrue(view.licensed)
      assert.isDefined(await licensing.license())
    })

    it("an activation deleted on the server: 404 ACTIVATION_NOT_FOUND on sync → cleared, LA_E_ACTIVATION_NOT_FOUND", async () => {
      const key = await backend.licence()
      const licensing = client(backend, recorder)
      await licensing.activate(key)
      const id = activationIdOf(lastCommand(recorder)!.response.activationToken)
      await backend.forget(id)
      const after = await licensing.sync().catch(() => licensing.view())
      const gone = lastCall(recorder, "sync", id)
      assert.strictEqual(gone.status, AnswerStatus.ACTIVATION_NOT_FOUND)
      assert.strictEqual(gone.response.code, "ACTIVATION_NOT_FOUND")
      assert.strictEqual(after.state, "unactivated")
      assert.isFalse(after.licensed)
      assert.deepStrictEqual(await licensing.status(), LexStatusFor.ACTIVATION_NOT_FOUND)
      assert.isUndefined(await licensing.license())
    })

    it("a wrong account id: 400 INVALID_ACCOUNT_ID → LA_E_ACCOUNT_ID, nothing stored", async () => {
      const key = await backend.licence()
      const licensing = client(backend, recorder, { accountId: "acc-not-this-one" })
      const error = await rejection(licensing.activate(key))
      const refused = lastCall(recorder, "activate")
      assert.strictEqual(refused.headers["x-account-id"], "acc-not-this-one")
      assert.strictEqual(refused.status, AnswerStatus.INVALID_ACCOUNT_ID)
      assert.strictEqual(refused.response.code, "INVALID_ACCOUNT_ID")
      assert.deepStrictEqual(error.status, LexStatusFor.INVALID_ACCOUNT_ID)
      assert.isUndefined(await licensing.license())
    })

    it("a trial: POST then PATCH /v3/trial-activations, a token with exactly LexActivator's trial claims", async () => {
      const licensing = client(backend, recorder, { machine: machines.b })
      const started = await licensing.activateTrial()
      const trial = lastCall(recorder, "activateTrial")
      assertHeaders(trial, backend.accountId)
      assertBodyKeys(trial.body, TrialBodyKeys, TrialBodyRequired, "trial body")
      assert.include(AnswerStatus.activated, trial.status)
      const claims = decodeJwt(trial.response.trialActivationToken)
      assert.deepStrictEqual(
        Object.keys(claims).filter((k) => !TrialTokenClaimKeys.includes(k)),
        [],
        "trial claims outside LexActivator's set"
      )
      assert.strictEqual(started.state, "trialActive")
      assert.isTrue(started.licensed)

      const synced = await licensing.sync()
      const sync = lastCall(recorder, "syncTrial", String(claims.aid))
      assertBodyKeys(sync.body, TrialBodyKeys, TrialBodyRequired, "trial sync body")
      assert.include(AnswerStatus.synced, sync.status)
      assert.strictEqual(synced.state, "trialActive")
    })

    it("no DELETE /v3/activations from the client, ever (row 4: the reference never calls it)", () => {
      assert.isAbove(recorder.exchanges.length, 10)
      assert.deepStrictEqual(
        recorder.exchanges.filter((e) => e.method === "DELETE").map((e) => e.path),
        []
      )
    })
  })
}

describe("reactions only the reference-shaped server provokes", () => {
  let backend: Backend & { server: ReferenceServer }
  let recorder: Recorder
  beforeAll(async () => {
    backend = await referenceBackend()
    recorder = await startRecorder(backend.url)
  })
  afterAll(async () => {
    await recorder?.close()
    await backend?.close()
  })

  it("accepts oa as an address object, null user fields, JSON-string lists and numeric strings (rows 28–30)", async () => {
    const key = backend.server.licence({ organisation: true })
    const licensing = client(backend, recorder)
    const view = await licensing.activate(key)
    const raw = decodeJwt(lastCommand(recorder)!.response.activationToken)
    assert.isObject(raw.oa)
    assert.sameMembers(Object.keys(raw.oa as object), OrganizationAddressKeys)
    assert.isNull(raw.name)
    assert.isString(raw.pmd)
    assert.strictEqual(raw.ssi, "3600")
    assert.strictEqual(view.state, "active")
    assert.isTrue(view.licensed)
    const details = await licensing.license()
    assert.isDefined(details)
    assert.deepStrictEqual(details!.organization, {
      name: "Acme Research",
      address: {
        addressLine1: "1 Lab Road",
        addressLine2: null,
        city: "Cambridge",
        state: null,
        country: "GB",
        postalCode: "CB1 1AA"
      }
    })
    assert.deepStrictEqual(details!.user, {})
    assert.deepStrictEqual(details!.productMetadata, [{ key: "edition", value: "pro" }])
    assert.strictEqual(details!.serverSyncInterval, 3600)
    // The entitlements token's null display name reads as absent, as LexActivator's reader tolerates it.
    assert.deepStrictEqual(
      view.features.map((f) => [f.name, f.displayName, f.value]),
      [
        ["reports", "Reports", "on"],
        ["seats", undefined, "5"]
      ]
    )
    assert.isUndefined(view.featuresError)
  })

  it("a 404 without a code on sync clears too", async () => {
    const key = backend.server.licence()
    const licensing = client(backend, recorder)
    await licensing.activate(key)
    backend.server.forget(activationIdOf(lastCommand(recorder)!.response.activationToken))
    backend.server.quirks.notFoundWithoutCode = true
    try {
      const after = await licensing.sync().catch(() => licensing.view())
      assert.strictEqual(lastCommand(recorder)!.status, 404)
      assert.isUndefined(lastCommand(recorder)!.response.code)
      assert.strictEqual(after.state, "unactivated")
      assert.deepStrictEqual(await licensing.status(), LexStatusFor.ACTIVATION_NOT_FOUND)
    } finally {
      backend.server.quirks.notFoundWithoutCode = false
    }
  })

  it("release update: the exact query, then /allowed; a reference-shaped release (UpdatedAt, files with checksum) reads", async () => {
    const key = backend.server.licence()
    const releases = (query: Partial<Releases.ReleaseQuery> = {}) =>
      Effect.runPromise(
        Effect.flatMap(Releases.Releases.make({ host: recorder.url }), (api) =>
          api.checkForUpdate({
            productId: backend.productId,
            key,
            accountId: backend.accountId,
            version: "1.4.2",
            platform: "linux",
            channel: "stable",
            ...query
          })
        ).pipe(Effect.provide(FetchHttpClient.layer))
      )
    const query = (version: string, extra = "") =>
      `?accountId=${backend.accountId}&productId=${encodeURIComponent(backend.productId)}&platform=linux&key=${key}` +
      `&version=${version}&channel=stable${extra}`

    let from = recorder.exchanges.length
    const notAllowed = await releases()
    assert.deepStrictEqual(notAllowed.status, ReleaseStatusFor.notAllowed)
    assert.deepStrictEqual(
      recorder.exchanges.slice(from).map((e) => `${e.method} ${e.path} ${e.status}`),
      [
        `GET ${MoreCalls.releaseUpdate.path}${query("1.4.2")} 200`,
        `GET ${MoreCalls.releaseAllowed.path(backend.server.release.id)}?accountId=${backend.accountId}&key=${key} 200`
      ]
    )
    for (const exchange of recorder.exchanges.slice(from)) {
      assert.strictEqual(exchange.headers["x-account-id"], backend.accountId)
      assert.isUndefined(exchange.headers.authorization)
    }

    backend.server.release.allowedKeys.add(key)
    const available = await releases()
    assert.deepStrictEqual(available.status, ReleaseStatusFor.available)
    if (available._tag !== "Available") throw new Error("expected an available release")
    assert.strictEqual(available.release.version, "2.0.0")
    assert.deepStrictEqual(
      available.release.files.map((f) => [f.name, f.size, f.checksum]),
      [["app-2.0.0.tar.gz", 1024, "a".repeat(64)]]
    )

    from = recorder.exchanges.length
    const filtered = await releases({ releases: "allowed" })
    assert.deepStrictEqual(filtered.status, ReleaseStatusFor.available)
    assert.deepStrictEqual(
      recorder.exchanges.slice(from).map((e) => `${e.method} ${e.path} ${e.status}`),
      [`GET ${MoreCalls.releaseUpdate.path}${query("1.4.2", "&allowed=true")} 200`]
    )

    from = recorder.exchanges.length
    const latest = await releases({ version: "2.0" })
    assert.deepStrictEqual(latest.status, ReleaseStatusFor.notAvailable)
    assert.deepStrictEqual(
      recorder.exchanges.slice(from).map((e) => `${e.status} ${e.response === undefined}`),
      ["204 true"]
    )
  })

  it("meter: POST /v3/activations/meter-attributes/{lma id} with exactly {productId, activationId, increment, accountId}; the uses-limit refusal typed", async () => {
    // Allowance 3 with 1 use counted on the licence already: this activation may add 2.
    const key = backend.server.licence({ meterAllowedUses: 3 })
    const licensing = client(backend, recorder)
    await licensing.activate(key)
    const claims = await Effect.runPromise(
      ActivationToken.verify(lastCommand(recorder)!.response.activationToken, backend.publicKeyPem)
    )
    const lma = claims.licenseMeterAttributes.find((m) => m.name === "exports")
    assert.isDefined(lma?.id, "the token's lma names the meter's id")
    const run = <A>(f: (meters: ActivationMeters.ActivationMetersService) => Effect.Effect<A, unknown>) =>
      Effect.runPromise(
        Effect.flatMap(ActivationMeters.ActivationMeters.make({ host: recorder.url }), (meters) =>
          Effect.result(f(meters))
        ).pipe(Effect.provide(FetchHttpClient.layer))
      )
    const target = ActivationMeters.targetOf(claims, { accountId: backend.accountId })

    const from = recorder.exchanges.length
    const up = await run((m) => m.increment(target, "exports", 2))
    const refused = await run((m) => m.increment(target, "exports", 1))
    if (up._tag !== "Success") throw new Error(`expected the increment to pass, got ${String(up.failure)}`)
    const reset = await run((m) => m.reset(ActivationMeters.withUses(target, up.success), "exports"))
    const sent = recorder.exchanges.slice(from)

    const path = MoreCalls.meterAttribute.path(lma!.id!)
    assert.deepStrictEqual(
      sent.map((e) => `${e.method} ${e.path} ${e.status}`),
      [`POST ${path} 200`, `POST ${path} 400`, `POST ${path} 200`]
    )
    for (const exchange of sent) {
      assertHeaders(exchange, backend.accountId)
      assert.deepStrictEqual(Object.keys(exchange.body), MeterBodyKeys, "body keys in LexActivator's order")
    }
    const body = (increment: number) => ({
      productId: backend.productId,
      activationId: claims.activationId,
      increment,
      accountId: backend.accountId
    })
    assert.deepStrictEqual(
      sent.map((e) => e.body),
      [body(2), body(1), body(-2)]
    )

    // The reference's answer, read as it is: the activation's uses and the licence's totals.
    assert.deepStrictEqual(Object.keys(sent[0]!.response), MeterAnswerKeys)
    assert.deepStrictEqual(up.success, {
      name: "exports",
      uses: 2,
      licenseAllowedUses: 3,
      licenseTotalUses: 3,
      licenseGrossUses: 3
    })
    assert.deepStrictEqual(sent[1]!.response.code, "METER_ATTRIBUTE_USES_LIMIT_REACHED")
    if (refused._tag !== "Failure") throw new Error("expected the increment past the allowance to be refused")
    const error = refused.failure as ActivationMeters.ActivationMeterError
    assert.strictEqual(error._tag, "ActivationMeterError")
    assert.strictEqual(error.reason._tag, "MeterUsesLimitReached")
    assert.deepStrictEqual(error.status, { name: "LA_E_METER_ATTRIBUTE_USES_LIMIT_REACHED", code: 73 })
    if (reset._tag !== "Success") throw new Error(`expected the reset to pass, got ${String(reset.failure)}`)
    assert.deepStrictEqual([reset.success.uses, reset.success.licenseTotalUses], [0, 1])
  })

  it("meter for an activation the server no longer has: 400 INVALID_ACTIVATION_ID, typed with LexActivator's status", async () => {
    const key = backend.server.licence()
    const licensing = client(backend, recorder)
    await licensing.activate(key)
    const claims = await Effect.runPromise(
      ActivationToken.verify(lastCommand(recorder)!.response.activationToken, backend.publicKeyPem)
    )
    backend.server.forget(claims.activationId)
    const from = recorder.exchanges.length
    const result = await Effect.runPromise(
      Effect.flatMap(ActivationMeters.ActivationMeters.make({ host: recorder.url }), (meters) =>
        Effect.result(
          meters.increment(ActivationMeters.targetOf(claims, { accountId: backend.accountId }), "exports", 1)
        )
      ).pipe(Effect.provide(FetchHttpClient.layer))
    )
    const [call] = recorder.exchanges.slice(from)
    assert.deepStrictEqual([call?.status, call?.response.code], [400, "INVALID_ACTIVATION_ID"])
    if (result._tag !== "Failure") throw new Error("expected the meter call to be refused")
    assert.strictEqual(result.failure.reason._tag, "ServerRefused")
    assert.deepStrictEqual(result.failure.status, { name: "LA_E_ACTIVATION_NOT_FOUND", code: 59 })
  })

  it("login: POST JSON {accountId, email, password, twoFactorCode}; the typed refusals for a missing or wrong code", async () => {
    const login = (credentials: Omit<UserLogin.LoginCredentials, "accountId">) =>
      Effect.runPromise(
        Effect.flatMap(UserLogin.UserLogin.make({ host: recorder.url }), (api) =>
          Effect.result(api.login({ accountId: backend.accountId, ...credentials }))
        ).pipe(Effect.provide(FetchHttpClient.layer))
      )
    const from = recorder.exchanges.length
    const missing = await login({ email: "ada@example.com", password: "correct horse" })
    const wrong = await login({ email: "ada@example.com", password: "correct horse", twoFactorCode: "000000" })
    const ok = await login({ email: "ada@example.com", password: "correct horse", twoFactorCode: "246810" })
    const sent = recorder.exchanges.slice(from)
    assert.deepStrictEqual(
      sent.map((e) => `${e.method} ${e.path} ${e.status}`),
      [`POST ${MoreCalls.login.path} 400`, `POST ${MoreCalls.login.path} 400`, `POST ${MoreCalls.login.path} 200`]
    )
    assert.deepStrictEqual(sent[0]!.body, {
      accountId: backend.accountId,
      email: "ada@example.com",
      password: "correct horse"
    })
    assert.deepStrictEqual(sent[2]!.body, {
      accountId: backend.accountId,
      email: "ada@example.com",
      password: "correct horse",
      twoFactorCode: "246810"
    })
    for (const exchange of sent) {
      assert.strictEqual(exchange.headers["content-type"], "application/json")
      assert.strictEqual(exchange.headers["x-account-id"], backend.accountId)
      assert.isUndefined(exchange.headers.authorization)
    }
    const codeOf = (r: typeof missing) =>
      r._tag === "Failure" && r.failure.reason._tag === "LoginRefused" ? r.failure.reason.code : r._tag
    assert.strictEqual(codeOf(missing), "MISSING_TWO_FACTOR_CODE")
    assert.strictEqual(codeOf(wrong), "INVALID_TWO_FACTOR_CODE")
    if (ok._tag !== "Success") throw new Error(`expected a session, got ${String(ok.failure)}`)
    assert.strictEqual(ok.success.userId, "user-ada")
  })

  it("user licences: ?productId, then page and limit=100, page after page until a short one", async () => {
    backend.server.userLicences = 205
    const from = recorder.exchanges.length
    const licences = await Effect.runPromise(
      Effect.flatMap(UserLogin.UserLogin.make({ host: recorder.url }), (api) =>
        api.licenses("access-token", backend.productId, { accountId: backend.accountId })
      ).pipe(Effect.provide(FetchHttpClient.layer))
    )
    assert.strictEqual(licences.length, 205)
    assert.strictEqual(new Set(licences.map((l) => l.key)).size, 205)
    const sent = recorder.exchanges.slice(from)
    assert.deepStrictEqual(
      sent.map((e) => `${e.method} ${e.path}`),
      [1, 2, 3].map(
        (page) =>
          `GET ${MoreCalls.userLicenses.path}?productId=${encodeURIComponent(backend.productId)}&page=${page}&limit=100`
      )
    )
    for (const exchange of sent) {
      assert.deepStrictEqual([...new URL(exchange.path, "http://x").searchParams.keys()], [...UserLicensesQuery])
      assert.strictEqual(exchange.headers.authorization, "Bearer access-token")
      assert.strictEqual(exchange.headers["x-account-id"], backend.accountId)
      assert.strictEqual(exchange.status, 200)
    }
    assert.deepStrictEqual(
      sent.map((e) => (e.response as Array<unknown>).length),
      [100, 100, 5]
    )
  })

  it("user licences from a server that ignores page: the repeated page ends the list, nothing is doubled", async () => {
    backend.server.userLicences = 150
    backend.server.quirks.ignoresPage = true
    try {
      const from = recorder.exchanges.length
      const licences = await Effect.runPromise(
        Effect.flatMap(UserLogin.UserLogin.make({ host: recorder.url }), (api) =>
          api.licenses("access-token", backend.productId)
        ).pipe(Effect.provide(FetchHttpClient.layer))
      )
      assert.strictEqual(licences.length, 100)
      assert.strictEqual(new Set(licences.map((l) => l.key)).size, 100)
      assert.strictEqual(recorder.exchanges.length - from, 2)
    } finally {
      backend.server.quirks.ignoresPage = false
    }
  })

  it("a trial token with eat before iat is an expired trial (row 32), not a malformed one", async () => {
    backend.server.quirks.trialExpired = true
    try {
      const licensing = client(backend, recorder, { machine: machines.b })
      const view = await licensing.activateTrial().catch(() => licensing.view())
      assert.strictEqual(view.state, "trialExpired")
      assert.isFalse(view.licensed)
      assert.deepStrictEqual(await licensing.status(), LexStatusFor.trialExpired)
    } finally {
      backend.server.quirks.trialExpired = false
    }
  })
})
