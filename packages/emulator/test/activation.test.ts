import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { ErrorStatus, type Emulator, startEmulator } from "../src/index.ts"
import {
  activate,
  activateTrial,
  activationBody,
  call,
  deactivate,
  deactivationBody,
  fingerprintOf,
  sync,
  trialBody,
  verifyActivation
} from "./CryptlexCalls.ts"

/** A licence meter attribute without its id (a fresh GUID), after checking it has one. */
const withoutId = <M extends { readonly id?: string | undefined }>(meter: M): Omit<M, "id"> => {
  const { id, ...rest } = meter
  if (typeof id !== "string" || id === "") throw new Error(`expected the meter attribute to carry an id, got ${id}`)
  return rest
}

const T0 = Date.parse("2030-01-01T00:00:00Z")
let emulator: Emulator
let productId: string
let publicKeyPem: string
let otherProductId: string

beforeAll(async () => {
  emulator = await startEmulator({ manualClock: { startAt: T0 } })
  ;[{ productId, publicKeyPem }, { productId: otherProductId }] = await Promise.all([
    emulator.createProduct({ name: "Editor", metadata: [{ key: "edition", value: "pro" }] }),
    emulator.createProduct({ name: "Other" })
  ])
})
afterAll(() => emulator?.close())

const seconds = (ms: number) => Math.floor(ms / 1000)

/** Asserts a Cryptlex error answer: the code, and the status the emulator's one table gives it. */
const assertRefused = (answer: { status: number; body: any }, code: keyof typeof ErrorStatus) => {
  assert.strictEqual(answer.body?.code, code, JSON.stringify(answer.body))
  assert.strictEqual(answer.status, ErrorStatus[code])
  assert.isString(answer.body.message)
  assert.isAbove(answer.body.message.length, 0)
}

