/**
 * The offline validation order: one pure function from verified claims, what the application expects, the
 * current time and the last-seen time to a status. It is LexActivator 3.34's `ValidateActivationStatus` order
 * (reference-client.md row 33), so a licence that LexActivator would call expired is expired here too.
 *
 * 1. identity: product, key, fingerprint (the signature was checked before: claims here are verified);
 * 2. the clock is behind the server by more than `aco` (`iat − now > aco`) → `clockBehindServer` (LA_E_TIME);
 * 3. the clock was rolled back past the persisted last-seen time by more than {@link RollbackToleranceSeconds}
 *    → `clockRolledBack` (LA_E_TIME_MODIFIED);
 * 4. the lease lapsed (`leat ≠ 0 && (leat < now || leat < iat)`) → `leaseLapsed`;
 * 5. suspended → `suspended`;
 * 6. expired (`eat ≠ 0 && (eat < now || eat < iat)`) → `expired`; a trial (`ValidateTrialActivationStatus`,
 *    row 32) is expired when `now > eat || eat < iat`, whatever `eat` is;
 * 7. the sync grace is over (`now > ssgpeat`), checked unless `ssi = 0`, `ssgpeat = 0` or `aco = −1`
 *    → `graceOver`;
 * 8. otherwise `ok`.
 *
 * Licence keys are compared case-insensitively (row 35).
 *
 * @since 0.1.0
 */
import type { ActivationClaims } from "./Protocol.ts"

/**
 * How far the clock may go back behind the last-seen time before it counts as tampering: LexActivator 3.34's
 * `ValidateTime(lastRecorded, 3800)` (reference-client.md row 34).
 */
export const RollbackToleranceSeconds = 3800

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

/** The claims validation reads; a trial token has the same timing claims (no key, no lease, never suspended). */
export type ValidatedClaims = Pick<
  ActivationClaims,
  "productId" | "fingerprint" | "issuedAt" | "expiresAt" | "serverSyncInterval" | "serverSyncGraceExpiresAt"
> &
  Partial<Pick<ActivationClaims, "key" | "allowedClockOffset" | "leaseExpiresAt" | "suspended">> & {
    /** Present on trial claims only: a trial is judged by LexActivator's trial rule. */
    readonly trialActivationId?: string | undefined
  }

export interface ValidationInput {
  readonly claims: ValidatedClaims
  readonly expected: {
    readonly productId: string
    readonly key?: string | undefined
    readonly fingerprint: string
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
  return "ok"
}

/** Statuses under which the application may run (LexActivator's LA_OK only: grace is OK until it is over). */
export const isLicensed = (status: ValidationStatus): boolean => status === "ok"
