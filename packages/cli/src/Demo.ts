/**
 * The demo behind `pnpm demo`: a year in the life of one licence, in seconds. It serves the emulator over HTTP on
 * 127.0.0.1, creates a product and a licence, and runs a real licensing client against it on Effect's
 * `TestClock` from a fixed date: activation, periodic syncs, a 2-day outage inside the grace period and the
 * recovery, a suspension and the reinstatement, a short renewal that lets the licence expire and a second one that
 * brings it back, an outage longer than the grace period, a revocation, and then a trial that runs out. The client
 * fetches the licence's feature entitlements itself after the activation and every sync (the platform gives it the
 * entitlements call), and the demo reads them through the client (`features`, `feature(name)`): one of them
 * expires while the app runs, and the client's view changes at that second. Beside the machine it shows one call an
 * application makes itself: release-update checks before and after a newer release is published. It prints a timeline (one row per state change and per scripted event, with the
 * requests the emulator has served so far) and a summary, and writes `state-chart.mmd`, `timeline.json` and
 * `summary.json` to the output directory. Everything it opened is closed before {@link runDemo} resolves.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import type { LicenseView } from "@licensure/core"
import * as Chart from "@licensure/core/Chart"
import * as Releases from "@licensure/core/Releases"
import type { LogEntry } from "@licensure/emulator/AdminApi"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import type * as HttpClient from "effect/http/HttpClient"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import { TestClock } from "effect/testing"
import { DAY, HOUR, makeSim, settled } from "@licensure/testing"
import * as InspectionRecord from "./InspectionRecord.ts"
import * as Inspector from "./Inspector.ts"

/** Virtual time starts here, so every run prints the same timeline. */
export const DemoStart = Date.parse("2027-01-01T00:00:00Z")

/**
 * The demo licence syncs every hour, as the issue asks: over real loopback HTTP a year of hourly syncs (about
 * 7,000 round trips, each waited for in real time) measured 23–27 s here on a quiet 2-core machine (30 s beside a
 * CPU hog). Tests pass a longer interval (`syncIntervalHours`) to keep the suite fast.
 */
export const DemoSyncIntervalHours = 1

/** What happens when, in virtual days from {@link DemoStart}. */
export const DemoScript = {
  gracePeriodDays: 7,
  expiresDay: 200,
  firstOutage: { day: 30, days: 2 },
  suspendDay: 90,
  reinstateDay: 97,
  renewDay: 150,
  /** The first renewal is short: the licence runs out on this day, and stays `expired` until renewed again. */
  renewedExpiresDay: 280,
  secondOutage: { day: 200, days: 10 },
  secondRenewDay: 290,
  finalExpiresDay: 400,
  revokeDay: 300,
  /** After the revocation the user starts a trial (the emulator's default: 14 days); it runs out before the end. */
  trialDay: 320,
  endDay: 365,
  /** The licence's `beta-export` feature runs out at the start of this day; `pdf` never does. */
  featureExpiresDay: 60,
  /** Update checks (the app runs {@link DemoReleaseVersion}) before and after the release below. */
  firstUpdateCheckDay: 45,
  releaseDay: 120,
  releaseVersion: "1.1.0"
} as const

/** The release the demo's application runs, on linux, channel stable. */
export const DemoReleaseVersion = "1.0.0"

export interface DemoRow {
  /** Virtual time, ISO-8601. */
  readonly at: string
  /** Virtual time as `day N hh:mm` from the start. */
  readonly day: string
  readonly state: string
  readonly event: string
  /** Requests the emulator had served (its log) when the row was written. */
  readonly requests: number
}

