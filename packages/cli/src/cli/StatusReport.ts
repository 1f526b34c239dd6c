/**
 * How the CLI shows a licence: a two-column table for people, one JSON object for scripts. Both hide the licence
 * key but its last four characters: status output ends up in terminals, CI logs and support tickets, and the key
 * is what a second machine would need to take a seat.
 *
 * @since 0.1.0
 */
import { type FailureInfo, type LicenseView, ReleaseVersion } from "@licensure/core"
import type { ExitCode } from "./ExitCodes.ts"

/** `******-******-…-**7F3A`: separators kept, every other character but the last four hidden. */
export const maskKey = (key: string): string => {
  const visibleFrom = key.length - 4
  return Array.from(key, (char, i) => (i >= visibleFrom || !/[A-Za-z0-9]/.test(char) ? char : "*")).join("")
}

const time = (millis: number | undefined, none: string) =>
  millis === undefined ? none : new Date(millis).toISOString()

export const describeFailure = (failure: FailureInfo): string =>
  `${failure.operation}: ${failure.kind}${failure.code === undefined ? "" : ` ${failure.code}`}: ${failure.message}`

/** What the CLI knows beside the view: the release it was told the app runs (`--release-version`). */
export interface StatusContext {
  readonly releaseVersion?: string | undefined
  /** When the view was judged, epoch ms (default now: the CLI judges in real time). */
  readonly now?: number | undefined
}

/**
 * What is wrong and what to do about it, for the verdicts a person cannot guess from the status name alone;
 * `reason` is the machine-readable cause (for `--json`). `undefined` when the view needs no explanation.
 */
export interface StatusProblem {
  readonly reason: ReleaseVersion.ReleaseNotAllowedReason | "releaseNotAllowed" | "osUserMismatch"
  readonly cause: string
  readonly action: string
}

const day = (millis: number) => new Date(millis).toISOString().slice(0, 10)

/** Names the cause and the fix of a local verdict the licence itself gives (the OS-user lock, the release checks). */
export const problemOf = (view: LicenseView, context: StatusContext = {}): StatusProblem | undefined => {
  const license = view.license
  if (view.state === "osUserMismatch") {
    return {
      reason: "osUserMismatch",
      cause: "the licence is locked to the OS user who activated it, and this process runs as another user",
      action:
        "run the app as the user who activated it, or deactivate as that user and activate again as this one " +
        "(licensure deactivate, then licensure activate <key>)"
    }
  }
  if (view.state !== "releaseNotAllowed") return undefined
  const version = context.releaseVersion
  const verdict =
    version === undefined || license === undefined
      ? undefined
      : ReleaseVersion.check(
          {
            maxAllowedReleaseVersion: license.maxAllowedReleaseVersion,
            maintenanceExpiresAt:
              license.maintenanceExpiresAt === undefined ? undefined : Math.floor(license.maintenanceExpiresAt / 1000),
            maintenancePolicy: license.maintenancePolicy,
            currentReleaseVersion: license.currentReleaseVersion
          },
          { version },
          context.now ?? Date.now()
        )
  const release = version === undefined ? "this release" : `release ${version}`
  const renew = "then run licensure sync so this machine gets the new licence"
  switch (verdict?._tag === "NotAllowed" ? verdict.reason : undefined) {
    case "aboveMaxAllowedVersion":
      return {
        reason: "aboveMaxAllowedVersion",
        cause: `${release} is above the highest version the licence allows (${license?.maxAllowedReleaseVersion})`,
        action: `run release ${license?.maxAllowedReleaseVersion} or older, or get the licence extended to ${release}; ${renew}`
      }
    case "maintenanceExpired":
      return {
        reason: "maintenanceExpired",
        cause: `the licence's maintenance ended on ${day(license!.maintenanceExpiresAt!)}; ${release} is not covered`,
        action: `renew the maintenance, or run a release published before ${day(license!.maintenanceExpiresAt!)}; ${renew}`
      }
    case "majorUpdateNotAllowed":
    case "minorUpdateNotAllowed": {
      const kind = verdict?._tag === "NotAllowed" && verdict.reason === "majorUpdateNotAllowed" ? "major" : "minor"
      return {
        reason: verdict!._tag === "NotAllowed" ? verdict!.reason : "releaseNotAllowed",
        cause: `${release} is a new ${kind} version over the licensed ${license?.currentReleaseVersion}, which the licence's maintenance policy does not allow`,
        action: `run a release of the licensed ${kind} version (${license?.currentReleaseVersion}), or upgrade the licence; ${renew}`
      }
    }
    default:
      return {
        reason: "releaseNotAllowed",
        cause: `the licence does not cover ${release} (its maximum allowed version, maintenance expiry or policy)`,
        action: `run a release the licence covers, or get the licence extended; ${renew}`
      }
  }
}

/** The readable table `licensure status` prints. */
export const renderStatusTable = (view: LicenseView, context: StatusContext = {}): string => {
  const license = view.license
  const metadata =
    license === undefined
      ? undefined
      : {
          product: license.productMetadata.length,
          licence: license.licenseMetadata.length,
          user: license.userMetadata.length,
          activation: license.activationMetadata.length
        }
  const rows: Array<readonly [string, string]> = [
    ["state", view.state],
    ["status", `${view.status.name} (${view.status.code})`],
    ["licensed", view.licensed ? "yes" : "no"],
    ["key", license?.key === undefined ? "-" : maskKey(license.key)],
    ["activation id", license?.activationId ?? "-"],
    ["type", license?.type ?? "-"],
    ["expires", license === undefined ? "-" : time(license.expiresAt, "never")],
    ["grace expires", license === undefined ? "-" : time(license.graceExpiresAt, "unlimited")],
    ["last sync", license === undefined ? "-" : time(license.lastSyncedAt, "-")],
    ["next sync", time(view.nextSyncAt, "-")],
    [
      "metadata",
      metadata === undefined
        ? "-"
        : `${metadata.product + metadata.licence + metadata.user + metadata.activation} (product ${metadata.product}, licence ${metadata.licence}, user ${metadata.user}, activation ${metadata.activation})`
    ],
    ["last error", view.lastError === undefined ? "none" : describeFailure(view.lastError)]
  ]
  if (view.clearedBecause !== undefined) rows.push(["cleared because", describeFailure(view.clearedBecause)])
  const problem = problemOf(view, context)
  if (problem !== undefined) rows.push(["problem", problem.cause], ["what to do", problem.action])
  const width = Math.max(...rows.map(([label]) => label.length))
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n")
}

/** The object `licensure status --json` prints: the view (key masked), the exit code, and the problem if any. */
export const statusJson = (view: LicenseView, exitCode: ExitCode, context: StatusContext = {}) => ({
  ...view,
  license:
    view.license === undefined
      ? undefined
      : { ...view.license, key: view.license.key === undefined ? undefined : maskKey(view.license.key) },
  exitCode,
  problem: problemOf(view, context)
})
