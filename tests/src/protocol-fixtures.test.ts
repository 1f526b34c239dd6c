/**
 * Golden wire fixtures (tests/fixtures/protocol, written by hand from the protocol notes and, for the trial
 * claims and the error codes, from reference-client.md rows 21 and 32) against the Protocol
 * schemas and the emulator: every fixture decodes with its schema and encodes back to the same JSON, and the
 * emulator accepts every request fixture and answers with bodies and tokens of the fixtures' shape.
 */
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { decodeJwt, decodeProtectedHeader, importSPKI, jwtVerify } from "jose"
import {
  ActivationRequest,
  ActivationResponse,
  ActivationTokenClaims,
  classifyServerCode,
  Endpoints,
  ErrorBody,
  ServerErrorCodes,
  TrialActivationRequest,
  TrialActivationResponse,
  TrialTokenClaims
} from "@licensure/core/Protocol"
import { type Emulator, startEmulator } from "@licensure/emulator"

const dir = new URL("../fixtures/protocol/", import.meta.url)
const read = (name: string): any => JSON.parse(readFileSync(new URL(name, dir), "utf8"))

const fixtures: ReadonlyArray<readonly [string, Schema.Codec<any, any>]> = [
  ["activation-request.full.json", ActivationRequest],
  ["activation-request.minimal.json", ActivationRequest],
  ["activation-response.json", ActivationResponse],
  ["trial-activation-request.full.json", TrialActivationRequest],
  ["trial-activation-request.minimal.json", TrialActivationRequest],
  ["trial-activation-response.json", TrialActivationResponse],
  ["claims.node-locked.json", ActivationTokenClaims],
  ["claims.hosted-floating.json", ActivationTokenClaims],
  ["claims.suspended.json", ActivationTokenClaims],
  ["claims.expired.json", ActivationTokenClaims],
  ["claims.metadata-meters.json", ActivationTokenClaims],
  ["trial-claims.json", TrialTokenClaims]
]

describe("protocol fixtures", () => {
  it("covers every fixture file in the folder", () => {
    const files = readdirSync(fileURLToPath(dir)).filter((name) => name.endsWith(".json"))
    assert.deepStrictEqual(files.sort(), [...fixtures.map(([name]) => name), "error-bodies.json"].sort())
  })

  // A real trial token has no ssi/ssgpeat/aco (reference-client.md row 32); they decode to 0 and encode as 0.
  const decodedDefaults: Record<string, object> = { "trial-claims.json": { ssi: 0, ssgpeat: 0, aco: 0 } }
  for (const [name, schema] of fixtures) {
    it(`${name} decodes and encodes back to the identical JSON`, () => {
      const wire = read(name)
      const decoded = Schema.decodeUnknownSync(schema)(wire)
      assert.deepStrictEqual(Schema.encodeSync(schema)(decoded), { ...wire, ...decodedDefaults[name] })
    })
  }

  it("decodes the claims into the meaning the notes give them", () => {
    const nodeLocked = Schema.decodeUnknownSync(ActivationTokenClaims)(read("claims.node-locked.json"))
    assert.strictEqual(nodeLocked.licenseType, "node-locked")
    assert.strictEqual(nodeLocked.serverSyncGraceExpiresAt, nodeLocked.issuedAt + 2_592_000)
    // The seat and history facts LexActivator reads (reference-client.md row 27).
    assert.deepStrictEqual(
      [
        nodeLocked.allowedActivations,
        nodeLocked.totalActivations,
        nodeLocked.allowedDeactivations,
        nodeLocked.totalDeactivations
      ],
      [2, 1, -1, 0]
    )
    assert.strictEqual(nodeLocked.activationCreatedAt, nodeLocked.issuedAt - 3600)
    assert.isFalse(nodeLocked.userLocked)
    const floating = Schema.decodeUnknownSync(ActivationTokenClaims)(read("claims.hosted-floating.json"))
    assert.strictEqual(floating.leaseExpiresAt, floating.issuedAt + floating.leaseDuration)
    assert.isTrue(Schema.decodeUnknownSync(ActivationTokenClaims)(read("claims.suspended.json")).suspended)
    const expired = Schema.decodeUnknownSync(ActivationTokenClaims)(read("claims.expired.json"))
    assert.isBelow(expired.expiresAt, expired.issuedAt)
    const metered = Schema.decodeUnknownSync(ActivationTokenClaims)(read("claims.metadata-meters.json"))
    assert.deepStrictEqual(metered.licenseMeterAttributes[1], { name: "renders", allowedUses: -1, totalUses: 7 })
    assert.deepStrictEqual(metered.userMetadata, [{ key: "department", value: "research" }])
    const trial = Schema.decodeUnknownSync(TrialTokenClaims)(read("trial-claims.json"))
    assert.strictEqual(trial.expiresAt - trial.issuedAt, 14 * 86_400)
    assert.strictEqual(trial.trialActivationId, "e2c4a6f8-0b1d-4f3a-9c5e-7a9b1d3f5e60")
    assert.deepStrictEqual(trial.trialMetadata, [{ key: "source", value: "website" }])
    assert.strictEqual(trial.serverSyncInterval, 0)
  })

  it("carries the node-locked claims in the response fixture's token, under an RS256 header", () => {
    const { activationToken } = read("activation-response.json")
    assert.deepStrictEqual(decodeProtectedHeader(activationToken), { alg: "RS256", typ: "JWT" })
    assert.deepStrictEqual(decodeJwt(activationToken), read("claims.node-locked.json"))
    const { trialActivationToken } = read("trial-activation-response.json")
    assert.deepStrictEqual(decodeJwt(trialActivationToken), read("trial-claims.json"))
  })

  it("has one error body per known server code, plus a body without a code", () => {
    const bodies = read("error-bodies.json") as Array<unknown>
    const decoded = bodies.map((body) => Schema.decodeUnknownSync(ErrorBody)(body))
    for (const [i, body] of decoded.entries()) assert.deepStrictEqual(Schema.encodeSync(ErrorBody)(body), bodies[i])
    const codes = decoded.flatMap((body) => (body.code === undefined ? [] : [body.code]))
    assert.deepStrictEqual([...codes].sort(), [...ServerErrorCodes].sort())
    for (const code of codes) assert.strictEqual(classifyServerCode(code)._tag, "Known")
    assert.strictEqual(decoded.filter((body) => body.code === undefined).length, 1)
  })
})

