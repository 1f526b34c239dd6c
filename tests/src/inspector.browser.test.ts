/**
 * The local state-chart inspector, end to end: a simulated client (emulator and client on one `TestClock`), the
 * inspector's real HTTP server on 127.0.0.1, and Debian's Chromium driven through playwright-core. The browser is
 * waited for in real time (that is the browser's pace, not the licence's); licence time moves only by `drive`.
 *
 * Chromium must be at /usr/bin/chromium (CI installs Debian's package); without it the browser test fails and
 * says so, it does not skip.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as Http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Chart from "@licensure/core/Chart"
import * as Inspector from "@licensure/cli/Inspector"
import { drive, HOUR, makeSim, Start } from "@licensure/testing"
import { Effect } from "effect"
import { type Browser, chromium, type Page } from "playwright-core"
import { openWatchedPage } from "./watched-page.ts"

/** The browser's globals the page functions use (this file is compiled without the DOM library). */
declare const document: { querySelector(selector: string): any; querySelectorAll(selector: string): any }
declare const DOMParser: new () => { parseFromString(text: string, type: string): any }

const ChromiumPath = "/usr/bin/chromium"
const PngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

const launchChromium = Effect.acquireRelease(
  Effect.promise((): Promise<Browser> => {
    if (!existsSync(ChromiumPath)) {
      return Promise.reject(
        new Error(`${ChromiumPath} is missing: install Debian's chromium package (apt-get install chromium)`)
      )
    }
    return chromium.launch({
      executablePath: ChromiumPath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run"
      ]
    })
  }),
  (browser) => Effect.promise(() => browser.close())
)

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "licensure-inspector-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