export interface DemoSummary {
  readonly start: string
  readonly virtualDays: number
  readonly syncIntervalHours: number
  readonly gracePeriodDays: number
  /** Successful server syncs (`PATCH /v3/activations/{id}` answered 200). */
  readonly syncs: number
  /** The client's own fetches of the feature entitlements (`GET …/feature-entitlements` answered 200). */
  readonly entitlementFetches: number
  /** Every request the emulator served, failed and dropped ones included. */
  readonly requests: number
  /** Virtual hours spent in each settled state. */
  readonly hoursInState: Readonly<Record<string, number>>
  /** LexActivator statuses the client reported, in order of first appearance. */
  readonly statusesSeen: ReadonlyArray<string>
  /** The settled states in the order the client went through them. */
  readonly states: ReadonlyArray<string>
  /** The licence expiries the client saw, ISO-8601, in order. */
  readonly expiries: ReadonlyArray<string>
  /** LexActivator's status of each update check, in order (31, then 30 once the release is out). */
  readonly updateChecks: ReadonlyArray<string>
  /** The features in force right after activation, and those the client saw expire while it ran. */
  readonly featuresAtStart: ReadonlyArray<string>
  readonly featuresExpired: ReadonlyArray<string>
  /** The stored activation was gone after the revocation (revocation clears it), before the trial began. */
  readonly storeCleared: boolean
  readonly wallSeconds: number
  readonly outDir: string
  readonly files: ReadonlyArray<string>
  /** The rows printed; `summary.json` holds everything else, `timeline.json` these. */
  readonly timeline: ReadonlyArray<DemoRow>
}

export interface DemoOptions {
  /** Where each printed line goes (default `console.log`). */
  readonly write?: ((line: string) => void) | undefined
  /** Where the chart, timeline and summary are written (default `./out/demo`, created when missing). */
  readonly outDir?: string | undefined
  /** The licence's sync interval in hours (default {@link DemoSyncIntervalHours}). */
  readonly syncIntervalHours?: number | undefined
  /** Writes the run as JSON lines of inspection events here (`InspectionRecord`), for `licensure inspect --replay`. */
  readonly record?: string | undefined
  /**
   * Serves the inspector page for the demo's client while the year runs (`url` is told once it listens), and
   * keeps serving it after the year until `until` resolves, so the reader can scrub through it.
   */
  readonly inspect?:
    | {
        readonly port?: number | undefined
        readonly onUrl: (url: string) => void
        readonly until?: Promise<void> | undefined
      }
    | undefined
}

const iso = (ms: number) => new Date(ms).toISOString()
const two = (n: number) => String(n).padStart(2, "0")

const dayLabel = (ms: number) => {
  const offset = ms - DemoStart
  const day = Math.floor(offset / DAY)
  const minutes = Math.floor((offset - day * DAY) / 60_000)
  return `day ${String(day).padStart(3)} ${two(Math.floor(minutes / 60))}:${two(minutes % 60)}`
}

const syncCount = (log: ReadonlyArray<LogEntry>) =>
  log.filter((e) => e.method === "PATCH" && e.path.startsWith("/v3/activations/") && e.status === 200).length

const entitlementFetchCount = (log: ReadonlyArray<LogEntry>) =>
  log.filter((e) => e.method === "GET" && e.path.endsWith("/feature-entitlements") && e.status === 200).length

const failureWords: Readonly<Record<string, string>> = {
  NetworkFailure: "network",
  ServerFailure: "server error",
  RateLimited: "rate limited",
  MalformedResponse: "malformed answer",
  NotFound: "activation not found"
}

const lastSyncDay = (view: LicenseView) =>
  view.license === undefined ? "?" : dayLabel(view.license.lastSyncedAt).slice(4).trim()

/** Says what the client just did, from the view before and the view after a step. */
const describeChange = (before: LicenseView | undefined, view: LicenseView): string => {
  const error = view.lastError
  if (error !== undefined && error !== before?.lastError && error.operation === "sync") {
    if (view.clearedBecause !== undefined) {
      return `sync refused (${error.code ?? error.kind}): activation cleared`
    }
    return `sync failed (${failureWords[error.kind] ?? error.code ?? error.kind})`
  }
  if (view.state === "graceOver") return "grace period over, no sync since day " + lastSyncDay(view)
  if (view.state === "suspended") return "sync: the server says suspended"
  if (view.state === "expired") return "licence expired"
  if (view.state === "trialExpired") return "trial expired"
  if (view.state === "trialActive") {
    const until = view.license?.expiresAt
    return `trial started (until ${until === undefined ? "?" : dayLabel(until)})`
  }
  if (view.state === "active" && before !== undefined) {
    if (before.state === "suspended") return "sync ok: reinstated"
    if (before.state === "expired") return "sync ok: renewed"
    if (before.state === "grace" || before.state === "graceOver") return "sync ok: server reachable again"
  }
  return "now " + view.state
}