describe("POST /v3/activations", () => {
  it("activates and answers 201 with an RS256 token that verifies with the product's PEM and decodes", async () => {
    const { key, id } = await emulator.createLicense({
      productId,
      metadata: [{ key: "seats", value: "1" }],
      user: { name: "Ada", email: "ada@example.com", company: "Analytical" }
    })
    const now = await emulator.clock.now()
    const answer = await activate(
      emulator.url,
      activationBody(key, productId, { metadata: [{ key: "host", value: "ci" }], osVersion: "6.1" })
    )
    assert.strictEqual(answer.status, 201)
    const claims = await verifyActivation(answer.body.activationToken, publicKeyPem)
    assert.strictEqual(claims.key, key)
    assert.strictEqual(claims.productId, productId)
    assert.strictEqual(claims.licenseId, id)
    assert.strictEqual(claims.fingerprint, fingerprintOf("machine-a"))
    assert.strictEqual(claims.licenseType, "node-locked")
    assert.strictEqual(claims.issuedAt, seconds(now))
    assert.strictEqual(claims.expiresAt, 0)
    assert.strictEqual(claims.serverSyncInterval, 3600)
    assert.strictEqual(claims.serverSyncGraceExpiresAt, seconds(now) + 2_592_000)
    assert.strictEqual(claims.allowedClockOffset, 3600)
    assert.strictEqual(claims.leaseExpiresAt, 0)
    assert.strictEqual(claims.leaseDuration, 0)
    assert.strictEqual(claims.suspended, false)
    assert.strictEqual(claims.userName, "Ada")
    assert.strictEqual(claims.userEmail, "ada@example.com")
    assert.strictEqual(claims.userCompany, "Analytical")
    assert.deepStrictEqual(claims.productMetadata, [{ key: "edition", value: "pro" }])
    assert.deepStrictEqual(claims.licenseMetadata, [{ key: "seats", value: "1" }])
    assert.deepStrictEqual(claims.activationMetadata, [{ key: "host", value: "ci" }])
    const license = await emulator.getLicense(id)
    assert.strictEqual(license.activations.length, 1)
    assert.strictEqual(license.activations[0]!.id, claims.activationId)
    assert.strictEqual(license.activations[0]!.osVersion, "6.1")
  })

  it("reuses the activation and its seat when the same machine activates again", async () => {
    const { key, id } = await emulator.createLicense({ productId, allowedActivations: 1 })
    const first = await activate(emulator.url, activationBody(key, productId))
    const again = await activate(emulator.url, activationBody(key, productId, { hostname: "renamed" }))
    assert.strictEqual(again.status, 201)
    const [a, b] = await Promise.all([
      verifyActivation(first.body.activationToken, publicKeyPem),
      verifyActivation(again.body.activationToken, publicKeyPem)
    ])
    assert.strictEqual(b.activationId, a.activationId)
    const license = await emulator.getLicense(id)
    assert.strictEqual(license.totalActivations, 1)
    assert.strictEqual(license.activations[0]!.hostname, "renamed")
  })

  it("refuses another machine with ACTIVATION_LIMIT_REACHED once every seat is taken", async () => {
    const { key } = await emulator.createLicense({ productId, allowedActivations: 2 })
    assert.strictEqual((await activate(emulator.url, activationBody(key, productId))).status, 201)
    const second = activationBody(key, productId, { fingerprint: fingerprintOf("machine-b") })
    assert.strictEqual((await activate(emulator.url, second)).status, 201)
    // Under 400, where LexActivator 3.34 reads the limit codes (reference-client.md row 20).
    const third = await activate(emulator.url, activationBody(key, productId, { fingerprint: fingerprintOf("c") }))
    assertRefused(third, "ACTIVATION_LIMIT_REACHED")
    assert.strictEqual(third.status, 400)
  })

  it("treats allowedActivations 0 as unlimited", async () => {
    const { key } = await emulator.createLicense({ productId, allowedActivations: 0 })
    for (const machine of ["m1", "m2", "m3"]) {
      const answer = await activate(
        emulator.url,
        activationBody(key, productId, { fingerprint: fingerprintOf(machine) })
      )
      assert.strictEqual(answer.status, 201)
    }
  })

  it("refuses an unknown key with INVALID_LICENSE_KEY", async () => {
    const answer = await activate(emulator.url, activationBody("AAAAAA-BBBBBB-CCCCCC-DDDDDD-EEEEEE-FFFFFF", productId))
    assertRefused(answer, "INVALID_LICENSE_KEY")
  })

  it("refuses an unknown product, and a key of another product, with INVALID_PRODUCT_ID", async () => {
    const { key } = await emulator.createLicense({ productId })
    assertRefused(
      await activate(emulator.url, activationBody(key, "00000000-0000-0000-0000-000000000000")),
      "INVALID_PRODUCT_ID"
    )
    assertRefused(await activate(emulator.url, activationBody(key, otherProductId)), "INVALID_PRODUCT_ID")
  })

  it("refuses a revoked licence with REVOKED_LICENSE", async () => {
    const { key } = await emulator.createLicense({ productId, revoked: true })
    assertRefused(await activate(emulator.url, activationBody(key, productId)), "REVOKED_LICENSE")
  })

  it("refuses a VM unless the licence allows it", async () => {
    const { key, id } = await emulator.createLicense({ productId, allowVmActivation: false })
    const inVm = activationBody(key, productId, { vmName: "KVM" })
    assertRefused(await activate(emulator.url, inVm), "VM_ACTIVATION_NOT_ALLOWED")
    assert.strictEqual((await activate(emulator.url, activationBody(key, productId))).status, 201)
    await emulator.updateLicense(id, { allowVmActivation: true })
    assert.strictEqual((await activate(emulator.url, inVm)).status, 201)
  })

  it("refuses a container unless the licence allows it", async () => {
    const { key, id } = await emulator.createLicense({ productId, allowContainerActivation: false })
    const inContainer = activationBody(key, productId, { container: true })
    assertRefused(await activate(emulator.url, inContainer), "CONTAINER_ACTIVATION_NOT_ALLOWED")
    await emulator.updateLicense(id, { allowContainerActivation: true })
    assert.strictEqual((await activate(emulator.url, inContainer)).status, 201)
  })

  it("refuses an on-premise-floating licence with INVALID_LICENSE_TYPE", async () => {
    const { key } = await emulator.createLicense({ productId, type: "on-premise-floating" })
    assertRefused(await activate(emulator.url, activationBody(key, productId)), "INVALID_LICENSE_TYPE")
  })

  it("activates a suspended licence and says so in the token", async () => {
    const { key } = await emulator.createLicense({ productId, suspended: true })
    const answer = await activate(emulator.url, activationBody(key, productId))
    assert.strictEqual(answer.status, 201)
    assert.isTrue((await verifyActivation(answer.body.activationToken, publicKeyPem)).suspended)
  })

  it("activates an expired licence and carries its expiry in eat", async () => {
    const now = await emulator.clock.now()
    const expiresAt = new Date(now - 86_400_000).toISOString()
    const { key } = await emulator.createLicense({ productId, expiresAt })
    const answer = await activate(emulator.url, activationBody(key, productId))
    assert.strictEqual(answer.status, 201)
    const claims = await verifyActivation(answer.body.activationToken, publicKeyPem)
    assert.strictEqual(claims.expiresAt, seconds(Date.parse(expiresAt)))
    assert.isBelow(claims.expiresAt, claims.issuedAt)
  })

  it("sends ssgpeat 0 (unlimited) when the grace period is not positive or sync is off", async () => {
    for (const policy of [{ serverSyncGracePeriod: -1 }, { serverSyncGracePeriod: 0 }, { serverSyncInterval: 0 }]) {
      const { key } = await emulator.createLicense({ productId, ...policy })
      const answer = await activate(emulator.url, activationBody(key, productId))
      const claims = await verifyActivation(answer.body.activationToken, publicKeyPem)
      assert.strictEqual(claims.serverSyncGraceExpiresAt, 0, JSON.stringify(policy))
    }
  })
})

