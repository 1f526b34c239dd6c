/**
 * The OS-user lock: a licence can be locked to the operating-system user who activated it. The token then carries
 * `ul: true` and `uh`, the user hash of that user (reference-client.md row 27); LexActivator checks it locally,
 * `ul && hash(current user) != uh` → `LA_E_OS_USER` (104), with no wire call (§3 item 2). {@link check} is that
 * check as a pure function, for activation and trial claims alike.
 *
 * `Validation.validate` calls it with the current user's hash (the `Fingerprint` service's `userHash`, carried in
 * the machine's facts), so a running client shows `osUserMismatch` (LA_E_OS_USER); an application may call it too.
 *
 * @example
 * ```ts
 * const verdict = UserLock.check(claims, (yield* Fingerprint).userHash)
 * if (verdict._tag === "OtherUser") refuse(verdict.status) // { name: "LA_E_OS_USER", code: 104 }
 * ```
 *
 * @since 0.2.0
 */
import { type LexStatus, lexStatus } from "./LexStatus.ts"

/** The claims the check reads: an `ActivationClaims` or a `TrialClaims` fits. */
export interface UserLockClaims {
  readonly userLocked?: boolean | undefined
  readonly userHash?: string | undefined
}

/** Whether the OS user running the app may use a user-locked licence, with LexActivator's status for each case. */
export type UserLockVerdict =
  /** The licence is not locked to an OS user (`ul` absent or false): any user may run it. */
  | { readonly _tag: "NotLocked"; readonly status: LexStatus }
  /** Locked, and this is the user it is locked to. */
  | { readonly _tag: "SameUser"; readonly status: LexStatus }
  /** Locked to another user (or to a hash the token does not carry): LexActivator's `LA_E_OS_USER`. */
  | { readonly _tag: "OtherUser"; readonly lockedTo: string; readonly status: LexStatus }

/**
 * Whether the user whose hash is `userHash` may run a licence with these claims.
 *
 * DECISION (the reference gives `ul && hash != uh`, not the hash's case): hashes are compared case-insensitively,
 * since LexActivator writes its SHA-256 in upper-case hex and licensure's `NodeFingerprint` in lower-case
 * (reference-client.md row 9); a locked token with no `uh` (or an empty one) matches no user, as `"" != hash`.
 */
export const check = (claims: UserLockClaims, userHash: string): UserLockVerdict => {
  if (claims.userLocked !== true) return { _tag: "NotLocked", status: lexStatus("LA_OK") }
  const lockedTo = claims.userHash ?? ""
  if (lockedTo !== "" && lockedTo.toUpperCase() === userHash.toUpperCase()) {
    return { _tag: "SameUser", status: lexStatus("LA_OK") }
  }
  return { _tag: "OtherUser", lockedTo, status: lexStatus("LA_E_OS_USER") }
}

/** `true` when the claims let this user run the licence (the verdict is not `OtherUser`). */
export const allows = (claims: UserLockClaims, userHash: string): boolean =>
  check(claims, userHash)._tag !== "OtherUser"