/** A fixed-width row: virtual time, state, event, requests so far. */
const formatRow = (row: DemoRow) => `${row.day}  ${row.state.padEnd(12)}  ${row.event.padEnd(64)}  ${row.requests}`

/** Runs the demo; resolves with the summary once the server and the client are closed and the files written. */
export const runDemo = async (options: DemoOptions = {}): Promise<DemoSummary> => {
  const write = options.write ?? ((line: string) => console.log(line))
  const outDir = NodePath.resolve(options.outDir ?? NodePath.join("out", "demo"))
  const wallStart = performance.now()
  const script = DemoScript
  const intervalHours = options.syncIntervalHours ?? DemoSyncIntervalHours
  const ssi = intervalHours * 3600

  const program = Effect.gen(function* () {
    const sim = yield* makeSim(
      {
        serverSyncInterval: ssi,
        serverSyncGracePeriod: script.gracePeriodDays * 86_400,
        expiresAt: iso(DemoStart + script.expiresDay * DAY),
        featureEntitlements: [
          { featureName: "pdf", featureDisplayName: "Export to PDF", value: "on" },
          {
            featureName: "beta-export",
            featureDisplayName: "Beta export",
            value: "on",
            expiresAt: iso(DemoStart + script.featureExpiresDay * DAY)
          }
        ]
      },
      {},
      undefined,
      // The client fetches the entitlements itself, after the activation and every sync, as NodeLicensing's does.
      { start: DemoStart, transport: "loopback", entitlements: true }
    )
    const { emulator, licensing } = sim
    const at = (day: number) => DemoStart + day * DAY
    const recorder =
      options.record === undefined
        ? undefined
        : yield* InspectionRecord.record(options.record, licensing, { virtual: true }).pipe(Effect.orDie)
    if (options.inspect !== undefined) {
      // Its times are the demo's TestClock (licence time), marked virtual on the page.
      const inspector = yield* Inspector.start(licensing, { port: options.inspect.port, virtual: true }).pipe(
        Effect.orDie
      )
      options.inspect.onUrl(inspector.url)
    }

    write(`licensure demo: one licence, ${script.endDay} virtual days from ${iso(DemoStart)}`)
    write(
      `emulator on ${emulator.url}; the client syncs every ${intervalHours === 1 ? "hour" : `${intervalHours} hours`} over ` +
        `loopback HTTP; grace ${script.gracePeriodDays} days`
    )
    write("")
    write(`${"virtual time".padEnd(13)}  ${"state".padEnd(12)}  ${"event".padEnd(64)}  requests`)

    const rows: Array<DemoRow> = []
    const states: Array<string> = []
    const statuses: Array<string> = []
    const expiries: Array<number> = []
    const hours: Record<string, number> = {}
    const featuresExpired: Array<string> = []
    let last: { view: LicenseView; now: number } | undefined

    const requestsSoFar = Effect.promise(() => emulator.log()).pipe(Effect.map((log) => log.length))
    /** A printed row; a scripted one (not a state change, which the recording has already) is recorded too. */
    const row = (now: number, state: string, event: string, scripted = true) =>
      Effect.gen(function* () {
        const r: DemoRow = { at: iso(now), day: dayLabel(now), state, event, requests: yield* requestsSoFar }
        rows.push(r)
        write(formatRow(r))
        if (recorder !== undefined && scripted) yield* recorder.note(event)
      })

    /** Books the time since the last observation to the state the client was in, and prints what changed. */
    const observe = (view: LicenseView, now: number) =>
      Effect.gen(function* () {
        if (last !== undefined) hours[last.view.state] = (hours[last.view.state] ?? 0) + (now - last.now) / HOUR
        if (!statuses.includes(view.status.name)) statuses.push(view.status.name)
        // The licence's expiries; a trial's is its own (shown when it starts).
        const expiry = view.license?.kind === "activation" ? view.license.expiresAt : undefined
        const before = last?.view
        if (before === undefined || before.state !== view.state) {
          states.push(view.state)
          if (before !== undefined) yield* row(now, view.state, describeChange(before, view), false)
        }
        if (expiry !== undefined && expiries[expiries.length - 1] !== expiry) {
          if (expiries.length > 0) yield* row(now, view.state, `sync: expiry moved to ${dayLabel(expiry)}`)
          expiries.push(expiry)
        }
        // A feature the client's view no longer offers: asked by name, the client says whether it ran out (a
        // cleared activation takes its features with it, which is not an expiry).
        for (const gone of (before?.features ?? []).filter((f) => !view.features.some((g) => g.name === f.name))) {
          const lookup = yield* licensing.feature(gone.name)
          if (lookup._tag !== "Expired") continue
          featuresExpired.push(gone.name)
          yield* row(now, view.state, `feature ${gone.name} expired (${lookup.status.name})`)
        }
        last = { view, now }
      })

    /** Moves virtual time to `until`, stepping from deadline to deadline and observing every settled view. */
    const runTo = (until: number) =>
      Effect.gen(function* () {
        let view = yield* settled(licensing)
        let now = yield* Clock.currentTimeMillis
        yield* observe(view, now)
        while (now < until) {
          const deadline = view.nextDeadline
          // The machine's own wake timer re-arms at most hourly; TestClock fires those on the way to the target.
          const target = Math.min(until, deadline !== undefined && deadline > now ? deadline : until)
          yield* TestClock.adjust(Math.max(1, target - now))
          view = yield* settled(licensing)
          now = yield* Clock.currentTimeMillis
          yield* observe(view, now)
        }
      })

    const activated = yield* licensing.activate(sim.license.key).pipe(Effect.orDie)
    yield* row(DemoStart, activated.state, `activate (licence expires ${dayLabel(at(script.expiresDay))})`)
    yield* observe(activated, DemoStart)

    // The features the client fetched right after the activation, as the app reads them: offline, from the client.
    const featuresAtStart = (yield* licensing.features).map((f) => f.name)
    const expiring = (yield* licensing.features).find((f) => f.expiresAt !== undefined)
    yield* row(
      DemoStart,
      activated.state,
      `features: ${featuresAtStart.join(", ")}` +
        (expiring === undefined ? "" : ` (${expiring.name} until ${dayLabel(expiring.expiresAt! * 1000)})`)
    )

    // The one call beside the machine, as an application makes it: over HTTP to the same emulator.
    const http = <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient>) =>
      Effect.provide(effect, FetchHttpClient.layer)

    const updateChecks: Array<string> = []
    const checkForUpdate = (day: number) =>
      Effect.gen(function* () {
        yield* runTo(at(day))
        const update = yield* http(
          Effect.flatMap(Releases.Releases.make({ host: emulator.url }), (releases) =>
            releases.checkForUpdate({
              productId: sim.productId,
              key: sim.license.key,
              version: DemoReleaseVersion,
              platform: "linux",
              channel: "stable"
            })
          )
        ).pipe(Effect.orDie)
        updateChecks.push(update.status.name)
        const found = update._tag === "NotAvailable" ? "none newer" : `${update.release.version} available`
        yield* row(yield* Clock.currentTimeMillis, last!.view.state, `update check: ${found} (${update.status.name})`)
      })

    const outage = (o: { readonly day: number; readonly days: number }) =>
      Effect.gen(function* () {
        yield* runTo(at(o.day))
        const now = yield* Clock.currentTimeMillis
        yield* Effect.promise(() => emulator.addFault({ kind: "drop", from: now, until: at(o.day + o.days) }))
        yield* row(now, last!.view.state, `fault: network outage for ${o.days} days`)
      })
    const admin = (day: number, event: string, patch: Parameters<typeof emulator.updateLicense>[1]) =>
      Effect.gen(function* () {
        yield* runTo(at(day))
        yield* Effect.promise(() => emulator.updateLicense(sim.license.id, patch))
        yield* row(yield* Clock.currentTimeMillis, last!.view.state, event)
      })

    yield* outage(script.firstOutage)
    yield* checkForUpdate(script.firstUpdateCheckDay)
    yield* admin(script.suspendDay, "admin: suspend", { suspended: true })
    yield* admin(script.reinstateDay, "admin: reinstate", { suspended: false })
    yield* runTo(at(script.releaseDay))
    yield* Effect.promise(() =>
      emulator.createRelease({
        productId: sim.productId,
        version: script.releaseVersion,
        platforms: ["linux"],
        files: [{ name: "app-1.1.0.tar.gz", content: "the new build" }]
      })
    )
    yield* row(yield* Clock.currentTimeMillis, last!.view.state, `admin: publish release ${script.releaseVersion}`)
    yield* checkForUpdate(script.releaseDay)
    yield* admin(script.renewDay, `admin: renew until ${dayLabel(at(script.renewedExpiresDay))}`, {
      expiresAt: iso(at(script.renewedExpiresDay))
    })
    yield* outage(script.secondOutage)
    yield* admin(script.secondRenewDay, `admin: renew until ${dayLabel(at(script.finalExpiresDay))}`, {
      expiresAt: iso(at(script.finalExpiresDay))
    })
    yield* admin(script.revokeDay, "admin: revoke", { revoked: true })
    yield* runTo(at(script.trialDay))
    yield* licensing.flush
    const storeCleared = Option.isNone(yield* sim.store.load)
    if (recorder !== undefined) yield* recorder.note("user: start a trial")
    yield* observe(yield* licensing.activateTrial.pipe(Effect.orDie), yield* Clock.currentTimeMillis)
    yield* runTo(at(script.endDay))
    const end = yield* Clock.currentTimeMillis
    yield* row(end, last!.view.state, "end")
    if (recorder !== undefined) yield* recorder.finish.pipe(Effect.orDie)
    if (options.inspect?.until !== undefined) yield* Effect.promise(() => options.inspect!.until!)
    const log = yield* Effect.promise(() => emulator.log())
    return {
      rows,
      states,
      statuses,
      expiries,
      hours,
      storeCleared,
      log,
      end,
      updateChecks,
      featuresAtStart,
      featuresExpired
    }
  })

  const result = await Effect.runPromise(
    program.pipe(Effect.scoped, Effect.provide(TestClock.layer()), Random.withSeed("licensure-demo"))
  )
  const wallSeconds = Math.round((performance.now() - wallStart) / 100) / 10

  NodeFs.mkdirSync(outDir, { recursive: true })
  const files = ["state-chart.mmd", "timeline.json", "summary.json"].map((name) => NodePath.join(outDir, name))
  const summary: DemoSummary = {
    start: iso(DemoStart),
    virtualDays: (result.end - DemoStart) / DAY,
    syncIntervalHours: intervalHours,
    gracePeriodDays: script.gracePeriodDays,
    syncs: syncCount(result.log),
    entitlementFetches: entitlementFetchCount(result.log),
    requests: result.log.length,
    hoursInState: Object.fromEntries(Object.entries(result.hours).map(([s, h]) => [s, Math.round(h * 100) / 100])),
    statusesSeen: result.statuses,
    states: result.states,
    expiries: result.expiries.map(iso),
    updateChecks: result.updateChecks,
    featuresAtStart: result.featuresAtStart,
    featuresExpired: result.featuresExpired,
    storeCleared: result.storeCleared,
    wallSeconds,
    outDir,
    files,
    timeline: result.rows
  }
  const { timeline, ...rest } = summary
  NodeFs.writeFileSync(files[0]!, Chart.toMermaid() + "\n")
  NodeFs.writeFileSync(files[1]!, JSON.stringify(timeline, null, 2) + "\n")
  NodeFs.writeFileSync(files[2]!, JSON.stringify(rest, null, 2) + "\n")

  write("")
  write(`virtual days      ${summary.virtualDays}`)
  write(`syncs             ${summary.syncs} (every ${summary.syncIntervalHours} h while the server was reachable)`)
  write(`requests          ${summary.requests}`)
  write(
    `hours in state    ${Object.entries(summary.hoursInState)
      .map(([s, h]) => `${s} ${h}`)
      .join(", ")}`
  )
  write(`statuses seen     ${summary.statusesSeen.join(", ")}`)
  write(`expiries seen     ${summary.expiries.join(" → ")}`)
  write(`update checks     ${summary.updateChecks.join(" → ")}`)
  write(
    `features          ${summary.featuresAtStart.join(", ")}; expired by the end: ${summary.featuresExpired.join(", ")}`
  )
  write(`wall clock        ${wallSeconds} s`)
  write(`wrote             ${files.join(", ")}`)
  return summary
}
