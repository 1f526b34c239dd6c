/**
 * A moment's cause in the words a support engineer reads in the inspector's timeline and in recordings: "sync
 * timer", "deadline: grace ended", "another process changed the licence file", "sync failed: ServerError: HTTP 503".
 * Core says what happened as data (`LicenseCause`); this module words it, looking at the views on either side where
 * the event alone does not say enough (a timer that fired: was a sync due, or a deadline?).
 *
 * @since 0.5.0
 */
import type { FailureInfo, LicenseCause, LicenseView } from "@licensure/core"

const operationNames: Record<string, string> = {
  load: "loading the licence file",
  activate: "activation",
  activateTrial: "trial activation",
  reactivate: "re-activation",
  deactivate: "deactivation",
  sync: "sync",
  validate: "validation"
}

const commandWords: Record<string, string> = {
  ACTIVATE: "activate requested",
  ACTIVATE_TRIAL: "trial requested",
  DEACTIVATE: "deactivate requested",
  SYNC: "sync requested",
  CHECK: "check requested (offline)"
}

/** `ServerError HTTP 503: the server is down`: the server's code when it sent one, else the kind, then the message. */
export const failureText = (failure: FailureInfo): string => `${failure.code ?? failure.kind}: ${failure.message}`

/**
 * Which deadline a timer met, judged by what the views on either side say: the one of the licence's deadlines the
 * previous view had that `now` has reached, or the state the licence moved into.
 */
const deadlineMet = (view: LicenseView, previous: LicenseView | undefined, now: number): string | undefined => {
  const before = previous?.license
  const reached = (at: number | undefined) => at !== undefined && at <= now
  if (view.state === "graceOver" || (reached(before?.graceExpiresAt) && view.state !== previous?.state)) {
    return "grace ended"
  }
  if (view.state === "trialExpired") return "trial ended"
  if (reached(before?.leaseExpiresAt) && view.state !== previous?.state) return "lease ended"
  if (view.state === "expired" || (reached(before?.expiresAt) && view.state !== previous?.state)) {
    return "licence expired"
  }
  if (view.state === "clockTampered") return "the clock was set back"
  return undefined
}

/**
 * The words for `cause`, the event that produced `view` (seen at `now`, epoch ms on the licence clock) after
 * `previous`. An unknown cause is its event type, never an error.
 *
 * DECISION: a settled state's timer that leads into `renewDue` is the "sync timer" (the next sync came); one that
 * changes the state is the deadline it met; one that changes neither is the hourly "re-check". Rests on the design's
 * capped timers ("re-evaluating on wake") and `LicenseMachine`'s one `standing` timer for every deadline.
 */
export const describe = (
  cause: LicenseCause | undefined,
  view: LicenseView,
  previous: LicenseView | undefined,
  now: number
): string | undefined => {
  if (cause === undefined) return undefined
  switch (cause.type) {
    case "start":
      return "client started"
    case "command":
      return commandWords[cause.command] ?? cause.command
    case "timer": {
      const deadline = deadlineMet(view, previous, now)
      if (cause.timer === "syncWake") {
        return deadline === undefined ? "timer during a sync: re-check" : `deadline during a sync: ${deadline}`
      }
      if (view.state === "renewDue") {
        return previous?.lastError?.operation === "sync" && previous.lastError.transient
          ? "sync timer (retry)"
          : "sync timer"
      }
      if (deadline !== undefined) return `deadline: ${deadline}`
      return "timer: re-check"
    }
    case "reload":
      switch (cause.found) {
        case "record":
          return "another process changed the licence file"
        case "nothing":
          return "another process removed the licence file"
        case "unusable":
          return `another process left the licence file unusable: ${cause.failure === undefined ? "unreadable" : failureText(cause.failure)}`
      }
      return "another process changed the licence file"
    case "store":
      return cause.error === undefined ? "licence file saved" : `saving the licence file failed: ${cause.error}`
    case "operation": {
      const name = operationNames[cause.operation] ?? cause.operation
      if (cause.outcome === "ok") {
        if (cause.operation === "load") return view.license === undefined ? "no licence file" : "licence file loaded"
        const suspended = view.license?.suspended === true
        if (cause.operation === "sync" && suspended !== (previous?.license?.suspended === true)) {
          return suspended ? "sync done: suspended on the server" : "sync done: reinstated on the server"
        }
        return `${name} done`
      }
      return cause.failure === undefined ? `${name} failed` : `${name} failed: ${failureText(cause.failure)}`
    }
    case "other":
      return cause.event
  }
}
