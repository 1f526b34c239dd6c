import * as NodeFs from "node:fs"
import * as Http from "node:http"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as Chart from "@licensure/core/Chart"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as InspectionRecord from "../src/InspectionRecord.ts"
import { type DemoRow, DemoScript, DemoStart, type DemoSummary, runDemo } from "../src/Demo.ts"

/** Six-hourly here to keep the suite fast; the README's demo syncs hourly (the default). */
const DemoSyncIntervalHours = 6

const HOUR = 3_600_000
const DAY = 24 * HOUR
const at = (day: number) => DemoStart + day * DAY
const interval = DemoSyncIntervalHours * HOUR
/** A sync that follows an event comes within one interval, plus the retries and nudges of a failing attempt. */
const slack = interval + 10 * 60_000

let outDir = ""
let lines: Array<string> = []
let summary: DemoSummary

beforeAll(async () => {
  outDir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "licensure-demo-"))
  lines = []
  summary = await runDemo({
    write: (line) => lines.push(line),
    outDir,
    syncIntervalHours: DemoSyncIntervalHours,
    record: NodePath.join(outDir, "run.jsonl")
  })
})

afterAll(() => {
  if (outDir !== "") NodeFs.rmSync(outDir, { recursive: true, force: true })
})

/** The first row at or after `from` whose state (or event) matches. */
const firstRow = (predicate: (row: DemoRow) => boolean, from = DemoStart): DemoRow => {
  const row = summary.timeline.find((r) => Date.parse(r.at) >= from && predicate(r))
  assert.isDefined(row, "expected a matching timeline row")
  return row!
}
const time = (row: DemoRow) => Date.parse(row.at)

