/**
 * Replay (issue 12's must-show): a demo year recorded (`runDemo({ record })`, as `licensure demo --record` does),
 * served by a real `licensure inspect --replay FILE` process, looked at in Debian's Chromium through
 * playwright-core. The page plays the recording once it has it, and the scrubber moves the highlight, the header
 * and the timeline's marked row through the recorded states; the timeline's event column names what caused each
 * recorded moment (timer, operation outcome, deadline) and its last column the server's code; times are marked virtual. No console errors, no request leaving 127.0.0.1; screenshots kept.
 *
 * Chromium must be at /usr/bin/chromium; without it the test fails and says so.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as NodeReadline from "node:readline"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { runDemo } from "@licensure/cli/Demo"
import type { InspectorEvent } from "@licensure/cli/Inspector"
import { type Browser, chromium } from "playwright-core"
import { openWatchedPage } from "./watched-page.ts"

const ChromiumPath = "/usr/bin/chromium"
const PngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const cliBin = fileURLToPath(new URL("../../packages/cli/src/bin/licensure.ts", import.meta.url))
const hooks = fileURLToPath(new URL("../../scripts/workspace-sources.mjs", import.meta.url))

let work: string
let recording: string
let events: Array<InspectorEvent>
let browser: Browser | undefined
let server: ChildProcess | undefined

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "licensure-replay-"))
  recording = join(work, "year.jsonl")
  // Daily syncs keep the run short; the story (and so the states) is the demo's.
  await runDemo({ write: () => {}, outDir: join(work, "out"), syncIntervalHours: 24, record: recording })
  events = readFileSync(recording, "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as InspectorEvent)
  if (!existsSync(ChromiumPath)) {
    throw new Error(`${ChromiumPath} is missing: install Debian's chromium package (apt-get install chromium)`)
  }
  browser = await chromium.launch({
    executablePath: ChromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
  })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  if (server !== undefined && server.exitCode === null) server.kill("SIGKILL")
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

/** `licensure inspect --replay <recording>`; resolves with the page's URL once it prints it. */
const serveReplay = () =>
  new Promise<{ url: string; finished: Promise<number | null> }>((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, "inspect", "--replay", recording], {
      env: { PATH: process.env.PATH ?? "", HOME: work, NODE_OPTIONS: `--import=${hooks}` },
      stdio: ["ignore", "pipe", "pipe"]
    })
    server = child
    let stderr = ""
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8")
    })
    const finished = new Promise<number | null>((done) => child.once("close", (code) => done(code)))
    finished.then((code) => reject(new Error(`licensure inspect exited ${code}: ${stderr}`)))
    NodeReadline.createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.startsWith("inspector: ")) resolve({ url: line.slice("inspector: ".length), finished })
    })
  })

describe("licensure inspect --replay", () => {
  it("plays a recorded demo year, and the scrubber moves the highlight through its states", async () => {
    const { url, finished } = await serveReplay()
    const { page, requested, problems } = await openWatchedPage(browser!)
    await page.goto(url)
    assert.strictEqual(await page.getAttribute("body", "data-source"), "replay")
    // The whole recording arrives, then it plays on its own: the scrubber leaves the first moment.
    await page.waitForFunction((n) => document.querySelectorAll("#timeline li").length === n, events.length, {
      timeout: 15_000
    })
    await page.waitForFunction(() => Number((document.querySelector("#replay") as any).value) >= 2, undefined, {
      timeout: 15_000
    })
    assert.strictEqual(await page.getAttribute("body", "data-mode"), "replay")
    assert.strictEqual(await page.getAttribute("#replay", "max"), String(events.length - 1))

    // The scrubber, moved by the reader, stops the playing and shows the moment it points at.
    for (const state of ["suspended", "graceOver", "expired", "revoked", "trialActive", "trialExpired", "active"]) {
      const index = events.findIndex((e) => e.state === state)
      assert.isAtLeast(index, 0, `the recording has ${state}`)
      await page.locator("#replay").fill(String(index))
      await page.waitForSelector(`#chart g.state.current[data-state="${state}"]`, { timeout: 5_000 })
      assert.strictEqual(await page.textContent("#current-state"), state)
      assert.strictEqual(await page.getAttribute("#timeline li.shown", "data-state"), state)
      assert.isNull(await page.getAttribute("body", "data-playing"))
      assert.match((await page.textContent("#replay-at")) ?? "", new RegExp(`^step ${index + 1} of ${events.length} `))
    }
    await page.screenshot({ path: join(work, "replay.png"), fullPage: true })
    await page.screenshot({ path: "/work/inspector-replay.png", fullPage: true })
    assert.isTrue(readFileSync(join(work, "replay.png")).subarray(0, 8).equals(PngSignature))

    // The timeline says what happened and why, in virtual time: the demo's scripted steps, and for every recorded
    // change the machine events that led to it (the timer, the operation's outcome, the deadline).
    const rowText = (i: number, column: "event" | "error") =>
      page.textContent(`#timeline li[data-id$=".${i + 1}"] .${column}`)
    const suspendRow = events.findIndex((e) => e.event === "admin: suspend")
    assert.isAtLeast(suspendRow, 0)
    assert.strictEqual(await rowText(suspendRow, "event"), "admin: suspend")
    const first = (state: string) => events.findIndex((e) => e.state === state)
    const causes: Array<[string, RegExp]> = [
      ["grace", /^sync timer → sync failed: NetworkFailure: /],
      ["suspended", /^sync timer → sync done: suspended on the server$/],
      ["graceOver", /^deadline: grace ended$/],
      ["expired", /^deadline: licence expired$/],
      ["revoked", /^sync timer → sync failed: REVOKED_LICENSE: /],
      ["trialActive", /^trial requested → trial activation done$/],
      ["trialExpired", /^deadline: trial ended$/]
    ]
    for (const [state, cause] of causes) {
      assert.isAtLeast(first(state), 0, `the recording has ${state}`)
      assert.match(events[first(state)]!.event ?? "", cause, `the recorded cause of ${state}`)
      assert.match((await rowText(first(state), "event")) ?? "", cause, `the timeline's cause of ${state}`)
    }
    assert.match((await rowText(first("revoked"), "error")) ?? "", /^sync: .*REVOKED_LICENSE/)
    assert.match((await page.textContent(`#timeline li[data-id$=".1"] time`)) ?? "", /^2027-01-01 .*\(virtual\)$/)
    assert.include(await page.textContent("#clock"), "(virtual time)")

    // Play starts again from the first moment.
    await page.click("#replay-play")
    assert.strictEqual(await page.getAttribute("body", "data-playing"), "true")
    assert.strictEqual(
      await page.getAttribute("#timeline li.shown", "data-id"),
      await page.$eval("#timeline li:last-child", (li: any) => li.getAttribute("data-id"))
    )

    const origin = new URL(url).origin
    for (const r of requested) assert.isTrue(r.startsWith(origin), `the page requested ${r}`)
    assert.deepStrictEqual(problems, [])
    await page.close()
    server!.kill("SIGINT")
    assert.strictEqual(await finished.catch(() => null), 0)
  }, 90_000)
})

/** The browser's globals the page functions use (this file is compiled without the DOM library). */
declare const document: {
  querySelectorAll(selector: string): { length: number }
  querySelector(selector: string): unknown
}
