/**
 * The API reference (issue 13) is generated from the code by TypeDoc (docs/api/typedoc.json): the public entry
 * points of `licensure`, core, node-runtime, fingerprint and testing. It must build with no warning at all (links in
 * doc comments that resolve to nothing are warnings, and warnings are errors there), and the pages a user looks
 * for first must be in it, carrying their doc comments.
 *
 * Undocumented exports are errors too: in the whole reference for the declarations of `licensure`, core,
 * node-runtime, fingerprint, testing and the emulator testing re-exports (each package's own index, `@licensure/core` and `@licensure/testing`
 * included), and (docs/api/typedoc.public.json) for everything the entry points an application imports reach:
 * `licensure` (the Promise face and what it re-exports from core) and `@licensure/node-runtime`.
 *
 * DECISION: the undocumented-export check covers top-level declarations (functions, classes, interfaces, type
 * aliases, variables, methods, accessors, and properties whose type is a function, whose call signatures TypeDoc
 * checks as it checks methods), not every data field of every nested type. Over all five entry points with every
 * kind, TypeDoc flagged 1,769 declarations, 871 of them fields of the wire schemas in core's `Protocol.ts` (named
 * after Cryptlex's JSON, documented by `protocol/cryptlex-v3.md`) and 206 the emulator's admin types. With these
 * kinds, core's and testing's indexes had 140 undocumented declarations (133 and 7), all documented now; the
 * emulator's (which testing re-exports) had 32, documented too, and the emulator is in the list.
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"

const apiDir = join(import.meta.dirname, "..", "..", "docs", "api")
const out = mkdtempSync(join(tmpdir(), "licensure-api-docs-"))
afterAll(() => rmSync(out, { recursive: true, force: true }))

const typedoc = (args: ReadonlyArray<string> = ["--out", out]) =>
  new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [join(apiDir, "node_modules", "typedoc", "bin", "typedoc"), ...args], {
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
    const whole = JSON.parse(readFileSync(join(apiDir, "typedoc.json"), "utf8"))
    assert.include(whole.packagesRequiringDocumentation ?? [], "@licensure/emulator", "the emulator is checked too")
    const { code, output } = await typedoc()
    assert.strictEqual(code, 0, output)
    // An undocumented export of any of the five packages is a warning, so this fails on it too.
    assert.notMatch(output, /does not have any documentation/, output)
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

  it("has a doc comment on every export of the entry points an application imports", { timeout: 120_000 }, async () => {
    // The whole reference checks the own declarations of all five packages, core's and testing's indexes included
    // (the first test builds it); the public config adds the emulator's as far as those two entry points reach them.
    for (const file of ["typedoc.json", "typedoc.public.json"]) {
      const config = JSON.parse(readFileSync(join(apiDir, file), "utf8"))
      assert.isTrue(config.validation?.notDocumented ?? false, `${file} checks undocumented exports`)
      for (const pkg of ["@licensure/core", "@licensure/node-runtime", "@licensure/testing"]) {
        assert.include(config.packagesRequiringDocumentation ?? [], pkg, file)
      }
    }
    // Links are checked by the whole reference (every symbol they name is on its pages); the public subset leaves
    // out what its entry points do not export, so a link there to such a symbol is no error.
    const whole = JSON.parse(readFileSync(join(apiDir, "typedoc.json"), "utf8"))
    assert.isTrue(whole.validation?.invalidLink ?? false, "the whole reference checks every link")
    const publicOut = join(out, "public")
    const { code, output } = await typedoc(["--options", "typedoc.public.json", "--out", publicOut])
    assert.notMatch(output, /does not have any documentation/, output)
    assert.strictEqual(code, 0, output)
    // The Promise face's methods carry what they do and how they fail, not only their signatures.
    const face = readFileSync(join(publicOut, "interfaces", "licensure_src.PromiseLicensing.html"), "utf8")
    assert.include(face, "NotActivated")
  })
})
