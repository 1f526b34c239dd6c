/**
 * Why the licence is as it is: the machine event that produced a moment, as data. `Licensing.moments` pairs each
 * published {@link LicenseView} with its {@link LicenseCause}; the inspector and the recordings put it into words a
 * support engineer reads ("sync timer", "sync failed: 503 …"). Nothing here is presentation: core names the event,
 * the command, the timer, the operation and its failure, and leaves wording to whoever shows it.
 *
 * @since 0.5.0
 */
import type { FailureInfo, LicenseEvent, LoadResult } from "./LicenseModel.ts"

/** The operations the machine runs as invoked actors: what a `done` event answers. */
export type CauseOperation = "load" | "activate" | "activateTrial" | "reactivate" | "deactivate" | "sync"

/** A command the application (or a CLI, or a test) sent through `Licensing`. */
export type CauseCommand = "ACTIVATE" | "ACTIVATE_TRIAL" | "DEACTIVATE" | "SYNC" | "CHECK"

/**
 * What produced a moment of the licence's life, by `type`: the client's start, a command, a timer, a reload of a
 * record another process changed, a store write's outcome, or an operation's outcome (with its failure). Data only;
 * `event` is the machine event's own name.
 */
export type LicenseCause =
  /** The client started (XState's `xstate.init`). */
  | { readonly type: "start"; readonly event: string }
  | { readonly type: "command"; readonly event: string; readonly command: CauseCommand }
  /**
   * A timer fired: `standing` is a settled state's wake-up (the next deadline or sync, at least hourly),
   * `syncWake` a deadline that came while a sync was in flight. Which deadline it was, the views on either side say.
   */
  | { readonly type: "timer"; readonly event: string; readonly timer: "standing" | "syncWake" }
  /** Another process changed the stored record (`Licensing.reload`): what loading it again found. */
  | {
      readonly type: "reload"
      readonly event: string
      readonly found: "record" | "nothing" | "unusable"
      readonly failure?: FailureInfo | undefined
    }
  /** How the last store write went (`error` is what the failed write said). */
  | { readonly type: "store"; readonly event: string; readonly error: string | undefined }
  /** An operation finished: `failure` says why when it failed (the server's code, the message). */
  | {
      readonly type: "operation"
      readonly event: string
      readonly operation: CauseOperation
      readonly outcome: "ok" | "failed"
      readonly failure?: FailureInfo | undefined
    }
  /** An event this module does not know (a newer machine): only its type. */
  | { readonly type: "other"; readonly event: string }

const operations: ReadonlySet<string> = new Set<CauseOperation>([
  "load",
  "activate",
  "activateTrial",
  "reactivate",
  "deactivate",
  "sync"
])
const commands: ReadonlySet<string> = new Set<CauseCommand>([
  "ACTIVATE",
  "ACTIVATE_TRIAL",
  "DEACTIVATE",
  "SYNC",
  "CHECK"
])

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

/** The failure an operation's output (or a load's result) carries, if it carries one. */
const failureIn = (output: unknown): FailureInfo | undefined => {
  if (!isObject(output)) return undefined
  const failure = output.failure
  return isObject(failure) && typeof failure.message === "string" ? (failure as unknown as FailureInfo) : undefined
}

/**
 * The cause of the snapshot `event` produced. Pure; an event it does not know is `other`, never an error.
 *
 * DECISION: a load that found no record is an `ok` outcome (nothing was wrong, there was nothing there) unless the
 * result carries a failure; an invoked actor that threw (`xstate.error.actor.*`, which the operations never do: they
 * resolve failures as data) is a `failed` outcome with no failure info. Rests on `LicenseModel`'s `LoadResult` and
 * `OperationResult`, whose failures always travel as `failure`.
 */
export const causeOf = (event: { readonly type: string } & Record<string, unknown>): LicenseCause => {
  const type = event.type
  if (type === "xstate.init") return { type: "start", event: type }
  if (commands.has(type)) return { type: "command", event: type, command: type as CauseCommand }
  if (type === "WAKE") return { type: "timer", event: type, timer: "syncWake" }
  if (type.startsWith("xstate.after.")) return { type: "timer", event: type, timer: "standing" }
  if (type === "RELOAD") {
    const result = (event as unknown as Extract<LicenseEvent, { type: "RELOAD" }>).result as LoadResult | undefined
    if (result?.type === "loaded") return { type: "reload", event: type, found: "record" }
    const failure = failureIn(result)
    return failure === undefined
      ? { type: "reload", event: type, found: "nothing" }
      : { type: "reload", event: type, found: "unusable", failure }
  }
  if (type === "STORE_RESULT") {
    const error = event.error
    return { type: "store", event: type, error: typeof error === "string" ? error : undefined }
  }
  for (const [prefix, done] of [
    ["xstate.done.actor.", true],
    ["xstate.error.actor.", false]
  ] as const) {
    if (!type.startsWith(prefix)) continue
    const operation = type.slice(prefix.length)
    if (!operations.has(operation)) break
    const failure = done ? failureIn(event.output) : undefined
    return {
      type: "operation",
      event: type,
      operation: operation as CauseOperation,
      outcome: done && failure === undefined ? "ok" : "failed",
      ...(failure !== undefined ? { failure } : {})
    }
  }
  return { type: "other", event: type }
}
