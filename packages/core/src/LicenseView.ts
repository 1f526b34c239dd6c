/**
 * What a licensing client shows: the {@link LicenseView} of one moment (state, LexActivator status, deadlines,
 * the last error) and the {@link LicenseDetails} read from the current token, both derived from a machine
 * snapshot by pure functions.
 *
 * @since 0.3.0
 */
import * as FeatureEntitlements from "./FeatureEntitlements.ts"
import type { Feature, FeatureLookup } from "./FeatureEntitlements.ts"
import { type LexStatus, type LexStatusName, lexStatus, lexStatusOfFailure } from "./LexStatus.ts"
import { nextDeadline } from "./LicenseMachine.ts"
import type {
  EntitlementsFailure,
  FailureInfo,
  LicenseContext,
  LicenseFacts,
  LicenseStateName,
  MachineSnapshot
} from "./LicenseModel.ts"
import type {
  ActivationClaims,
  ActivationMeterAttribute,
  LicenseMeterAttribute,
  MaintenancePolicy,
  MetadataEntry,
  OrganizationAddress,
  TrialClaims
} from "./Protocol.ts"
import type { ValidationStatus } from "./Validation.ts"

/** The entitlement set linked to the licence (`esn`, `esdn`, `est`): LexActivator's `GetLicenseEntitlementSet…`. */
export interface EntitlementSet {
  readonly name: string
  /** The set's display name (`esdn`), when the token carries one. */
  readonly displayName: string | undefined
  /** The set's tier (`est`, LexActivator 3.42), when the token carries one. */
  readonly tier: number | undefined
}

/**
 * Readable licence details from the current token: every fact LexActivator's `GetLicense…` / `GetActivation…`
 * functions read from it (issue 11), with the token's claim name in each comment. Times are epoch milliseconds;
 * `undefined` where the token does not carry the fact (a trial token carries fewer).
 */
export interface LicenseDetails {
  /** A licence-key activation, or a trial (which has no key and no licence id). */
  readonly kind: "activation" | "trial"
  /** The licence key as given (unmasked; mask it before showing it), `undefined` for a trial. */
  readonly key: string | undefined
  /** The server's id of this machine's activation (or trial activation). */
  readonly activationId: string
  /** The server's id of the licence, `undefined` for a trial. */
  readonly licenseId: string | undefined
  /** `node-locked`, `hosted-floating` or `on-premise-floating` (the token's `lt`), or `trial`. */
  readonly type: ActivationClaims["licenseType"] | "trial"
  /** `eat`; `undefined` for a licence that never expires (`GetLicenseExpiryDate` 0). */
  readonly expiresAt: number | undefined
  /** `ssgpeat`; `undefined` when the grace is unlimited or sync is off. */
  readonly graceExpiresAt: number | undefined
  /** Epoch ms when a hosted-floating lease ends unless renewed (`leat`); `undefined` without a lease. */
  readonly leaseExpiresAt: number | undefined
  /** Seconds a lease lasts (`ld`); `undefined` without a lease. */
  readonly leaseDuration: number | undefined
  /** Seconds between server syncs (`ssi`); 0 when the licence never syncs (and so has no grace deadline). */
  readonly serverSyncInterval: number
  /** Epoch ms: when the server issued the current token (`iat`), i.e. the last activation or sync answered. */
  readonly issuedAt: number
  /** Epoch ms of the last successful sync (or the activation), as this client recorded it. */
  readonly lastSyncedAt: number
  /** The licence is suspended on the server (`sus`): LexActivator's `LA_SUSPENDED`. */
  readonly suspended: boolean
  /** Key/value pairs set on the product (LexActivator's `GetProductMetadata`). */
  readonly productMetadata: ReadonlyArray<MetadataEntry>
  /** Key/value pairs set on the licence (`GetLicenseMetadata`); empty for a trial. */
  readonly licenseMetadata: ReadonlyArray<MetadataEntry>
  /** Key/value pairs set on the licence's user (`GetLicenseUserMetadata`); empty for a trial. */
  readonly userMetadata: ReadonlyArray<MetadataEntry>
  /** Key/value pairs sent with this activation (`SetActivationMetadata`), or the trial's. */
  readonly activationMetadata: ReadonlyArray<MetadataEntry>
  /** The licence's meters: allowed and total uses across all its activations (`GetLicenseMeterAttribute`). */
  readonly licenseMeterAttributes: ReadonlyArray<LicenseMeterAttribute>
  /** This activation's uses of each meter (`GetActivationMeterAttributeUses`). */
  readonly activationMeterAttributes: ReadonlyArray<ActivationMeterAttribute>
  /** The licence's user, as far as the token names them (`GetLicenseUserName`, `…Email`, `…Company`). */
  readonly user: { readonly name?: string; readonly email?: string; readonly company?: string }
  /** Seats allowed (`aa`; −1 unlimited). */
  readonly allowedActivations: number | undefined
  /** Seats taken (`ta`). */
  readonly totalActivations: number | undefined
  /** Deactivations allowed (`ad`; −1 unlimited). */
  readonly allowedDeactivations: number | undefined
  /** Deactivations made (`td`). */
  readonly totalDeactivations: number | undefined
  /** The licence's creation (`lcat`). */
  readonly licenseCreatedAt: number | undefined
  /** The licence's first activation (`laat`). */
  readonly licenseActivatedAt: number | undefined
  /** This activation's creation (`acat`). */
  readonly activationCreatedAt: number | undefined
  /** When the licence's maintenance ends (`meat`): releases published after it are not covered. */
  readonly maintenanceExpiresAt: number | undefined
  /** The highest release version the licence allows (`marv`). */
  readonly maxAllowedReleaseVersion: string | undefined
  /** The release version the licence was activated for (`crv`): what the maintenance policy compares against. */
  readonly currentReleaseVersion: string | undefined
  /** Which updates the licence's maintenance allows (`mp`: major, minor, and its validity in seconds). */
  readonly maintenancePolicy: MaintenancePolicy | undefined
  /** The entitlement set linked to the licence (`esn`/`esdn`/`est`); `undefined`: none (LexActivator's 109). */
  readonly entitlementSet: EntitlementSet | undefined
  /** The OS-user lock (`ul`): only the user whose hash is {@link userHash} may run the licence (LA_E_OS_USER). */
  readonly userLocked: boolean
  /** The hash of the OS user the licence is bound to (`uh`), as the server signed it. */
  readonly userHash: string | undefined
  /** Hosted-floating: how many clients may hold a lease at once (`fc`). */
  readonly floatingClients: number | undefined
  /** Hosted-floating: how a lease is taken and given back (`ls`, Cryptlex's leasing strategy), when set. */
  readonly leasingStrategy: string | undefined
  /** LexActivator's `GetLicenseOrganizationName` / `…Address` (`on`, `oa`: an address object, or a string). */
  readonly organization: { readonly name?: string; readonly address?: OrganizationAddress | string }
}