describe("hosted-floating leases", () => {
  it("leases for the licence's duration, or the client's when the licence allows it", async () => {
    const fixed = await emulator.createLicense({ productId, type: "hosted-floating", leaseDuration: 900 })
    const now = await emulator.clock.now()
    const answer = await activate(emulator.url, activationBody(fixed.key, productId, { leaseDuration: 60 }))
    const claims = await verifyActivation(answer.body.activationToken, publicKeyPem)
    assert.strictEqual(claims.licenseType, "hosted-floating")
    assert.strictEqual(claims.leaseDuration, 900)
    assert.strictEqual(claims.leaseExpiresAt, seconds(now) + 900)

    const flexible = await emulator.createLicense({
      productId,
      type: "hosted-floating",
      leaseDuration: 900,
      allowClientLeaseDuration: true
    })
    const mine = await activate(emulator.url, activationBody(flexible.key, productId, { leaseDuration: 60 }))
    const own = await verifyActivation(mine.body.activationToken, publicKeyPem)
    assert.strictEqual(own.leaseDuration, 60)
    assert.strictEqual(own.leaseExpiresAt, own.issuedAt + 60)
  })

  it("renews the lease on sync, and frees the seat of a lapsed lease (whose sync then gets 404)", async () => {
    const { key, id } = await emulator.createLicense({
      productId,
      type: "hosted-floating",
      leaseDuration: 600,
      allowedActivations: 1
    })
    const first = await activate(emulator.url, activationBody(key, productId))
    const a = await verifyActivation(first.body.activationToken, publicKeyPem)
    await emulator.clock.advance(300)
    const renewed = await sync(emulator.url, a.activationId, activationBody(key, productId))
    assert.strictEqual(renewed.status, 200)
    const r = await verifyActivation(renewed.body.activationToken, publicKeyPem)
    assert.strictEqual(r.leaseExpiresAt, a.leaseExpiresAt + 300)

    const other = activationBody(key, productId, { fingerprint: fingerprintOf("machine-b") })
    assertRefused(await activate(emulator.url, other), "ACTIVATION_LIMIT_REACHED")
    await emulator.clock.advance(601)
    assert.strictEqual((await sync(emulator.url, a.activationId, activationBody(key, productId))).status, 404)
    assert.strictEqual((await activate(emulator.url, other)).status, 201)
    assert.strictEqual((await emulator.getLicense(id)).totalActivations, 1)
  })
})

