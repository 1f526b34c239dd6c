/**
 * LexActivator statuses for server codes and failures, against the numbers in
 * `../shared/reference/lexactivator-surface.md` and the mapping of reference-client.md rows 21–22 (restated
 * here as numbers, not read from src).
 */
import { assert, describe, it } from "@effect/vitest"
import { LexStatusCodes, lexStatusOfFailure, lexStatusOfServerCode } from "../src/LexStatus.ts"
import { meterStatusOf } from "../src/ActivationMeters.ts"
import { entitlementsStatusOf } from "../src/FeatureEntitlements.ts"
import { ServerFailure } from "../src/LicenseApi.ts"
import { LicensingErrorReason } from "../src/LicensingError.ts"
import { releaseStatusOf } from "../src/Releases.ts"
import { loginStatusOf } from "../src/UserLogin.ts"
import { ServerErrorCodes } from "../src/Protocol.ts"

const code = (serverCode: string) => LexStatusCodes[lexStatusOfServerCode(serverCode)]

describe("lexStatusOfServerCode", () => {
  it("gives the reference's statuses for the codes row 22 names", () => {
    const expected: Record<string, number> = {
      ACTIVATION_NOT_FOUND: 59,
      INVALID_ACTIVATION_FINGERPRINT: 63,
      VM_ACTIVATION_NOT_ALLOWED: 80,
      CONTAINER_ACTIVATION_NOT_ALLOWED: 83,
      INVALID_ACCOUNT_ID: 93,
      INVALID_PRODUCT_ID: 43,
      INVALID_LICENSE_KEY: 54,
      AUTHENTICATION_FAILED: 71,
      COUNTRY_NOT_ALLOWED: 81,
      IP_ADDRESS_NOT_ALLOWED: 82,
      REVOKED_LICENSE: 53,
      INVALID_LICENSE_TYPE: 55,
      LICENSE_NOT_EFFECTIVE: 110,
      ACTIVATION_LIMIT_REACHED: 58,
      METER_ATTRIBUTE_USES_LIMIT_REACHED: 73,
      INVALID_RELEASE_VERSION_FORMAT: 70,
      RELEASE_VERSION_NOT_ALLOWED: 77,
      FREE_PLAN_ACTIVATION_LIMIT_REACHED: 106
    }
    for (const [serverCode, status] of Object.entries(expected))
      assert.strictEqual(code(serverCode), status, serverCode)
  })

  it("maps every known code to a status other than LA_E_CLIENT, and an unknown code to LA_E_CLIENT (92)", () => {
    for (const serverCode of ServerErrorCodes.filter((c) => c !== "NO_ERROR" && c !== "INVALID_OFFLINE_REQUEST")) {
      assert.notStrictEqual(code(serverCode), 92, serverCode)
    }
    assert.strictEqual(code("SOMETHING_NEW"), 92)
  })
})

describe("lexStatusOfFailure", () => {
  it("reports a token for another machine as LA_E_MACHINE_FINGERPRINT (63), whatever its code says", () => {
    assert.strictEqual(LexStatusCodes[lexStatusOfFailure({ kind: "FingerprintFailure", code: "wrongFingerprint" })], 63)
    assert.strictEqual(LexStatusCodes[lexStatusOfFailure({ kind: "FingerprintFailure" })], 63)
  })

  it("reports transport classes as LexActivator does", () => {
    assert.strictEqual(LexStatusCodes[lexStatusOfFailure({ kind: "NetworkFailure" })], LexStatusCodes.LA_E_INET)
    assert.strictEqual(LexStatusCodes[lexStatusOfFailure({ kind: "RateLimited" })], LexStatusCodes.LA_E_RATE_LIMIT)
    assert.strictEqual(LexStatusCodes[lexStatusOfFailure({ kind: "NotFound" })], 59)
  })

  // LexActivator 3.34: LA_E_SERVER only for a status above 499; any other uncoded status is LA_E_INET (rows 20, 23).
  it("reports an answer without a code by its status: above 499 LA_E_SERVER, an uncoded 4xx LA_E_INET", () => {
    for (const status of [400, 401, 403, 405, 408]) {
      assert.strictEqual(lexStatusOfFailure({ kind: "ServerFailure", status }), "LA_E_INET", String(status))
    }
    for (const status of [500, 502, 503]) {
      assert.strictEqual(lexStatusOfFailure({ kind: "ServerFailure", status }), "LA_E_SERVER", String(status))
    }
    // A failure stored before the status was kept reads as it did then.
    assert.strictEqual(lexStatusOfFailure({ kind: "ServerFailure" }), "LA_E_SERVER")
  })
})

describe("LexStatusCodes", () => {
  it("gives every reason of the error union its status from the one table, with no code in play", () => {
    const expected: Record<LicensingErrorReason["_tag"], number> = {
      NetworkFailure: 48,
      RateLimited: 90,
      ServerRefused: 91,
      UnknownServerCode: 91,
      NotFound: 59,
      ServerFailure: 91,
      MalformedResponse: 91,
      TokenRejected: 1,
      StoreFailure: 1,
      FingerprintFailure: 63,
      LeaseLapsed: 1,
      ActivationCleared: 1,
      InternalError: 1,
      NotActivated: 1,
      Closed: 1,
      AlreadyLicensed: 1,
      MeterAttributeNotFound: 72,
      InvalidMeterAmount: 1
    }
    const tags = LicensingErrorReason.members.map((member) => member.identifier)
    assert.sameMembers(tags, Object.keys(expected), "the table covers exactly the reasons the error can carry")
    for (const [kind, status] of Object.entries(expected)) {
      assert.strictEqual(
        LexStatusCodes[lexStatusOfFailure({ kind: kind as LicensingErrorReason["_tag"] })],
        status,
        kind
      )
    }
  })

  it("the other calls (entitlements, meters, login, releases) read an uncoded answer by its status too", () => {
    const uncoded = (status: number) => new ServerFailure({ status, message: `HTTP ${status}` })
    const statusFunctions = {
      entitlements: (r: ServerFailure) => entitlementsStatusOf(r),
      meters: (r: ServerFailure) => meterStatusOf(r),
      login: (r: ServerFailure) => loginStatusOf("login", r),
      releases: (r: ServerFailure) => releaseStatusOf(r)
    }
    for (const [call, statusOf] of Object.entries(statusFunctions)) {
      assert.strictEqual(statusOf(uncoded(503)), "LA_E_SERVER", `${call} 503`)
      assert.strictEqual(statusOf(uncoded(405)), "LA_E_INET", `${call} 405`)
    }
  })

  it("holds LexActivator 3.42's 79 statuses, 0–114, each number once", () => {
    const codes = Object.values(LexStatusCodes)
    assert.strictEqual(codes.length, 79)
    assert.strictEqual(new Set(codes).size, 79)
    assert.strictEqual(Math.min(...codes), 0)
    assert.strictEqual(Math.max(...codes), 114)
    assert.strictEqual(LexStatusCodes.LA_RELEASE_UPDATE_AVAILABLE_NOT_ALLOWED, 32)
    assert.strictEqual(LexStatusCodes.LA_E_OS_USER, 104)
    assert.strictEqual(LexStatusCodes.LA_E_FINGERPRINT_VALIDATION_GRACE_PERIOD_OVER, 113)
  })
})