describe("the emulator against the fixtures", () => {
  let emulator: Emulator
  let publicKeyPem: string
  const full = read("activation-request.full.json")

  beforeAll(async () => {
    emulator = await startEmulator({ manualClock: { startAt: 1_893_456_000_000 } })
    ;({ publicKeyPem } = await emulator.createProduct({ id: full.productId }))
    await emulator.createLicense({
      productId: full.productId,
      key: full.key,
      allowedActivations: 0,
      user: { name: "Ada Lovelace", email: "ada@example.com", company: "Analytical Engines Ltd" },
      meterAttributes: [{ name: "exports", allowedUses: 100 }]
    })
  })
  afterAll(() => emulator?.close())

  const send = async (method: string, path: string, body: unknown) => {
    const response = await fetch(new URL(path, emulator.url), { method, body: JSON.stringify(body) })
    return { status: response.status, body: await response.json() }
  }
  const payloadOf = async (token: string) =>
    (await jwtVerify(token, await importSPKI(publicKeyPem, "RS256"), { algorithms: ["RS256"] })).payload

  for (const name of ["activation-request.full.json", "activation-request.minimal.json"]) {
    it(`accepts ${name} to activate and sync, answering with tokens shaped like the claims fixture`, async () => {
      const request = read(name)
      const created = await send("POST", Endpoints.activate(), request)
      assert.strictEqual(created.status, 201)
      const { activationToken } = Schema.decodeUnknownSync(ActivationResponse)(created.body)
      const payload = await payloadOf(activationToken)
      const claims = Schema.decodeUnknownSync(ActivationTokenClaims)(payload)
      // The fixture's claim set, plus `crv` when the request names the release it runs (the full one does).
      const expected = [
        ...Object.keys(read("claims.node-locked.json")),
        ...(typeof request.releaseVersion === "string" && request.releaseVersion !== "" ? ["crv"] : [])
      ]
      assert.deepStrictEqual(Object.keys(payload).sort(), expected.sort())
      assert.strictEqual(claims.currentReleaseVersion, request.releaseVersion || undefined)
      assert.strictEqual(claims.fingerprint, request.fingerprint)

      const synced = await send("PATCH", Endpoints.sync(claims.activationId), request)
      assert.strictEqual(synced.status, 200)
      const again = Schema.decodeUnknownSync(ActivationResponse)(synced.body)
      Schema.decodeUnknownSync(ActivationTokenClaims)(await payloadOf(again.activationToken))
    })
  }

  for (const name of ["trial-activation-request.full.json", "trial-activation-request.minimal.json"]) {
    it(`accepts ${name} to start and sync a trial, answering with tokens shaped like the trial fixture`, async () => {
      const request = read(name)
      const created = await send("POST", Endpoints.activateTrial(), request)
      assert.strictEqual(created.status, 201)
      const { trialActivationToken } = Schema.decodeUnknownSync(TrialActivationResponse)(created.body)
      const payload = await payloadOf(trialActivationToken)
      const claims = Schema.decodeUnknownSync(TrialTokenClaims)(payload)
      assert.deepStrictEqual(Object.keys(payload).sort(), Object.keys(read("trial-claims.json")).sort())

      const synced = await send("PATCH", Endpoints.syncTrial(claims.trialActivationId), request)
      assert.strictEqual(synced.status, 200)
      Schema.decodeUnknownSync(TrialActivationResponse)(synced.body)
    })
  }

  it("answers refusals with bodies that decode as ErrorBody with a known code", async () => {
    const refused = await send("POST", Endpoints.activate(), {
      ...full,
      key: "000000-000000-000000-000000-000000-000000"
    })
    assert.strictEqual(refused.status, 400)
    const body = Schema.decodeUnknownSync(ErrorBody)(refused.body)
    assert.deepStrictEqual(classifyServerCode(body.code!), { _tag: "Known", code: "INVALID_LICENSE_KEY" })
  })
})