/** One observable moment of the licence. */
export interface LicenseView {
  /** The machine's state: `active`, `grace`, `expired`, `suspended`, `revoked`, `trialActive`, `unactivated`, … */
  readonly state: LicenseStateName
  /** True when the machine waits for a timer or a command rather than for I/O. */
  readonly settled: boolean
  /** The application may run: LexActivator's `LA_OK` (active, in grace, syncing, or an active trial). */
  readonly licensed: boolean
  /** The offline validation's verdict on the stored token (`ok`, `expired`, `clockRolledBack`, `fingerprintMismatch`, …), if there is one. */
  readonly validation: ValidationStatus | undefined
  /** LexActivator's status for this moment (`LA_OK` 0, `LA_EXPIRED` 20, `LA_SUSPENDED` 21, `LA_GRACE_PERIOD_OVER` 22, …). */
  readonly status: LexStatus
  /**
   * Why the last operation failed (a sync in an outage, a refused activation), `undefined` once one succeeds. A
   * failed sync's error outlives the process: the next client over the same store reports it too.
   */
  readonly lastError: FailureInfo | undefined
  /** Why the stored activation was dropped (revoked, deleted on the server, a foreign or corrupt file), if it was. */
  readonly clearedBecause: FailureInfo | undefined
  /** False when the last write of the licence record failed: the licence holds now, but not across a restart. */
  readonly persisted: boolean
  /** What the failed write said (errno, call, path), until a later write lands. */
  readonly storeError: string | undefined
  /** Epoch ms of the next background sync, `undefined` when none is scheduled. */
  readonly nextSyncAt: number | undefined
  /** Epoch ms of the next instant the state can change on its own (sync due, grace end, expiry, lease end). */
  readonly nextDeadline: number | undefined
  /** What the current token says (expiry, metadata, meters, user), `undefined` when there is no activation. */
  readonly license: LicenseDetails | undefined
  /**
   * The feature entitlements in force at this moment (expired ones left out), from the last verified set: offline,
   * `[]` when none was fetched. The machine wakes at each feature's expiry, so the view changes at that moment.
   */
  readonly features: ReadonlyArray<Feature>
  /** Why the last fetch of the entitlements failed (the set before it stays), `undefined` after a good one. */
  readonly featuresError: EntitlementsFailure | undefined
}