describe("the demo: a year of one licence against the emulator on loopback", () => {
  it("goes through the whole story, in order", () => {
    assert.deepStrictEqual(summary.states, [
      "active",
      "grace",
      "active",
      "suspended",
      "active",
      "grace",
      "graceOver",
      "active",
      "expired",
      "active",
      "revoked",
      "trialActive",
      "trialExpired"
    ])
    assert.strictEqual(summary.virtualDays, DemoScript.endDay)
    assert.strictEqual(summary.timeline[summary.timeline.length - 1]!.state, "trialExpired")
    assert.isTrue(summary.storeCleared)
    for (const status of [
      "LA_OK",
      "LA_SUSPENDED",
      "LA_GRACE_PERIOD_OVER",
      "LA_EXPIRED",
      "LA_E_REVOKED",
      "LA_TRIAL_EXPIRED"
    ]) {
      assert.include(summary.statusesSeen, status)
    }
  })

  it("passes through every settled state the design names for a licence and a trial, expired included", () => {
    // DESIGN.md: active, renewDue (syncing), grace, expired, suspended, revoked, and trials of the same shape;
    // the machine's own names for the settled ones (graceOver is grace run out).
    for (const state of [
      "active",
      "grace",
      "graceOver",
      "expired",
      "suspended",
      "revoked",
      "trialActive",
      "trialExpired"
    ]) {
      assert.include(summary.states, state)
      assert.isAbove(summary.hoursInState[state] ?? 0, 0, `time spent in ${state}`)
    }
    const expired = firstRow((r) => r.state === "expired")
    assert.strictEqual(time(expired), at(DemoScript.renewedExpiresDay) + 1000)
    assert.strictEqual(expired.event, "licence expired")
    const renewed = firstRow((r) => r.state === "active", time(expired))
    assert.isAtLeast(time(renewed), at(DemoScript.secondRenewDay))
    assert.isBelow(time(renewed), at(DemoScript.secondRenewDay) + slack)
    assert.strictEqual(renewed.event, "sync ok: renewed")
    const trial = firstRow((r) => r.state === "trialActive")
    assert.strictEqual(time(trial), at(DemoScript.trialDay))
    assert.match(trial.event, /^trial started \(until day 334 00:00\)$/)
    const trialOver = firstRow((r) => r.state === "trialExpired")
    // The emulator's default trial: 14 days.
    assert.strictEqual(time(trialOver), at(DemoScript.trialDay + 14) + 1000)
  })

  it("turns each scripted event into the state change it causes, at the next sync or deadline", () => {
    const o1 = DemoScript.firstOutage
    const grace1 = firstRow((r) => r.state === "grace", at(o1.day))
    assert.isAtLeast(time(grace1), at(o1.day))
    assert.isBelow(time(grace1), at(o1.day) + slack)
    assert.strictEqual(grace1.event, "sync failed (network)")
    const back1 = firstRow((r) => r.state === "active", time(grace1))
    assert.isAtLeast(time(back1), at(o1.day + o1.days))
    assert.isBelow(time(back1), at(o1.day + o1.days) + slack)

    const suspended = firstRow((r) => r.state === "suspended")
    assert.isAtLeast(time(suspended), at(DemoScript.suspendDay))
    assert.isBelow(time(suspended), at(DemoScript.suspendDay) + slack)
    const reinstated = firstRow((r) => r.state === "active", time(suspended))
    assert.isAtLeast(time(reinstated), at(DemoScript.reinstateDay))
    assert.isBelow(time(reinstated), at(DemoScript.reinstateDay) + slack)

    const o2 = DemoScript.secondOutage
    const grace2 = firstRow((r) => r.state === "grace", at(o2.day))
    assert.isBelow(time(grace2), at(o2.day) + slack)
    const over = firstRow((r) => r.state === "graceOver")
    // Grace runs out a grace period after the last good sync, which came at most one interval before the outage.
    assert.isAtLeast(time(over), at(o2.day + DemoScript.gracePeriodDays) - interval)
    assert.isBelow(time(over), at(o2.day + DemoScript.gracePeriodDays) + 1000)
    const back2 = firstRow((r) => r.state === "active", time(over))
    assert.isAtLeast(time(back2), at(o2.day + o2.days))
    assert.isBelow(time(back2), at(o2.day + o2.days) + slack)

    const revoked = firstRow((r) => r.state === "revoked")
    assert.isAtLeast(time(revoked), at(DemoScript.revokeDay))
    assert.isBelow(time(revoked), at(DemoScript.revokeDay) + slack)
    assert.match(revoked.event, /REVOKED_LICENSE/)
  })

  it("shows each renewal as a new expiry at the first sync after it", () => {
    assert.deepStrictEqual(summary.expiries, [
      new Date(at(DemoScript.expiresDay)).toISOString(),
      new Date(at(DemoScript.renewedExpiresDay)).toISOString(),
      new Date(at(DemoScript.finalExpiresDay)).toISOString()
    ])
    const moved = firstRow((r) => r.event.startsWith("sync: expiry moved"))
    assert.isAtLeast(time(moved), at(DemoScript.renewDay))
    assert.isBelow(time(moved), at(DemoScript.renewDay) + slack)
    const again = firstRow((r) => r.event.startsWith("sync: expiry moved"), time(moved) + 1)
    assert.isAtLeast(time(again), at(DemoScript.secondRenewDay))
    assert.isBelow(time(again), at(DemoScript.secondRenewDay) + slack)
  })

  it("shows a feature entitlement expiring at its instant, from the set the client itself fetched and keeps", () => {
    assert.deepStrictEqual(summary.featuresAtStart, ["pdf", "beta-export"])
    assert.deepStrictEqual(summary.featuresExpired, ["beta-export"])
    const listed = firstRow((r) => r.event.startsWith("features: "))
    assert.strictEqual(time(listed), DemoStart)
    assert.include(listed.event, `beta-export until day  ${DemoScript.featureExpiresDay} 00:00`)
    const expired = firstRow((r) => r.event.startsWith("feature beta-export"))
    assert.strictEqual(expired.event, "feature beta-export expired (LA_E_FEATURE_ENTITLEMENT_NOT_FOUND)")
    // In force through the second its expiresAt names, expired from the next one.
    assert.strictEqual(time(expired), at(DemoScript.featureExpiresDay) + 1000)
    assert.strictEqual(expired.state, "active", "the licence itself stays licensed")
  })

  it("shows an update becoming available: none before the release is published, the new version after", () => {
    assert.deepStrictEqual(summary.updateChecks, ["LA_RELEASE_UPDATE_NOT_AVAILABLE", "LA_RELEASE_UPDATE_AVAILABLE"])
    const before = firstRow((r) => r.event.startsWith("update check"))
    assert.strictEqual(time(before), at(DemoScript.firstUpdateCheckDay))
    assert.strictEqual(before.event, "update check: none newer (LA_RELEASE_UPDATE_NOT_AVAILABLE)")
    const published = firstRow((r) => r.event === `admin: publish release ${DemoScript.releaseVersion}`)
    assert.strictEqual(time(published), at(DemoScript.releaseDay))
    const after = firstRow((r) => r.event.startsWith("update check"), time(before) + 1)
    assert.strictEqual(
      after.event,
      `update check: ${DemoScript.releaseVersion} available (LA_RELEASE_UPDATE_AVAILABLE)`
    )
    assert.isAbove(summary.timeline.indexOf(after), summary.timeline.indexOf(published))
    assert.isTrue(lines.some((l) => l.startsWith("update checks") && l.includes("LA_RELEASE_UPDATE_AVAILABLE")))
    assert.isTrue(lines.some((l) => l.startsWith("features") && l.includes("expired by the end: beta-export")))
  })

  it("syncs once per interval while the server answers, and counts every request", () => {
    const reachableDays = DemoScript.revokeDay - DemoScript.firstOutage.days - DemoScript.secondOutage.days
    const expected = (reachableDays * 24) / DemoSyncIntervalHours
    assert.isAtLeast(summary.syncs, expected - 1)
    assert.isAtMost(summary.syncs, expected + 1)
    // The client fetches the entitlements after the activation and after every good sync of the licence.
    assert.strictEqual(summary.entitlementFetches, summary.syncs + 1)
    // Failed attempts (dropped, retried), the activation, the refused sync and the entitlement fetches count too.
    assert.isAbove(summary.requests, summary.syncs + summary.entitlementFetches + 2)
    const counts = summary.timeline.map((r) => r.requests)
    for (let i = 1; i < counts.length; i++) assert.isAtLeast(counts[i]!, counts[i - 1]!)
    // The first row (the activation) already counts the entitlements fetched right after it.
    assert.strictEqual(counts[0], 2)
    assert.strictEqual(counts[counts.length - 1], summary.requests)
  })

  it("books every virtual hour to a state", () => {
    const hours = summary.hoursInState
    const total = Object.values(hours).reduce((a, b) => a + b, 0)
    assert.closeTo(total, DemoScript.endDay * 24, 0.1)
    const ih = DemoSyncIntervalHours
    assert.closeTo(hours["suspended"]!, (DemoScript.reinstateDay - DemoScript.suspendDay) * 24, ih)
    const overHours = (DemoScript.secondOutage.days - DemoScript.gracePeriodDays) * 24
    assert.isAtLeast(hours["graceOver"]!, overHours)
    assert.isAtMost(hours["graceOver"]!, overHours + 2 * ih)
    assert.closeTo(hours["revoked"]!, (DemoScript.trialDay - DemoScript.revokeDay) * 24, ih)
    assert.closeTo(hours["expired"]!, (DemoScript.secondRenewDay - DemoScript.renewedExpiresDay) * 24, ih)
    assert.strictEqual(hours["trialActive"], 14 * 24)
  })

  it("prints a header, one line per timeline row and a summary", () => {
    assert.match(lines[1]!, new RegExp(`every ${DemoSyncIntervalHours} hours`))
    const header = lines.findIndex((l) => l.startsWith("virtual time"))
    assert.isAtLeast(header, 0)
    const printed = lines.slice(header + 1, header + 1 + summary.timeline.length)
    summary.timeline.forEach((row, i) => {
      assert.isTrue(printed[i]!.startsWith(row.day), `line ${i} starts with ${row.day}`)
      assert.include(printed[i]!, row.event)
      assert.isTrue(printed[i]!.trimEnd().endsWith(String(row.requests)))
    })
    assert.isTrue(lines.some((l) => l.startsWith("syncs") && l.includes(String(summary.syncs))))
    assert.isTrue(lines.some((l) => l.startsWith("statuses seen") && l.includes("LA_E_REVOKED")))
  })

  it("writes the state chart, the timeline and the summary next to each other", () => {
    const chart = NodeFs.readFileSync(NodePath.join(outDir, "state-chart.mmd"), "utf8")
    assert.isTrue(chart.startsWith("stateDiagram-v2"))
    assert.strictEqual(chart.trimEnd(), Chart.toMermaid())
    const timeline = JSON.parse(NodeFs.readFileSync(NodePath.join(outDir, "timeline.json"), "utf8"))
    assert.deepStrictEqual(timeline, summary.timeline)
    const written = JSON.parse(NodeFs.readFileSync(NodePath.join(outDir, "summary.json"), "utf8"))
    assert.strictEqual(written.syncs, summary.syncs)
    assert.deepStrictEqual(written.states, summary.states)
    assert.notProperty(written, "timeline")
  })

  it("records the run as JSON lines of inspection events in virtual time, for replay", async () => {
    const events = await Effect.runPromise(InspectionRecord.read(NodePath.join(outDir, "run.jsonl")))
    for (const event of events) {
      assert.isTrue(event.virtual, "every time is marked virtual")
      assert.isTrue(event.settled)
      assert.isAtLeast(event.time, DemoStart)
      assert.isAtMost(event.time, at(DemoScript.endDay))
    }
    for (let i = 1; i < events.length; i++) assert.isAtLeast(events[i]!.time, events[i - 1]!.time)
    // The states, in order, are the demo's.
    const states = events.map((e) => e.state).filter((state, i, all) => i === 0 || all[i - 1] !== state)
    assert.deepStrictEqual(states, summary.states)
    // Scripted steps are events of their own, at their time, beside the state changes they cause.
    const suspend = events.find((e) => e.event === "admin: suspend")
    assert.strictEqual(suspend?.time, at(DemoScript.suspendDay))
    assert.strictEqual(suspend?.state, "active")
    // The feature's expiry is the client's own view changing at that second: the recorded view has lost it.
    const featureGone = events.find(
      (e) => e.event === "feature beta-export expired (LA_E_FEATURE_ENTITLEMENT_NOT_FOUND)"
    )
    assert.strictEqual(featureGone?.time, at(DemoScript.featureExpiresDay) + 1000)
    assert.deepStrictEqual(
      featureGone?.features.map((f) => f.name),
      ["pdf"]
    )
    const revoked = events.find((e) => e.state === "revoked")
    assert.strictEqual(revoked?.lastError?.code, "REVOKED_LICENSE")
    assert.isBelow(events.length, 100, "a moment per change, not one per sync")
    // Every change the machine made carries what led to it, with core's cause of the last step.
    const graceOver = events.find((e) => e.state === "graceOver")
    assert.strictEqual(graceOver?.event, "deadline: grace ended")
    assert.deepInclude(graceOver?.cause, { type: "timer", timer: "standing" })
    assert.match(revoked?.event ?? "", /^sync timer → sync failed: REVOKED_LICENSE: /)
    assert.deepInclude(revoked?.cause, { type: "operation", operation: "sync", outcome: "failed" })
  })

  it("refuses a recorded line whose event or cause is not what the timeline prints", async () => {
    const base = '{"state":"active","time":1,"status":{"name":"LA_OK","code":0},"licensed":true,"settled":true'
    for (const [field, expected] of [
      ['"event":42', /run-bad\.jsonl:1: expected an inspection event \(a string "event"/],
      ['"cause":"sync"', /run-bad\.jsonl:1: expected an inspection event \(a "cause" object with a string type/]
    ] as const) {
      const path = NodePath.join(outDir, "run-bad.jsonl")
      NodeFs.writeFileSync(path, `${base},${field}}\n`)
      const exit = await Effect.runPromise(Effect.exit(InspectionRecord.read(path)))
      assert.isTrue(exit._tag === "Failure", `${field} was accepted`)
      assert.match(String(exit._tag === "Failure" ? exit.cause : ""), expected)
    }
    const good = NodePath.join(outDir, "run-good.jsonl")
    NodeFs.writeFileSync(
      good,
      `${base},"event":"sync timer","cause":{"type":"timer","event":"WAKE","timer":"syncWake"}}\n`
    )
    const [event] = await Effect.runPromise(InspectionRecord.read(good))
    assert.strictEqual(event?.event, "sync timer")
  })

  it("closes the emulator before it resolves", async () => {
    const url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(lines[1]!)?.[1]
    assert.isDefined(url)
    let refused = false
    try {
      await fetch(`${url}/__admin/log`)
    } catch {
      refused = true
    }
    assert.isTrue(refused, "the emulator's port still answers")
  })
})

describe("the demo with the inspector (licensure demo --inspect)", () => {
  it("serves the year live: the page's event stream follows the demo's client in virtual time, and stays up until told", async () => {
    const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "licensure-demo-inspect-"))
    let release: () => void = () => {}
    const until = new Promise<void>((resolve) => {
      release = resolve
    })
    const seen: Array<{ state: string; virtual?: boolean; time: number }> = []
    let streamed: Promise<void> | undefined
    let url: string | undefined
    let served: () => void = () => {}
    const listening = new Promise<void>((resolve) => {
      served = resolve
    })
    try {
      const done = runDemo({
        write: () => {},
        outDir: dir,
        syncIntervalHours: 24,
        inspect: {
          onUrl: (at) => {
            url = at
            // Opened while the year runs, as a reader would, and read until the trial has run out.
            streamed = new Promise<void>((resolve, reject) => {
              const req = Http.get(new URL("events", at), (res) => {
                let buffer = ""
                res.setEncoding("utf8")
                res.on("data", (chunk: string) => {
                  buffer += chunk
                  let cut = buffer.indexOf("\n\n")
                  while (cut >= 0) {
                    const data = buffer
                      .slice(0, cut)
                      .split("\n")
                      .find((l) => l.startsWith("data: "))
                    buffer = buffer.slice(cut + 2)
                    if (data !== undefined) seen.push(JSON.parse(data.slice("data: ".length)))
                    cut = buffer.indexOf("\n\n")
                  }
                  if (seen.some((e) => e.state === "trialExpired")) {
                    req.destroy()
                    resolve()
                  }
                })
              })
              req.on("error", reject)
            })
            served()
          },
          until
        }
      })
      await listening
      // The year ends, and the page is still served: the demo waits for `until`.
      const finishedEarly = await Promise.race([done.then(() => true), streamed!.then(() => false)])
      assert.isFalse(finishedEarly)
      assert.isDefined(url)
      assert.strictEqual((await fetch(new URL("state.json", url))).status, 200)
      release()
      await done
    } finally {
      release()
      NodeFs.rmSync(dir, { recursive: true, force: true })
    }
    const states = seen.map((e) => e.state)
    for (const state of ["active", "suspended", "graceOver", "expired", "revoked", "trialActive", "trialExpired"]) {
      assert.include(states, state)
    }
    for (const event of seen) assert.isTrue(event.virtual)
    assert.isAtLeast(seen[seen.length - 1]!.time, at(DemoScript.trialDay))
  }, 60_000)
})