describe("PATCH /v3/activations/{id}", () => {
  it("syncs: 200 with a fresh iat and ssgpeat, and applies meter increments to the activation and licence", async () => {
    const { key, id } = await emulator.createLicense({
      productId,
      meterAttributes: [
        { name: "exports", allowedUses: 10 },
        { name: "renders", allowedUses: -1 }
      ]
    })
    const first = await activate(
      emulator.url,
      activationBody(key, productId, { meterAttributes: [{ name: "exports", usesIncrement: 2 }] })
    )
    const before = await verifyActivation(first.body.activationToken, publicKeyPem)
    assert.deepStrictEqual(before.activationMeterAttributes, [
      { name: "exports", uses: 2 },
      { name: "renders", uses: 0 }
    ])
    await emulator.clock.advance(3600)
    const answer = await sync(
      emulator.url,
      before.activationId,
      activationBody(key, productId, {
        meterAttributes: [
          { name: "exports", usesIncrement: 3 },
          { name: "renders", usesIncrement: 7 }
        ]
      })
    )
    assert.strictEqual(answer.status, 200)
    const after = await verifyActivation(answer.body.activationToken, publicKeyPem)
    assert.strictEqual(after.activationId, before.activationId)
    assert.strictEqual(after.issuedAt, before.issuedAt + 3600)
    assert.strictEqual(after.serverSyncGraceExpiresAt, before.serverSyncGraceExpiresAt + 3600)
    assert.deepStrictEqual(after.activationMeterAttributes, [
      { name: "exports", uses: 5 },
      { name: "renders", uses: 7 }
    ])
    assert.deepStrictEqual(after.licenseMeterAttributes.map(withoutId), [
      { name: "exports", allowedUses: 10, totalUses: 5, grossUses: 5 },
      { name: "renders", allowedUses: -1, totalUses: 7, grossUses: 7 }
    ])
    // A decrement below zero stops at zero; the gross total never goes down.
    const down = await sync(
      emulator.url,
      before.activationId,
      activationBody(key, productId, { meterAttributes: [{ name: "exports", usesIncrement: -9 }] })
    )
    const lowered = await verifyActivation(down.body.activationToken, publicKeyPem)
    assert.deepStrictEqual(lowered.activationMeterAttributes[0], { name: "exports", uses: 0 })
    assert.deepStrictEqual(withoutId(lowered.licenseMeterAttributes[0]!), {
      name: "exports",
      allowedUses: 10,
      totalUses: 0,
      grossUses: 5
    })
    assert.strictEqual((await emulator.getLicense(id)).meterAttributes[0]!.totalUses, 0)
  })

  it("refuses meter uses over the limit with METER_ATTRIBUTE_USES_LIMIT_REACHED, changing nothing", async () => {
    const { key, id } = await emulator.createLicense({
      productId,
      meterAttributes: [{ name: "exports", allowedUses: 3 }]
    })
    const first = await activate(emulator.url, activationBody(key, productId))
    const claims = await verifyActivation(first.body.activationToken, publicKeyPem)
    const answer = await sync(
      emulator.url,
      claims.activationId,
      activationBody(key, productId, { meterAttributes: [{ name: "exports", usesIncrement: 4 }] })
    )
    assertRefused(answer, "METER_ATTRIBUTE_USES_LIMIT_REACHED")
    assert.strictEqual((await emulator.getLicense(id)).meterAttributes[0]!.totalUses, 0)
  })

  it("refuses an unknown meter attribute with 400 naming the field", async () => {
    const { key } = await emulator.createLicense({ productId })
    const answer = await activate(
      emulator.url,
      activationBody(key, productId, { meterAttributes: [{ name: "nope", usesIncrement: 1 }] })
    )
    assert.strictEqual(answer.status, 400)
    assert.isUndefined(answer.body.code)
    assert.include(answer.body.message, "meterAttributes[0].name")
  })

  it("refuses a fingerprint other than the activation's with INVALID_ACTIVATION_FINGERPRINT", async () => {
    const { key } = await emulator.createLicense({ productId })
    const first = await activate(emulator.url, activationBody(key, productId))
    const { activationId } = await verifyActivation(first.body.activationToken, publicKeyPem)
    const answer = await sync(
      emulator.url,
      activationId,
      activationBody(key, productId, { fingerprint: fingerprintOf("cloned") })
    )
    assertRefused(answer, "INVALID_ACTIVATION_FINGERPRINT")
  })

  it("refuses sync of a licence revoked after activation with REVOKED_LICENSE", async () => {
    const { key, id } = await emulator.createLicense({ productId })
    const first = await activate(emulator.url, activationBody(key, productId))
    const { activationId } = await verifyActivation(first.body.activationToken, publicKeyPem)
    await emulator.updateLicense(id, { revoked: true })
    assertRefused(await sync(emulator.url, activationId, activationBody(key, productId)), "REVOKED_LICENSE")
  })

  it("carries suspension and expiry set after activation into the next token, without an error", async () => {
    const { key, id } = await emulator.createLicense({ productId })
    const first = await activate(emulator.url, activationBody(key, productId))
    const { activationId } = await verifyActivation(first.body.activationToken, publicKeyPem)
    const expiresAt = "2029-06-01T00:00:00.000Z"
    await emulator.updateLicense(id, { suspended: true, expiresAt })
    const answer = await sync(emulator.url, activationId, activationBody(key, productId))
    assert.strictEqual(answer.status, 200)
    const claims = await verifyActivation(answer.body.activationToken, publicKeyPem)
    assert.isTrue(claims.suspended)
    assert.strictEqual(claims.expiresAt, seconds(Date.parse(expiresAt)))
    await emulator.updateLicense(id, { suspended: false, expiresAt: null })
    const back = await verifyActivation(
      (await sync(emulator.url, activationId, activationBody(key, productId))).body.activationToken,
      publicKeyPem
    )
    assert.isFalse(back.suspended)
    assert.strictEqual(back.expiresAt, 0)
  })

  it("answers 404 with a message for an unknown activation, and for one deleted by the admin", async () => {
    const { key } = await emulator.createLicense({ productId })
    const unknown = await sync(emulator.url, "no-such-activation", activationBody(key, productId))
    assert.strictEqual(unknown.status, 404)
    assert.include(unknown.body.message, "no-such-activation")
    const first = await activate(emulator.url, activationBody(key, productId))
    const { activationId } = await verifyActivation(first.body.activationToken, publicKeyPem)
    await emulator.deleteActivation(activationId)
    assert.strictEqual((await sync(emulator.url, activationId, activationBody(key, productId))).status, 404)
  })
})

