import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Emulator, ErrorStatus, startEmulator } from "../src/index.ts"
import { activateTrial, call, fingerprintOf, syncTrial, trialBody, verifyTrial } from "./CryptlexCalls.ts"

const T0 = Date.parse("2031-03-01T12:00:00Z")
const DAY = 86_400
let emulator: Emulator
let productId: string
let publicKeyPem: string
let noTrialProductId: string

beforeAll(async () => {
  emulator = await startEmulator({ manualClock: { startAt: T0 } })
  ;[{ productId, publicKeyPem }, { productId: noTrialProductId }] = await Promise.all([
    emulator.createProduct({
      trialLength: 7 * DAY,
      allowedTrialActivations: 20,
      trialServerSyncInterval: 600,
      trialServerSyncGracePeriod: DAY,
      trialAllowedClockOffset: 3600,
      metadata: [{ key: "tier", value: "trial" }]
    }),
    emulator.createProduct({ allowTrial: false })
  ])
})
afterAll(() => emulator?.close())

const refusedWith = (answer: { status: number; body: any }, code: keyof typeof ErrorStatus) => {
  assert.strictEqual(answer.body?.code, code, JSON.stringify(answer.body))
  assert.strictEqual(answer.status, ErrorStatus[code])
}

describe("POST /v3/trial-activations", () => {
  it("starts a trial: 201 with a token that verifies and carries eat = start + trialLength", async () => {
    const now = await emulator.clock.now()
    const answer = await activateTrial(
      emulator.url,
      trialBody(productId, { fingerprint: fingerprintOf("t1"), metadata: [{ key: "source", value: "site" }] })
    )
    assert.strictEqual(answer.status, 201)
    const claims = await verifyTrial(answer.body.trialActivationToken, publicKeyPem)
    const iat = Math.floor(now / 1000)
    assert.strictEqual(claims.productId, productId)
    assert.strictEqual(claims.fingerprint, fingerprintOf("t1"))
    assert.strictEqual(claims.issuedAt, iat)
    assert.strictEqual(claims.expiresAt, iat + 7 * DAY)
    assert.strictEqual(claims.serverSyncInterval, 600)
    assert.strictEqual(claims.serverSyncGraceExpiresAt, iat + DAY)
    assert.strictEqual(claims.allowedClockOffset, 3600)
    assert.deepStrictEqual(claims.productMetadata, [{ key: "tier", value: "trial" }])
    assert.deepStrictEqual(claims.trialMetadata, [{ key: "source", value: "site" }])
  })

  it("signs LexActivator 3.34's trial claim set by default: no tid, tmd, ssi, ssgpeat or aco", async () => {
    const plain = await emulator.createProduct()
    const answer = await activateTrial(emulator.url, trialBody(plain.productId, { fingerprint: fingerprintOf("t0") }))
    assert.strictEqual(answer.status, 201)
    const [, payload] = String(answer.body.trialActivationToken).split(".")
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString("utf8"))
    assert.sameMembers(Object.keys(claims), [
      "aid",
      "os",
      "fp",
      "fms",
      "pid",
      "uh",
      "ul",
      "eat",
      "iat",
      "orv",
      "pmd",
      "amd"
    ])
    const decoded = await verifyTrial(answer.body.trialActivationToken, plain.publicKeyPem)
    assert.strictEqual(decoded.serverSyncInterval, 0)
    assert.strictEqual(decoded.allowedClockOffset, 0)
  })

  it("gives the same machine its same trial back (same tid, same eat) however late it asks", async () => {
    const body = trialBody(productId, { fingerprint: fingerprintOf("t2") })
    const first = await verifyTrial((await activateTrial(emulator.url, body)).body.trialActivationToken, publicKeyPem)
    await emulator.clock.advance(30 * DAY)
    const again = await activateTrial(emulator.url, body)
    assert.strictEqual(again.status, 201)
    const second = await verifyTrial(again.body.trialActivationToken, publicKeyPem)
    assert.strictEqual(second.trialActivationId, first.trialActivationId)
    assert.strictEqual(second.expiresAt, first.expiresAt)
    assert.strictEqual(second.issuedAt, first.issuedAt + 30 * DAY)
    assert.isBelow(second.expiresAt, second.issuedAt)
  })

  it("refuses a product without trials with TRIAL_NOT_ALLOWED", async () => {
    refusedWith(await activateTrial(emulator.url, trialBody(noTrialProductId)), "TRIAL_NOT_ALLOWED")
  })

  it("refuses an unknown product with INVALID_PRODUCT_ID", async () => {
    refusedWith(await activateTrial(emulator.url, trialBody("not-a-product")), "INVALID_PRODUCT_ID")
  })

  it("refuses new machines past the trial limit with 400 TRIAL_ACTIVATION_LIMIT_REACHED (where LexActivator reads it)", async () => {
    const product = await emulator.createProduct({ allowedTrialActivations: 1 })
    const first = trialBody(product.productId, { fingerprint: fingerprintOf("x1") })
    assert.strictEqual((await activateTrial(emulator.url, first)).status, 201)
    const second = await activateTrial(emulator.url, trialBody(product.productId, { fingerprint: fingerprintOf("x2") }))
    refusedWith(second, "TRIAL_ACTIVATION_LIMIT_REACHED")
    assert.strictEqual(second.status, 400)
    // The machine that already has the trial still gets it back.
    assert.strictEqual((await activateTrial(emulator.url, first)).status, 201)
  })
})

