/**
 * The offline validation order: one pure function from verified claims, what the application expects, the
 * current time and the last-seen time to a status. It is LexActivator 3.34's `ValidateActivationStatus` order
 * (reference-client.md row 33), so a licence that LexActivator would call expired is expired here too.
 *
 * 1. identity: product, key, fingerprint (the signature was checked before: claims here are verified), then the
 *    OS-user lock (`ul && uh ≠ hash(current user)` → `osUserMismatch`, LA_E_OS_USER, see `UserLock.check`);
 * 2. the clock is behind the server by more than `aco` (`iat − now > aco`) → `clockBehindServer` (LA_E_TIME);
 * 3. the clock was rolled back past the persisted last-seen time by more than {@link RollbackToleranceSeconds}
 *    → `clockRolledBack` (LA_E_TIME_MODIFIED);
 * 4. the lease lapsed (`leat ≠ 0 && (leat < now || leat < iat)`) → `leaseLapsed`;
 * 5. suspended → `suspended`;
 * 6. expired (`eat ≠ 0 && (eat < now || eat < iat)`) → `expired`; a trial (`ValidateTrialActivationStatus`,
 *    row 32) is expired when `now > eat || eat < iat`, whatever `eat` is;
 * 7. the sync grace is over (`now > ssgpeat`), checked unless `ssi = 0`, `ssgpeat = 0` or `aco = −1`
 *    → `graceOver`;
 * 8. the application set its release version and the licence does not cover it (`marv`, `meat`, `mp`, as
 *    `ReleaseVersion.check` decides) → `releaseNotAllowed` (LA_E_RELEASE_VERSION_NOT_ALLOWED);
 * 9. otherwise `ok`.
 *
 * Licence keys are compared case-insensitively (row 35).
 *
 * @since 0.1.0
 */
import type { ActivationClaims } from "./Protocol.ts"
import * as ReleaseVersion from "./ReleaseVersion.ts"
import * as UserLock from "./UserLock.ts"

/**
 * How far the clock may go back behind the last-seen time before it counts as tampering: LexActivator 3.34's
 * `ValidateTime(lastRecorded, 3800)` (reference-client.md row 34).
 */
export const RollbackToleranceSeconds = 3800

/**
 * What the offline evaluation ({@link validate}) found, checked in LexActivator's order: `ok`, or the first reason
 * the licence does not hold (expired, suspended, past the grace period, the lease lapsed, the clock behind the server
 * or rolled back, another product, key, machine or OS user, a release the licence does not cover).
 */
export type ValidationStatus =
  | "ok"
  | "expired"
  | "suspended"
  | "graceOver"
  | "leaseLapsed"
  | "clockBehindServer"
  | "clockRolledBack"
  | "wrongProduct"
  | "wrongKey"
  | "fingerprintMismatch"
  | "osUserMismatch"
  | "releaseNotAllowed"

/** The claims validation reads; a trial token has the same timing claims (no key, no lease, never suspended). */
export type ValidatedClaims = Pick<
  ActivationClaims,
  "productId" | "fingerprint" | "issuedAt" | "expiresAt" | "serverSyncInterval" | "serverSyncGraceExpiresAt"
> &
  Partial<Pick<ActivationClaims, "key" | "allowedClockOffset" | "leaseExpiresAt" | "suspended">> &
  UserLock.UserLockClaims &
  ReleaseVersion.ReleaseClaims & {
    /** Present on trial claims only: a trial is judged by LexActivator's trial rule. */
    readonly trialActivationId?: string | undefined
  }

/**
 * What {@link validate} judges: the verified claims, what they must match, and the time now and the last time seen
 * (epoch milliseconds, from Effect's Clock).
 * @example validate({ claims, expected: { productId, fingerprint }, now: yield* Clock.currentTimeMillis })
 */
export interface ValidationInput {
  /** The token's verified claims (times in epoch seconds). */
  readonly claims: ValidatedClaims
  /** What the claims must match: the configured product and key and this machine's fingerprint. */
  readonly expected: {
    readonly productId: string
    readonly key?: string | undefined
    readonly fingerprint: string
    /**
     * The current OS user's hash (`Fingerprint`'s `userHash`): checked against a user-locked token's `uh`.
     * Absent: the lock is not checked (no platform to ask).
     */
    readonly userHash?: string | undefined
    /** The release the application runs (`releaseVersion`); absent: the release checks are off. */
    readonly release?: ReleaseVersion.RunningRelease | undefined
  }
  /** Epoch milliseconds, from Effect's Clock. */
  readonly now: number
  /** Epoch milliseconds: the highest time this client has seen before, if any. */
  readonly lastSeenAt?: number | undefined
}

/** Decides the licence status from verified claims, in LexActivator's order. Pure. */
export const validate = (input: ValidationInput): ValidationStatus => {
  const { claims, expected } = input
  if (claims.productId !== expected.productId) return "wrongProduct"
  if (
    expected.key !== undefined &&
    claims.key !== undefined &&
    claims.key.toUpperCase() !== expected.key.toUpperCase()
  ) {
    return "wrongKey"
  }
  if (claims.fingerprint !== expected.fingerprint) return "fingerprintMismatch"
  // DECISION (reference-client.md §3 item 2 gives the check, not its place in the order): the OS-user lock is
  // part of the licence's identity, like the fingerprint, so it is judged with it, before the clock and the
  // timing claims; a licence locked to another user says so whatever its expiry.
  if (expected.userHash !== undefined && !UserLock.allows(claims, expected.userHash)) return "osUserMismatch"
  const now = Math.floor(input.now / 1000)
  const iat = claims.issuedAt
  const aco = claims.allowedClockOffset ?? 0
  if (aco >= 0 && iat - now > aco) return "clockBehindServer"
  if (input.lastSeenAt !== undefined && input.lastSeenAt - input.now > RollbackToleranceSeconds * 1000) {
    return "clockRolledBack"
  }
  const leat = claims.leaseExpiresAt ?? 0
  if (leat !== 0 && (leat < now || leat < iat)) return "leaseLapsed"
  if (claims.suspended === true) return "suspended"
  const eat = claims.expiresAt
  const trial = claims.trialActivationId !== undefined
  if ((trial || eat !== 0) && (eat < now || eat < iat)) return "expired"
  const ssgpeat = claims.serverSyncGraceExpiresAt
  if (claims.serverSyncInterval !== 0 && ssgpeat !== 0 && aco !== -1 && ssgpeat < now) return "graceOver"
  // DECISION (§3 item 2: the release check is local, from `mp`/`marv`/`meat`; row 33's `ValidateActivationStatus`
  // does not hold it): judged last, once the licence itself stands, since it is about the application's release,
  // not the licence's state; an expired licence says expired first. A version not in LexActivator's format is the
  // server's to refuse (INVALID_RELEASE_VERSION_FORMAT on activation), so it does not change the local verdict.
  if (
    expected.release !== undefined &&
    ReleaseVersion.check(claims, expected.release, input.now)._tag === "NotAllowed"
  ) {
    return "releaseNotAllowed"
  }
  return "ok"
}

/** Statuses under which the application may run (LexActivator's LA_OK only: grace is OK until it is over). */
export const isLicensed = (status: ValidationStatus): boolean => status === "ok"