describe("POST /v3/activations/{id}/deactivate", () => {
  it("deactivates with 204, frees the seat, and a second deactivation or a sync gets 404 ACTIVATION_NOT_FOUND", async () => {
    const { key, id } = await emulator.createLicense({ productId })
    const first = await activate(emulator.url, activationBody(key, productId))
    const { activationId } = await verifyActivation(first.body.activationToken, publicKeyPem)
    const gone = await deactivate(emulator.url, activationId, deactivationBody(productId))
    assert.strictEqual(gone.status, 204)
    assert.isUndefined(gone.body)
    const again = await deactivate(emulator.url, activationId, deactivationBody(productId))
    assert.strictEqual(again.status, 404)
    assert.strictEqual(again.body.code, "ACTIVATION_NOT_FOUND")
    const synced = await sync(emulator.url, activationId, activationBody(key, productId))
    assert.strictEqual(synced.status, 404)
    assert.strictEqual(synced.body.code, "ACTIVATION_NOT_FOUND")
    const license = await emulator.getLicense(id)
    assert.strictEqual(license.totalActivations, 0)
    assert.strictEqual(license.totalDeactivations, 1)
    const other = activationBody(key, productId, { fingerprint: fingerprintOf("machine-b") })
    assert.strictEqual((await activate(emulator.url, other)).status, 201)
  })

  it("refuses deactivations past the limit with DEACTIVATION_LIMIT_REACHED and keeps the activation", async () => {
    const { key, id } = await emulator.createLicense({ productId, allowedDeactivations: 1 })
    const once = await activate(emulator.url, activationBody(key, productId))
    const a = await verifyActivation(once.body.activationToken, publicKeyPem)
    assert.strictEqual((await deactivate(emulator.url, a.activationId, deactivationBody(productId))).status, 204)
    const twice = await activate(emulator.url, activationBody(key, productId))
    const b = await verifyActivation(twice.body.activationToken, publicKeyPem)
    const refused = await deactivate(emulator.url, b.activationId, deactivationBody(productId))
    assertRefused(refused, "DEACTIVATION_LIMIT_REACHED")
    assert.strictEqual(refused.status, 409)
    assert.strictEqual((await emulator.getLicense(id)).totalActivations, 1)
  })

  it("does not count hosted-floating deactivations against the limit", async () => {
    const { key } = await emulator.createLicense({ productId, type: "hosted-floating", allowedDeactivations: 0 })
    const answer = await activate(emulator.url, activationBody(key, productId))
    const { activationId } = await verifyActivation(answer.body.activationToken, publicKeyPem)
    assert.strictEqual((await deactivate(emulator.url, activationId, deactivationBody(productId))).status, 204)
  })

  it("checks the body: another machine's fingerprint, another product, a malformed body are refused and the seat kept", async () => {
    const { key, id } = await emulator.createLicense({ productId })
    const answer = await activate(emulator.url, activationBody(key, productId))
    const { activationId } = await verifyActivation(answer.body.activationToken, publicKeyPem)
    const otherMachine = await deactivate(
      emulator.url,
      activationId,
      deactivationBody(productId, { fingerprint: fingerprintOf("machine-b") })
    )
    assertRefused(otherMachine, "INVALID_ACTIVATION_FINGERPRINT")
    const other = await emulator.createProduct()
    assertRefused(await deactivate(emulator.url, activationId, deactivationBody(other.productId)), "INVALID_PRODUCT_ID")
    const malformed = await deactivate(emulator.url, activationId, { productId })
    assert.strictEqual(malformed.status, 400)
    assert.include(malformed.body.message, "fingerprint")
    assert.strictEqual((await emulator.getLicense(id)).totalActivations, 1)
  })

  it("refuses a wrong accountId with INVALID_ACCOUNT_ID when the product has an account", async () => {
    const product = await emulator.createProduct({ accountId: "acc-1" })
    const { key } = await emulator.createLicense({ productId: product.productId })
    const answer = await activate(emulator.url, activationBody(key, product.productId, { accountId: "acc-1" }))
    assert.strictEqual(answer.status, 201)
    const { activationId } = await verifyActivation(answer.body.activationToken, product.publicKeyPem)
    const wrong = await deactivate(
      emulator.url,
      activationId,
      deactivationBody(product.productId, { accountId: "acc-2" })
    )
    assertRefused(wrong, "INVALID_ACCOUNT_ID")
    const right = await deactivate(
      emulator.url,
      activationId,
      deactivationBody(product.productId, { accountId: "acc-1" })
    )
    assert.strictEqual(right.status, 204)
  })
})

