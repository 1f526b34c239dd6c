/**
 * The offline validation order (protocol §2, "Client validation order"): one example per status with its
 * boundaries, then fast-check properties. The order is written out again below as an independent list of
 * conditions, straight from the protocol notes, so the properties check `validate` against the spec and not
 * against itself.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { isLicensed, type ValidatedClaims, type ValidationInput, validate } from "../src/Validation.ts"

const HOUR = 3600
const IAT = 1_900_000_000

const claims: ValidatedClaims = {
  productId: "prod-1",
  key: "KEY-1",
  fingerprint: "fp-1",
  issuedAt: IAT,
  expiresAt: IAT + 365 * 24 * HOUR,
  serverSyncInterval: HOUR,
  serverSyncGraceExpiresAt: IAT + 30 * 24 * HOUR,
  allowedClockOffset: HOUR,
  leaseExpiresAt: 0,
  suspended: false
}
const expected = { productId: "prod-1", key: "KEY-1", fingerprint: "fp-1" }

/** The input for a client whose clock reads `nowSeconds` (default: the moment of issue). */
const input = (
  overrides: Partial<ValidatedClaims> = {},
  nowSeconds = IAT,
  extra: Partial<Omit<ValidationInput, "claims" | "now">> = {}
): ValidationInput => ({
  claims: { ...claims, ...overrides },
  expected,
  now: nowSeconds * 1000,
  ...extra
})

