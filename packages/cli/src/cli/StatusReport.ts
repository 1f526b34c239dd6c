/**
 * How the CLI shows a licence: a two-column table for people, one JSON object for scripts. Both hide the licence
 * key but its last four characters: status output ends up in terminals, CI logs and support tickets, and the key
 * is what a second machine would need to take a seat.
 *
 * @since 0.1.0
 */
import type { LicenseView } from "@licensure/core"
import type { FailureInfo } from "@licensure/core"
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

/** The readable table `licensure status` prints. */
export const renderStatusTable = (view: LicenseView): string => {
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
  const width = Math.max(...rows.map(([label]) => label.length))
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n")
}

/** The object `licensure status --json` prints: the view (key masked) and the exit code. */
export const statusJson = (view: LicenseView, exitCode: ExitCode) => ({
  ...view,
  license:
    view.license === undefined
      ? undefined
      : { ...view.license, key: view.license.key === undefined ? undefined : maskKey(view.license.key) },
  exitCode
})