describe("DELETE /v3/activations/{id} (an admin call on Cryptlex)", () => {
  it("answers 401 without a bearer token and keeps the activation; with one it deletes without counting", async () => {
    const { key, id } = await emulator.createLicense({ productId })
    const answer = await activate(emulator.url, activationBody(key, productId))
    const { activationId } = await verifyActivation(answer.body.activationToken, publicKeyPem)
    const anonymous = await call(emulator.url, "DELETE", `/v3/activations/${activationId}`)
    assert.strictEqual(anonymous.status, 401)
    assert.strictEqual((await emulator.getLicense(id)).totalActivations, 1)
    const admin = await call(emulator.url, "DELETE", `/v3/activations/${activationId}`, undefined, {
      authorization: "Bearer admin-token"
    })
    assert.strictEqual(admin.status, 204)
    const license = await emulator.getLicense(id)
    assert.strictEqual(license.totalActivations, 0)
    assert.strictEqual(license.totalDeactivations, 0)
  })
})

describe("the release the client runs (releaseVersion)", () => {
  it("signs the release an activation was created with as crv, and a sync on a newer release keeps it", async () => {
    const { key, id } = await emulator.createLicense({ productId })
    const first = await activate(emulator.url, activationBody(key, productId, { releaseVersion: "1.4.2" }))
    assert.strictEqual(first.status, 201, JSON.stringify(first.body))
    const claims = await verifyActivation(first.body.activationToken, publicKeyPem)
    assert.strictEqual(claims.currentReleaseVersion, "1.4.2")
    const synced = await sync(
      emulator.url,
      claims.activationId,
      activationBody(key, productId, { releaseVersion: "2.0" })
    )
    assert.strictEqual(synced.status, 200, JSON.stringify(synced.body))
    assert.strictEqual(
      (await verifyActivation(synced.body.activationToken, publicKeyPem)).currentReleaseVersion,
      "1.4.2"
    )
    assert.strictEqual((await emulator.getLicense(id)).activations[0]?.releaseVersion, "1.4.2")
  })

  it("signs no crv when the client sends no release version, or an empty one", async () => {
    for (const extra of [{}, { releaseVersion: "" }]) {
      const { key } = await emulator.createLicense({ productId })
      const answer = await activate(emulator.url, activationBody(key, productId, extra))
      assert.strictEqual(answer.status, 201, JSON.stringify(answer.body))
      assert.isUndefined((await verifyActivation(answer.body.activationToken, publicKeyPem)).currentReleaseVersion)
    }
  })

  it("refuses a release version not in the x.x to x.x.x.x form with INVALID_RELEASE_VERSION_FORMAT", async () => {
    const { key, id } = await emulator.createLicense({ productId })
    for (const releaseVersion of ["1", "v1.2", "1.2.3.4.5", "1.2-beta", "1..2"]) {
      assertRefused(
        await activate(emulator.url, activationBody(key, productId, { releaseVersion })),
        "INVALID_RELEASE_VERSION_FORMAT"
      )
    }
    assert.strictEqual((await emulator.getLicense(id)).totalActivations, 0)
    const ok = await activate(emulator.url, activationBody(key, productId, { releaseVersion: "1.2.3.4" }))
    const claims = await verifyActivation(ok.body.activationToken, publicKeyPem)
    assertRefused(
      await sync(emulator.url, claims.activationId, activationBody(key, productId, { releaseVersion: "2" })),
      "INVALID_RELEASE_VERSION_FORMAT"
    )
    const trialProduct = await emulator.createProduct({ allowTrial: true })
    assertRefused(
      await activateTrial(emulator.url, trialBody(trialProduct.productId, { releaseVersion: "x" })),
      "INVALID_RELEASE_VERSION_FORMAT"
    )
  })

  it("refuses a release above the licence's marv with RELEASE_VERSION_NOT_ALLOWED, on activation and on sync", async () => {
    const { key, id } = await emulator.createLicense({ productId, maxAllowedReleaseVersion: "2.1" })
    assertRefused(
      await activate(emulator.url, activationBody(key, productId, { releaseVersion: "2.1.1" })),
      "RELEASE_VERSION_NOT_ALLOWED"
    )
    assert.strictEqual((await emulator.getLicense(id)).totalActivations, 0)
    // The same version, or the same with trailing zeros, is allowed; so is an older one.
    const answer = await activate(emulator.url, activationBody(key, productId, { releaseVersion: "2.1.0" }))
    assert.strictEqual(answer.status, 201, JSON.stringify(answer.body))
    const claims = await verifyActivation(answer.body.activationToken, publicKeyPem)
    assertRefused(
      await sync(emulator.url, claims.activationId, activationBody(key, productId, { releaseVersion: "3.0" })),
      "RELEASE_VERSION_NOT_ALLOWED"
    )
    const older = await sync(
      emulator.url,
      claims.activationId,
      activationBody(key, productId, { releaseVersion: "1.9" })
    )
    assert.strictEqual(older.status, 200, JSON.stringify(older.body))
  })
})

describe("the error table", () => {
  it("answers DEACTIVATION_LIMIT_REACHED with 409, ACTIVATION_NOT_FOUND with 404 and every other code with 400", () => {
    // LexActivator 3.34 reads activation and trial codes only under 400, DEACTIVATION_LIMIT_REACHED under 409,
    // and clears on 404 only with ACTIVATION_NOT_FOUND (reference-client.md rows 18 and 20).
    for (const [code, status] of Object.entries(ErrorStatus)) {
      const expected = code === "DEACTIVATION_LIMIT_REACHED" ? 409 : code === "ACTIVATION_NOT_FOUND" ? 404 : 400
      assert.strictEqual(status, expected, code)
    }
  })

  it("serves an unknown /v3/ path with 404 and a message", async () => {
    const answer = await call(emulator.url, "GET", "/v3/licenses")
    assert.strictEqual(answer.status, 404)
    assert.include(answer.body.message, "/v3/licenses")
  })
})