describe("validate: one example per status", () => {
  it("is ok for a fresh, matching, unexpired token", () => {
    assert.strictEqual(validate(input()), "ok")
    assert.isTrue(isLicensed("ok"))
  })

  it("checks identity first: product, then key, then fingerprint", () => {
    const everythingWrong = { productId: "other", key: "OTHER", fingerprint: "fp-2", expiresAt: 1, suspended: true }
    assert.strictEqual(validate(input(everythingWrong)), "wrongProduct")
    assert.strictEqual(validate(input({ ...everythingWrong, productId: "prod-1" })), "wrongKey")
    assert.strictEqual(
      validate(input({ ...everythingWrong, productId: "prod-1", key: "KEY-1" })),
      "fingerprintMismatch"
    )
  })

  it("does not compare keys when the application gives none, nor for a trial token that carries none", () => {
    assert.strictEqual(
      validate({ ...input({ key: "OTHER" }), expected: { productId: "prod-1", fingerprint: "fp-1" } }),
      "ok"
    )
    const { key: _key, ...trial } = claims
    assert.strictEqual(validate({ ...input(), claims: trial }), "ok")
  })

  it("is clockBehindServer when the server issued the token more than aco seconds in our future", () => {
    assert.strictEqual(validate(input({}, IAT - HOUR - 1)), "clockBehindServer")
    assert.strictEqual(validate(input({}, IAT - HOUR)), "ok")
    assert.strictEqual(validate(input({ allowedClockOffset: 0 }, IAT - 1)), "clockBehindServer")
    assert.strictEqual(validate(input({ allowedClockOffset: 0 })), "ok")
  })

  it("never fires clockBehindServer when aco is -1 (unlimited)", () => {
    assert.strictEqual(validate(input({ allowedClockOffset: -1 }, IAT - 10 * 365 * 24 * HOUR)), "ok")
  })

  it("is clockRolledBack when the clock is more than 3800 s behind the last time it saw (LexActivator's tolerance)", () => {
    const now = IAT + 100
    assert.strictEqual(validate(input({}, now, { lastSeenAt: (now + 2 * HOUR) * 1000 })), "clockRolledBack")
    assert.strictEqual(validate(input({}, now, { lastSeenAt: (now + HOUR / 2) * 1000 })), "ok")
    assert.strictEqual(validate(input({}, now, { lastSeenAt: (now + 3800) * 1000 })), "ok")
    assert.strictEqual(validate(input({}, now, { lastSeenAt: (now + 3800) * 1000 + 1 })), "clockRolledBack")
    assert.strictEqual(validate(input({}, now, { lastSeenAt: (now - 5 * HOUR) * 1000 })), "ok")
  })

  it("is leaseLapsed when the lease ended, or ended before the token was issued", () => {
    assert.strictEqual(validate(input({ leaseExpiresAt: IAT + 60 }, IAT + 61)), "leaseLapsed")
    assert.strictEqual(validate(input({ leaseExpiresAt: IAT + 60 }, IAT + 60)), "ok")
    assert.strictEqual(validate(input({ leaseExpiresAt: IAT - 1 })), "leaseLapsed")
    assert.strictEqual(validate(input({ leaseExpiresAt: 0 }, IAT + 20 * 24 * HOUR)), "ok")
  })

  it("is graceOver after the sync grace, unless sync is off (ssi 0) or the grace unlimited (ssgpeat 0)", () => {
    const grace = claims.serverSyncGraceExpiresAt
    assert.strictEqual(validate(input({}, grace + 1)), "graceOver")
    assert.strictEqual(validate(input({}, grace)), "ok")
    assert.strictEqual(validate(input({ serverSyncInterval: 0 }, grace + 1)), "ok")
    assert.strictEqual(validate(input({ serverSyncGraceExpiresAt: 0 }, grace + 1)), "ok")
    // aco −1 turns the grace check off as well (LexActivator 3.34, reference-client.md row 33).
    assert.strictEqual(validate(input({ allowedClockOffset: -1 }, grace + 1)), "ok")
  })

  it("compares licence keys case-insensitively, as LexActivator does (row 35)", () => {
    assert.strictEqual(validate({ ...input({ key: "ABCD-1234" }), expected: { ...expected, key: "abcd-1234" } }), "ok")
    assert.strictEqual(
      validate({ ...input({ key: "ABCD-1234" }), expected: { ...expected, key: "abcd-1235" } }),
      "wrongKey"
    )
  })

  it("is expired after eat, or when eat is before iat; eat 0 never expires", () => {
    const eat = claims.expiresAt
    const noGrace = { serverSyncInterval: 0 }
    assert.strictEqual(validate(input(noGrace, eat + 1)), "expired")
    // Within the last second of eat, floor(now) is still eat: not yet expired.
    assert.strictEqual(validate({ ...input(noGrace, eat), now: eat * 1000 + 999 }), "ok")
    assert.strictEqual(validate(input({ expiresAt: IAT - 1 })), "expired")
    assert.strictEqual(validate(input({ ...noGrace, expiresAt: 0 }, IAT + 50 * 365 * 24 * HOUR)), "ok")
  })

  it("is suspended for a suspended, otherwise valid licence", () => {
    assert.strictEqual(validate(input({ suspended: true })), "suspended")
    assert.isFalse(isLicensed("suspended"))
  })

  it("reports the earliest failing check when several fail", () => {
    const late = claims.expiresAt + 1
    // LexActivator 3.34: lease → suspended → expired → grace (reference-client.md row 33).
    assert.strictEqual(validate(input({ suspended: true }, late)), "suspended")
    assert.strictEqual(validate(input({}, late)), "expired")
    assert.strictEqual(validate(input({ serverSyncGraceExpiresAt: late - 10, expiresAt: 0 }, late)), "graceOver")
    assert.strictEqual(validate(input({ suspended: true, leaseExpiresAt: IAT + 1 }, late)), "leaseLapsed")
    assert.strictEqual(
      validate(input({ suspended: true, leaseExpiresAt: IAT + 1 }, late, { lastSeenAt: (late + 2 * HOUR) * 1000 })),
      "clockRolledBack"
    )
    assert.strictEqual(
      validate(input({ suspended: true, leaseExpiresAt: 1, allowedClockOffset: 0 }, IAT - 10)),
      "clockBehindServer"
    )
  })

  it("is osUserMismatch for a token locked to another OS user, checked only when the user's hash is known", () => {
    const locked = { userLocked: true, userHash: "9F86D081884C7D65" }
    assert.strictEqual(validate(input(locked, IAT, { expected: { ...expected, userHash: "0000" } })), "osUserMismatch")
    // LexActivator's hash is upper-case hex, licensure's lower-case: the same user either way.
    assert.strictEqual(validate(input(locked, IAT, { expected: { ...expected, userHash: "9f86d081884c7d65" } })), "ok")
    assert.strictEqual(
      validate(input({ ...locked, userLocked: false }, IAT, { expected: { ...expected, userHash: "0000" } })),
      "ok"
    )
    assert.strictEqual(validate(input(locked)), "ok", "no user hash given: not checked")
    // A locked token without `uh` matches no user.
    assert.strictEqual(
      validate(input({ userLocked: true }, IAT, { expected: { ...expected, userHash: "" } })),
      "osUserMismatch"
    )
    // Identity comes before time: an expired licence locked to another user says the user.
    assert.strictEqual(
      validate(input(locked, claims.expiresAt + 1, { expected: { ...expected, userHash: "0000" } })),
      "osUserMismatch"
    )
    assert.isFalse(isLicensed("osUserMismatch"))
  })

  it("is releaseNotAllowed when the configured release is above marv or past the maintenance, only when configured", () => {
    const release = (version: string, publishedAt?: number) => ({
      expected: { ...expected, release: { version, ...(publishedAt !== undefined ? { publishedAt } : {}) } }
    })
    assert.strictEqual(validate(input({ maxAllowedReleaseVersion: "2.5" }, IAT, release("2.6"))), "releaseNotAllowed")
    assert.strictEqual(validate(input({ maxAllowedReleaseVersion: "2.5" }, IAT, release("2.5"))), "ok")
    assert.strictEqual(validate(input({ maxAllowedReleaseVersion: "2.5" })), "ok", "no release configured")
    const meat = IAT + HOUR
    assert.strictEqual(
      validate(input({ maintenanceExpiresAt: meat }, IAT, release("3.0", (meat + 1) * 1000))),
      "releaseNotAllowed"
    )
    assert.strictEqual(validate(input({ maintenanceExpiresAt: meat }, IAT, release("3.0", meat * 1000))), "ok")
    const mp = { allowMajorVersionUpdates: false, allowMinorVersionUpdates: true }
    assert.strictEqual(
      validate(input({ maintenancePolicy: mp, currentReleaseVersion: "1.2" }, IAT, release("2.0"))),
      "releaseNotAllowed"
    )
    assert.strictEqual(
      validate(input({ maintenancePolicy: mp, currentReleaseVersion: "1.2" }, IAT, release("1.9"))),
      "ok"
    )
    // The licence's own state comes first: an expired licence says expired.
    assert.strictEqual(
      validate(input({ maxAllowedReleaseVersion: "2.5" }, claims.expiresAt + 1, release("2.6"))),
      "expired"
    )
    // A version the server would refuse as malformed is not judged locally.
    assert.strictEqual(validate(input({ maxAllowedReleaseVersion: "2.5" }, IAT, release("v3"))), "ok")
  })

  it("licenses only ok: grace and every failure are not licensed", () => {
    for (const status of ["expired", "graceOver", "leaseLapsed", "clockBehindServer", "clockRolledBack"] as const) {
      assert.isFalse(isLicensed(status), status)
    }
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

/**
 * LexActivator 3.34's order (reference-client.md rows 32–36), restated independently of src: each status with
 * the condition that makes it hold, in the order `ValidateActivationStatus` checks them, after identity and the
 * two clock checks (`ValidateTime(iat, aco)` and `ValidateTime(lastRecorded, 3800)`). Keys compare in upper
 * case (row 35). Grace is skipped when `ssi`, `ssgpeat` is 0 or `aco` is −1 (row 33). `now` here is whole
 * seconds, `nowMs` the Clock's millis.
 */
const documentedOrder: ReadonlyArray<readonly [string, (x: ValidationInput) => boolean]> = [
  ["wrongProduct", (x) => x.claims.productId !== x.expected.productId],
  [
    "wrongKey",
    (x) =>
      x.expected.key !== undefined &&
      x.claims.key !== undefined &&
      x.claims.key.toUpperCase() !== x.expected.key.toUpperCase()
  ],
  ["fingerprintMismatch", (x) => x.claims.fingerprint !== x.expected.fingerprint],
  // Row 27 / §3 item 2: `ul && hash(user) != uh`, hex compared in either case (upper-case in LexActivator).
  [
    "osUserMismatch",
    (x) =>
      x.expected.userHash !== undefined &&
      x.claims.userLocked === true &&
      (x.claims.userHash ?? "").toLowerCase() !== x.expected.userHash.toLowerCase()
  ],
  [
    "clockBehindServer",
    (x) => {
      const aco = x.claims.allowedClockOffset ?? 0
      return aco !== -1 && x.claims.issuedAt - seconds(x) > aco
    }
  ],
  ["clockRolledBack", (x) => x.lastSeenAt !== undefined && x.lastSeenAt - x.now > 3_800_000],
  [
    "leaseLapsed",
    (x) => {
      const leat = x.claims.leaseExpiresAt ?? 0
      return leat !== 0 && (leat < seconds(x) || leat < x.claims.issuedAt)
    }
  ],
  ["suspended", (x) => x.claims.suspended === true],
  [
    "expired",
    (x) => x.claims.expiresAt !== 0 && (x.claims.expiresAt < seconds(x) || x.claims.expiresAt < x.claims.issuedAt)
  ],
  [
    "graceOver",
    (x) =>
      x.claims.serverSyncInterval !== 0 &&
      x.claims.serverSyncGraceExpiresAt !== 0 &&
      (x.claims.allowedClockOffset ?? 0) !== -1 &&
      x.claims.serverSyncGraceExpiresAt < seconds(x)
  ],
  // Only `marv` varies below: a release above the maximum allowed version (both `major.minor`).
  [
    "releaseNotAllowed",
    (x) => {
      const marv = x.claims.maxAllowedReleaseVersion
      const release = x.expected.release?.version
      if (marv === undefined || release === undefined) return false
      const [a = 0, b = 0] = release.split(".").map(Number)
      const [m = 0, n = 0] = marv.split(".").map(Number)
      return a > m || (a === m && b > n)
    }
  ]
]
const seconds = (x: ValidationInput) => Math.floor(x.now / 1000)

const allStatuses = [...documentedOrder.map(([status]) => status), "ok"]

/** Times near one another (within a few hours of IAT), so every condition both holds and fails often. */
const near = fc.integer({ min: IAT - 4 * HOUR, max: IAT + 4 * HOUR })
const nearOrZero = fc.oneof(fc.constant(0), near)

/** Realistic inputs: identities from a small set, times clustered, `aco` either -1 or a real offset. */
const realisticInput: fc.Arbitrary<ValidationInput> = fc
  .record({
    productId: fc.constantFrom("prod-1", "prod-2"),
    key: fc.option(fc.constantFrom("KEY-1", "KEY-2"), { nil: undefined }),
    fingerprint: fc.constantFrom("fp-1", "fp-2"),
    issuedAt: near,
    expiresAt: nearOrZero,
    serverSyncInterval: fc.constantFrom(0, HOUR),
    serverSyncGraceExpiresAt: nearOrZero,
    allowedClockOffset: fc.option(fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 2 * HOUR })), {
      nil: undefined
    }),
    leaseExpiresAt: fc.option(nearOrZero, { nil: undefined }),
    suspended: fc.option(fc.boolean(), { nil: undefined }),
    expectedKey: fc.option(fc.constantFrom("KEY-1", "KEY-2"), { nil: undefined }),
    nowMs: fc.integer({ min: (IAT - 4 * HOUR) * 1000, max: (IAT + 4 * HOUR) * 1000 }),
    lastSeenDeltaMs: fc.option(fc.integer({ min: -3 * HOUR * 1000, max: 3 * HOUR * 1000 }), { nil: undefined }),
    identityMatches: fc.boolean(),
    userLocked: fc.option(fc.boolean(), { nil: undefined }),
    lockedTo: fc.option(fc.constantFrom("ab12", "AB12", "cd34", ""), { nil: undefined }),
    userHash: fc.option(fc.constantFrom("ab12", "cd34"), { nil: undefined }),
    marv: fc.option(fc.constantFrom("1.5", "2.0", "10.1"), { nil: undefined }),
    release: fc.option(fc.constantFrom("1.4", "1.10", "2.0", "2.1"), { nil: undefined })
  })
  .map((r) => {
    const c: {
      -readonly [K in keyof ValidatedClaims]: ValidatedClaims[K]
    } = {
      productId: r.identityMatches ? "prod-1" : r.productId,
      fingerprint: r.identityMatches ? "fp-1" : r.fingerprint,
      issuedAt: r.issuedAt,
      expiresAt: r.expiresAt,
      serverSyncInterval: r.serverSyncInterval,
      serverSyncGraceExpiresAt: r.serverSyncGraceExpiresAt
    }
    const key = r.identityMatches ? (r.key === undefined ? undefined : "KEY-1") : r.key
    if (key !== undefined) c.key = key
    if (r.allowedClockOffset !== undefined) c.allowedClockOffset = r.allowedClockOffset
    if (r.leaseExpiresAt !== undefined) c.leaseExpiresAt = r.leaseExpiresAt
    if (r.suspended !== undefined) c.suspended = r.suspended
    if (r.userLocked !== undefined) c.userLocked = r.userLocked
    if (r.lockedTo !== undefined) c.userHash = r.lockedTo
    if (r.marv !== undefined) c.maxAllowedReleaseVersion = r.marv
    return {
      claims: c,
      expected: {
        productId: "prod-1",
        fingerprint: "fp-1",
        ...(r.userHash !== undefined ? { userHash: r.userHash } : {}),
        ...(r.release !== undefined ? { release: { version: r.release } } : {}),
        ...(r.expectedKey !== undefined ? { key: r.identityMatches ? "KEY-1" : r.expectedKey } : {})
      },
      now: r.nowMs,
      ...(r.lastSeenDeltaMs !== undefined ? { lastSeenAt: r.nowMs + r.lastSeenDeltaMs } : {})
    }
  })

const anyInt = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER })

