/**
 * The emulator's whole state, in memory: products (with their RSA keys), licences, activations, trial
 * activations, faults and the request log; plus the defaults applied when the admin API leaves a field out,
 * and the views the admin API answers with.
 *
 * Every instant is stored as epoch milliseconds on the emulator's clock; durations as seconds, like the API.
 */
import { randomBytes, randomUUID, type KeyObject } from "node:crypto"
import type { ActivationMeterAttribute, LicenseType, MaintenancePolicy, MetadataEntry } from "@licensure/core/Protocol"
import type {
  ActivationView,
  FaultKind,
  LicenseView,
  LogEntry,
  OrganizationView,
  ProductView,
  TrialActivationView
} from "../AdminApi.ts"

/** A product as the admin API shows it (less its trial activations), plus the private key it signs with. */
export interface Product extends Omit<ProductView, "trialActivations"> {
  readonly privateKey: KeyObject
}

export interface LicenseMeter {
  /** The licence meter attribute's id: the token's `lma[i].id`, the path of the meter call. */
  readonly id: string
  readonly name: string
  allowedUses: number
  totalUses: number
  grossUses: number
}

export interface License {
  readonly id: string
  readonly key: string
  readonly productId: string
  readonly createdAt: number
  type: LicenseType
  expiresAt: number | null
  serverSyncInterval: number
  serverSyncGracePeriod: number
  allowedActivations: number
  allowedDeactivations: number
  totalDeactivations: number
  allowVmActivation: boolean
  allowContainerActivation: boolean
  leaseDuration: number
  allowClientLeaseDuration: boolean
  allowedClockOffset: number
  suspended: boolean
  revoked: boolean
  metadata: ReadonlyArray<MetadataEntry>
  /** null when the licence has no user (the token's `name`/`email`/`company` are then `null`). */
  user: { name?: string; email?: string; company?: string } | null
  /** null when the licence has no organisation (the token then has no `on`/`oa`). */
  organization: OrganizationView | null
  meterAttributes: Array<LicenseMeter>
  /** When the first activation happened (the token's `laat`). */
  activatedAt: number | null
  /** The newest release version the licence may install (`/v3/releases/…/allowed`); null: any. */
  maxAllowedReleaseVersion: string | null
  /** The linked entitlement set (the token's `esn`/`esdn`/`est`); null when none. */
  entitlementSet: { readonly name: string; readonly displayName: string; readonly tier: number | null } | null
  /** When the maintenance ends (the token's `meat`), epoch ms; null: no claim. */
  maintenanceExpiresAt: number | null
  /** The token's `mp`; null: no claim. */
  maintenancePolicy: MaintenancePolicy | null
  /** The token's `ul`. */
  userLocked: boolean
  /** The features signed into the feature-entitlements token; `expiresAt` epoch ms or null. */
  featureEntitlements: Array<FeatureEntitlementEntry>
}

export interface FeatureEntitlementEntry {
  readonly featureName: string
  readonly featureDisplayName: string
  readonly value: string
  readonly baseValue: string | null
  readonly expiresAt: number | null
}

export interface ReleaseFileEntry {
  readonly id: string
  readonly name: string
  readonly content: Uint8Array
  readonly size: number
  /** What the release lists: the content's MD5, unless the admin listed another (to provoke a mismatch). */
  readonly checksum: string
  readonly secured: boolean
  readonly extension: string
  readonly createdAt: number
  downloads: number
}

export interface Release {
  readonly id: string
  readonly productId: string
  readonly name: string
  readonly version: string
  readonly channel: string
  readonly platforms: ReadonlyArray<string>
  readonly notes: string
  readonly published: boolean
  readonly private: boolean
  readonly createdAt: number
  readonly publishedAt: number
  readonly files: ReadonlyArray<ReleaseFileEntry>
}

