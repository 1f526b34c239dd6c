/**
 * The inspector of `licensure watch --inspect` shows what another process did (issue 12's must-show): the watcher
 * is a real `licensure` process on a store directory, the emulator serves real HTTP on 127.0.0.1, and a second
 * `licensure sync` process syncs the same licence after the emulator suspended it. Debian's Chromium, driven by
 * playwright-core, must see the highlight and the header move to `suspended` with no console error and no request
 * leaving 127.0.0.1. Screenshots are kept as test artifacts (before and after, in `/work/`, beside the other
 * browser tests' ones).
 *
 * Chromium must be at /usr/bin/chromium; without it the test fails and says so.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as NodeReadline from "node:readline"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { type Browser, chromium } from "playwright-core"
import { openWatchedPage } from "./watched-page.ts"

const ChromiumPath = "/usr/bin/chromium"
const PngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const cliBin = fileURLToPath(new URL("../../packages/cli/src/bin/licensure.ts", import.meta.url))
const hooks = fileURLToPath(new URL("../../scripts/workspace-sources.mjs", import.meta.url))

let emulator: Emulator
let work: string
let env: Record<string, string>
let browser: Browser | undefined
const children: Array<ChildProcess> = []

beforeAll(async () => {
  emulator = await startEmulator()
  const product = await emulator.createProduct()
  work = mkdtempSync(join(tmpdir(), "licensure-inspector-processes-"))
  writeFileSync(join(work, "public-key.pem"), product.publicKeyPem)
  mkdirSync(join(work, "machine", "etc"), { recursive: true })
  writeFileSync(join(work, "machine", "etc", "machine-id"), "7a6b5c4d3e2f41a0b9c8d7e6f5a4b3c2\n")
  env = {
    PATH: process.env.PATH ?? "",
    HOME: work,
    NODE_OPTIONS: `--import=${hooks}`,
    LICENSURE_PRODUCT_ID: product.productId,
    LICENSURE_PUBLIC_KEY: join(work, "public-key.pem"),
    LICENSURE_HOST: emulator.url,
    LICENSURE_DIR: join(work, "store"),
    LICENSURE_FINGERPRINT_ROOT: join(work, "machine")
  }
  if (!existsSync(ChromiumPath)) {
    throw new Error(`${ChromiumPath} is missing: install Debian's chromium package (apt-get install chromium)`)
  }
  browser = await chromium.launch({
    executablePath: ChromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
  })
})

afterAll(async () => {
  await browser?.close()
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL")
  await emulator?.close()
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

/** `licensure <args>`; `lines` waits for a line on stdout or stderr that passes a test. */
const licensure = (args: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, [cliBin, ...args], { env, stdio: ["ignore", "pipe", "pipe"] })
  children.push(child)
  const seen: Array<string> = []
  const waiters = new Set<() => void>()
  let stderr = ""
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8")
  })
  for (const stream of [child.stdout!, child.stderr!]) {
    NodeReadline.createInterface({ input: stream }).on("line", (line) => {
      seen.push(line)
      for (const wake of [...waiters]) wake()
    })
  }
  const finished = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)))
  const line = (test: (line: string) => boolean) =>
    new Promise<string>((resolve, reject) => {
      const look = () => {
        const hit = seen.find(test)
        if (hit === undefined) return
        waiters.delete(look)
        resolve(hit)
      }
      waiters.add(look)
      finished.then((code) => reject(new Error(`licensure ${args.join(" ")} exited ${code}: ${stderr}`)))
      look()
    })
  return { child, line, finished, stderr: () => stderr }
}

describe("licensure watch --inspect", () => {
  it("shows a change made by a second process: the highlight and the header move to suspended", async () => {
    const { id, key } = await emulator.createLicense({ productId: env.LICENSURE_PRODUCT_ID! })
    const activated = licensure(["activate", key])
    assert.strictEqual(await activated.finished, 0, activated.stderr())

    const watcher = licensure(["watch", "--inspect", "--json"])
    const url = (await watcher.line((l) => l.startsWith("inspector: "))).slice("inspector: ".length)
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/)

    const { page, requested, problems } = await openWatchedPage(browser!)
    await page.goto(url)
    await page.waitForSelector('#chart g.state.current[data-state="active"]', { timeout: 15_000 })
    assert.strictEqual(await page.textContent("#current-state"), "active")
    const before = join(work, "second-process-before.png")
    await page.screenshot({ path: before, fullPage: true })
    await page.screenshot({ path: "/work/inspector-second-process-before.png", fullPage: true })

    await emulator.updateLicense(id, { suspended: true })
    await emulator.clearLog()
    const synced = licensure(["sync"])
    assert.strictEqual(await synced.finished, 11, synced.stderr())

    await page.waitForSelector('#chart g.state.current[data-state="suspended"]', { timeout: 15_000 })
    assert.strictEqual(await page.textContent("#current-state"), "suspended")
    assert.strictEqual(await page.textContent("#current-status"), "LA_SUSPENDED (21)")
    assert.strictEqual(await page.textContent("#licensed"), "no")
    assert.strictEqual(await page.textContent("#timeline li:first-child .state"), "suspended")
    // And says why: not this process's own sync, another's change to the licence file.
    assert.strictEqual(
      await page.textContent("#timeline li:first-child .event"),
      "another process changed the licence file"
    )
    // Nothing but the second process asked the server anything: its sync and the entitlements fetch after it.
    assert.deepStrictEqual(
      (await emulator.log()).map((e) => `${e.method} ${e.path.replace(/^\/v3\/activations\/[^/]+/, "…")}`),
      ["PATCH …", "GET …/feature-entitlements"]
    )

    const after = join(work, "second-process-after.png")
    await page.screenshot({ path: after, fullPage: true })
    await page.screenshot({ path: "/work/inspector-second-process-after.png", fullPage: true })
    for (const shot of [before, after]) assert.isTrue(readFileSync(shot).subarray(0, 8).equals(PngSignature))

    const origin = new URL(url).origin
    for (const r of requested) assert.isTrue(r.startsWith(origin), `the page requested ${r}`)
    assert.deepStrictEqual(problems, [])
    await page.close()
    watcher.child.kill("SIGINT")
    assert.strictEqual(await watcher.finished, 0, watcher.stderr())
  }, 60_000)
})
