/**
 * The README's "Cryptlex endpoints" table against the client and the router: every call the client makes
 * (`@licensure/core/Protocol`'s `Endpoints`, with its method) has a row, and every row is a route the running
 * emulator answers over HTTP (neither its 404 "No such endpoint" nor a 405 for the method).
 */
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Endpoints } from "@licensure/core/Protocol"
import { type Emulator, startEmulator } from "../src/index.ts"

const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "README.md"), "utf8")

/** The `METHOD /path` of each row of the section's first table, `{id}` kept. */
const tableCalls = (heading: string): Array<string> => {
  const section = readme.slice(readme.indexOf(heading))
  const table = section.slice(section.indexOf("\n|"), section.indexOf("\n\n", section.indexOf("\n|")))
  return [...table.matchAll(/^\| `(GET|POST|PATCH|PUT|DELETE) ([^`?\s]+)[^`]*`/gm)].map((m) => `${m[1]} ${m[2]}`)
}

/** What the client sends, as the table writes it. */
const Methods: Record<keyof typeof Endpoints, string> = {
  activate: "POST",
  sync: "PATCH",
  deactivate: "POST",
  activateTrial: "POST",
  syncTrial: "PATCH"
}
const clientCalls = Object.entries(Endpoints).map(
  ([name, path]) => `${Methods[name as keyof typeof Endpoints]} ${path("ID").replace("ID", "{id}")}`
)

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(async () => {
  await emulator?.close()
})

describe("emulator README", () => {
  it("lists every call the client makes to the Cryptlex API", () => {
    const rows = tableCalls("## Cryptlex endpoints")
    assert.isAtLeast(rows.length, 5)
    for (const call of clientCalls) assert.include(rows, call, `the README's endpoint table has no row for ${call}`)
  })

  it("lists only routes the emulator answers", async () => {
    for (const call of tableCalls("## Cryptlex endpoints")) {
      const [method, path] = call.split(" ") as [string, string]
      const response = await fetch(`${emulator.url}${path.replace("{id}", "no-such-id")}`, {
        method,
        headers: { "content-type": "application/json" },
        body: "{}"
      })
      const text = await response.text()
      assert.notStrictEqual(response.status, 405, `${call}: ${text}`)
      assert.notInclude(text, "No such endpoint", call)
    }
  })
})