/**
 * The clock's status when it cannot be trusted (set back, or behind the server's signed time), else `undefined`.
 *
 * DECISION: with the clock held for tampering no feature is in force: a feature's expiry is judged by that same
 * clock, so setting it back would bring expired features back while the licence itself is refused. An app that
 * gates a feature on `feature(name)` alone is then refused too, with the licence's own status (LexActivator's
 * getters answer `LA_E_TIME_MODIFIED` / `LA_E_TIME` when the clock is tampered).
 */
const clockHeld = (context: Pick<LicenseContext, "status">): LexStatusName | undefined =>
  context.status === "clockRolledBack" || context.status === "clockBehindServer"
    ? lexOfValidation[context.status]
    : undefined

/** The features in force at `now` (epoch ms), `[]` without a verified set or while the clock is held. */
export const featuresOf = (context: Pick<LicenseContext, "facts" | "status">, now: number): ReadonlyArray<Feature> => {
  const set = context.facts?.entitlements?.verified
  return set === undefined || clockHeld(context) !== undefined ? [] : FeatureEntitlements.features(set, now)
}

/** One feature by name at `now`; `NotFound` without a verified set, and while the clock is held (its status). */
export const featureOf = (
  context: Pick<LicenseContext, "facts" | "status">,
  name: string,
  now: number
): FeatureLookup => {
  const held = clockHeld(context)
  if (held !== undefined) return { _tag: "NotFound", name, status: lexStatus(held) }
  return FeatureEntitlements.feature(
    context.facts?.entitlements?.verified ?? { activationId: "", licenseId: "", issuedAt: undefined, entitlements: [] },
    name,
    now
  )
}

/**
 * True when the machine is in a state that waits for time or a command (tag `settled`), not in the middle of
 * activating, syncing or deactivating.
 */
export const isSettled = (snapshot: MachineSnapshot): boolean => snapshot.hasTag("settled")

const toMillis = (seconds: number) => (seconds === 0 ? undefined : seconds * 1000)
/**
 * The {@link LicenseDetails} a user sees, from the verified facts: token times converted from epoch seconds to epoch
 * milliseconds, a zero ("never") as `undefined`, trial and activation tokens in one shape. Pure.
 */
export const detailsOf = (facts: LicenseFacts): LicenseDetails => {
  const c = facts.claims
  const trial = facts.kind === "trial"
  const a = c as ActivationClaims
  const t = c as TrialClaims
  return {
    kind: facts.kind,
    key: facts.key,
    activationId: trial ? t.trialActivationId : a.activationId,
    licenseId: trial ? undefined : a.licenseId,
    type: trial ? "trial" : a.licenseType,
    expiresAt: toMillis(c.expiresAt),
    graceExpiresAt: c.serverSyncInterval === 0 ? undefined : toMillis(c.serverSyncGraceExpiresAt),
    leaseExpiresAt: trial ? undefined : toMillis(a.leaseExpiresAt),
    leaseDuration: trial || a.leaseDuration === 0 ? undefined : a.leaseDuration,
    serverSyncInterval: c.serverSyncInterval,
    issuedAt: c.issuedAt * 1000,
    lastSyncedAt: facts.lastSyncedAt,
    suspended: trial ? false : a.suspended,
    productMetadata: c.productMetadata,
    licenseMetadata: trial ? [] : a.licenseMetadata,
    userMetadata: trial ? [] : a.userMetadata,
    activationMetadata: trial ? t.trialMetadata : a.activationMetadata,
    licenseMeterAttributes: trial ? [] : a.licenseMeterAttributes,
    activationMeterAttributes: trial ? [] : a.activationMeterAttributes,
    user: trial
      ? {}
      : {
          ...(a.userName !== undefined ? { name: a.userName } : {}),
          ...(a.userEmail !== undefined ? { email: a.userEmail } : {}),
          ...(a.userCompany !== undefined ? { company: a.userCompany } : {})
        },
    allowedActivations: trial ? undefined : a.allowedActivations,
    totalActivations: trial ? undefined : a.totalActivations,
    allowedDeactivations: trial ? undefined : a.allowedDeactivations,
    totalDeactivations: trial ? undefined : a.totalDeactivations,
    licenseCreatedAt: trial ? undefined : toMillis(a.licenseCreatedAt ?? 0),
    licenseActivatedAt: trial ? undefined : toMillis(a.licenseActivatedAt ?? 0),
    activationCreatedAt: trial ? undefined : toMillis(a.activationCreatedAt ?? 0),
    maintenanceExpiresAt: trial ? undefined : toMillis(a.maintenanceExpiresAt ?? 0),
    maxAllowedReleaseVersion: trial ? undefined : a.maxAllowedReleaseVersion,
    currentReleaseVersion: trial ? undefined : a.currentReleaseVersion,
    maintenancePolicy: trial ? undefined : a.maintenancePolicy,
    entitlementSet:
      trial || a.entitlementSetName === undefined || a.entitlementSetName === ""
        ? undefined
        : {
            name: a.entitlementSetName,
            displayName: a.entitlementSetDisplayName,
            tier: a.entitlementSetTier
          },
    userLocked: (trial ? t.userLocked : a.userLocked) === true,
    userHash: trial ? t.userHash : a.userHash,
    floatingClients: trial ? undefined : a.floatingClients,
    leasingStrategy: trial ? undefined : a.leasingStrategy,
    organization: trial
      ? {}
      : {
          ...(a.organizationName !== undefined ? { name: a.organizationName } : {}),
          ...(a.organizationAddress !== undefined ? { address: a.organizationAddress } : {})
        }
  }
}

