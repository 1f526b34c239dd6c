/**
 * Product keys and the tokens signed with them. Each product gets its own RSA key pair (2048 bits unless the
 * emulator is told otherwise); activation and trial tokens are RS256 JWTs whose payload is the Protocol
 * schema's wire encoding, so the emulator cannot drift from what the client decodes.
 */
import { generateKeyPair, type KeyObject } from "node:crypto"
import { promisify } from "node:util"
import * as Schema from "effect/Schema"
import { SignJWT } from "jose"
import { ActivationTokenClaims, type ActivationClaims, TrialTokenClaims } from "@licensure/core/Protocol"
import { type Activation, activationMeters, type License, type Product, type TrialActivation } from "./Store.ts"

const generateRsa = promisify(generateKeyPair)

export interface ProductKeys {
  readonly privateKey: KeyObject
  readonly publicKeyPem: string
}

export const generateProductKeys = async (bits: number): Promise<ProductKeys> => {
  const { privateKey, publicKey } = await generateRsa("rsa", { modulusLength: bits })
  return { privateKey, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() }
}

const sign = (payload: Record<string, unknown>, privateKey: KeyObject): Promise<string> =>
  new SignJWT(payload).setProtectedHeader({ alg: "RS256", typ: "JWT" }).sign(privateKey)

const seconds = (ms: number): number => Math.floor(ms / 1000)

/**
 * DECISION (cryptlex-v3.md §2 gives `ssgpeat` but not how it is computed, and reference-client.md is silent):
 * `ssgpeat = iat + serverSyncGracePeriod`, and 0 (unlimited) when the grace period is ≤ 0 or the sync interval
 * is 0 (no sync, so no grace to run out).
 */
export const graceExpiresAt = (iat: number, syncInterval: number, gracePeriod: number): number =>
  syncInterval > 0 && gracePeriod > 0 ? iat + gracePeriod : 0

/** Signs the token for an activation whose state (lease included) the caller has just updated. */
export const activationToken = (
  product: Product,
  license: License,
  activation: Activation,
  now: number,
  /** The licence's live activations, for `ta`. */
  activations = 1
) => {
  const iat = seconds(now)
  const claims: ActivationClaims = {
    activationId: activation.id,
    licenseId: license.id,
    productId: product.id,
    key: license.key,
    fingerprint: activation.fingerprint,
    fingerprintMatchingStrategy: "exact",
    os: activation.os,
    licenseType: license.type,
    issuedAt: iat,
    expiresAt: license.expiresAt === null ? 0 : seconds(license.expiresAt),
    serverSyncInterval: license.serverSyncInterval,
    serverSyncGraceExpiresAt: graceExpiresAt(iat, license.serverSyncInterval, license.serverSyncGracePeriod),
    allowedClockOffset: license.allowedClockOffset,
    leaseExpiresAt: activation.leaseExpiresAt === null ? 0 : seconds(activation.leaseExpiresAt),
    leaseDuration: activation.leaseDuration,
    suspended: license.suspended,
    ...(license.user?.name === undefined ? {} : { userName: license.user.name }),
    ...(license.user?.email === undefined ? {} : { userEmail: license.user.email }),
    ...(license.user?.company === undefined ? {} : { userCompany: license.user.company }),
    ...(license.organization === null
      ? {}
      : { organizationName: license.organization.name, organizationAddress: { ...license.organization.address } }),
    licenseCreatedAt: seconds(license.createdAt),
    ...(license.activatedAt === null ? {} : { licenseActivatedAt: seconds(license.activatedAt) }),
    activationCreatedAt: seconds(activation.createdAt),
    allowedActivations: license.allowedActivations,
    totalActivations: activations,
    allowedDeactivations: license.allowedDeactivations,
    totalDeactivations: license.totalDeactivations,
    // DECISION: `marv`, `esn`/`esdn`/`est` only when the licence has them, so a plain licence's token keeps the claim
    // set of the protocol fixtures; `ul` always, `true` for a user-locked licence.
    ...(license.maxAllowedReleaseVersion === null
      ? {}
      : { maxAllowedReleaseVersion: license.maxAllowedReleaseVersion }),
    // `crv` only when the activation was created with a release version.
    ...(activation.releaseVersion === null ? {} : { currentReleaseVersion: activation.releaseVersion }),
    // `meat` and `mp` likewise only when the licence has a maintenance expiry or policy.
    ...(license.maintenanceExpiresAt === null ? {} : { maintenanceExpiresAt: seconds(license.maintenanceExpiresAt) }),
    ...(license.maintenancePolicy === null ? {} : { maintenancePolicy: license.maintenancePolicy }),
    ...(license.entitlementSet === null
      ? {}
      : {
          entitlementSetName: license.entitlementSet.name,
          entitlementSetDisplayName: license.entitlementSet.displayName,
          ...(license.entitlementSet.tier === null ? {} : { entitlementSetTier: license.entitlementSet.tier })
        }),
    userHash: activation.userHash,
    userLocked: license.userLocked,
    productMetadata: product.metadata,
    licenseMetadata: license.metadata,
    userMetadata: [],
    activationMetadata: activation.metadata,
    licenseMeterAttributes: license.meterAttributes.map(({ id, name, allowedUses, totalUses, grossUses }) => ({
      id,
      name,
      allowedUses,
      totalUses,
      grossUses
    })),
    activationMeterAttributes: activationMeters(license, activation)
  }
  const encoded: Record<string, unknown> = { ...Schema.encodeSync(ActivationTokenClaims)(claims) }
  // The schema's user claims are optional strings and cannot encode null, so the nulls are put in afterwards,
  // at the keys' usual place in the payload.
  return sign(withUserNulls(encoded), product.privateKey)
}