describe("PATCH /v3/trial-activations/{id}", () => {
  it("syncs with 200, a fresh iat, and an expiry the admin moved", async () => {
    const body = trialBody(productId, { fingerprint: fingerprintOf("t3") })
    const start = await verifyTrial((await activateTrial(emulator.url, body)).body.trialActivationToken, publicKeyPem)
    await emulator.clock.advance(DAY)
    const synced = await syncTrial(emulator.url, start.trialActivationId, body)
    assert.strictEqual(synced.status, 200)
    const claims = await verifyTrial(synced.body.trialActivationToken, publicKeyPem)
    assert.strictEqual(claims.issuedAt, start.issuedAt + DAY)
    assert.strictEqual(claims.expiresAt, start.expiresAt)

    const extended = new Date((start.expiresAt + 14 * DAY) * 1000).toISOString()
    const view = await emulator.updateTrialActivation(start.trialActivationId, { expiresAt: extended })
    assert.strictEqual(view.expiresAt, extended)
    const after = await syncTrial(emulator.url, start.trialActivationId, body)
    const later = await verifyTrial(after.body.trialActivationToken, publicKeyPem)
    assert.strictEqual(later.expiresAt, start.expiresAt + 14 * DAY)
  })

  it("refuses another machine's fingerprint with INVALID_ACTIVATION_FINGERPRINT", async () => {
    const body = trialBody(productId, { fingerprint: fingerprintOf("t4") })
    const start = await verifyTrial((await activateTrial(emulator.url, body)).body.trialActivationToken, publicKeyPem)
    const answer = await syncTrial(emulator.url, start.trialActivationId, { ...body, fingerprint: fingerprintOf("t5") })
    refusedWith(answer, "INVALID_ACTIVATION_FINGERPRINT")
  })

  it("refuses a product other than the trial's with INVALID_PRODUCT_ID", async () => {
    const body = trialBody(productId, { fingerprint: fingerprintOf("t6") })
    const start = await verifyTrial((await activateTrial(emulator.url, body)).body.trialActivationToken, publicKeyPem)
    const answer = await syncTrial(emulator.url, start.trialActivationId, { ...body, productId: noTrialProductId })
    refusedWith(answer, "INVALID_PRODUCT_ID")
  })

  it("answers 404 for an unknown trial, and for one the admin deleted", async () => {
    const body = trialBody(productId, { fingerprint: fingerprintOf("t7") })
    const unknown = await syncTrial(emulator.url, "no-such-trial", body)
    assert.strictEqual(unknown.status, 404)
    assert.include(unknown.body.message, "no-such-trial")
    const start = await verifyTrial((await activateTrial(emulator.url, body)).body.trialActivationToken, publicKeyPem)
    await emulator.deleteTrialActivation(start.trialActivationId)
    assert.strictEqual((await syncTrial(emulator.url, start.trialActivationId, body)).status, 404)
    const view = await emulator.getProduct(productId)
    assert.isFalse(view.trialActivations.some((trial) => trial.id === start.trialActivationId))
  })

  it("answers 405 with Allow for a DELETE on a trial", async () => {
    const answer = await call(emulator.url, "DELETE", "/v3/trial-activations/some-id")
    assert.strictEqual(answer.status, 405)
    assert.strictEqual(answer.headers.get("allow"), "PATCH")
  })
})
