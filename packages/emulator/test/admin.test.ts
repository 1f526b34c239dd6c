import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Emulator, EmulatorAdminError, startEmulator } from "../src/index.ts"
import { activate, activationBody, call, verifyActivation } from "./CryptlexCalls.ts"

/** A licence meter attribute without its id (a fresh GUID), after checking it has one. */
const withoutId = <M extends { readonly id?: string | undefined }>(meter: M): Omit<M, "id"> => {
  const { id, ...rest } = meter
  if (typeof id !== "string" || id === "") throw new Error(`expected the meter attribute to carry an id, got ${id}`)
  return rest
}

const T0 = Date.parse("2030-06-15T08:00:00Z")
let emulator: Emulator
let productId: string
let publicKeyPem: string

beforeAll(async () => {
  emulator = await startEmulator({ manualClock: { startAt: T0 } })
  ;({ productId, publicKeyPem } = await emulator.createProduct({ id: "11111111-2222-3333-4444-555555555555" }))
})
afterAll(() => emulator?.close())

const refusal = async (work: Promise<unknown>): Promise<EmulatorAdminError> => {
  try {
    await work
  } catch (error) {
    if (error instanceof EmulatorAdminError) return error
    throw error
  }
  throw new Error("expected the admin call to be refused")
}

describe("products", () => {
  it("creates a product with a GUID and an SPKI PEM public key over HTTP", async () => {
    const answer = await call(emulator.url, "POST", "/__admin/products", { name: "Via HTTP" })
    assert.strictEqual(answer.status, 201)
    assert.match(answer.body.productId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    assert.match(answer.body.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/)
    const view = await emulator.getProduct(answer.body.productId)
    assert.strictEqual(view.name, "Via HTTP")
    assert.isTrue(view.allowTrial)
    assert.strictEqual(view.trialLength, 14 * 86_400)
  })

  it("takes a fixed id, and refuses the same id twice with 409", async () => {
    assert.strictEqual(productId, "11111111-2222-3333-4444-555555555555")
    const error = await refusal(emulator.createProduct({ id: productId }))
    assert.strictEqual(error.status, 409)
    assert.include(error.message, productId)
  })

  it("answers 404 for an unknown product", async () => {
    assert.strictEqual((await refusal(emulator.getProduct("nope"))).status, 404)
  })
})

describe("licences", () => {
  it("creates a licence with a key in the default pattern and the documented defaults", async () => {
    const { id, key } = await emulator.createLicense({ productId })
    assert.match(key, /^([A-F0-9]{6}-){5}[A-F0-9]{6}$/)
    const license = await emulator.getLicense(id)
    assert.deepStrictEqual(
      {
        type: license.type,
        expiresAt: license.expiresAt,
        serverSyncInterval: license.serverSyncInterval,
        serverSyncGracePeriod: license.serverSyncGracePeriod,
        allowedActivations: license.allowedActivations,
        allowedDeactivations: license.allowedDeactivations,
        allowVmActivation: license.allowVmActivation,
        allowContainerActivation: license.allowContainerActivation,
        leaseDuration: license.leaseDuration,
        allowClientLeaseDuration: license.allowClientLeaseDuration,
        allowedClockOffset: license.allowedClockOffset,
        suspended: license.suspended,
        revoked: license.revoked,
        createdAt: license.createdAt
      },
      {
        type: "node-locked",
        expiresAt: null,
        serverSyncInterval: 3600,
        serverSyncGracePeriod: 2_592_000,
        allowedActivations: 1,
        allowedDeactivations: -1,
        allowVmActivation: true,
        allowContainerActivation: true,
        leaseDuration: 7200,
        allowClientLeaseDuration: false,
        allowedClockOffset: 3600,
        suspended: false,
        revoked: false,
        createdAt: new Date(T0).toISOString()
      }
    )
    assert.deepStrictEqual(license.activations, [])
  })

  it("takes a fixed key, and refuses a duplicate key with 409", async () => {
    const { key } = await emulator.createLicense({ productId, key: "FIXED-KEY-1" })
    assert.strictEqual(key, "FIXED-KEY-1")
    assert.strictEqual((await refusal(emulator.createLicense({ productId, key: "FIXED-KEY-1" }))).status, 409)
  })

  it("refuses a licence for an unknown product with 400 naming productId", async () => {
    const error = await refusal(emulator.createLicense({ productId: "missing" }))
    assert.strictEqual(error.status, 400)
    assert.include(error.message, "productId")
  })

  it("refuses a mistyped body with 400 naming each field, what was expected and what came", async () => {
    const answer = await call(emulator.url, "POST", "/__admin/licenses", {
      productId,
      allowedActivations: "two",
      user: { email: 5 }
    })
    assert.strictEqual(answer.status, 400)
    assert.include(answer.body.message, 'allowedActivations: Expected number, got the string "two"')
    assert.include(answer.body.message, "user.email: Expected string, got the number 5")
  })

  it("patches suspension, revocation, expiry (ISO, epoch ms, null) and returns the licence", async () => {
    const { id } = await emulator.createLicense({ productId })
    const patched = await emulator.updateLicense(id, { suspended: true, expiresAt: "2031-01-01T00:00:00Z" })
    assert.isTrue(patched.suspended)
    assert.strictEqual(patched.expiresAt, "2031-01-01T00:00:00.000Z")
    const byMs = await emulator.updateLicense(id, { revoked: true, expiresAt: Date.parse("2032-02-02T00:00:00Z") })
    assert.isTrue(byMs.revoked)
    assert.strictEqual(byMs.expiresAt, "2032-02-02T00:00:00.000Z")
    assert.strictEqual((await emulator.updateLicense(id, { expiresAt: null })).expiresAt, null)
  })

  it("refuses an expiry that is not a date with 400, leaving the licence unchanged", async () => {
    const { id } = await emulator.createLicense({ productId, expiresAt: "2031-01-01T00:00:00Z" })
    const error = await refusal(emulator.updateLicense(id, { suspended: true, expiresAt: "next tuesday" }))
    assert.strictEqual(error.status, 400)
    assert.include(error.message, "expiresAt")
    const license = await emulator.getLicense(id)
    assert.isFalse(license.suspended)
    assert.strictEqual(license.expiresAt, "2031-01-01T00:00:00.000Z")
  })

  it("keeps meter totals for the names a patch keeps", async () => {
    const { id, key } = await emulator.createLicense({
      productId,
      meterAttributes: [{ name: "exports", allowedUses: 5 }]
    })
    await activate(
      emulator.url,
      activationBody(key, productId, { meterAttributes: [{ name: "exports", usesIncrement: 2 }] })
    )
    const patched = await emulator.updateLicense(id, {
      meterAttributes: [
        { name: "exports", allowedUses: 50 },
        { name: "pages", allowedUses: -1 }
      ]
    })
    assert.deepStrictEqual(patched.meterAttributes.map(withoutId), [
      { name: "exports", allowedUses: 50, totalUses: 2, grossUses: 2 },
      { name: "pages", allowedUses: -1, totalUses: 0, grossUses: 0 }
    ])
  })

  it("answers 404 for an unknown licence and an unknown activation", async () => {
    assert.strictEqual((await refusal(emulator.getLicense("nope"))).status, 404)
    assert.strictEqual((await refusal(emulator.updateLicense("nope", { suspended: true }))).status, 404)
    assert.strictEqual((await refusal(emulator.deleteActivation("nope"))).status, 404)
  })
})

describe("clock", () => {
  it("reads, advances and sets a manual clock, and tokens follow it", async () => {
    const start = await emulator.clock.now()
    assert.strictEqual((await call(emulator.url, "GET", "/__admin/clock")).body.now, start)
    assert.strictEqual(await emulator.clock.advance(90), start + 90_000)
    const answer = await call(emulator.url, "POST", "/__admin/clock", { now: "2033-01-01T00:00:00Z" })
    assert.strictEqual(answer.status, 200)
    assert.strictEqual(answer.body.now, Date.parse("2033-01-01T00:00:00Z"))
    assert.strictEqual(await emulator.clock.set(Date.parse("2034-01-01T00:00:00Z")), Date.parse("2034-01-01T00:00:00Z"))
    const { key } = await emulator.createLicense({ productId, allowedActivations: 0 })
    const token = await activate(emulator.url, activationBody(key, productId))
    const claims = await verifyActivation(token.body.activationToken, publicKeyPem)
    assert.strictEqual(claims.issuedAt, Date.parse("2034-01-01T00:00:00Z") / 1000)
    // Time may also go backwards, as a user's clock does.
    assert.strictEqual(await emulator.clock.advance(-3600), Date.parse("2033-12-31T23:00:00Z"))
  })

  it("refuses a clock change that is not exactly one of advanceSeconds or now", async () => {
    for (const body of [{}, { advanceSeconds: 1, now: 5 }, { advanceSeconds: "soon" }, { now: "not a date" }]) {
      const answer = await call(emulator.url, "POST", "/__admin/clock", body)
      assert.strictEqual(answer.status, 400, JSON.stringify(body))
    }
  })

  it("refuses to move a clock that is not manual with 409, and serves the injected now", async () => {
    let now = Date.parse("2040-01-01T00:00:00Z")
    const injected = await startEmulator({ now: () => now })
    try {
      assert.strictEqual(await injected.clock.now(), now)
      now += 5000
      assert.strictEqual(await injected.clock.now(), now)
      const error = await refusal(injected.clock.advance(10))
      assert.strictEqual(error.status, 409)
      assert.strictEqual((await call(injected.url, "POST", "/__admin/clock", { now: 0 })).status, 409)
    } finally {
      await injected.close()
    }
  })

  it("rejects invalid options before starting", async () => {
    const attempts = [
      { keyBits: 1024 },
      { port: -1 },
      { now: () => 0, manualClock: { startAt: 0 } },
      { manualClock: { startAt: Number.NaN } }
    ]
    for (const options of attempts) {
      try {
        await startEmulator(options)
        assert.fail(`expected ${JSON.stringify(options)} to be refused`)
      } catch (error) {
        assert.instanceOf(error, TypeError)
      }
    }
  })
})

describe("log", () => {
  it("lists /v3/ requests with their clock time and status, never admin calls, and clears", async () => {
    await emulator.clearLog()
    const at = await emulator.clock.now()
    await call(emulator.url, "POST", "/v3/activations", { key: "x" })
    await call(emulator.url, "PATCH", "/v3/activations/gone", { key: "x" })
    await emulator.getProduct(productId)
    assert.deepStrictEqual(await emulator.log(), [
      { at, method: "POST", path: "/v3/activations", status: 400 },
      { at, method: "PATCH", path: "/v3/activations/gone", status: 400 }
    ])
    assert.strictEqual((await call(emulator.url, "DELETE", "/__admin/log")).status, 204)
    assert.deepStrictEqual(await emulator.log(), [])
  })
})