interface Reply {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

const request = (url: string, options: { method?: string; host?: string } = {}) =>
  Effect.promise(
    () =>
      new Promise<Reply>((resolve, reject) => {
        const req = Http.request(
          url,
          {
            method: options.method ?? "GET",
            ...(options.host !== undefined ? { headers: { host: options.host } } : {})
          },
          (res) => {
            let body = ""
            res.setEncoding("utf8")
            res.on("data", (chunk: string) => {
              body += chunk
            })
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
            res.on("error", reject)
          }
        )
        req.on("error", reject)
        req.end()
      })
  )

/** A raw Server-Sent Events reader: every `data:` payload parsed (its `id:` in `ids`), with a way to wait for one. */
const openEvents = (url: string, headers: Http.OutgoingHttpHeaders = {}) =>
  Effect.promise(
    () =>
      new Promise<{
        readonly events: Array<Inspector.InspectorEvent>
        readonly ids: Array<string>
        readonly until: (p: (e: Inspector.InspectorEvent) => boolean) => Promise<Inspector.InspectorEvent>
        readonly ended: Promise<void>
        readonly headers: Http.IncomingHttpHeaders
        readonly abort: () => void
      }>((resolve, reject) => {
        const events: Array<Inspector.InspectorEvent> = []
        const ids: Array<string> = []
        const waiters = new Set<() => void>()
        const req = Http.get(url, { headers }, (res) => {
          let buffer = ""
          res.setEncoding("utf8")
          const ended = new Promise<void>((done) => {
            res.on("end", () => done())
            res.on("close", () => done())
          })
          res.on("data", (chunk: string) => {
            buffer += chunk
            let cut = buffer.indexOf("\n\n")
            while (cut >= 0) {
              const block = buffer.slice(0, cut)
              buffer = buffer.slice(cut + 2)
              for (const line of block.split("\n")) {
                if (line.startsWith("id: ")) ids.push(line.slice("id: ".length))
                if (line.startsWith("data: ")) events.push(JSON.parse(line.slice("data: ".length)))
              }
              cut = buffer.indexOf("\n\n")
            }
            for (const wake of waiters) wake()
          })
          resolve({
            events,
            ids,
            headers: res.headers,
            ended,
            abort: () => req.destroy(),
            until: (p) =>
              new Promise((found) => {
                const check = () => {
                  const hit = events.find(p)
                  if (hit !== undefined) {
                    waiters.delete(check)
                    found(hit)
                  }
                }
                waiters.add(check)
                check()
              })
          })
        })
        req.on("error", reject)
      })
  )

/** A page on the inspector, recording every request it makes and every console error or uncaught exception. */
const openPage = (browser: Browser) => Effect.promise(() => openWatchedPage(browser, { acceptDownloads: true }))

/** The page's timeline, oldest first: each moment's event id and state. */
const timelineOf = (page: Page) =>
  Effect.promise(() =>
    page.$$eval("#timeline li", (items) =>
      items
        .reverse()
        .map((li) => ({ id: li.getAttribute("data-id") ?? "", state: li.getAttribute("data-state") ?? "" }))
    )
  )

const currentStates = (page: Page) =>
  Effect.promise(() => page.$$eval("#chart g.state.current", (nodes) => nodes.map((n) => n.getAttribute("data-state"))))

describe("the local state-chart inspector", () => {
  it.effect(
    "Chromium draws every state, highlights active, and follows the licence into suspended",
    () =>
      Effect.gen(function* () {
        const sim = yield* makeSim({ serverSyncInterval: 3600 })
        yield* sim.licensing.activate(sim.license.key)
        const inspector = yield* Inspector.start(sim.licensing)
        yield* Effect.addFinalizer(() => inspector.close)
        const dir = yield* tempDir
        const browser = yield* launchChromium
        const graph = Chart.toGraph()

        const { page, requested, problems } = yield* openPage(browser)
        yield* Effect.promise(() => page.goto(inspector.url))
        yield* Effect.promise(() =>
          page.waitForSelector('#chart g.state.current[data-state="active"]', { timeout: 10_000 })
        )

        const drawn = yield* Effect.promise(() =>
          page.$$eval("#chart g.state", (nodes) => nodes.map((n) => n.getAttribute("data-state") ?? ""))
        )
        assert.deepStrictEqual([...drawn].sort(), [...graph.states].sort())
        const current = yield* Effect.promise(() =>
          page.$$eval("#chart g.state.current", (nodes) => nodes.map((n) => n.getAttribute("data-state")))
        )
        assert.deepStrictEqual(current, ["active"])
        // Every merged edge is drawn, with its label.
        const pairs = new Set(graph.edges.map((e) => `${e.from}>${e.to}`))
        const edgeCount = yield* Effect.promise(() => page.$$eval("#chart g.edge path", (paths) => paths.length))
        const labelCount = yield* Effect.promise(() => page.$$eval("#chart .edge-label", (labels) => labels.length))
        assert.strictEqual(edgeCount, pairs.size)
        assert.strictEqual(labelCount, pairs.size)
        // Nested boxes: no two sibling boxes overlap, and every child's box lies inside its parent's.
        const boxes = yield* Effect.promise(() =>
          page.$$eval("#chart g.state", (nodes) =>
            nodes.map((n) => {
              const b = n.querySelector("rect")!.getBoundingClientRect()
              return { id: n.getAttribute("data-state") ?? "", x: b.x, y: b.y, w: b.width, h: b.height }
            })
          )
        )
        const boxOf = new Map(boxes.map((b) => [b.id, b]))
        const parentOf = new Map(graph.nodes.map((n) => [n.id, n.parent]))
        for (let i = 0; i < boxes.length; i++) {
          for (let j = i + 1; j < boxes.length; j++) {
            const a = boxes[i]!
            const b = boxes[j]!
            if (parentOf.get(a.id) !== parentOf.get(b.id)) continue
            const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
            assert.isFalse(overlap, `sibling state boxes ${a.id} and ${b.id} overlap`)
          }
        }
        let nested = 0
        for (const node of graph.nodes) {
          if (node.parent === undefined) continue
          const child = boxOf.get(node.id)!
          const parent = boxOf.get(node.parent)!
          const inside =
            child.x >= parent.x &&
            child.y >= parent.y &&
            child.x + child.w <= parent.x + parent.w &&
            child.y + child.h <= parent.y + parent.h
          assert.isTrue(inside, `${node.id}'s box is not inside its parent ${node.parent}'s`)
          nested++
        }
        assert.isAbove(nested, 10)
        // The containers of the current state get a highlight of their own: active sits in licensed, standing,
        // activated and ready.
        const ancestors = yield* Effect.promise(() =>
          page.$$eval("#chart g.state.ancestor", (nodes) => nodes.map((n) => n.getAttribute("data-state")))
        )
        assert.sameMembers(ancestors, ["licensed", "standing", "activated", "ready"])
        // Every edge is ELK's route: an orthogonal path (only horizontal and vertical moves between its corners).
        const paths = yield* Effect.promise(() =>
          page.$$eval("#chart g.edge path", (ps) => ps.map((p) => p.getAttribute("d") ?? ""))
        )
        for (const d of paths) assert.match(d, /^M[\d.,-]+( (L[\d.,-]+|Q[\d.,-]+ [\d.,-]+))+$/)
        // Readable labels: with every label shown, no two labels overlap and none covers a state's box.
        yield* Effect.promise(() => page.check("#all-labels"))
        const labels = yield* Effect.promise(() =>
          page.$$eval("#chart .edge-label", (ls) =>
            ls.map((l) => {
              const b = l.getBoundingClientRect()
              return {
                id: `${l.getAttribute("data-from")}>${l.getAttribute("data-to")}`,
                x: b.x,
                y: b.y,
                w: b.width,
                h: b.height
              }
            })
          )
        )
        yield* Effect.promise(() => page.uncheck("#all-labels"))
        const leafBoxes = boxes.filter((b) => graph.leaves.includes(b.id))
        const overlapping = (a: { x: number; y: number; w: number; h: number }, b: typeof a) =>
          a.x < b.x + b.w - 0.5 && b.x < a.x + a.w - 0.5 && a.y < b.y + b.h - 0.5 && b.y < a.y + a.h - 0.5
        for (let i = 0; i < labels.length; i++) {
          assert.isAbove(labels[i]!.w, 0, `label ${labels[i]!.id} is drawn`)
          for (let j = i + 1; j < labels.length; j++) {
            assert.isFalse(overlapping(labels[i]!, labels[j]!), `labels ${labels[i]!.id} and ${labels[j]!.id} overlap`)
          }
          for (const box of leafBoxes) {
            assert.isFalse(overlapping(labels[i]!, box), `label ${labels[i]!.id} covers the state ${box.id}`)
          }
        }

        // The header: each deadline as local time and relative to the licence clock, which is marked virtual.
        assert.include(yield* Effect.promise(() => page.textContent("#clock")), "(virtual time)")
        assert.match((yield* Effect.promise(() => page.textContent("#next-sync"))) ?? "", /\(in \d+ (d|h|min|s)\)$/)
        const grace = (yield* Effect.promise(() => page.textContent("#grace"))) ?? ""
        assert.isTrue(/\(in \d+ (d|h|min|s)\)$/.test(grace) || grace === "no grace deadline", grace)
        assert.include(yield* Effect.promise(() => page.textContent("#lease")), "no lease")
        // The timeline's columns are labelled.
        const head = (yield* Effect.promise(() => page.textContent(".timeline-head"))) ?? ""
        for (const label of ["time (licence clock)", "state", "LexActivator status", "server code"]) {
          assert.include(head, label)
        }

        const firstLine = yield* Effect.promise(() => page.textContent("#timeline li:first-child"))
        assert.include(firstLine, "active")
        assert.include(firstLine, "LA_OK")
        // The timeline shows licence time (the TestClock), not the wall clock.
        assert.include(firstLine, new Date(Start).toISOString().slice(0, 10))

        yield* Effect.promise(() => sim.emulator.updateLicense(sim.license.id, { suspended: true }))
        const view = yield* drive(sim.licensing, Start + 2 * HOUR)
        assert.strictEqual(view.state, "suspended")
        yield* Effect.promise(() =>
          page.waitForSelector('#chart g.state.current[data-state="suspended"]', { timeout: 10_000 })
        )
        const afterSuspend = yield* Effect.promise(() =>
          page.$$eval("#chart g.state.current", (nodes) => nodes.map((n) => n.getAttribute("data-state")))
        )
        assert.deepStrictEqual(afterSuspend, ["suspended"])
        const top = yield* Effect.promise(() => page.textContent("#timeline li:first-child"))
        assert.include(top, "suspended")
        assert.include(top, "LA_SUSPENDED")
        const timeline = yield* Effect.promise(() =>
          page.$$eval("#timeline li", (items) => items.map((li) => li.getAttribute("data-state")))
        )
        // Newest first: the sync that found the suspension passed through renewDue after active.
        assert.strictEqual(timeline[timeline.length - 1], "active")
        assert.include(timeline, "renewDue")
        assert.strictEqual(yield* Effect.promise(() => page.textContent("#current-state")), "suspended")

        // Labels: the current state's ways out (its own edges and those of the states it sits in: SYNC is handled
        // once, on `activated`) are shown, the rest wait for the "all edge labels" switch.
        const nextLabel = '#chart .edge-label[data-from="activated"][data-to="renewDue"]'
        const otherLabel = '#chart .edge-label[data-from="deactivating"][data-to="unactivated"]'
        assert.isTrue(yield* Effect.promise(() => page.isVisible(nextLabel)))
        assert.include(yield* Effect.promise(() => page.textContent(nextLabel)), "SYNC")
        assert.isFalse(yield* Effect.promise(() => page.isVisible(otherLabel)))
        yield* Effect.promise(() => page.check("#all-labels"))
        assert.isTrue(yield* Effect.promise(() => page.isVisible(otherLabel)))
        yield* Effect.promise(() => page.uncheck("#all-labels"))

        const shot = join(dir, "inspector.png")
        yield* Effect.promise(() => page.screenshot({ path: shot, fullPage: true }))
        const png = readFileSync(shot)
        assert.isAbove(png.length, 1000)
        assert.isTrue(png.subarray(0, 8).equals(PngSignature))
        yield* Effect.promise(() => page.screenshot({ path: "/work/inspector.png", fullPage: true }))

        // Offline: everything the page asked for came from the inspector itself.
        const origin = new URL(inspector.url).origin
        assert.isAbove(requested.length, 0)
        for (const url of requested) assert.isTrue(url.startsWith(origin), `the page requested ${url}`)
        assert.deepStrictEqual(problems, [])
      }),
    20_000
  )

  it.effect(
    "the timeline says what caused each moment: the command, the sync timer, the sync's failure, the grace deadline",
    () =>
      Effect.gen(function* () {
        // Hourly syncs and four hours of grace: an outage from the second hour ends the grace within the day.
        const sim = yield* makeSim({ serverSyncInterval: 3600, serverSyncGracePeriod: 4 * 3600 })
        const inspector = yield* Inspector.start(sim.licensing)
        yield* Effect.addFinalizer(() => inspector.close)
        const browser = yield* launchChromium
        const { page, requested, problems } = yield* openPage(browser)
        yield* Effect.promise(() => page.goto(inspector.url))
        yield* Effect.promise(() => page.waitForSelector("#connection.live", { timeout: 10_000 }))

        // Live: everything below happens while the page is open.
        yield* sim.licensing.activate(sim.license.key)
        assert.strictEqual((yield* drive(sim.licensing, Start + HOUR + 1)).state, "active")
        yield* Effect.promise(() => sim.emulator.addFault({ kind: "status", status: 503 }))
        const end = yield* drive(sim.licensing, Start + 12 * HOUR)
        assert.strictEqual(end.state, "graceOver")
        yield* Effect.promise(() =>
          page.waitForSelector('#timeline li:first-child[data-state="graceOver"]', { timeout: 10_000 })
        )
        const rows = yield* Effect.promise(() =>
          page.$$eval("#timeline li", (items) =>
            items.reverse().map((li) => ({
              state: li.getAttribute("data-state") ?? "",
              event: li.querySelector(".event")?.textContent ?? "",
              error: li.querySelector(".error")?.textContent ?? ""
            }))
          )
        )
        const eventOf = (state: string, n = 0) => rows.filter((r) => r.state === state)[n]?.event
        assert.strictEqual(eventOf("activating"), "activate requested")
        assert.strictEqual(eventOf("active"), "activation done")
        assert.strictEqual(eventOf("renewDue"), "sync timer")
        assert.strictEqual(eventOf("active", 1), "sync done")
        // The first sync of the outage: its timer, then its failure with the server's status and the kind.
        const firstGrace = rows.findIndex((r) => r.state === "grace")
        assert.isAbove(firstGrace, 0)
        assert.strictEqual(rows[firstGrace - 1]!.event, "sync timer")
        assert.match(rows[firstGrace]!.event, /^sync failed: ServerFailure: .*503/)
        assert.match(rows[firstGrace]!.error, /^sync: ServerFailure .*503/)
        // Later attempts in the outage are retries.
        assert.include(
          rows.slice(firstGrace).map((r) => r.event),
          "sync timer (retry)"
        )
        // The grace deadline, named as such, on the row that moved into graceOver (syncs go on after it).
        assert.strictEqual(eventOf("graceOver"), "deadline: grace ended")
        assert.strictEqual(rows[rows.findIndex((r) => r.state === "graceOver") - 1]!.state, "grace")
        // What the page shows is what the stream carries, with core's cause beside the words.
        const stream = yield* openEvents(`${inspector.url}events`)
        const ended = yield* Effect.promise(() => stream.until((e) => e.state === "graceOver"))
        assert.strictEqual(ended.event, "deadline: grace ended")
        assert.deepInclude(ended.cause, { type: "timer", timer: "standing" })
        stream.abort()

        yield* Effect.promise(() => page.screenshot({ path: "/work/inspector-events.png", fullPage: true }))
        const origin = new URL(inspector.url).origin
        for (const url of requested) assert.isTrue(url.startsWith(origin), `the page requested ${url}`)
        assert.deepStrictEqual(problems, [])
      }),
    30_000
  )

  it.effect(
    "a page opened late shows the history since the inspector started; a restarted inspector's page reconnects without duplicates",
    () =>
      Effect.gen(function* () {
        const sim = yield* makeSim({ serverSyncInterval: 3600 })
        const inspector = yield* Inspector.start(sim.licensing)
        yield* Effect.addFinalizer(() => inspector.close)
        yield* sim.licensing.activate(sim.license.key)
        const settledView = yield* drive(sim.licensing, Start + 3 * HOUR)
        assert.strictEqual(settledView.state, "active")
        // What the server remembers, read raw; the page must show exactly that.
        const raw = yield* openEvents(`${inspector.url}events`)
        yield* Effect.promise(() => raw.until((e) => e.time === Start + 3 * HOUR && e.state === "active"))
        const before = raw.ids.length
        assert.isAbove(before, 5)

        const browser = yield* launchChromium
        const { page, requested, problems } = yield* openPage(browser)
        yield* Effect.promise(() => page.goto(inspector.url))
        yield* Effect.promise(() =>
          page.waitForFunction((n) => document.querySelectorAll("#timeline li").length === n, before, {
            timeout: 10_000
          })
        )
        const opened = yield* timelineOf(page)
        assert.deepStrictEqual(
          opened.map((m) => m.id),
          raw.ids
        )
        assert.deepStrictEqual(
          opened.map((m) => m.state),
          raw.events.map((e) => e.state)
        )
        // The activation and every hourly sync happened before the page opened.
        const states = opened.map((m) => m.state)
        assert.include(states, "activating")
        assert.isAtLeast(states.filter((st) => st === "renewDue").length, 3)
        assert.deepStrictEqual(yield* currentStates(page), ["active"])

        // The watcher restarts on the same port: the server ends the page's stream, the page says it is
        // reconnecting while nothing answers, then finds the new inspector, keeps its timeline and adds the new
        // server's history without repeating the moment it already shows.
        yield* inspector.close
        yield* Effect.promise(() => page.waitForSelector("#connection.down", { timeout: 10_000 }))
        assert.strictEqual(yield* Effect.promise(() => page.textContent("#connection")), "reconnecting…")
        yield* Effect.promise(() => sim.emulator.updateLicense(sim.license.id, { suspended: true }))
        assert.strictEqual((yield* drive(sim.licensing, Start + 4 * HOUR)).state, "suspended")
        const again = yield* Inspector.start(sim.licensing, { port: Number(new URL(inspector.url).port) })
        yield* Effect.addFinalizer(() => again.close)
        assert.strictEqual(again.url, inspector.url)
        const rawAgain = yield* openEvents(`${again.url}events`)
        yield* Effect.promise(() => rawAgain.until((e) => e.state === "suspended"))
        yield* Effect.promise(() => page.waitForSelector("#connection.live", { timeout: 15_000 }))
        yield* Effect.promise(() =>
          page.waitForSelector('#chart g.state.current[data-state="suspended"]', { timeout: 10_000 })
        )
        const after = yield* timelineOf(page)
        assert.strictEqual(new Set(after.map((m) => m.id)).size, after.length, "a moment shown twice")
        assert.deepStrictEqual(
          after.slice(0, opened.length).map((m) => m.id),
          raw.ids
        )
        assert.deepStrictEqual(
          after.slice(opened.length).map((m) => m.id),
          rawAgain.ids
        )
        assert.strictEqual(after[after.length - 1]!.state, "suspended")
        rawAgain.abort()

        const origin = new URL(inspector.url).origin
        for (const url of requested) assert.isTrue(url.startsWith(origin), `the page requested ${url}`)
        assert.deepStrictEqual(problems, [])
      }),
    30_000
  )

  it.effect("a reconnecting stream gets only what it missed; an id from another server gets the whole history", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 })
      const inspector = yield* Inspector.start(sim.licensing)
      yield* sim.licensing.activate(sim.license.key)
      yield* drive(sim.licensing, Start + 2 * HOUR)
      const all = yield* openEvents(`${inspector.url}events`)
      yield* Effect.promise(() => all.until((e) => e.time === Start + 2 * HOUR && e.state === "active"))
      assert.isAbove(all.ids.length, 4)
      // Ids are `<server>.<sequence>`, the sequence counting up from 1.
      const [server] = all.ids[0]!.split(".")
      assert.deepStrictEqual(
        all.ids,
        all.ids.map((_, i) => `${server}.${i + 1}`)
      )

      const cut = 2
      const resumed = yield* openEvents(`${inspector.url}events`, { "last-event-id": all.ids[cut - 1]! })
      const last = all.ids[all.ids.length - 1]!
      yield* Effect.promise(() => resumed.until(() => resumed.ids.includes(last)))
      assert.deepStrictEqual(resumed.ids, all.ids.slice(cut))

      const foreign = yield* openEvents(`${inspector.url}events`, { "last-event-id": "someotherserver.3" })
      yield* Effect.promise(() => foreign.until(() => foreign.ids.includes(last)))
      assert.deepStrictEqual(foreign.ids, all.ids)
      all.abort()
      resumed.abort()
      foreign.abort()
    })
  )

  it.effect("the history keeps the last HistoryLimit views", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 60 })
      const inspector = yield* Inspector.start(sim.licensing)
      yield* sim.licensing.activate(sim.license.key)
      // A sync a minute: every minute is two moments (renewDue, then active again).
      yield* drive(sim.licensing, Start + (Inspector.HistoryLimit / 2 + 10) * 60_000, undefined, 60_000)
      const stream = yield* openEvents(`${inspector.url}events`)
      const view = yield* sim.licensing.current
      // The last moment (each sync moves the next one): the whole history has arrived, however it was chunked.
      yield* Effect.promise(() =>
        stream.until(
          (e) => e.state === view.state && e.nextSyncAt === view.nextSyncAt && e.time >= Start + 250 * 60_000
        )
      )
      const lastId = stream.ids[stream.ids.length - 1]!
      const lastSequence = Number(lastId.split(".")[1])
      assert.isAbove(lastSequence, Inspector.HistoryLimit)
      assert.strictEqual(stream.ids.length, Inspector.HistoryLimit)
      assert.strictEqual(Number(stream.ids[0]!.split(".")[1]), lastSequence - Inspector.HistoryLimit + 1)
      stream.abort()
    })
  )

  it.effect(
    "replay moves the highlight back through the timeline, holds it while the licence moves on, and live resumes; the export is the chart as shown",
    () =>
      Effect.gen(function* () {
        const sim = yield* makeSim({ serverSyncInterval: 3600 })
        const inspector = yield* Inspector.start(sim.licensing)
        yield* Effect.addFinalizer(() => inspector.close)
        yield* sim.licensing.activate(sim.license.key)
        yield* Effect.promise(() => sim.emulator.updateLicense(sim.license.id, { suspended: true }))
        assert.strictEqual((yield* drive(sim.licensing, Start + 2 * HOUR)).state, "suspended")
        const raw = yield* openEvents(`${inspector.url}events`)
        yield* Effect.promise(() => raw.until((e) => e.state === "suspended"))

        const browser = yield* launchChromium
        const { page, requested, problems } = yield* openPage(browser)
        yield* Effect.promise(() => page.goto(inspector.url))
        yield* Effect.promise(() =>
          page.waitForSelector('#chart g.state.current[data-state="suspended"]', { timeout: 10_000 })
        )
        yield* Effect.promise(() =>
          page.waitForFunction((n) => document.querySelectorAll("#timeline li").length === n, raw.ids.length, {
            timeout: 10_000
          })
        )
        const moments = yield* timelineOf(page)
        const activeAt = moments.findIndex((m) => m.state === "active")
        assert.isAbove(activeAt, 0)
        assert.strictEqual(yield* Effect.promise(() => page.getAttribute("body", "data-mode")), "live")

        // The slider to the moment the licence first became active.
        yield* Effect.promise(() =>
          page.$eval(
            "#replay",
            (input, index) => {
              const range = input as unknown as { value: string; dispatchEvent(event: Event): boolean }
              range.value = String(index)
              range.dispatchEvent(new Event("input", { bubbles: true }))
            },
            activeAt
          )
        )
        assert.deepStrictEqual(yield* currentStates(page), ["active"])
        assert.strictEqual(yield* Effect.promise(() => page.textContent("#current-state")), "active")
        assert.strictEqual(yield* Effect.promise(() => page.getAttribute("body", "data-mode")), "replay")
        assert.strictEqual(
          yield* Effect.promise(() => page.getAttribute("#timeline li.shown", "data-id")),
          moments[activeAt]!.id
        )
        assert.include(yield* Effect.promise(() => page.textContent("#replay-at")), `step ${activeAt + 1} of`)
        // Its containers are highlighted as of that moment too.
        const ancestors = yield* Effect.promise(() =>
          page.$$eval("#chart g.state.ancestor", (nodes) => nodes.map((n) => n.getAttribute("data-state")))
        )
        assert.sameMembers(ancestors, ["licensed", "standing", "activated", "ready"])

        // One step back: the moment before.
        yield* Effect.promise(() => page.click("#replay-back"))
        assert.deepStrictEqual(yield* currentStates(page), [moments[activeAt - 1]!.state])
        yield* Effect.promise(() => page.click("#replay-forward"))
        assert.deepStrictEqual(yield* currentStates(page), ["active"])

        // The export is the chart as shown: a standalone SVG with the replayed state highlighted.
        const [download] = yield* Effect.promise(() =>
          Promise.all([page.waitForEvent("download"), page.click("#export-svg")])
        )
        assert.strictEqual(download.suggestedFilename(), "licensure-chart-active.svg")
        const file = readFileSync(yield* Effect.promise(() => download.path()), "utf8")
        assert.match(file, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
        // Parsed in a blank page: the inspector's own policy (rightly) refuses the file's inline style.
        const blank = yield* Effect.promise(() => browser.newPage())
        const exported = yield* Effect.promise(() =>
          blank.evaluate((text) => {
            const doc = new DOMParser().parseFromString(text, "image/svg+xml")
            return {
              error: doc.getElementsByTagName("parsererror").length,
              current: [...doc.querySelectorAll("g.state.current")].map((g: any) => g.getAttribute("data-state")),
              states: [...doc.querySelectorAll("g.state")].map((g: any) => g.getAttribute("data-state")),
              style: doc.querySelector("style")?.textContent?.includes(".chart .state rect") ?? false
            }
          }, file)
        )
        assert.strictEqual(exported.error, 0)
        assert.deepStrictEqual(exported.current, ["active"])
        assert.sameMembers(exported.states, [...Chart.toGraph().states])
        assert.isTrue(exported.style)

        // The licence moves on while the reader looks at the past: the timeline grows, the chart stays put.
        yield* sim.licensing.deactivate
        yield* Effect.promise(() => raw.until((e) => e.state === "unactivated" && e.time > Start))
        yield* Effect.promise(() =>
          page.waitForFunction((n) => document.querySelectorAll("#timeline li").length === n, raw.ids.length, {
            timeout: 10_000
          })
        )
        assert.deepStrictEqual(yield* currentStates(page), ["active"])
        assert.strictEqual(yield* Effect.promise(() => page.getAttribute("#replay", "max")), String(raw.ids.length - 1))

        // Live again: the chart shows now.
        yield* Effect.promise(() => page.click("#replay-live"))
        assert.deepStrictEqual(yield* currentStates(page), ["unactivated"])
        assert.strictEqual(yield* Effect.promise(() => page.getAttribute("body", "data-mode")), "live")
        assert.strictEqual(yield* Effect.promise(() => page.textContent("#replay-at")), "live")
        assert.strictEqual(yield* Effect.promise(() => page.locator("#timeline li.shown").count()), 0)

        const origin = new URL(inspector.url).origin
        for (const url of requested) assert.isTrue(url.startsWith(origin), `the page requested ${url}`)
        assert.deepStrictEqual(problems, [])
      }),
    30_000
  )

  it.effect("serves the chart, the current view and an event stream that starts with the current view", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 })
      const inspector = yield* Inspector.start(sim.licensing)
      assert.match(inspector.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)

      const chart = yield* request(`${inspector.url}chart.json`)
      assert.strictEqual(chart.status, 200)
      assert.deepStrictEqual(JSON.parse(chart.body), JSON.parse(JSON.stringify(Chart.toGraph())))

      const home = yield* request(inspector.url)
      assert.strictEqual(home.status, 200)
      assert.match(String(home.headers["content-type"]), /^text\/html/)
      assert.include(String(home.headers["content-security-policy"]), "default-src 'none'")
      // Nothing to fetch from elsewhere: no src/href attributes, no CSS imports or remote urls.
      assert.notMatch(home.body, /\b(src|href)\s*=|@import|url\(\s*["']?https?:/)

      const stream = yield* openEvents(`${inspector.url}events`)
      assert.strictEqual(stream.headers["content-type"], "text/event-stream; charset=utf-8")
      // The history starts with what the client was when the inspector started (it may still be loading).
      const first = yield* Effect.promise(() => stream.until(() => true))
      assert.include(["loading", "unactivated"], first.state)
      assert.strictEqual(first.time, Start)
      yield* Effect.promise(() => stream.until((e) => e.state === "unactivated"))

      yield* sim.licensing.activate(sim.license.key)
      const active = yield* Effect.promise(() => stream.until((e) => e.state === "active"))
      assert.isTrue(active.licensed)
      assert.strictEqual(active.status.name, "LA_OK")
      assert.strictEqual(active.license?.key, sim.license.key)
      // One event per change: no two neighbours are the same view.
      for (let i = 1; i < stream.events.length; i++) {
        const { time: _a, ...a } = stream.events[i - 1]!
        const { time: _b, ...b } = stream.events[i]!
        assert.notDeepEqual(a, b)
      }

      const state = yield* request(`${inspector.url}state.json`)
      assert.strictEqual(state.status, 200)
      const body = JSON.parse(state.body) as Inspector.InspectorEvent
      const { time, ...view } = body
      assert.deepStrictEqual(view, JSON.parse(JSON.stringify(yield* sim.licensing.current)))
      assert.strictEqual(time, Start)

      // A client that goes away mid-stream leaves the server working.
      stream.abort()
      yield* Effect.promise(() => stream.ended)
      yield* sim.licensing.deactivate
      const after = yield* request(`${inspector.url}state.json`)
      assert.strictEqual(JSON.parse(after.body).state, "unactivated")
    })
  )

  it.effect("refuses other hosts, unknown paths and other methods, saying what it expected", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim()
      const inspector = yield* Inspector.start(sim.licensing)
      const port = new URL(inspector.url).port

      const rebound = yield* request(`${inspector.url}state.json`, { host: "attacker.example" })
      assert.strictEqual(rebound.status, 403)
      assert.include(rebound.body, `127.0.0.1:${port}`)
      assert.include(rebound.body, "attacker.example")
      assert.notInclude(rebound.body, "unactivated")

      const viaLocalhost = yield* request(`${inspector.url}state.json`, { host: `localhost:${port}` })
      assert.strictEqual(viaLocalhost.status, 200)

      const missing = yield* request(`${inspector.url}nope`)
      assert.strictEqual(missing.status, 404)
      assert.include(missing.body, "/chart.json")

      const unknownState = yield* request(`${inspector.url}chart.svg?state=nope`)
      assert.strictEqual(unknownState.status, 400)
      assert.include(unknownState.body, 'got "nope"')
      assert.include(unknownState.body, "renewDue")
      const svg = yield* request(`${inspector.url}chart.svg?state=grace`)
      assert.strictEqual(svg.status, 200)
      assert.match(String(svg.headers["content-type"]), /^image\/svg\+xml/)
      assert.include(String(svg.headers["content-disposition"]), 'filename="licensure-chart-grace.svg"')
      assert.include(svg.body, 'class="state current" data-state="grace"')
      const layout = yield* request(`${inspector.url}layout.json`)
      assert.strictEqual(layout.status, 200)
      assert.deepStrictEqual(
        (JSON.parse(layout.body) as { nodes: Array<{ id: string }> }).nodes.map((n) => n.id),
        [...Chart.toGraph().states]
      )

      const posted = yield* request(`${inspector.url}state.json`, { method: "POST" })
      assert.strictEqual(posted.status, 405)
      assert.strictEqual(posted.headers.allow, "GET, HEAD")
    })
  )

  it.effect("close ends open event streams and frees the port; a second close is harmless", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim()
      const inspector = yield* Inspector.start(sim.licensing)
      const stream = yield* openEvents(`${inspector.url}events`)
      yield* Effect.promise(() => stream.until(() => true))
      yield* inspector.close
      yield* Effect.promise(() => stream.ended)
      const refused = yield* Effect.promise(() =>
        fetch(`${inspector.url}state.json`).then(
          () => "answered",
          (e: unknown) => String((e as { cause?: { code?: string } }).cause?.code)
        )
      )
      assert.strictEqual(refused, "ECONNREFUSED")
      yield* inspector.close
      // The port is free again: a new inspector can take it.
      const again = yield* Inspector.start(sim.licensing, { port: Number(new URL(inspector.url).port) })
      assert.strictEqual(again.url, inspector.url)
    })
  )

  it.effect("bad options and a taken port fail with a typed error that says what was expected", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim()
      const badPort = yield* Effect.flip(Inspector.start(sim.licensing, { port: 70_000 }))
      assert.strictEqual(badPort._tag, "InspectorError")
      assert.strictEqual(badPort.reason, "badOption")
      assert.include(badPort.message, "expected port to be an integer 0–65535, got 70000")

      const badHost = yield* Effect.flip(Inspector.start(sim.licensing, { host: "0.0.0.0" as "127.0.0.1" }))
      assert.strictEqual(badHost.reason, "badOption")
      assert.include(badHost.message, '"0.0.0.0"')

      const first = yield* Inspector.start(sim.licensing)
      const port = Number(new URL(first.url).port)
      const taken = yield* Effect.flip(Inspector.start(sim.licensing, { port }))
      assert.strictEqual(taken.reason, "listen")
      assert.include(taken.message, `127.0.0.1:${port}`)
      assert.include(taken.message, "EADDRINUSE")
    })
  )
})
