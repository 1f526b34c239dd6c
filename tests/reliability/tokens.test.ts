/**
 * Tokens (issue 10): forged and malformed classes, then fast-check mutations of a valid token, all through
 * `ActivationToken.verify` as a client calls it. Wrongly accepted = verified although the signed bytes
 * (header.payload) differ from what the product key signed, or although the token is not RS256 by this key.
 */
import { createHmac, createSign, generateKeyPairSync } from "node:crypto"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { ActivationToken } from "@licensure/core"
import { Effect } from "effect"
import fc from "fast-check"
import { report, tally } from "./Tally.ts"

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 })
const other = generateKeyPairSync("rsa", { modulusLength: 2048 })
const pem = keys.publicKey.export({ type: "spki", format: "pem" }).toString()
const b64 = (value: string | Buffer) => Buffer.from(value).toString("base64url")
const json = (value: unknown) => b64(JSON.stringify(value))

const now = Math.floor(Date.now() / 1000)
const claims = {
  aid: "act-1",
  lid: "lic-1",
  pid: "prod-1",
  key: "KEY-1",
  fp: "a".repeat(64),
  type: "node-locked",
  iat: now,
  eat: now + 86_400,
  ssi: 3600,
  ssgpeat: now + 86_400,
  aco: 3600
}
const expected = { productId: "prod-1", key: "KEY-1", fingerprint: "a".repeat(64) }

const signWith = (privateKey: typeof keys.privateKey, header: unknown, payload: unknown) => {
  const input = `${json(header)}.${json(payload)}`
  const signature = createSign("RSA-SHA256").update(input).sign(privateKey)
  return `${input}.${b64(signature)}`
}
const rs256 = { alg: "RS256", typ: "JWT" }
const good = signWith(keys.privateKey, rs256, claims)
const [goodHeader, goodPayload, goodSignature] = good.split(".") as [string, string, string]

/** `accepted`, or the refusal's tag; a defect (a throw, not a typed error) is a crash and rejects. */
const verify = (token: unknown): Promise<{ readonly accepted: boolean; readonly tag?: string }> =>
  Effect.runPromise(
    Effect.result(ActivationToken.verify(token as string, pem, expected)).pipe(
      Effect.map((result) =>
        result._tag === "Success" ? { accepted: true } : { accepted: false, tag: result.failure._tag }
      )
    )
  )

/** Each a token that must be refused, with what makes it so. */
const forged: ReadonlyArray<readonly [string, string]> = [
  ["alg none, no signature", `${json({ alg: "none", typ: "JWT" })}.${goodPayload}.`],
  ["alg none with the real signature", `${json({ alg: "none" })}.${goodPayload}.${goodSignature}`],
  [
    "HS256 keyed with the public PEM",
    (() => {
      const input = `${json({ alg: "HS256", typ: "JWT" })}.${goodPayload}`
      return `${input}.${b64(createHmac("sha256", pem).update(input).digest())}`
    })()
  ],
  ["RS512 header over an RS256 signature", `${json({ alg: "RS512", typ: "JWT" })}.${goodPayload}.${goodSignature}`],
  ["PS256 header", `${json({ alg: "PS256", typ: "JWT" })}.${goodPayload}.${goodSignature}`],
  ["signed by another key", signWith(other.privateKey, rs256, claims)],
  ["payload changed after signing", `${goodHeader}.${json({ ...claims, eat: 0 })}.${goodSignature}`],
  ["header changed after signing", `${json({ ...rs256, kid: "x" })}.${goodPayload}.${goodSignature}`],
  ["signature truncated", `${goodHeader}.${goodPayload}.${goodSignature.slice(0, -10)}`],
  ["signature empty", `${goodHeader}.${goodPayload}.`],
  ["two parts", `${goodHeader}.${goodPayload}`],
  ["four parts", `${good}.${goodSignature}`],
  ["not base64url", `${goodHeader}.${goodPayload}.!!!!`],
  ["header not JSON", `${b64("{not json")}.${goodPayload}.${goodSignature}`],
  ["payload an array, signed", signWith(keys.privateKey, rs256, [claims])],
  ["payload a number, signed", signWith(keys.privateKey, rs256, 42)],
  ["missing aid, signed", signWith(keys.privateKey, rs256, { ...claims, aid: undefined })],
  ["aid null, signed", signWith(keys.privateKey, rs256, { ...claims, aid: null })],
  ["iat a string of letters, signed", signWith(keys.privateKey, rs256, { ...claims, iat: "soon" })],
  ["another product, signed", signWith(keys.privateKey, rs256, { ...claims, pid: "prod-2" })],
  ["another key, signed", signWith(keys.privateKey, rs256, { ...claims, key: "KEY-2" })],
  ["another machine, signed", signWith(keys.privateKey, rs256, { ...claims, fp: "b".repeat(64) })],
  ["crit header, signed", signWith(keys.privateKey, { ...rs256, crit: ["exp"] }, claims)],
  ["over 64 KiB, signed", signWith(keys.privateKey, rs256, { ...claims, pad: "x".repeat(70_000) })],
  ["empty string", ""],
  ["whitespace around", ` ${good} `],
  ["not a string", 12345 as unknown as string]
]

