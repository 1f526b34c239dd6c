/**
 * Token verification against its floors, in one process and the same minute: `ActivationToken.verify` (run with
 * `Effect.runPromise` per operation, as a caller outside Effect pays it) against `jose.jwtVerify` with the same
 * public key imported once, and against the node:crypto floor of `floors.md` §1b (split, base64url, header check,
 * `crypto.verify`, payload JSON). The token is a real one: the emulator signs it for an activation, so its claims
 * are the ones a client decodes. Also: `Validation.validate` in ns/op against a plain expiry comparison on the same
 * claims. Rounds alternate and the ratios are ratios of medians; the target (ours/jose <= 1.5x) is reported, never
 * enforced.
 *
 * `BENCH_REPS` overrides the number of measured rounds (default 15).
 */
import * as NodeCrypto from "node:crypto"
import { ActivationToken, Validation } from "@licensure/core"
import { createEmulator } from "@licensure/emulator"
import { Effect } from "effect"
import * as Jose from "jose"
import { printTable, writeResult } from "./Harness.ts"
import { ratioOf, rounds } from "./probe/Rounds.ts"

const reps = Number(process.env.BENCH_REPS ?? 15)
const issuedAt = Date.parse("2026-01-01T00:00:00Z")
const fingerprint = "7c".repeat(32)

// A token exactly as a client receives it: activation through the emulator's in-process fetch.
const emulator = createEmulator({ now: () => issuedAt })
const product = await emulator.createProduct({ metadata: [{ key: "edition", value: "pro" }] })
const license = await emulator.createLicense({
  productId: product.productId,
  expiresAt: issuedAt + 365 * 86_400_000,
  serverSyncInterval: 3600,
  serverSyncGracePeriod: 7 * 86_400,
  metadata: [{ key: "seats", value: "5" }],
  user: { name: "Bench User", email: "bench@example.com", company: "Bench Ltd" }
})
const activation = await emulator.fetch("/v3/activations", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    key: license.key,
    productId: product.productId,
    fingerprint,
    hostname: "bench-host",
    appVersion: "1.0.0",
    os: "linux",
    osVersion: "6.1",
    userHash: "b".repeat(64),
    metadata: [{ key: "team", value: "platform" }]
  })
})
const { activationToken: token } = (await activation.json()) as { activationToken: string }
await emulator.close()

const pem = product.publicKeyPem
const expected = { productId: product.productId, key: license.key, fingerprint }
const joseKey = await Jose.importSPKI(pem, "RS256")
const nodeKey = NodeCrypto.createPublicKey(pem)

/** The node:crypto floor: what a minimal RS256 JWT check must do, and no more. */
const nodeVerify = (jwt: string): Record<string, unknown> => {
  const [h, p, s] = jwt.split(".") as [string, string, string]
  if (JSON.parse(Buffer.from(h, "base64url").toString()).alg !== "RS256") throw new Error("alg")
  if (!NodeCrypto.verify("sha256", Buffer.from(`${h}.${p}`), nodeKey, Buffer.from(s, "base64url"))) {
    throw new Error("signature")
  }
  return JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>
}

// Every case must accept this token and see the same activation before its time means anything.
const claims = await Effect.runPromise(ActivationToken.verify(token, pem, expected))
const viaJose = await Jose.jwtVerify(token, joseKey)
const viaNode = nodeVerify(token)
if (viaJose.payload["fp"] !== fingerprint || viaNode["fp"] !== fingerprint || claims.fingerprint !== fingerprint) {
  throw new Error("the three verifiers disagree about the token's fingerprint claim")
}
const tampered = `${token.slice(0, -6)}${token.slice(-6) === "AAAAAA" ? "BBBBBB" : "AAAAAA"}`
const refused = await Effect.runPromise(Effect.flip(ActivationToken.verify(tampered, pem, expected)))
if (refused.reason !== "badSignature") throw new Error(`a tampered token gave ${refused.reason}, not badSignature`)

const verify = await rounds(
  {
    "ActivationToken.verify (Effect.runPromise)": async (n) => {
      for (let i = 0; i < n; i++) await Effect.runPromise(ActivationToken.verify(token, pem, expected))
    },
    "jose.jwtVerify (CryptoKey)": async (n) => {
      for (let i = 0; i < n; i++) await Jose.jwtVerify(token, joseKey)
    },
    "jose.compactVerify (what ours calls)": async (n) => {
      for (let i = 0; i < n; i++) await Jose.compactVerify(token, joseKey, { algorithms: ["RS256"] })
    },
    "node:crypto crypto.verify, full JWT": (n) => {
      for (let i = 0; i < n; i++) nodeVerify(token)
    }
  },
  { n: 200, reps }
)

// Validation: `now` moves on every call so no case can be folded into a constant.
const now0 = claims.issuedAt * 1000
const expiresAtMs = claims.expiresAt * 1000
let sink = 0
const validation = await rounds(
  {
    "Validation.validate": (n) => {
      // One input object, its `now` moved in place: the loop measures validate, not an allocation per call.
      const input: { -readonly [K in keyof Validation.ValidationInput]: Validation.ValidationInput[K] } = {
        claims,
        expected,
        now: now0,
        lastSeenAt: now0
      }
      for (let i = 0; i < n; i++) {
        input.now = now0 + i
        if (Validation.validate(input) === "ok") sink++
      }
    },
    "plain comparison (expiresAt > now)": (n) => {
      for (let i = 0; i < n; i++) if (expiresAtMs > now0 + i) sink++
    }
  },
  { n: 1_000_000, reps }
)
if (sink === 0) throw new Error("validation never answered ok")

const ours = verify["ActivationToken.verify (Effect.runPromise)"]
const jose = verify["jose.jwtVerify (CryptoKey)"]
const node = verify["node:crypto crypto.verify, full JWT"]
const oursOverJose = ratioOf(ours, jose)
const oursOverNode = ratioOf(ours, node)
const validateRatio = ratioOf(validation["Validation.validate"], validation["plain comparison (expiresAt > now)"])

const µs = (ns: number) => ns / 1000
printTable(
  `RS256 activation token verify (µs/op; ${token.length}-byte JWT; 200 ops x ${reps} rounds, alternating)`,
  ["case", "median", "min"],
  Object.entries(verify).map(([name, s]) => [name, µs(s.median), µs(s.min)])
)
printTable(
  `Offline validation (ns/op; 1,000,000 ops x ${reps} rounds, alternating)`,
  ["case", "median", "min"],
  Object.entries(validation).map(([name, s]) => [name, s.median, s.min])
)
console.log(`\nverify, ours / jose.jwtVerify (medians): ${oursOverJose.toFixed(2)}x (target <= 1.5x)`)
console.log(`verify, ours / node:crypto floor: ${oursOverNode.toFixed(2)}x`)
console.log(`validate / plain comparison: ${validateRatio.toFixed(1)}x`)

const path = writeResult(
  "token",
  {
    label: "ActivationToken.verify / jose.jwtVerify (medians)",
    value: oursOverJose,
    unit: "x",
    target: "<= 1.5x",
    met: oursOverJose <= 1.5
  },
  {
    reps,
    tokenBytes: token.length,
    unit: { verify: "ns/op", validation: "ns/op" },
    oursOverJose,
    oursOverNode,
    validateOverPlain: validateRatio,
    verify,
    validation
  }
)
console.log(`wrote ${path}`)