/**
 * DECISION (reference-client.md rows 28–29, section 2 item 4): like the Cryptlex resources, whose `"user": null`
 * and user fields are `null` rather than absent, the token carries `name`, `email` and `company` always, `null`
 * for each one the licence's user lacks (all three when it has no user). Core's `lenientPayload` reads a `null`
 * claim as absent. `on`/`oa` are only there when the licence has an organisation, `oa` then being the
 * `{addressLine1, addressLine2, city, state, country, postalCode}` object with `null` for a missing field.
 */
const withUserNulls = (encoded: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  const userClaims = ["name", "email", "company"] as const
  for (const [claim, value] of Object.entries(encoded)) {
    // The user claims go right after `suspended`, where the schema would have put them.
    if (userClaims.includes(claim as (typeof userClaims)[number])) continue
    out[claim] = value
    if (claim === "suspended") for (const user of userClaims) out[user] = encoded[user] ?? null
  }
  for (const user of userClaims) if (!(user in out)) out[user] = encoded[user] ?? null
  return out
}

/**
 * A trial token with LexActivator 3.34's claim set: `aid os fp fms pid uh ul eat iat orv pmd amd`
 * (reference-client.md row 32).
 *
 * DECISION: the sync and grace claims `ssi`/`ssgpeat`/`aco` are not in that set and are left out, unless a test
 * product opts in with `trialServerSyncInterval` > 0 (an emulator extension, for clients that must cope with a
 * server that sends them; the client reads them when present, with default 0).
 */
export const trialToken = (product: Product, trial: TrialActivation, now: number) => {
  const iat = seconds(now)
  const sync =
    product.trialServerSyncInterval > 0
      ? {
          serverSyncInterval: product.trialServerSyncInterval,
          serverSyncGraceExpiresAt: graceExpiresAt(
            iat,
            product.trialServerSyncInterval,
            product.trialServerSyncGracePeriod
          ),
          allowedClockOffset: product.trialAllowedClockOffset
        }
      : {}
  const encoded = Schema.encodeSync(TrialTokenClaims)({
    trialActivationId: trial.id,
    productId: product.id,
    fingerprint: trial.fingerprint,
    fingerprintMatchingStrategy: "exact",
    os: trial.os,
    userHash: trial.userHash,
    userLocked: false,
    offlineResponseValidity: 0,
    issuedAt: iat,
    expiresAt: seconds(trial.expiresAt),
    serverSyncInterval: 0,
    serverSyncGraceExpiresAt: 0,
    allowedClockOffset: 0,
    ...sync,
    productMetadata: product.metadata,
    trialMetadata: trial.metadata
  })
  const { ssi, ssgpeat, aco, ...payload } = encoded
  return sign(product.trialServerSyncInterval > 0 ? encoded : payload, product.privateKey)
}
