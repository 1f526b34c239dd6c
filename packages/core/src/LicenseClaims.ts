/**
 * The verified claims behind the running licence, as the token carries them (`LicenseDetails` lists the same
 * facts under readable names, among them the entitlement set `esn`/`esdn`/`est`, the maintenance policy `mp`, the
 * current release version `crv` and the OS-user lock's hash `uh`). {@link current} reads them from the licensing machine's snapshot, without I/O, and
 * fits both faces: `yield* LicenseClaims.current(licensing)` (Effect) and `await licensing.use(LicenseClaims.current)`
 * (Promise). They feed the pure checks `UserLock.check` and `ReleaseVersion.check`.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import type { ActivationClaims, TrialClaims } from "./Protocol.ts"

/** What {@link current} reads: the `Licensing` service fits (typed structurally, so no xstate type leaks here). */
export interface HasMachine {
  readonly actor: {
    /** The machine's current snapshot; only its facts are read. */
    readonly getSnapshot: () => {
      readonly context: {
        readonly facts:
          | { readonly kind: "activation" | "trial"; readonly claims: ActivationClaims | TrialClaims }
          | undefined
      }
    }
  }
}

/**
 * The running licence's verified claims, tagged by token kind: an activation token's {@link
 * Protocol.ActivationClaims} or a trial's {@link Protocol.TrialClaims}. Times in the claims are epoch seconds, as the
 * token carries them.
 */
export type CurrentClaims =
  | { readonly kind: "activation"; readonly claims: ActivationClaims }
  | { readonly kind: "trial"; readonly claims: TrialClaims }

/** The running licence's verified claims, or `undefined` when nothing is activated. */
export const current = (licensing: HasMachine): Effect.Effect<CurrentClaims | undefined> =>
  Effect.sync(() => {
    const facts = licensing.actor.getSnapshot().context.facts
    if (facts === undefined) return undefined
    return facts.kind === "activation"
      ? { kind: "activation", claims: facts.claims as ActivationClaims }
      : { kind: "trial", claims: facts.claims as TrialClaims }
  })

/** LexActivator's `GetLicenseEntitlementSetName/DisplayName/Tier`; `undefined` fields: no set linked (109). */
export const entitlementSetOf = (
  claims: CurrentClaims | undefined
): {
  readonly name: string | undefined
  readonly displayName: string | undefined
  readonly tier: number | undefined
} =>
  claims?.kind === "activation"
    ? {
        name: claims.claims.entitlementSetName,
        displayName: claims.claims.entitlementSetDisplayName,
        tier: claims.claims.entitlementSetTier
      }
    : { name: undefined, displayName: undefined, tier: undefined }