export interface User {
  readonly id: string
  readonly accountId: string | null
  readonly email: string
  password: string
  /** The six digits a second factor must give; null when the user has no two-factor authentication. */
  twoFactorCode: string | null
  /** One-time recovery codes, each usable once instead of the two-factor code. */
  recoveryCodes: Array<string>
  /** The OIDC id token this user logs in with (an opaque string here); null when none. */
  idToken: string | null
  licenseIds: Array<string>
  failedLogins: number
  lockedUntil: number | null
}

export interface Account {
  oidcEnabled: boolean
}

export interface Activation {
  readonly id: string
  readonly licenseId: string
  readonly fingerprint: string
  readonly createdAt: number
  hostname: string
  os: string
  osVersion: string | null
  appVersion: string
  userHash: string
  vmName: string | null
  container: boolean
  /** The release version the activation was created with (signed as `crv`); null when the client sent none. */
  releaseVersion: string | null
  metadata: ReadonlyArray<MetadataEntry>
  meterUses: Map<string, number>
  lastSyncedAt: number
  /** Hosted-floating: when the current lease lapses; null when unlimited or node-locked. */
  leaseExpiresAt: number | null
  /** The lease duration (seconds) granted with the last token; 0 when unlimited or node-locked. */
  leaseDuration: number
}

export interface TrialActivation {
  readonly id: string
  readonly productId: string
  readonly fingerprint: string
  readonly createdAt: number
  hostname: string
  os: string
  userHash: string
  metadata: ReadonlyArray<MetadataEntry>
  expiresAt: number
}

export interface Fault {
  readonly id: string
  readonly kind: FaultKind
  readonly status: number | null
  readonly retryAfter: number | null
  readonly delayMs: number
  readonly body: unknown
  /** Requests left before the fault is spent; null means until cleared. */
  remaining: number | null
  readonly from: number | null
  readonly until: number | null
  readonly method: string | null
  readonly pathPrefix: string | null
}

/** Defaults for what the admin API leaves out (documented in the package README). */
export const Defaults = {
  product: {
    name: "Emulated product",
    allowTrial: true,
    trialLength: 14 * 86_400,
    allowedTrialActivations: -1,
    // A real trial token carries no ssi/ssgpeat/aco (reference-client.md row 32): 0 leaves them out.
    trialServerSyncInterval: 0,
    trialServerSyncGracePeriod: 0,
    trialAllowedClockOffset: 0
  },
  license: {
    type: "node-locked" as LicenseType,
    serverSyncInterval: 3_600,
    serverSyncGracePeriod: 2_592_000,
    allowedActivations: 1,
    allowedDeactivations: -1,
    allowVmActivation: true,
    allowContainerActivation: true,
    // Twice the default sync interval, so that a hosted-floating client renews well before its lease lapses.
    leaseDuration: 7_200,
    allowClientLeaseDuration: false,
    allowedClockOffset: 3_600
  }
} as const

/** A key in Cryptlex's default pattern `^([A-F0-9]{6}-){5}[A-F0-9]{6}$`. */
export const newLicenseKey = (): string =>
  Array.from({ length: 6 }, () => randomBytes(3).toString("hex").toUpperCase()).join("-")

export const newId = (): string => randomUUID()

export class Store {
  readonly products = new Map<string, Product>()
  readonly licenses = new Map<string, License>()
  readonly licensesByKey = new Map<string, License>()
  readonly activations = new Map<string, Activation>()
  readonly trials = new Map<string, TrialActivation>()
  faults: Array<Fault> = []
  log: Array<LogEntry> = []
  readonly releases = new Map<string, Release>()
  readonly users = new Map<string, User>()
  readonly accounts = new Map<string, Account>()
  /** The key the emulator signs users' access tokens with (HS256; only the emulator ever checks them). */
  readonly accessTokenSecret: Uint8Array = randomBytes(32)

  /**
   * The activation with this id, unless it is gone.
   *
   * DECISION (the notes do not say what the server does with a lapsed lease): a hosted-floating activation whose
   * lease lapsed without renewal is deleted by the server, so it frees its seat and a later sync gets 404.
   */
  liveActivation(id: string, now: number): Activation | undefined {
    const activation = this.activations.get(id)
    if (activation === undefined) return undefined
    if (activation.leaseExpiresAt !== null && activation.leaseExpiresAt <= now) {
      this.activations.delete(id)
      return undefined
    }
    return activation
  }

