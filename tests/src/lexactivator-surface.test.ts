/**
 * licensure against LexActivator's whole public surface, read from the Markdown of
 * `reference/lexactivator-surface.md` (a copy kept in `tests/fixtures/reference/`): every status code of §1.5's
 * two tables is in `LexStatusCodes` under the same name and number, and nothing else is; every function of §1 has
 * a row in `docs/migration.md`, none of whose cells is empty or "not yet", and whose cited functions exist.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import {
  ActivationMeters,
  FeatureEntitlements,
  LexStatusCodes,
  LicenseClaims,
  Releases,
  ReleaseVersion,
  UserLock,
  UserLogin
} from "@licensure/core"
import { createNodeCalls } from "@licensure/node-runtime"
import { Effect } from "effect"
import { FetchHttpClient } from "effect/http"

const surface = readFileSync(new URL("../fixtures/reference/lexactivator-surface.md", import.meta.url), "utf8")

/** The rows of the Markdown table whose header row starts with `header`, as arrays of trimmed cells. */
export const tableRows = (markdown: string, header: RegExp): ReadonlyArray<ReadonlyArray<string>> => {
  const lines = markdown.split("\n")
  const rows: Array<Array<string>> = []
  for (let i = 0; i < lines.length; i++) {
    if (!header.test(lines[i] ?? "")) continue
    for (let j = i + 2; j < lines.length && (lines[j] ?? "").trimStart().startsWith("|"); j++) {
      rows.push(
        (lines[j] ?? "")
          .trim()
          .replace(/^\||\|$/g, "")
          .split("|")
          .map((cell) => cell.trim())
      )
    }
  }
  return rows
}

/** §1.5: the success-class table names codes in full (`LA_OK`); the error table without the `LA_E_` prefix. */
const surfaceStatuses = (): ReadonlyArray<readonly [string, number]> => {
  const section = surface.slice(surface.indexOf("### 1.5 Status codes"), surface.indexOf("## 2. "))
  return tableRows(section, /^\| # \| Name \|/).map(([number, name]) => {
    const first = /`?([A-Z_0-9]+)`?/.exec(name ?? "")?.[1] ?? ""
    return [first.startsWith("LA_") ? first : `LA_E_${first}`, Number(number)] as const
  })
}

describe("LexActivator's status codes", () => {
  it("reads 79 statuses, 0 to 114, from the surface file's two tables", () => {
    const statuses = surfaceStatuses()
    assert.strictEqual(statuses.length, 79)
    assert.deepStrictEqual(statuses[0], ["LA_OK", 0])
    assert.deepStrictEqual(statuses.at(-1), ["LA_E_ACTIVATION_CLONE_DETECTED", 114])
  })

  it("has every one in LexStatusCodes with the same number, and no status the surface lacks", () => {
    const statuses = surfaceStatuses()
    const codes: Record<string, number> = LexStatusCodes
    const missing = statuses.filter(([name, number]) => codes[name] !== number)
    assert.deepStrictEqual(missing, [], "statuses missing from LexStatusCodes or with another number")
    const names = new Set(statuses.map(([name]) => name))
    assert.deepStrictEqual(
      Object.keys(codes).filter((name) => !names.has(name)),
      [],
      "statuses LexActivator does not define"
    )
  })
})

const migration = readFileSync(new URL("../../docs/migration.md", import.meta.url), "utf8")

/** A function's name as the tables write it, without its parameters or result: `GetLicenseUserEmail/Name`. */
const functionName = (token: string) => /^[A-Za-z][A-Za-z/]*/.exec(token.trim())?.[0] ?? token

/** The backticked function names of a table's first column. */
const functionsOf = (rows: ReadonlyArray<ReadonlyArray<string>>) =>
  rows.flatMap(([first]) => [...(first ?? "").matchAll(/`([^`]+)`/g)].map((match) => functionName(match[1] ?? "")))

/** §1.1–1.3 of the surface file: every public function. */
const surfaceFunctions = () =>
  functionsOf(
    tableRows(surface.slice(surface.indexOf("## 1. LexActivator"), surface.indexOf("### 1.4")), /^\| Function \|/)
  )

/** The migration table's rows: LexActivator's side and licensure's. */
const migrationRows = () => tableRows(migration, /^\| LexActivator +\|/)

describe("the migration table (docs/migration.md)", () => {
  it("reads the surface file's 82 function entries and the table's rows", () => {
    assert.strictEqual(surfaceFunctions().length, 82)
    assert.isAbove(migrationRows().length, 60)
  })

  it("has a row for every function of lexactivator-surface.md §1", () => {
    const listed = new Set(functionsOf(migrationRows()))
    assert.deepStrictEqual(
      surfaceFunctions().filter((name) => !listed.has(name)),
      [],
      "LexActivator functions without a row"
    )
  })

  it("leaves no cell empty or 'not yet', and gives every 'not applicable' its reason", () => {
    for (const [lexActivator, licensure] of migrationRows()) {
      assert.isNotEmpty(lexActivator, "an empty LexActivator cell")
      assert.isNotEmpty(licensure, `${lexActivator}: empty`)
      assert.notMatch(licensure ?? "", /not yet/i, `${lexActivator}: not yet`)
      if (/^not applicable/i.test(licensure ?? "")) {
        assert.match(licensure ?? "", /^not applicable\b.*\w.{10,}/i, `${lexActivator}: not applicable, and why`)
      }
    }
  })

  it("names only functions that exist: every calls.x, and every x of the modules and services it cites", () => {
    const calls: object = createNodeCalls({ host: "http://127.0.0.1:9" })
    const services = Effect.runSync(
      Effect.all({
        Releases: Releases.Releases.make(),
        UserLogin: UserLogin.UserLogin.make(),
        ActivationMeters: ActivationMeters.ActivationMeters.make(),
        FeatureEntitlementsApi: FeatureEntitlements.FeatureEntitlementsApi.make()
      }).pipe(Effect.provide(FetchHttpClient.layer))
    )
    const names: Record<string, ReadonlySet<string>> = {
      Releases: new Set([...Object.keys(Releases), ...Object.keys(services.Releases)]),
      UserLogin: new Set([...Object.keys(UserLogin), ...Object.keys(services.UserLogin)]),
      ActivationMeters: new Set([...Object.keys(ActivationMeters), ...Object.keys(services.ActivationMeters)]),
      FeatureEntitlementsApi: new Set(Object.keys(services.FeatureEntitlementsApi)),
      FeatureEntitlements: new Set(Object.keys(FeatureEntitlements)),
      LicenseClaims: new Set(Object.keys(LicenseClaims)),
      UserLock: new Set(Object.keys(UserLock)),
      ReleaseVersion: new Set(Object.keys(ReleaseVersion))
    }
    const cells = migrationRows()
      .map(([, licensure]) => licensure ?? "")
      .join("\n")
    const unknown: Array<string> = []
    for (const [, name] of cells.matchAll(/\bcalls\.(\w+)/g)) if (!(name! in calls)) unknown.push(`calls.${name}`)
    const cited = new RegExp(`\\b(${Object.keys(names).join("|")})\\.(\\w+)`, "g")
    for (const [, module, name] of cells.matchAll(cited)) {
      if (!names[module!]!.has(name!)) unknown.push(`${module}.${name}`)
    }
    assert.deepStrictEqual(unknown, [], "names the table cites that do not exist")
    assert.isAbove([...cells.matchAll(cited)].length, 10)
  })
})
