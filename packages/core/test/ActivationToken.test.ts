/**
 * The token attack list: every way a forged, tampered, truncated or misdirected activation token can reach
 * `ActivationToken.verify`, each refused with the reason a caller branches on and a message that says what was
 * expected. Tokens are made here with jose (real RSA keys, real signatures); the forged ones are assembled from
 * raw base64url parts, the way an attacker would.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { TestClock } from "effect/testing"
import { exportSPKI, generateKeyPair, SignJWT } from "jose"
import * as ActivationToken from "../src/ActivationToken.ts"
import { type ActivationClaims, ActivationTokenClaims, type TrialClaims, TrialTokenClaims } from "../src/Protocol.ts"

const productKeys = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true })
const otherKeys = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true })
const publicKeyPem = await exportSPKI(productKeys.publicKey)

const PRODUCT = "prod-7f3a"
const KEY = "ABCDEF-1234-5678-9XYZ"
const FINGERPRINT = "f0".repeat(32)

const claims: ActivationClaims = {
  activationId: "act-1",
  licenseId: "lic-1",
  productId: PRODUCT,
  key: KEY,
  fingerprint: FINGERPRINT,
  fingerprintMatchingStrategy: "exact",
  os: "linux",
  licenseType: "node-locked",
  issuedAt: 1_900_000_000,
  expiresAt: 1_931_536_000,
  serverSyncInterval: 3600,
  serverSyncGraceExpiresAt: 1_902_592_000,
  allowedClockOffset: 3600,
  leaseExpiresAt: 0,
  leaseDuration: 0,
  suspended: false,
  userName: "Ada",
  productMetadata: [{ key: "edition", value: "pro" }],
  licenseMetadata: [],
  userMetadata: [],
  activationMetadata: [{ key: "host", value: "ci" }],
  licenseMeterAttributes: [{ name: "exports", allowedUses: 10, totalUses: 3 }],
  activationMeterAttributes: [{ name: "exports", uses: 1 }]
}
const wire = Schema.encodeSync(ActivationTokenClaims)(claims)

const trialClaims: TrialClaims = {
  trialActivationId: "trial-1",
  productId: PRODUCT,
  fingerprint: FINGERPRINT,
  issuedAt: 1_900_000_000,
  expiresAt: 1_901_209_600,
  serverSyncInterval: 0,
  serverSyncGraceExpiresAt: 0,
  allowedClockOffset: 0,
  productMetadata: [],
  trialMetadata: [{ key: "source", value: "site" }]
}

type Payload = Record<string, unknown>

const sign = (payload: Payload, key: typeof productKeys.privateKey = productKeys.privateKey) =>
  new SignJWT(payload).setProtectedHeader({ alg: "RS256", typ: "JWT" }).sign(key)

const goodToken = await sign(wire)

/** A compact JWS signed over WebCrypto with any header: what jose's signer would refuse to write. */
const signRaw = async (header: unknown, payload: Payload, key: typeof productKeys.privateKey) => {
  const input = `${b64(header)}.${b64(payload)}`
  const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, new TextEncoder().encode(input))
  return `${input}.${Buffer.from(signature).toString("base64url")}`
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
const parts = (token: string) => {
  const [header, payload, signature] = token.split(".")
  return { header: header!, payload: payload!, signature: signature! }
}
const decodePart = (part: string): Payload => JSON.parse(Buffer.from(part, "base64url").toString("utf8"))

const refusal = (token: string, expected?: ActivationToken.Expected, pem = publicKeyPem) =>
  Effect.flip(ActivationToken.verify(token, pem, expected))

