import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Emulator, startEmulator } from "../src/index.ts"
import { activate, activateTrial, activationBody, trialBody } from "./CryptlexCalls.ts"

/**
 * The Web API reference's field limits (reference-client.md section 2 item 8) are checked before any business
 * rule: with an unknown key and an unknown product, a bad field still gets 400 naming that field.
 */
let emulator: Emulator
let productId: string

beforeAll(async () => {
  emulator = await startEmulator({ manualClock: { startAt: Date.parse("2030-01-01T00:00:00Z") } })
  ;({ productId } = await emulator.createProduct())
})
afterAll(() => emulator?.close())

const unknownKey = "000000-000000-000000-000000-000000-000000"

const assertFieldRefused = (answer: { status: number; body: any }, field: string) => {
  assert.strictEqual(answer.status, 400, JSON.stringify(answer.body))
  assert.isUndefined(answer.body.code, "a malformed body has no Cryptlex code")
  assert.match(answer.body.message, new RegExp(`(^|[ ;:])${field}: `))
}

const cases: ReadonlyArray<readonly [string, Record<string, string>]> = [
  ["fingerprint", { fingerprint: "a".repeat(10) }],
  ["fingerprint", { fingerprint: "a".repeat(1025) }],
  ["hostname", { hostname: "" }],
  ["hostname", { hostname: "h".repeat(1025) }],
  ["key", { key: "" }],
  ["key", { key: "K".repeat(257) }],
  ["productId", { productId: "" }],
  ["productId", { productId: "p".repeat(257) }],
  ["userHash", { userHash: "" }],
  ["userHash", { userHash: "u".repeat(257) }]
]

describe("activation body limits, before the licence lookup", () => {
  for (const [field, bad] of cases) {
    const length = Object.values(bad)[0]!.length
    it(`refuses ${field} of ${length} characters with 400 naming ${field}, not INVALID_LICENSE_KEY`, async () => {
      assertFieldRefused(await activate(emulator.url, activationBody(unknownKey, "no-such-product", bad)), field)
    })
  }

  it("accepts the limits' edges (a 64- and 1024-character fingerprint, 256-character key)", async () => {
    for (const fingerprint of ["f".repeat(64), "f".repeat(1024)]) {
      const answer = await activate(emulator.url, activationBody(unknownKey, productId, { fingerprint }))
      assert.strictEqual(answer.body.code, "INVALID_LICENSE_KEY")
    }
    const long = await activate(emulator.url, activationBody("K".repeat(256), productId))
    assert.strictEqual(long.body.code, "INVALID_LICENSE_KEY")
  })
})

describe("trial body limits, before the product lookup", () => {
  for (const [field, bad] of cases.filter(([name]) => name !== "key")) {
    const length = Object.values(bad)[0]!.length
    it(`refuses ${field} of ${length} characters with 400 naming ${field}, not INVALID_PRODUCT_ID`, async () => {
      const body = { ...trialBody("no-such-product"), ...bad }
      assertFieldRefused(await activateTrial(emulator.url, body), field)
    })
  }
})
