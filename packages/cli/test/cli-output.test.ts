/**
 * What the CLI prints and returns, in process: the exit-code table (and that the help and the README say the same),
 * the status table and JSON, the masked key, and the spinner that only a terminal gets.
 */
import * as NodeFs from "node:fs"
import { fileURLToPath } from "node:url"
import { type LicenseView, lexStatus } from "@licensure/core"
import { assert, describe, it } from "@effect/vitest"
import { ExitCode, ExitCodeTable, exitCodeOfError, exitCodeOfStatus, exitCodeOfView } from "../src/cli/ExitCodes.ts"
import { helpText } from "../src/cli/Help.ts"
import { makeProgress } from "../src/cli/Progress.ts"
import { maskKey, problemOf, renderStatusTable, statusJson } from "../src/cli/StatusReport.ts"

const readme = fileURLToPath(new URL("../README.md", import.meta.url))

const key = "0A1B2C-3D4E5F-6A7B8C-9D0E1F-2A3B4C-5D6E7F"

const activeView: LicenseView = {
  state: "active",
  settled: true,
  licensed: true,
  validation: "ok",
  status: lexStatus("LA_OK"),
  lastError: { operation: "sync", kind: "NetworkFailure", message: "connection refused", transient: true },
  clearedBecause: undefined,
  persisted: true,
  storeError: undefined,
  nextSyncAt: Date.parse("2030-01-01T01:00:00Z"),
  nextDeadline: Date.parse("2030-01-01T01:00:00Z"),
  license: {
    kind: "activation",
    key,
    activationId: "act-1",
    licenseId: "lic-1",
    type: "node-locked",
    expiresAt: undefined,
    graceExpiresAt: Date.parse("2030-01-31T00:00:00Z"),
    leaseExpiresAt: undefined,
    leaseDuration: undefined,
    serverSyncInterval: 3600,
    issuedAt: Date.parse("2030-01-01T00:00:00Z"),
    lastSyncedAt: Date.parse("2030-01-01T00:00:00Z"),
    suspended: false,
    productMetadata: [{ key: "a", value: "1" }],
    licenseMetadata: [
      { key: "b", value: "2" },
      { key: "c", value: "3" }
    ],
    userMetadata: [],
    activationMetadata: [],
    licenseMeterAttributes: [],
    activationMeterAttributes: [],
    user: {},
    allowedActivations: undefined,
    totalActivations: undefined,
    allowedDeactivations: undefined,
    totalDeactivations: undefined,
    licenseCreatedAt: undefined,
    licenseActivatedAt: undefined,
    activationCreatedAt: undefined,
    maintenanceExpiresAt: undefined,
    maxAllowedReleaseVersion: undefined,
    currentReleaseVersion: undefined,
    maintenancePolicy: undefined,
    entitlementSet: undefined,
    userLocked: false,
    userHash: undefined,
    floatingClients: undefined,
    leasingStrategy: undefined,
    organization: {}
  },
  features: [],
  featuresError: undefined
}

