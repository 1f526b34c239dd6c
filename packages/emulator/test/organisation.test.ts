import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as ActivationToken from "@licensure/core/ActivationToken"
import { type Emulator, startEmulator } from "../src/index.ts"
import { activate, activationBody, rawPayload, verifyActivation } from "./CryptlexCalls.ts"

const T0 = Date.parse("2030-01-01T00:00:00Z")
let emulator: Emulator
let productId: string
let publicKeyPem: string

beforeAll(async () => {
  emulator = await startEmulator({ manualClock: { startAt: T0 } })
  ;({ productId, publicKeyPem } = await emulator.createProduct())
})
afterAll(() => emulator?.close())

const address = {
  addressLine1: "12 Engine Street",
  addressLine2: "Floor 3",
  city: "London",
  state: "Greater London",
  country: "GB",
  postalCode: "EC1A 1BB"
}

describe("token shapes (reference-client.md rows 28–29)", () => {
  it("an organisation without a user: `on`, `oa` as an address object, user claims null; core verifies it", async () => {
    const { key, id } = await emulator.createLicense({ productId, organization: { name: "Analytical", address } })
    const answer = await activate(emulator.url, activationBody(key, productId))
    assert.strictEqual(answer.status, 201)
    const token: string = answer.body.activationToken
    const payload = rawPayload(token)
    assert.strictEqual(payload.on, "Analytical")
    assert.deepStrictEqual(payload.oa, address)
    assert.isNull(payload.name)
    assert.isNull(payload.email)
    assert.isNull(payload.company)
    assert.isTrue("name" in payload && "email" in payload && "company" in payload)

    const claims = await Effect.runPromise(ActivationToken.verify(token, publicKeyPem, { key, productId }))
    assert.strictEqual(claims.licenseId, id)
    assert.strictEqual(claims.organizationName, "Analytical")
    assert.deepStrictEqual(claims.organizationAddress, address)
    assert.isUndefined(claims.userName)
    assert.isUndefined(claims.userEmail)

    const view = await emulator.getLicense(id)
    assert.isNull(view.user)
    assert.deepStrictEqual(view.organization, { name: "Analytical", address })
  })

  it("fills a missing address field with null and leaves `on`/`oa` out without an organisation", async () => {
    const { key, id } = await emulator.createLicense({
      productId,
      user: { name: "Ada", email: "ada@example.com" },
      organization: { name: "Partial", address: { city: "Paris" } }
    })
    const payload = rawPayload((await activate(emulator.url, activationBody(key, productId))).body.activationToken)
    assert.deepStrictEqual(payload.oa, {
      addressLine1: null,
      addressLine2: null,
      city: "Paris",
      state: null,
      country: null,
      postalCode: null
    })
    assert.strictEqual(payload.name, "Ada")
    assert.strictEqual(payload.email, "ada@example.com")
    assert.isNull(payload.company)

    await emulator.updateLicense(id, { organization: null, user: null })
    const { key: plainKey } = await emulator.createLicense({ productId })
    const plain = await activate(emulator.url, activationBody(plainKey, productId, { fingerprint: "b".repeat(64) }))
    const plainPayload = rawPayload(plain.body.activationToken)
    assert.isFalse("on" in plainPayload)
    assert.isFalse("oa" in plainPayload)
    assert.isNull(plainPayload.name)
    const claims = await verifyActivation(plain.body.activationToken, publicKeyPem)
    assert.isUndefined(claims.organizationName)
    assert.isUndefined(claims.userName)
    const patched = await emulator.getLicense(id)
    assert.isNull(patched.organization)
    assert.isNull(patched.user)
  })
})
