/**
 * The guides' examples run (issue 13): every `ts` block in docs/guides/*.md is a complete program followed by an
 * `<!-- expect: REGEX -->` comment. Each runs in a fresh Node process (the workspace's sources through the
 * resolve hook, as `node --import ./scripts/workspace-sources.mjs`), from a temp dir, against an emulator served
 * on 127.0.0.1 with a product and a 30-day licence of its own; it must exit 0 and print a line matching REGEX.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Emulator, startEmulator } from "@licensure/emulator"

const root = join(import.meta.dirname, "..", "..")
const guides = join(root, "docs", "guides")
const hook = join(root, "scripts", "workspace-sources.mjs")

interface Example {
  readonly guide: string
  readonly index: number
  readonly code: string
  readonly expect: RegExp
}

const examples: Array<Example> = readdirSync(guides)
  .filter((f) => f.endsWith(".md"))
  .sort()
  .flatMap((guide) => {
    const text = readFileSync(join(guides, guide), "utf8")
    const found: Array<Example> = []
    const block = /```ts\n([\s\S]*?)```\s*<!-- expect: (.*?) -->/g
    for (let m = block.exec(text); m !== null; m = block.exec(text)) {
      found.push({ guide, index: found.length, code: m[1] ?? "", expect: new RegExp(m[2] ?? "", "m") })
    }
    // A ts block without an expectation is a block nobody checks.
    const blocks = text.match(/```ts\n/g)?.length ?? 0
    if (blocks !== found.length)
      throw new Error(`${guide}: ${blocks} ts blocks, ${found.length} with an expect comment`)
    return found
  })

let emulator: Emulator
let dir: string
beforeAll(async () => {
  emulator = await startEmulator()
  // Inside the workspace, so that an example's own imports (effect) resolve as in an app that installed them.
  dir = mkdtempSync(join(root, "tests", ".guides-"))
})
afterAll(async () => {
  await emulator?.close()
  rmSync(dir, { recursive: true, force: true })
})

const run = (file: string, env: Record<string, string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", hook, file], { cwd: dir, env: { ...process.env, ...env } })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => {
      stdout += d
    })
    child.stderr.on("data", (d) => {
      stderr += d
    })
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

describe("the guides' examples", () => {
  it("there are examples in every guide that has code", () => {
    assert.isAtLeast(examples.length, 5)
  })

  for (const example of examples) {
    it(`${example.guide} #${example.index + 1} runs and prints what the guide says`, { timeout: 60_000 }, async () => {
      const product = await emulator.createProduct()
      const license = await emulator.createLicense({
        productId: product.productId,
        expiresAt: Date.now() + 30 * 86_400_000 - 60_000,
        serverSyncInterval: 3600
      })
      const name = `${example.guide.replace(/\.md$/, "")}-${example.index + 1}`
      const file = join(dir, `${name}.ts`)
      writeFileSync(file, example.code)
      const result = await run(file, {
        LICENSURE_HOST: emulator.url,
        LICENSURE_PRODUCT_ID: product.productId,
        LICENSURE_PUBLIC_KEY_PEM: product.publicKeyPem,
        LICENSE_KEY: license.key,
        LICENSURE_DIR: join(dir, `${name}-store`)
      })
      assert.strictEqual(result.code, 0, `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`)
      assert.match(result.stdout, example.expect, `stderr:\n${result.stderr}`)
    })
  }
})
