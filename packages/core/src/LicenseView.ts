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
  /** An activation of a licence key, or a trial activation. */
  readonly kind: "activation" | "trial"
  /** The licence key (`key`); `undefined` for a trial. */
  readonly key: string | undefined
  /** The activation's id (`aid`), or the trial activation's. */
  readonly activationId: string
  /** The licence's id (`lid`); `undefined` for a trial. */
  readonly licenseId: string | undefined
  /** `type`: node-locked, hosted-floating, on-premise-floating; `"trial"` for a trial. */
  readonly type: ActivationClaims["licenseType"] | "trial"
  /** `eat`; `undefined` for a licence that never expires (`GetLicenseExpiryDate` 0). */
  readonly expiresAt: number | undefined
  /** `ssgpeat`; `undefined` when the grace is unlimited or sync is off. */
  readonly graceExpiresAt: number | undefined
  /** Hosted-floating: when the lease ends (`leat`). */
  readonly leaseExpiresAt: number | undefined
  /** Hosted-floating: the lease, in seconds (`ld`). */
  readonly leaseDuration: number | undefined
  /** Seconds between syncs (`ssi`); 0: no sync. */
  readonly serverSyncInterval: number
  /** When the server signed the token (`iat`). */
  readonly issuedAt: number
  /** The last successful sync or activation, on this client's clock (`GetActivationLastSyncedDate`). */
  readonly lastSyncedAt: number
  /** The licence is suspended (`suspended`). */
  readonly suspended: boolean
  /** `pmd`. */
  readonly productMetadata: ReadonlyArray<MetadataEntry>
  /** `lmd`. */
  readonly licenseMetadata: ReadonlyArray<MetadataEntry>
  /** `umd`. */
  readonly userMetadata: ReadonlyArray<MetadataEntry>
  /** `amd` (a trial token's `amd` too). */
  readonly activationMetadata: ReadonlyArray<MetadataEntry>
  /** The licence's meter attributes with their allowed and total uses (`lma`). */
  readonly licenseMeterAttributes: ReadonlyArray<LicenseMeterAttribute>
  /** This activation's meter attributes and their uses (`ama`). */
  readonly activationMeterAttributes: ReadonlyArray<ActivationMeterAttribute>
  /** The licensee (`name`, `email`, `company`): LexActivator's `GetLicenseUser…`. */
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
  /** Hosted-floating: how leases are handed out (`ls`). */
  readonly leasingStrategy: string | undefined
  /** LexActivator's `GetLicenseOrganizationName` / `…Address` (`on`, `oa`: an address object, or a string). */
  readonly organization: { readonly name?: string; readonly address?: OrganizationAddress | string }
}

/** One observable moment of the licence. */
export interface LicenseView {
  readonly state: LicenseStateName
  /** True when the machine waits for a timer or a command rather than for I/O. */
  readonly settled: boolean
  /** The application may run: LexActivator's `LA_OK` (active, in grace, syncing, or an active trial). */
  readonly licensed: boolean
  readonly validation: ValidationStatus | undefined
  readonly status: LexStatus
  readonly lastError: FailureInfo | undefined
  readonly clearedBecause: FailureInfo | undefined
  /** False when the last write of the licence record failed: the licence holds now, but not across a restart. */
  readonly persisted: boolean
  /** What the failed write said (errno, call, path), until a later write lands. */
  readonly storeError: string | undefined
  readonly nextSyncAt: number | undefined
  readonly nextDeadline: number | undefined
  readonly license: LicenseDetails | undefined
  /**
   * The feature entitlements in force at this moment (expired ones left out), from the last verified set: offline,
   * `[]` when none was fetched. The machine wakes at each feature's expiry, so the view changes at that moment.
   */
  readonly features: ReadonlyArray<Feature>
  /** Why the last fetch of the entitlements failed (the set before it stays), `undefined` after a good one. */
  readonly featuresError: EntitlementsFailure | undefined
}

/** The features in force at `now` (epoch ms), `[]` without a verified set. */
export const featuresOf = (context: Pick<LicenseContext, "facts">, now: number): ReadonlyArray<Feature> => {
  const set = context.facts?.entitlements?.verified
  return set === undefined ? [] : FeatureEntitlements.features(set, now)
}

/** One feature by name at `now`; `NotFound` without a verified set. */
export const featureOf = (context: Pick<LicenseContext, "facts">, name: string, now: number): FeatureLookup =>
  FeatureEntitlements.feature(
    context.facts?.entitlements?.verified ?? { activationId: "", licenseId: "", issuedAt: undefined, entitlements: [] },
    name,
    now
  )

export const isSettled = (snapshot: MachineSnapshot): boolean => snapshot.hasTag("settled")

const toMillis = (seconds: number) => (seconds === 0 ? undefined : seconds * 1000)
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
      return lexStatus(context.status === undefined ? "LA_FAIL" : lexOfValidation[context.status])
  }
}

/** The leaf state a snapshot's value names (every leaf name is unique in the machine). */
export const stateOf = (value: unknown): LicenseStateName => {
  let v = value
  while (typeof v === "object" && v !== null) v = Object.values(v)[0]
  return v as LicenseStateName
}

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