  liveActivationsOf(licenseId: string, now: number): Array<Activation> {
    const out: Array<Activation> = []
    for (const activation of [...this.activations.values()]) {
      if (activation.licenseId !== licenseId) continue
      const live = this.liveActivation(activation.id, now)
      if (live !== undefined) out.push(live)
    }
    return out
  }

  trialsOf(productId: string): Array<TrialActivation> {
    return [...this.trials.values()].filter((trial) => trial.productId === productId)
  }
}

const iso = (ms: number): string => new Date(ms).toISOString()

export const activationMeters = (license: License, activation: Activation): Array<ActivationMeterAttribute> =>
  license.meterAttributes.map((meter) => ({ name: meter.name, uses: activation.meterUses.get(meter.name) ?? 0 }))

export const activationView = (license: License, activation: Activation): ActivationView => ({
  id: activation.id,
  licenseId: activation.licenseId,
  fingerprint: activation.fingerprint,
  hostname: activation.hostname,
  os: activation.os,
  osVersion: activation.osVersion,
  appVersion: activation.appVersion,
  releaseVersion: activation.releaseVersion,
  userHash: activation.userHash,
  vmName: activation.vmName,
  container: activation.container,
  metadata: activation.metadata,
  meterAttributes: activationMeters(license, activation),
  createdAt: iso(activation.createdAt),
  lastSyncedAt: iso(activation.lastSyncedAt),
  leaseExpiresAt: activation.leaseExpiresAt === null ? null : iso(activation.leaseExpiresAt)
})

export const licenseView = (store: Store, license: License, now: number): LicenseView => {
  const activations = store.liveActivationsOf(license.id, now)
  return {
    id: license.id,
    key: license.key,
    productId: license.productId,
    type: license.type,
    expiresAt: license.expiresAt === null ? null : iso(license.expiresAt),
    serverSyncInterval: license.serverSyncInterval,
    serverSyncGracePeriod: license.serverSyncGracePeriod,
    allowedActivations: license.allowedActivations,
    allowedDeactivations: license.allowedDeactivations,
    totalActivations: activations.length,
    totalDeactivations: license.totalDeactivations,
    allowVmActivation: license.allowVmActivation,
    allowContainerActivation: license.allowContainerActivation,
    leaseDuration: license.leaseDuration,
    allowClientLeaseDuration: license.allowClientLeaseDuration,
    allowedClockOffset: license.allowedClockOffset,
    suspended: license.suspended,
    revoked: license.revoked,
    metadata: license.metadata,
    user: license.user === null ? null : { ...license.user },
    organization: license.organization === null ? null : { ...license.organization },
    meterAttributes: license.meterAttributes.map((meter) => ({ ...meter })),
    createdAt: iso(license.createdAt),
    activations: activations.map((activation) => activationView(license, activation))
  }
}

export const trialView = (trial: TrialActivation): TrialActivationView => ({
  id: trial.id,
  productId: trial.productId,
  fingerprint: trial.fingerprint,
  hostname: trial.hostname,
  os: trial.os,
  metadata: trial.metadata,
  createdAt: iso(trial.createdAt),
  expiresAt: iso(trial.expiresAt)
})

export const productView = (store: Store, product: Product): ProductView => ({
  id: product.id,
  name: product.name,
  publicKeyPem: product.publicKeyPem,
  accountId: product.accountId,
  allowTrial: product.allowTrial,
  trialLength: product.trialLength,
  allowedTrialActivations: product.allowedTrialActivations,
  trialServerSyncInterval: product.trialServerSyncInterval,
  trialServerSyncGracePeriod: product.trialServerSyncGracePeriod,
  trialAllowedClockOffset: product.trialAllowedClockOffset,
  metadata: product.metadata,
  trialActivations: store.trialsOf(product.id).map(trialView)
})
