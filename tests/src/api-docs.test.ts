/**
 * The API reference (issue 13) is generated from the code by TypeDoc (docs/api/typedoc.json): the public entry
 * points of `licensure`, core, node-runtime, fingerprint and testing. It must build with no warning at all (links in
 * doc comments that resolve to nothing are warnings, and warnings are errors there), and the pages a user looks
 * for first must be in it, carrying their doc comments.
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"

const apiDir = join(import.meta.dirname, "..", "..", "docs", "api")
const out = mkdtempSync(join(tmpdir(), "licensure-api-docs-"))
afterAll(() => rmSync(out, { recursive: true, force: true }))

const typedoc = () =>
  new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [join(apiDir, "node_modules", "typedoc", "bin", "typedoc"), "--out", out], {
      cwd: apiDir
    })
    let output = ""
    child.stdout.on("data", (d) => {
      output += d
    })
    child.stderr.on("data", (d) => {
      output += d
    })
    child.on("close", (code) => resolve({ code, output }))
  })

describe("the API reference", () => {
  it("builds from the sources with no warning, and documents the entry points", { timeout: 120_000 }, async () => {
    const { code, output } = await typedoc()
    assert.strictEqual(code, 0, output)
    assert.notMatch(output, /\[warning\]|\[error\]/, output)
    const modules = readdirSync(join(out, "modules"))
    for (const entry of ["licensure_src.html", "core_src.html", "node-runtime_src.html", "testing_src.html"]) {
      assert.include(modules, entry)
    }
    const create = join(out, "functions", "licensure_src.createNodeLicensing.html")
    assert.isTrue(existsSync(create), "createNodeLicensing has a page")
    // The doc comment is on the page, not only the signature.
    assert.include(readFileSync(create, "utf8"), "The Promise face on Node")
  })
})