describe("exit codes", () => {
  it("gives each status class its own code", () => {
    assert.strictEqual(exitCodeOfStatus("LA_OK"), 0)
    assert.strictEqual(exitCodeOfStatus("LA_EXPIRED"), 10)
    assert.strictEqual(exitCodeOfStatus("LA_SUSPENDED"), 11)
    assert.strictEqual(exitCodeOfStatus("LA_GRACE_PERIOD_OVER"), 12)
    assert.strictEqual(exitCodeOfStatus("LA_TRIAL_EXPIRED"), 13)
    assert.strictEqual(exitCodeOfStatus("LA_FAIL"), 20)
    assert.strictEqual(exitCodeOfStatus("LA_E_REVOKED"), 21)
    assert.strictEqual(exitCodeOfStatus("LA_E_MACHINE_FINGERPRINT"), 22)
    assert.strictEqual(exitCodeOfStatus("LA_E_TIME_MODIFIED"), 23)
    assert.strictEqual(exitCodeOfStatus("LA_E_INET"), 30)
    assert.strictEqual(exitCodeOfStatus("LA_E_SERVER"), 30)
    assert.strictEqual(exitCodeOfStatus("LA_E_LICENSE_KEY"), 31)
    assert.strictEqual(exitCodeOfStatus("LA_E_ACTIVATION_LIMIT"), 31)
    assert.strictEqual(exitCodeOfView({ status: lexStatus("LA_E_TIME") }), ExitCode.clockTampered)
  })

  it("gives the two local verdicts of issue 11 codes of their own, not the server's 31", () => {
    assert.strictEqual(exitCodeOfStatus("LA_E_RELEASE_VERSION_NOT_ALLOWED"), 14)
    assert.strictEqual(exitCodeOfStatus("LA_E_OS_USER"), 24)
    // The server's own refusal of the release (RELEASE_VERSION_NOT_ALLOWED → 77) exits as the local verdict does.
    assert.strictEqual(
      exitCodeOfError({ kind: "ServerRefused", status: lexStatus("LA_E_RELEASE_VERSION_NOT_ALLOWED") }),
      ExitCode.releaseNotAllowed
    )
  })

  it("sorts failed commands by kind first, then by status", () => {
    assert.strictEqual(exitCodeOfError({ kind: "NotActivated", status: lexStatus("LA_FAIL") }), ExitCode.notActivated)
    assert.strictEqual(exitCodeOfError({ kind: "TokenRejected", status: lexStatus("LA_E_CLIENT") }), 32)
    assert.strictEqual(exitCodeOfError({ kind: "ServerRefused", status: lexStatus("LA_E_REVOKED") }), 21)
    assert.strictEqual(exitCodeOfError({ kind: "NetworkFailure", status: lexStatus("LA_E_INET") }), 30)
    assert.strictEqual(exitCodeOfError({ kind: "StoreFailure", status: lexStatus("LA_FAIL") }), ExitCode.internal)
  })

  it("has one row per code, and no status claimed twice", () => {
    const codes = ExitCodeTable.map((row) => row.code)
    assert.deepStrictEqual([...new Set(codes)], codes)
    assert.sameMembers(codes, Object.values(ExitCode))
    const statuses = ExitCodeTable.flatMap((row) => row.statuses)
    assert.deepStrictEqual([...new Set(statuses)], statuses)
  })

  it("is what `licensure --help` lists", () => {
    const help = helpText()
    for (const row of ExitCodeTable) {
      assert.include(help, `${String(row.code).padStart(2)}  ${row.meaning}`)
    }
  })

  it("is the table in the package README", () => {
    const text = NodeFs.readFileSync(readme, "utf8")
    const section = text.slice(text.indexOf("### Exit codes"))
    const rows = section
      .split("\n")
      .filter((line) => /^\| \d+ /.test(line))
      .map((line) => line.split("|").map((cell) => cell.trim()))
      .map((cells) => ({
        code: Number(cells[1]),
        meaning: cells[2],
        statuses: [...cells[3]!.matchAll(/`(LA_[A-Z_]+)`/g)].map((m) => m[1])
      }))
    assert.deepStrictEqual(
      rows,
      ExitCodeTable.map((row) => ({ code: row.code, meaning: row.meaning, statuses: [...row.statuses] }))
    )
  })
})

describe("status output", () => {
  it("masks all of a key but its last four characters, keeping the dashes", () => {
    assert.strictEqual(maskKey(key), "******-******-******-******-******-**6E7F")
    assert.strictEqual(maskKey("ab"), "ab")
  })

  it("renders the table a person reads", () => {
    const table = renderStatusTable(activeView)
    const rows = Object.fromEntries(table.split("\n").map((line) => [line.slice(0, 13).trim(), line.slice(15)]))
    assert.strictEqual(rows.state, "active")
    assert.strictEqual(rows.status, "LA_OK (0)")
    assert.strictEqual(rows.key, "******-******-******-******-******-**6E7F")
    assert.strictEqual(rows["activation id"], "act-1")
    assert.strictEqual(rows.type, "node-locked")
    assert.strictEqual(rows.expires, "never")
    assert.strictEqual(rows["grace expires"], "2030-01-31T00:00:00.000Z")
    assert.strictEqual(rows["last sync"], "2030-01-01T00:00:00.000Z")
    assert.strictEqual(rows["next sync"], "2030-01-01T01:00:00.000Z")
    assert.strictEqual(rows.metadata, "3 (product 1, licence 2, user 0, activation 0)")
    assert.strictEqual(rows["last error"], "sync: NetworkFailure: connection refused")
    assert.notInclude(table, key)
  })

  it("prints the view with the masked key and the exit code as JSON", () => {
    const json = JSON.parse(JSON.stringify(statusJson(activeView, 0)))
    assert.strictEqual(json.state, "active")
    assert.strictEqual(json.exitCode, 0)
    assert.strictEqual(json.license.key, "******-******-******-******-******-**6E7F")
    assert.strictEqual(json.license.activationId, "act-1")
    assert.deepStrictEqual(json.status, { name: "LA_OK", code: 0 })
  })
})

