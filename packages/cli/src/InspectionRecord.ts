/**
 * A run written down as the inspector sees it, for replay: JSON lines, one {@link Inspector.InspectorEvent} per
 * line (a view, the time it was seen, `virtual` when that time is a simulation's, and the `event` that happened:
 * the machine events that led to it in words, `sync timer → sync failed: …`, or a scripted step of the demo; and
 * `cause`, core's cause of the last of those events). `licensure demo --record FILE` writes one; `licensure
 * inspect --replay FILE` serves it to the inspector page, which plays it with its scrubber.
 *
 * DECISION: a recording keeps a settled view when something the timeline shows changed (state, LexActivator
 * status, licensed, last error, why the record was cleared), not every distinct view the live stream carries: a
 * year of hourly syncs is 8,760 `renewDue` → `active` round trips whose views differ only in their sync times
 * (measured: 2,425 lines, 2.3 MB for six-hourly syncs), while what a reader scrubs through is the few dozen
 * moments where the licence changed. The page's timeline holds 500 moments.
 *
 * @since 0.4.0
 */
import * as NodeFs from "node:fs"
import type { LicenseCause, LicenseView, Licensing } from "@licensure/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { InspectorEvent } from "./Inspector.ts"
import * as LifecycleEvent from "./LifecycleEvent.ts"

export class InspectionRecordError extends Schema.TaggedError<InspectionRecordError>()("InspectionRecordError", {
  reason: Schema.Literals(["read", "write", "parse", "empty"]),
  message: Schema.String
}) {}

export interface Recorder {
  /** Writes the current view again with `event` (a scripted step: `admin: suspend`), at the clock's time. */
  readonly note: (event: string) => Effect.Effect<void>
  /** Lands nothing more; fails with the first write that failed, if one did. */
  readonly finish: Effect.Effect<void, InspectionRecordError>
}

/** What a reader of the timeline would see change; views equal in it are one moment. */
const shownKey = (view: LicenseView) =>
  JSON.stringify([view.state, view.status, view.licensed, view.lastError ?? null, view.clearedBecause ?? null])

const errorText = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause))

/**
 * Records `licensing`'s changes to `path` (replacing what was there) until the scope closes. Times come from the
 * `Clock` (so under a `TestClock` they are licence time; `virtual` marks them so).
 */
export const record = (
  path: string,
  licensing: Licensing["Service"],
  options: { readonly virtual?: boolean | undefined } = {}
): Effect.Effect<Recorder, InspectionRecordError, Scope.Scope> =>
  Effect.gen(function* () {
    yield* Effect.try({
      try: () => NodeFs.writeFileSync(path, ""),
      catch: (cause) =>
        new InspectionRecordError({
          reason: "write",
          message: `cannot write the recording ${path}: ${errorText(cause)}`
        })
    })
    const clock = yield* Clock.Clock
    let failed: InspectionRecordError | undefined
    let lastKey: string | undefined
    const append = (view: LicenseView, event?: string, cause?: LicenseCause) => {
      if (failed !== undefined) return
      const line: InspectorEvent = {
        ...view,
        time: clock.currentTimeMillisUnsafe(),
        ...(options.virtual === true ? { virtual: true } : {}),
        ...(event !== undefined ? { event } : {}),
        ...(cause !== undefined ? { cause } : {})
      }
      try {
        NodeFs.appendFileSync(path, `${JSON.stringify(line)}\n`)
      } catch (cause) {
        failed = new InspectionRecordError({
          reason: "write",
          message: `cannot write the recording ${path}: ${errorText(cause)}`
        })
      }
    }
    // What led to the next recorded moment: the causes of the views between it and the last one recorded (a sync
    // timer, then the sync's failure), worded as the live inspector words them, repeats left out.
    let causes: Array<string> = []
    let previous: LicenseView | undefined
    yield* Effect.forkScoped(
      Stream.runForEach(licensing.moments, ({ view, cause }) =>
        Effect.sync(() => {
          const words = LifecycleEvent.describe(cause, view, previous, clock.currentTimeMillisUnsafe())
          previous = view
          if (words !== undefined && causes[causes.length - 1] !== words) causes.push(words)
          if (!view.settled) return
          const key = shownKey(view)
          const led = causes
          causes = []
          if (key === lastKey) return
          lastKey = key
          append(view, led.length === 0 ? undefined : led.join(" → "), cause)
        })
      )
    )
    return {
      note: (event) => Effect.flatMap(licensing.current, (view) => Effect.sync(() => append(view, event))),
      finish: Effect.suspend(() => (failed === undefined ? Effect.void : Effect.fail(failed)))
    }
  })

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** What is wrong with one line's value as an inspection event, or `undefined`. */
const problemOf = (value: unknown): string | undefined => {
  if (!isObject(value)) return "a JSON object"
  if (typeof value.state !== "string") return 'a string "state"'
  if (typeof value.time !== "number" || !Number.isFinite(value.time)) return 'a number "time" (epoch ms)'
  const status = value.status
  if (!isObject(status) || typeof status.name !== "string" || typeof status.code !== "number") {
    return 'a "status" with a string name and a number code'
  }
  if (typeof value.licensed !== "boolean" || typeof value.settled !== "boolean")
    return 'booleans "licensed" and "settled"'
  // What the timeline prints as the moment's cause: words, and core's cause as data.
  if (value.event !== undefined && typeof value.event !== "string") return 'a string "event" (what happened), if any'
  if (value.cause !== undefined && !(isObject(value.cause) && typeof value.cause.type === "string")) {
    return 'a "cause" object with a string type, if any'
  }
  return undefined
}

const shorten = (text: string) => (text.length > 60 ? `${text.slice(0, 57)}…` : text)

/** Reads a recording; a line that is not an inspection event fails, naming the line and what it expected. */
export const read = (path: string): Effect.Effect<ReadonlyArray<InspectorEvent>, InspectionRecordError> =>
  Effect.gen(function* () {
    const text = yield* Effect.try({
      try: () => NodeFs.readFileSync(path, "utf8"),
      catch: (cause) =>
        new InspectionRecordError({ reason: "read", message: `cannot read the recording ${path}: ${errorText(cause)}` })
    })
    const events: Array<InspectorEvent> = []
    const lines = text.split("\n")
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim()
      if (line === "") continue
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch {
        value = Symbol.for("not JSON")
      }
      const problem = typeof value === "symbol" ? "JSON" : problemOf(value)
      if (problem !== undefined) {
        return yield* new InspectionRecordError({
          reason: "parse",
          message: `${path}:${i + 1}: expected an inspection event (${problem}), got ${JSON.stringify(shorten(line))}`
        })
      }
      events.push(value as InspectorEvent)
    }
    if (events.length === 0) {
      return yield* new InspectionRecordError({
        reason: "empty",
        message: `${path}: expected JSON lines of inspection events (licensure demo --record), got no event`
      })
    }
    return events
  })