/** LexActivator's answer for each validation outcome (protocol §2, §3). */
const lexOfValidation: Record<ValidationStatus, LexStatusName> = {
  ok: "LA_OK",
  expired: "LA_EXPIRED",
  suspended: "LA_SUSPENDED",
  graceOver: "LA_GRACE_PERIOD_OVER",
  leaseLapsed: "LA_FAIL",
  clockBehindServer: "LA_E_TIME",
  clockRolledBack: "LA_E_TIME_MODIFIED",
  wrongProduct: "LA_FAIL",
  wrongKey: "LA_FAIL",
  fingerprintMismatch: "LA_E_MACHINE_FINGERPRINT",
  osUserMismatch: "LA_E_OS_USER",
  releaseNotAllowed: "LA_E_RELEASE_VERSION_NOT_ALLOWED"
}

/** The state's LexActivator status: the last validation's, except where the state itself says more. */
const statusOf = (state: LicenseStateName, context: LicenseContext): LexStatus => {
  switch (state) {
    case "trialExpired":
      return lexStatus("LA_TRIAL_EXPIRED")
    case "revoked":
      return lexStatus("LA_E_REVOKED")
    case "fingerprintMismatch":
      return lexStatus("LA_E_MACHINE_FINGERPRINT")
    case "unactivated": {
      const why = context.clearedBecause
      return why === undefined ? lexStatus("LA_FAIL") : lexStatus(lexStatusOfFailure(why))
    }
    default:
      // A trial that ran out (or past its sync grace) is LexActivator's LA_TRIAL_EXPIRED in every state, a sync
      // in flight (`renewDue`) included, as `trialExpired` says it once settled.
      if (context.facts?.kind === "trial" && (context.status === "expired" || context.status === "graceOver")) {
        return lexStatus("LA_TRIAL_EXPIRED")
      }
      return lexStatus(context.status === undefined ? "LA_FAIL" : lexOfValidation[context.status])
  }
}

/** The leaf state a snapshot's value names (every leaf name is unique in the machine). */
export const stateOf = (value: unknown): LicenseStateName => {
  let v = value
  while (typeof v === "object" && v !== null) v = Object.values(v)[0]
  return v as LicenseStateName
}

/**
 * The {@link LicenseView} of a machine snapshot: its leaf state, whether it is settled and licensed, the LexActivator
 * status, the last error, the next sync and deadline and the licence's details. Pure; what every `Licensing` read
 * returns.
 */
export const viewOf = (snapshot: MachineSnapshot): LicenseView => {
  const state = stateOf(snapshot.value)
  const context = snapshot.context
  const status = statusOf(state, context)
  return {
    state,
    settled: isSettled(snapshot),
    licensed: status.code === 0 && context.facts !== undefined,
    validation: context.status,
    status,
    lastError: context.lastError,
    clearedBecause: context.clearedBecause,
    persisted: context.storeError === undefined,
    storeError: context.storeError,
    nextSyncAt: context.syncHalted ? undefined : context.nextSyncAt,
    nextDeadline: nextDeadline(context),
    license: context.facts === undefined ? undefined : detailsOf(context.facts),
    features: featuresOf(context, context.config.now()),
    featuresError: context.facts?.entitlementsFailure
  }
}
