/**
 * The `licensure` CLI's exit codes: one table, one code per class of licence status, so that a script can branch
 * on `$?` without parsing output. The help text and the README's table are rendered from {@link ExitCodeTable},
 * and every path from a licence view or a failed command to a code goes through {@link exitCodeOfStatus}.
 *
 * Codes are grouped by tens: 0 the app may run, 1-2 the CLI itself, 1x the licence is known and not usable, 2x this
 * machine has no usable activation, 3x the exchange with the server failed, 4x `licensure doctor` found a problem.
 *
 * DECISION (issue 11: the two verdicts judged locally from the token, `LA_E_OS_USER` 104 and
 * `LA_E_RELEASE_VERSION_NOT_ALLOWED` 77, had fallen under 31 "refused by the server"): each gets a code of its own,
 * because neither is a server refusal and each asks for a different fix. A release the licence does not cover is
 * the licence known and not usable for this build, like an expiry: 14 in the 1x group (the fix is a licence with
 * maintenance, or an older release); it is also what the server's own `RELEASE_VERSION_NOT_ALLOWED` maps to, so
 * the local verdict and the server's refusal exit alike. An activation locked to another OS user is this machine's
 * seat not usable by this user, like a fingerprint mismatch: 24 in the 2x group (the fix is to run as the user who
 * activated, or to deactivate there and activate as this one). `licensure status` names the cause and the fix
 * (`StatusReport.problemOf`).
 *
 * @since 0.1.0
 */
import type { LexStatusName, LicensingError, LicenseView } from "@licensure/core"

export const ExitCode = {
  licensed: 0,
  internal: 1,
  usage: 2,
  expired: 10,
  suspended: 11,
  graceOver: 12,
  trialExpired: 13,
  releaseNotAllowed: 14,
  notActivated: 20,
  revoked: 21,
  fingerprintMismatch: 22,
  clockTampered: 23,
  osUserMismatch: 24,
  unreachable: 30,
  refused: 31,
  answerRejected: 32,
  doctorFailed: 40
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export interface ExitCodeRow {
  readonly code: ExitCode
  readonly meaning: string
  /** The LexActivator statuses this code stands for, when it stands for some. */
  readonly statuses: ReadonlyArray<LexStatusName>
}

export const ExitCodeTable: ReadonlyArray<ExitCodeRow> = [
  { code: ExitCode.licensed, meaning: "licensed: active, in grace, or an active trial", statuses: ["LA_OK"] },
  { code: ExitCode.internal, meaning: "unexpected internal error (a bug: please report it)", statuses: [] },
  { code: ExitCode.usage, meaning: "usage or configuration error (flags, product id, public key)", statuses: [] },
  { code: ExitCode.expired, meaning: "licence expired", statuses: ["LA_EXPIRED"] },
  { code: ExitCode.suspended, meaning: "licence suspended", statuses: ["LA_SUSPENDED"] },
  { code: ExitCode.graceOver, meaning: "no server sync within the grace period", statuses: ["LA_GRACE_PERIOD_OVER"] },
  {
    code: ExitCode.trialExpired,
    meaning: "trial expired",
    statuses: ["LA_TRIAL_EXPIRED", "LA_LOCAL_TRIAL_EXPIRED"]
  },
  {
    code: ExitCode.releaseNotAllowed,
    meaning: "this release of the app is not covered by the licence (version or maintenance)",
    statuses: ["LA_E_RELEASE_VERSION_NOT_ALLOWED"]
  },
  {
    code: ExitCode.notActivated,
    meaning: "not activated on this machine (or the activation was deleted)",
    statuses: ["LA_FAIL", "LA_E_ACTIVATION_NOT_FOUND"]
  },
  { code: ExitCode.revoked, meaning: "licence revoked", statuses: ["LA_E_REVOKED"] },
  {
    code: ExitCode.fingerprintMismatch,
    meaning: "activation belongs to another machine (fingerprint mismatch)",
    statuses: ["LA_E_MACHINE_FINGERPRINT"]
  },
  {
    code: ExitCode.clockTampered,
    meaning: "system clock is wrong or was turned back",
    statuses: ["LA_E_TIME", "LA_E_TIME_MODIFIED"]
  },
  {
    code: ExitCode.osUserMismatch,
    meaning: "the licence is locked to another OS user of this machine",
    statuses: ["LA_E_OS_USER"]
  },
  {
    code: ExitCode.unreachable,
    meaning: "server unreachable or unavailable (network, 5xx, rate limit)",
    statuses: ["LA_E_INET", "LA_E_SERVER", "LA_E_RATE_LIMIT"]
  },
  {
    code: ExitCode.refused,
    meaning: "refused by the server (any other error code, e.g. LA_E_LICENSE_KEY)",
    statuses: []
  },
  {
    code: ExitCode.answerRejected,
    meaning: "the server's answer failed verification (wrong public key or product?)",
    statuses: []
  },
  {
    code: ExitCode.doctorFailed,
    meaning: "doctor: at least one check failed (its advice says what to do)",
    statuses: []
  }
]

const byStatus = new Map<string, ExitCode>(
  ExitCodeTable.flatMap((row) => row.statuses.map((status) => [status, row.code] as const))
)

/** The code for a LexActivator status; a status no row claims is a refusal by the server. */
export const exitCodeOfStatus = (status: LexStatusName): ExitCode => byStatus.get(status) ?? ExitCode.refused

/** What `status` exits with for a licence view. */
export const exitCodeOfView = (view: Pick<LicenseView, "status">): ExitCode => exitCodeOfStatus(view.status.name)

/** What a command exits with when its operation failed. */
export const exitCodeOfError = (error: Pick<LicensingError, "kind" | "status">): ExitCode => {
  switch (error.kind) {
    case "NotActivated":
      return ExitCode.notActivated
    // A trial asked for while a licence is activated: the command was wrong here, nothing failed.
    case "AlreadyLicensed":
    case "InvalidMeterAmount":
      return ExitCode.usage
    case "TokenRejected":
      return ExitCode.answerRejected
    default:
      // A failure with no status of its own (LA_FAIL) is not "not activated": the operation broke locally.
      return error.status.name === "LA_FAIL" ? ExitCode.internal : exitCodeOfStatus(error.status.name as LexStatusName)
  }
}