describe("ActivationToken.verify", () => {
  it.effect("accepts a token signed by the product key and decodes its short-named claims", () =>
    Effect.gen(function* () {
      const decoded = yield* ActivationToken.verify(goodToken, publicKeyPem, {
        productId: PRODUCT,
        key: KEY,
        fingerprint: FINGERPRINT
      })
      assert.deepStrictEqual(decoded, claims)
      // The wire form really is the short names: otherwise this test would prove nothing about decoding.
      assert.strictEqual(decodePart(parts(goodToken).payload).aid, "act-1")
    })
  )

  it.effect("refuses alg none before touching a key", () =>
    Effect.gen(function* () {
      const forged = `${b64({ alg: "none", typ: "JWT" })}.${b64(wire)}.`
      const error = yield* refusal(forged)
      assert.strictEqual(error._tag, "TokenError")
      assert.strictEqual(error.reason, "algorithmNotAllowed")
      assert.include(error.message, "RS256")
      assert.include(error.message, '"none"')
    })
  )

  it.effect("refuses an HS256 token whose HMAC secret is the public key PEM", () =>
    Effect.gen(function* () {
      const forged = yield* Effect.promise(() =>
        new SignJWT(wire).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(publicKeyPem))
      )
      const error = yield* refusal(forged)
      assert.strictEqual(error.reason, "algorithmNotAllowed")
      assert.include(error.message, "RS256")
      assert.include(error.message, "HS256")
    })
  )

  it.effect("refuses a token signed by another RSA key", () =>
    Effect.gen(function* () {
      const forged = yield* Effect.promise(() => sign(wire, otherKeys.privateKey))
      const error = yield* refusal(forged)
      assert.strictEqual(error.reason, "badSignature")
      assert.include(error.message, "public key")
    })
  )

  it.effect("refuses a payload changed after signing (expiry pushed out), signature kept", () =>
    Effect.gen(function* () {
      const { header, signature } = parts(goodToken)
      const extended = { ...decodePart(parts(goodToken).payload), eat: 0 }
      const error = yield* refusal(`${header}.${b64(extended)}.${signature}`)
      assert.strictEqual(error.reason, "badSignature")
      assert.include(error.message, "public key")
    })
  )

  it.effect("refuses a header changed after signing (a kid added), signature kept", () =>
    Effect.gen(function* () {
      const { header, payload, signature } = parts(goodToken)
      const withKid = { ...decodePart(header), kid: "attacker-key" }
      const error = yield* refusal(`${b64(withKid)}.${payload}.${signature}`)
      assert.strictEqual(error.reason, "badSignature")
    })
  )

  it.effect("refuses a truncated token as malformed: cut in the middle, or without its signature part", () =>
    Effect.gen(function* () {
      const { header, payload } = parts(goodToken)
      for (const truncated of [goodToken.slice(0, Math.floor(goodToken.length / 2)), `${header}.${payload}`]) {
        assert.isBelow(truncated.split(".").length, 3)
        const error = yield* refusal(truncated)
        assert.strictEqual(error.reason, "malformed", truncated)
        assert.include(error.message, "three dot-separated parts")
      }
    })
  )

  it.effect("refuses strings that are not JWTs as malformed, saying what came", () =>
    Effect.gen(function* () {
      const empty = yield* refusal("")
      assert.strictEqual(empty.reason, "malformed")
      assert.include(empty.message, "expected a JWT")
      assert.include(empty.message, "empty string")

      const word = yield* refusal("abc")
      assert.strictEqual(word.reason, "malformed")
      assert.include(word.message, "1 part")

      const garbage = yield* refusal("a.b.c")
      assert.strictEqual(garbage.reason, "malformed")
      assert.include(garbage.message, "header")

      const notJson = yield* refusal(`${Buffer.from("{nope").toString("base64url")}.${b64(wire)}.sig`)
      assert.strictEqual(notJson.reason, "malformed")
    })
  )

  it.effect("refuses a valid token for another product, naming both", () =>
    Effect.gen(function* () {
      const error = yield* refusal(goodToken, { productId: "prod-other" })
      assert.strictEqual(error.reason, "wrongProduct")
      assert.include(error.message, "prod-other")
      assert.include(error.message, PRODUCT)
    })
  )

  it.effect("refuses a valid token for another licence key, without writing either key in full", () =>
    Effect.gen(function* () {
      const expectedKey = "QQQQQQ-0000-1111-2222"
      const error = yield* refusal(goodToken, { productId: PRODUCT, key: expectedKey })
      assert.strictEqual(error.reason, "wrongKey")
      assert.include(error.message, "QQQQQQ")
      assert.include(error.message, "2222")
      assert.include(error.message, "ABCDEF")
      assert.notInclude(error.message, expectedKey)
      assert.notInclude(error.message, KEY)
    })
  )

  it.effect("refuses a valid token issued to another machine", () =>
    Effect.gen(function* () {
      const here = "0a".repeat(32)
      const error = yield* refusal(goodToken, { productId: PRODUCT, key: KEY, fingerprint: here })
      assert.strictEqual(error.reason, "wrongFingerprint")
      assert.include(error.message, here.slice(0, 12))
      assert.include(error.message, FINGERPRINT.slice(0, 12))
    })
  )

  it.effect("refuses signed claims without an activation id as badClaims, naming the claim", () =>
    Effect.gen(function* () {
      const { aid: _aid, ...withoutAid } = wire
      const token = yield* Effect.promise(() => sign(withoutAid))
      const error = yield* refusal(token)
      assert.strictEqual(error.reason, "badClaims")
      assert.include(error.message, "aid")
    })
  )

  it.effect("refuses signed claims whose iat is a string as badClaims, naming the claim", () =>
    Effect.gen(function* () {
      const token = yield* Effect.promise(() => sign({ ...wire, iat: String(wire.iat) }))
      const error = yield* refusal(token)
      assert.strictEqual(error.reason, "badClaims", error.message)
      assert.include(error.message, "iat")
    })
  )

  it.effect("leaves expiry to the eat claim: a standard exp in the past does not make a signed token unreadable", () =>
    Effect.gen(function* () {
      // Protocol §2: the Cryptlex sample validates the signature only (ValidateLifetime=false); expiry is `eat`,
      // judged by Validation with the allowed clock offset, not by the JWT library against the local clock.
      yield* TestClock.setTime((claims.issuedAt + 60) * 1000)
      const token = yield* Effect.promise(() => sign({ ...wire, exp: claims.issuedAt + 30 }))
      const decoded = yield* ActivationToken.verify(token, publicKeyPem, { productId: PRODUCT })
      assert.strictEqual(decoded.activationId, claims.activationId)
    })
  )

  it.effect("refuses a header naming critical parameters, though the product key signed it", () =>
    Effect.gen(function* () {
      const forged = yield* Effect.promise(() =>
        signRaw({ alg: "RS256", typ: "JWT", crit: ["exp"], exp: 1 }, wire, productKeys.privateKey)
      )
      const error = yield* refusal(forged)
      assert.strictEqual(error.reason, "malformed")
      assert.include(error.message, "crit")
      // The same bytes with a plain header verify: it is the `crit` that is refused, not the signing.
      const plain = yield* Effect.promise(() => signRaw({ alg: "RS256", typ: "JWT" }, wire, productKeys.privateKey))
      assert.strictEqual((yield* ActivationToken.verify(plain, publicKeyPem)).activationId, claims.activationId)
    })
  )

  it.effect("refuses a header that is JSON but not an object, and parts that are not base64url", () =>
    Effect.gen(function* () {
      const { payload, signature } = parts(goodToken)
      for (const header of [[], "RS256", null, 7]) {
        const error = yield* refusal(`${b64(header)}.${payload}.${signature}`)
        assert.strictEqual(error.reason, "malformed", JSON.stringify(header))
        assert.include(error.message, "JSON object")
      }
      const { header } = parts(goodToken)
      for (const token of [`${header}.${payload}!.${signature}`, `${header}.${payload}.${signature}+/`]) {
        const error = yield* refusal(token)
        assert.strictEqual(error.reason, "malformed", token)
        assert.include(error.message, "base64url")
      }
    })
  )

  it.effect("refuses a product key under 2048 bits as badPublicKey, though the token is signed by it", () =>
    Effect.gen(function* () {
      // jose will not make a key this small; WebCrypto will.
      const weak = yield* Effect.promise(() =>
        crypto.subtle.generateKey(
          {
            name: "RSASSA-PKCS1-v1_5",
            modulusLength: 1024,
            publicExponent: new Uint8Array([1, 0, 1]),
            hash: "SHA-256"
          },
          true,
          ["sign", "verify"]
        )
      )
      const weakPem = yield* Effect.promise(() => exportSPKI(weak.publicKey))
      const token = yield* Effect.promise(() => signRaw({ alg: "RS256", typ: "JWT" }, wire, weak.privateKey))
      const error = yield* refusal(token, {}, weakPem)
      assert.strictEqual(error.reason, "badPublicKey")
      assert.include(error.message, "2048")
      assert.include(error.message, "1024")
    })
  )

  it.effect("refuses a public key that is not a PEM, saying what it expected", () =>
    Effect.gen(function* () {
      const error = yield* refusal(goodToken, {}, "not a pem at all")
      assert.strictEqual(error.reason, "badPublicKey")
      assert.include(error.message, "-----BEGIN PUBLIC KEY-----")
    })
  )
})