afterAll(() => {
  console.log(report())
})

describe("reliability: tokens", () => {
  it("the genuine token verifies (the baseline every refusal is measured against)", async () => {
    assert.deepStrictEqual(await verify(good), { accepted: true })
  })

  it(`refuses ${forged.length} forged or malformed classes, each with a typed TokenError`, async () => {
    const counts = tally("tokens (classes)")
    assert.isAtLeast(forged.length, 20)
    for (const [name, token] of forged) {
      counts.tried++
      const outcome = await verify(token).catch(() => undefined)
      if (outcome === undefined) counts.crashed++
      else if (outcome.accepted) counts.wronglyAccepted++
      assert.isDefined(outcome, `${name}: crashed instead of a typed refusal`)
      assert.isFalse(outcome!.accepted, `accepted: ${name}`)
      assert.strictEqual(outcome!.tag, "TokenError", name)
    }
    assert.strictEqual(counts.wronglyAccepted, 0)
    assert.strictEqual(counts.crashed, 0)
  })

  it("refuses 10,000 fast-check mutations of the genuine token unless the signed bytes are unchanged", async () => {
    const counts = tally("tokens (mutations)")
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ {}\"'\\\u0000é"
    const decodedSigned = (token: string) => {
      const [h, p] = token.split(".")
      return `${Buffer.from(h ?? "", "base64url").toString("hex")}.${Buffer.from(p ?? "", "base64url").toString("hex")}`
    }
    const original = decodedSigned(good)
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.nat({ max: good.length - 1 }),
            fc.constantFrom(...alphabet),
            fc.constantFrom("set", "insert", "delete")
          ),
          {
            minLength: 1,
            maxLength: 4
          }
        ),
        async (edits) => {
          let token = good
          for (const [at, char, kind] of edits) {
            const i = Math.min(at, token.length)
            token =
              kind === "set"
                ? token.slice(0, i) + char + token.slice(i + 1)
                : kind === "insert"
                  ? token.slice(0, i) + char + token.slice(i)
                  : token.slice(0, i) + token.slice(i + 1)
          }
          if (token === good) return
          counts.tried++
          const outcome = await verify(token).catch(() => undefined)
          if (outcome === undefined) {
            counts.crashed++
            throw new Error(`crashed on a mutated token: ${token}`)
          }
          if (outcome.accepted && decodedSigned(token) !== original) {
            counts.wronglyAccepted++
            throw new Error(`accepted a mutated token: ${token}`)
          }
        }
      ),
      { numRuns: 10_000 }
    )
    assert.isAtLeast(counts.tried, 9_000)
    assert.strictEqual(counts.wronglyAccepted, 0)
    assert.strictEqual(counts.crashed, 0)
  })
})
