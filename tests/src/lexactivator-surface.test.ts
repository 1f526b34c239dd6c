/**
 * licensure against LexActivator's whole public surface, read from the Markdown of
 * `reference/lexactivator-surface.md` (a copy kept in `tests/fixtures/reference/`): every status code of §1.5's
 * two tables is in `LexStatusCodes` under the same name and number, and nothing else is.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { LexStatusCodes } from "@licensure/core"

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