describe("ActivationToken.verifyTrial", () => {
  it.effect("accepts a signed trial token and decodes its claims", () =>
    Effect.gen(function* () {
      const token = yield* Effect.promise(() => sign(Schema.encodeSync(TrialTokenClaims)(trialClaims)))
      const decoded = yield* ActivationToken.verifyTrial(token, publicKeyPem, {
        productId: PRODUCT,
        fingerprint: FINGERPRINT
      })
      assert.deepStrictEqual(decoded, trialClaims)
    })
  )

  it.effect("refuses an activation token where a trial token is expected, as badClaims", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(ActivationToken.verifyTrial(goodToken, publicKeyPem))
      assert.strictEqual(error.reason, "badClaims")
      assert.include(error.message, "lid and key")
    })
  )

  it.effect("accepts a trial token whose lid and key are there but empty (they name no licence)", () =>
    Effect.gen(function* () {
      const token = yield* Effect.promise(() =>
        sign({ ...Schema.encodeSync(TrialTokenClaims)(trialClaims), lid: "", key: "" })
      )
      const decoded = yield* ActivationToken.verifyTrial(token, publicKeyPem, { productId: PRODUCT })
      assert.strictEqual(decoded.trialActivationId, trialClaims.trialActivationId)
    })
  )

  it.effect("refuses a trial token signed by another key", () =>
    Effect.gen(function* () {
      const token = yield* Effect.promise(() =>
        sign(Schema.encodeSync(TrialTokenClaims)(trialClaims), otherKeys.privateKey)
      )
      const error = yield* Effect.flip(ActivationToken.verifyTrial(token, publicKeyPem))
      assert.strictEqual(error.reason, "badSignature")
    })
  )
})
