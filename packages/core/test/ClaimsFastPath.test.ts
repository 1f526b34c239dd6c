/**
 * The claims fast path answers exactly as the claim schemas do, or not at all: for any input (well-formed claims,
 * each claim replaced by junk, extra keys, inherited properties), its answer is `undefined` or deep-equal, key
 * order included, to the schema's success; and well-formed claims do take it. The schemas (Protocol.ts) are the
 * specification here, decoded through Effect Schema itself.
 */
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Result, Schema } from "effect"
import fc from "fast-check"
import * as FastPath from "../src/internal/ClaimsFastPath.ts"
import {
  ActivationTokenClaims,
  ClaimNames,
  lenientPayload,
  MetadataKeyMaxLength,
  MetadataValueMaxLength,
  TrialClaimNames,
  TrialTokenClaims
} from "../src/Protocol.ts"

type Decode = (input: unknown) => Result.Result<unknown, unknown>
const decodeActivation: Decode = Schema.decodeUnknownResult(ActivationTokenClaims)
const decodeTrial: Decode = Schema.decodeUnknownResult(TrialTokenClaims)

// Values that break one rule each: wrong type, null, undefined, empty, fractional, unsafe, nested junk.
const junk = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.constant(""),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(2 ** 53, -(2 ** 53), 1.5, Number.NaN, Number.POSITIVE_INFINITY, -0),
  fc.boolean(),
  fc.array(fc.anything(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
  fc.constant([undefined]),
  fc.constant(Object.create({ key: "inherited", value: "v" }))
)

const int = fc.oneof(fc.integer(), fc.constantFrom(0, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER))
const text = fc.string({ maxLength: 12 })
const nonEmpty = fc.string({ minLength: 1, maxLength: 12 })
const withExtras = <A extends Record<string, unknown>>(record: fc.Arbitrary<A>) =>
  fc
    .tuple(record, fc.dictionary(fc.string({ maxLength: 4 }), fc.anything({ maxDepth: 1 }), { maxKeys: 2 }))
    .map(([r, extra]) => ({ ...extra, ...r }))
const metadataEntry = withExtras(
  fc.record({
    key: fc.oneof(
      { weight: 20, arbitrary: nonEmpty },
      {
        weight: 1,
        arbitrary: fc.constantFrom("", "k".repeat(MetadataKeyMaxLength), "k".repeat(MetadataKeyMaxLength + 1))
      }
    ),
    value: fc.oneof(
      { weight: 20, arbitrary: text },
      {
        weight: 1,
        arbitrary: fc.constantFrom("v".repeat(MetadataValueMaxLength), "v".repeat(MetadataValueMaxLength + 1))
      }
    )
  })
)
const list = <A>(item: fc.Arbitrary<A>) => fc.array(item, { maxLength: 3 })
const licenseMeterAttribute = withExtras(
  fc.record(
    { id: text, name: text, allowedUses: int, totalUses: int, grossUses: int },
    { requiredKeys: ["name", "allowedUses", "totalUses"] }
  )
)
const organizationAddress = withExtras(
  fc.record(
    Object.fromEntries(
      ["addressLine1", "addressLine2", "city", "state", "country", "postalCode"].map((k) => [k, fc.option(text)])
    ),
    { requiredKeys: [] }
  )
)
const maintenancePolicy = withExtras(
  fc.record(
    { allowMajorVersionUpdates: fc.boolean(), allowMinorVersionUpdates: fc.boolean(), validity: int },
    { requiredKeys: [] }
  )
)

/** A well-formed value for each activation claim, by its wire name. */
const activationValues: Record<string, fc.Arbitrary<unknown>> = {
  aid: nonEmpty,
  lid: nonEmpty,
  pid: nonEmpty,
  key: nonEmpty,
  fp: nonEmpty,
  fms: fc.constantFrom("exact", "fuzzy", "loose"),
  os: text,
  type: fc.constantFrom("node-locked", "hosted-floating", "on-premise-floating"),
  iat: int,
  eat: int,
  ssi: int,
  ssgpeat: int,
  aco: int,
  leat: int,
  ld: int,
  ls: text,
  orv: int,
  suspended: fc.boolean(),
  name: text,
  email: text,
  company: text,
  on: text,
  oa: fc.oneof(text, organizationAddress),
  lcat: int,
  laat: int,
  acat: int,
  aa: int,
  ta: int,
  ad: int,
  td: int,
  meat: int,
  marv: text,
  crv: text,
  mp: maintenancePolicy,
  esn: text,
  esdn: text,
  est: int,
  uh: text,
  ul: fc.boolean(),
  fc: int,
  pmd: list(metadataEntry),
  lmd: list(metadataEntry),
  umd: list(metadataEntry),
  amd: list(metadataEntry),
  lma: list(licenseMeterAttribute),
  ama: list(withExtras(fc.record({ name: text, uses: int })))
}
const activationRequired = ["aid", "lid", "pid", "key", "fp", "iat"]

const trialValues: Record<string, fc.Arbitrary<unknown>> = {
  aid: nonEmpty,
  pid: nonEmpty,
  fp: nonEmpty,
  fms: activationValues["fms"] as fc.Arbitrary<unknown>,
  os: text,
  uh: text,
  ul: fc.boolean(),
  orv: int,
  iat: int,
  eat: int,
  ssi: int,
  ssgpeat: int,
  aco: int,
  pmd: list(metadataEntry),
  amd: list(metadataEntry)
}
const trialRequired = ["aid", "pid", "fp", "iat"]

/** Well-formed claims: the required ones present, any other present or not, and a few unknown keys. */
const wellFormed = (values: Record<string, fc.Arbitrary<unknown>>, required: ReadonlyArray<string>) =>
  withExtras(fc.record(values, { requiredKeys: [...required] }))

/** Well-formed claims with up to three of them (any, required ones too) replaced by junk or removed. */
const damaged = (values: Record<string, fc.Arbitrary<unknown>>, required: ReadonlyArray<string>) =>
  fc
    .tuple(
      wellFormed(values, required),
      fc.array(fc.tuple(fc.constantFrom(...Object.keys(values)), fc.option(junk, { freq: 5 })), { maxLength: 3 })
    )
    .map(([claims, changes]) => {
      const out: Record<string, unknown> = { ...claims }
      for (const [name, value] of changes) {
        if (value === null) delete out[name]
        else out[name] = value
      }
      return out
    })

/** The fast path's answer is none, or exactly the schema's success. */
const agrees = (fast: (input: unknown) => unknown, decode: Decode, input: unknown) => {
  const quick = fast(input)
  if (quick === undefined) return
  const decoded = decode(input)
  assert.isTrue(Result.isSuccess(decoded), `the fast path accepted what the schema refuses: ${String(decoded)}`)
  if (Result.isSuccess(decoded)) {
    assert.deepStrictEqual(quick, decoded.success)
    assert.strictEqual(JSON.stringify(quick), JSON.stringify(decoded.success))
  }
}

describe("ClaimsFastPath", () => {
  for (const [name, fast, decode, values, required] of [
    ["activation", FastPath.activationClaims, decodeActivation, activationValues, activationRequired],
    ["trial", FastPath.trialClaims, decodeTrial, trialValues, trialRequired]
  ] as const) {
    it(`answers ${name} claims as the schema does, or leaves them to it`, () => {
      fc.assert(
        fc.property(damaged(values, required), (input) => agrees(fast, decode, input)),
        { numRuns: 3000 }
      )
    })

    it(`answers ${name} claims after the lenient reading as the schema does`, () => {
      fc.assert(
        fc.property(damaged(values, required), (input) => agrees(fast, decode, lenientPayload(input))),
        { numRuns: 1000 }
      )
    })

    it(`takes well-formed ${name} claims itself`, () => {
      let taken = 0
      fc.assert(
        fc.property(wellFormed(values, required), (input) => {
          const decoded = decode(input)
          // Well-formed here is the schema's word: the generator's boundaries (a key one character too long) are
          // refused by it and must be by the fast path too.
          if (Result.isFailure(decoded)) {
            assert.isUndefined(fast(input))
            return
          }
          assert.deepStrictEqual(fast(input), decoded.success)
          taken++
        }),
        { numRuns: 1000 }
      )
      // The property above is about the fast path only if most runs were claims the schema accepts.
      assert.isAbove(taken, 500)
    })

    it(`leaves anything but a plain object to the schema (${name})`, () => {
      for (const input of [null, undefined, "claims", 7, [], Object.create({ aid: "a" }), new Map()]) {
        assert.isUndefined(fast(input))
      }
    })
  }

  // The generators above restate the claims by hand, so a claim added to a schema (and not to them) is never
  // generated: an optional one would be dropped by the fast path in production and no test would see it. Here the
  // payloads come from the schemas themselves (Effect's Schema-derived Arbitrary over the decoded type, encoded to
  // the wire names), so every claim and nested field the schema has is generated, present or absent.
  for (const [name, fast, schema] of [
    ["activation", FastPath.activationClaims, ActivationTokenClaims],
    ["trial", FastPath.trialClaims, TrialTokenClaims]
  ] as const) {
    it(`takes every ${name} claim the schema itself generates, as the schema decodes it`, () => {
      const encode = Schema.encodeUnknownSync(schema as Schema.Codec<unknown, unknown>)
      const decode: Decode = Schema.decodeUnknownResult(schema as Schema.Codec<unknown, unknown>)
      // Size 50: Effect's derivation leaves optional keys out below about that size, and they are the point here.
      const samples = Effect.runSync(
        Arbitrary.sampleEffect(Arbitrary.schema(schema as Schema.Codec<unknown, unknown>), { count: 400, size: 50 })
      )
      const seen = new Set<string>()
      for (const sample of samples) {
        const wire = encode(sample) as Record<string, unknown>
        for (const key of Object.keys(wire)) seen.add(key)
        const decoded = decode(wire)
        assert.isTrue(Result.isSuccess(decoded), `the schema refused its own sample: ${JSON.stringify(wire)}`)
        if (Result.isFailure(decoded)) continue
        const quick = fast(wire)
        assert.isDefined(quick, `the fast path left a well-formed payload to the schema: ${JSON.stringify(wire)}`)
        assert.deepStrictEqual(quick, decoded.success)
        assert.strictEqual(JSON.stringify(quick), JSON.stringify(decoded.success))
      }
      // Every claim the schema knows was generated at least once, so none went untested.
      const names = Object.keys(name === "activation" ? ClaimNames : TrialClaimNames)
      assert.strictEqual(seen.size, names.length)
    })
  }

  it("takes nested nulls in optional fields after the lenient reading, as the schema decodes them", () => {
    const claims = {
      aid: "a",
      lid: "l",
      pid: "p",
      key: "k",
      fp: "f",
      iat: 1,
      lma: [{ id: null, name: "exports", allowedUses: 10, totalUses: 3, grossUses: null }],
      mp: { allowMajorVersionUpdates: null, validity: null, allowMinorVersionUpdates: true }
    }
    const lenient = lenientPayload(claims)
    const decoded = decodeActivation(lenient)
    assert.isTrue(Result.isSuccess(decoded))
    const quick = FastPath.activationClaims(lenient)
    assert.isDefined(quick)
    if (Result.isSuccess(decoded)) assert.deepStrictEqual(quick, decoded.success)
    // A null where a value is required is left to the schema, which refuses it.
    const required = lenientPayload({ ...claims, lma: [{ name: null, allowedUses: 10, totalUses: 3 }] })
    assert.isUndefined(FastPath.activationClaims(required))
    assert.isTrue(Result.isFailure(decodeActivation(required)))
  })

  it("leaves a claim that is present but undefined to the schema, which refuses it", () => {
    const claims = { aid: "a", lid: "l", pid: "p", key: "k", fp: "f", iat: 1 }
    assert.isDefined(FastPath.activationClaims(claims))
    for (const name of ["os", "eat", "type", "pmd"]) {
      const input = { ...claims, [name]: undefined }
      assert.isUndefined(FastPath.activationClaims(input))
      assert.isTrue(Result.isFailure(decodeActivation(input)))
    }
  })
})
