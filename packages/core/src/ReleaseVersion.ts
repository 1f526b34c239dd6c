/**
 * The local release-version checks: whether the licence covers the release the application is running, from the
 * token's maximum allowed release version `marv`, maintenance expiry `meat`, maintenance policy `mp` and the
 * licence's current release version `crv` (reference-client.md row 27, §3 item 2). LexActivator answers a release
 * the licence does not cover with `LA_E_RELEASE_VERSION_NOT_ALLOWED` (77), locally as well as from the server, and
 * a version not in the `x.x` … `x.x.x.x` form with `LA_E_RELEASE_VERSION_FORMAT` (70). {@link check} is that
 * decision as a pure function.
 *
 * `Validation.validate` calls it when the licensing configuration (or the activation) sets `releaseVersion`, so a
 * running client shows `releaseNotAllowed` (LA_E_RELEASE_VERSION_NOT_ALLOWED); an application may call it too.
 *
 * @example
 * ```ts
 * const verdict = ReleaseVersion.check(claims, { version: "2.1.0", publishedAt: Date.parse("2026-03-01") }, now)
 * if (verdict._tag === "NotAllowed") showRenewMaintenance(verdict.reason, verdict.status)
 * ```
 *
 * @since 0.2.0
 */
import { type LexStatus, lexStatus } from "./LexStatus.ts"
import type { MaintenancePolicy } from "./Protocol.ts"

/** The claims the check reads; an `ActivationClaims` fits. */
export interface ReleaseClaims {
  readonly maxAllowedReleaseVersion?: string | undefined
  /** Epoch seconds; 0 or absent: maintenance does not expire. */
  readonly maintenanceExpiresAt?: number | undefined
  readonly maintenancePolicy?: MaintenancePolicy | undefined
  readonly currentReleaseVersion?: string | undefined
}

/** The running release: LexActivator's `SetReleaseVersion` and `SetReleasePublishedDate`. */
export interface RunningRelease {
  readonly version: string
  /** When the release was published, epoch milliseconds; absent: judged at `now`. */
  readonly publishedAt?: number | undefined
}

/** Why the licence does not cover a release (the verdict's status is then `LA_E_RELEASE_VERSION_NOT_ALLOWED`). */
export type ReleaseNotAllowedReason =
  /** The version is above `marv`. */
  | "aboveMaxAllowedVersion"
  /** The release was published (or, without a published date, runs) after the maintenance expired (`meat`). */
  | "maintenanceExpired"
  /** A newer major version than the licence's `crv`, and the maintenance policy does not allow major updates. */
  | "majorUpdateNotAllowed"
  /** A newer minor version of the same major, and the policy does not allow minor updates. */
  | "minorUpdateNotAllowed"

/**
 * Whether the licence covers a release: `Allowed` (`LA_OK`), `NotAllowed` with its reason, or `InvalidVersion`
 * when the version is not LexActivator's `x.x` to `x.x.x.x` (`LA_E_RELEASE_VERSION_FORMAT`, 70).
 */
export type ReleaseVerdict =
  | { readonly _tag: "Allowed"; readonly status: LexStatus }
  | { readonly _tag: "NotAllowed"; readonly reason: ReleaseNotAllowedReason; readonly status: LexStatus }
  | { readonly _tag: "InvalidVersion"; readonly version: string; readonly status: LexStatus }

/** `x.x`, `x.x.x` or `x.x.x.x`, dot-separated digits only (the maintenance-policies page). */
const VersionPattern = /^\d+(\.\d+){1,3}$/

/** The version's numeric parts, or `undefined` when it is not in LexActivator's format. */
export const parseVersion = (version: string): ReadonlyArray<number> | undefined =>
  VersionPattern.test(version) ? version.split(".").map(Number) : undefined

/** Compares two parsed versions part by part, a missing part counting as 0 (`1.2` = `1.2.0.0`). */
export const compareVersions = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  for (let i = 0; i < 4; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return 0
}

const notAllowed = (reason: ReleaseNotAllowedReason): ReleaseVerdict => ({
  _tag: "NotAllowed",
  reason,
  status: lexStatus("LA_E_RELEASE_VERSION_NOT_ALLOWED")
})

/**
 * Whether the licence covers `release` at `nowMillis`.
 *
 * DECISION (the reference names the claims, not the rule; the maintenance-policies page gives the meaning of each
 * property): checked in this order, the first failure wins:
 * 1. the version must be `x.x` to `x.x.x.x`, else `InvalidVersion` (70);
 * 2. `marv` (when set and well-formed): the version may not be above it;
 * 3. `meat ≠ 0`: the release's published date (else `now`) may not be after it, in whole seconds, `now > meat`
 *    as for the licence expiry (row 33);
 * 4. `mp` with `crv` (both set, `crv` well-formed): `allowMajorVersionUpdates === false` refuses a higher major
 *    than `crv`'s, `allowMinorVersionUpdates === false` a higher minor of the same major. A property absent from
 *    `mp` allows. A malformed `marv` or `crv` is ignored (the server's to judge).
 */
export const check = (claims: ReleaseClaims, release: RunningRelease, nowMillis: number): ReleaseVerdict => {
  const version = parseVersion(release.version)
  if (version === undefined) {
    return { _tag: "InvalidVersion", version: release.version, status: lexStatus("LA_E_RELEASE_VERSION_FORMAT") }
  }
  const max = claims.maxAllowedReleaseVersion === undefined ? undefined : parseVersion(claims.maxAllowedReleaseVersion)
  if (max !== undefined && compareVersions(version, max) > 0) return notAllowed("aboveMaxAllowedVersion")
  const meat = claims.maintenanceExpiresAt ?? 0
  if (meat !== 0 && Math.floor((release.publishedAt ?? nowMillis) / 1000) > meat)
    return notAllowed("maintenanceExpired")
  const policy = claims.maintenancePolicy
  const current = claims.currentReleaseVersion === undefined ? undefined : parseVersion(claims.currentReleaseVersion)
  if (policy !== undefined && current !== undefined) {
    const [major = 0, minor = 0] = version
    const [currentMajor = 0, currentMinor = 0] = current
    if (policy.allowMajorVersionUpdates === false && major > currentMajor) return notAllowed("majorUpdateNotAllowed")
    if (policy.allowMinorVersionUpdates === false && major === currentMajor && minor > currentMinor) {
      return notAllowed("minorUpdateNotAllowed")
    }
  }
  return { _tag: "Allowed", status: lexStatus("LA_OK") }
}