describe("what status says is wrong, and what to do", () => {
  const refused = (license: Partial<NonNullable<LicenseView["license"]>>): LicenseView => ({
    ...activeView,
    state: "releaseNotAllowed",
    licensed: false,
    validation: "releaseNotAllowed",
    status: lexStatus("LA_E_RELEASE_VERSION_NOT_ALLOWED"),
    lastError: undefined,
    license: { ...activeView.license!, ...license }
  })
  const now = Date.parse("2030-06-01T00:00:00Z")

  it("names the maintenance expiry when the release came after it", () => {
    const view = refused({ maintenanceExpiresAt: Date.parse("2030-03-01T00:00:00Z") })
    const problem = problemOf(view, { releaseVersion: "1.2.0", now })
    assert.strictEqual(problem?.reason, "maintenanceExpired")
    assert.strictEqual(problem?.cause, "the licence's maintenance ended on 2030-03-01; release 1.2.0 is not covered")
    assert.match(
      problem!.action,
      /^renew the maintenance, or run a release published before 2030-03-01; then run licensure sync/
    )
    const rows = renderStatusTable(view, { releaseVersion: "1.2.0", now }).split("\n")
    assert.include(rows, `${"problem".padEnd(13)}  ${problem!.cause}`)
    assert.include(rows, `${"what to do".padEnd(13)}  ${problem!.action}`)
  })

  it("names the maintenance policy when it forbids a major or a minor update", () => {
    const policy = { allowMajorVersionUpdates: false, allowMinorVersionUpdates: false, validity: 0 }
    const view = refused({ currentReleaseVersion: "1.4", maintenancePolicy: policy })
    assert.strictEqual(problemOf(view, { releaseVersion: "2.0", now })?.reason, "majorUpdateNotAllowed")
    const minor = problemOf(view, { releaseVersion: "1.5", now })
    assert.strictEqual(minor?.reason, "minorUpdateNotAllowed")
    assert.include(minor!.cause, "release 1.5 is a new minor version over the licensed 1.4")
  })

  it("still says what is wrong without the release version, and nothing for a licensed view", () => {
    const problem = problemOf(refused({ maxAllowedReleaseVersion: "1.0" }))
    assert.strictEqual(problem?.reason, "releaseNotAllowed")
    assert.include(problem!.cause, "the licence does not cover this release")
    assert.isUndefined(problemOf(activeView, { releaseVersion: "9.9", now }))
    assert.isUndefined(JSON.parse(JSON.stringify(statusJson(activeView, 0))).problem)
  })
})

describe("progress", () => {
  it("draws a spinner on a terminal and erases it when the call ends, even when it fails", async () => {
    const written: Array<string> = []
    const progress = makeProgress({ isTTY: true, write: (text) => written.push(text) })
    assert.strictEqual(await progress.around("syncing", async () => 42), 42)
    assert.isTrue(written[0]!.startsWith("\r\x1b[K"), JSON.stringify(written[0]))
    assert.isTrue(written[0]!.endsWith(" syncing"), JSON.stringify(written[0]))
    assert.strictEqual(written.at(-1), "\r\x1b[K")
    written.length = 0
    const failed = await progress.around("syncing", () => Promise.reject(new Error("boom"))).catch((e: Error) => e)
    assert.strictEqual((failed as Error).message, "boom")
    assert.strictEqual(written.at(-1), "\r\x1b[K")
  })

  it("writes nothing when stderr is piped", async () => {
    const written: Array<string> = []
    const progress = makeProgress({ isTTY: false, write: (text) => written.push(text) })
    assert.strictEqual(await progress.around("syncing", async () => "done"), "done")
    assert.deepStrictEqual(written, [])
  })
})