/** Any integers at all in every numeric field, including ones no server sends. */
const wildInput: fc.Arbitrary<ValidationInput> = fc.record(
  {
    claims: fc.record(
      {
        productId: fc.string(),
        key: fc.string(),
        fingerprint: fc.string(),
        issuedAt: anyInt,
        expiresAt: anyInt,
        serverSyncInterval: anyInt,
        serverSyncGraceExpiresAt: anyInt,
        allowedClockOffset: anyInt,
        leaseExpiresAt: anyInt,
        suspended: fc.boolean()
      },
      {
        requiredKeys: [
          "productId",
          "fingerprint",
          "issuedAt",
          "expiresAt",
          "serverSyncInterval",
          "serverSyncGraceExpiresAt"
        ]
      }
    ),
    expected: fc.record(
      { productId: fc.string(), key: fc.string(), fingerprint: fc.string() },
      { requiredKeys: ["productId", "fingerprint"] }
    ),
    now: anyInt,
    lastSeenAt: anyInt
  },
  { requiredKeys: ["claims", "expected", "now"] }
)

const deepFreeze = <A>(value: A): A => {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

describe("validate: properties", () => {
  it("is never ok once the clock is a whole second past a non-zero eat, whatever else the claims say", () => {
    fc.assert(
      fc.property(
        realisticInput,
        fc.integer({ min: -4e9, max: 4e9 }).filter((eat) => eat !== 0),
        fc.nat({ max: 10 * 365 * 24 * HOUR * 1000 }),
        (base, eat, pastMs) => {
          const x = { ...base, claims: { ...base.claims, expiresAt: eat }, now: (eat + 1) * 1000 + pastMs }
          assert.notStrictEqual(validate(x), "ok")
        }
      ),
      { numRuns: 2000 }
    )
  })

  it("returns the first condition that holds in the documented order, and ok only when none does", () => {
    const seen = new Set<string>()
    fc.assert(
      fc.property(realisticInput, (x) => {
        const holding = documentedOrder.filter(([, holds]) => holds(x)).map(([status]) => status)
        const status = validate(x)
        seen.add(status)
        assert.strictEqual(status, holding[0] ?? "ok", `conditions holding: ${holding.join(", ") || "none"}`)
      }),
      { numRuns: 5000 }
    )
    // The generator must reach every status, or the property above says nothing about the ones it missed.
    assert.sameMembers([...seen], allStatuses)
  })

  it("is pure: the same input twice gives the same status, and the input is not touched", () => {
    fc.assert(
      fc.property(fc.oneof(realisticInput, wildInput), (x) => {
        const frozen = deepFreeze(structuredClone(x))
        const first = validate(frozen)
        assert.strictEqual(validate(frozen), first)
        assert.deepStrictEqual(frozen, x)
      }),
      { numRuns: 2000 }
    )
  })

  it("never throws on any integers, and always answers one of the known statuses", () => {
    fc.assert(
      fc.property(wildInput, (x) => {
        assert.include(allStatuses, validate(x))
      }),
      { numRuns: 5000 }
    )
  })
})
