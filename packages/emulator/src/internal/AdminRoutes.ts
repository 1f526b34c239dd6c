/**
 * The emulator's admin API under `/__admin/` (documented in the package README): products, licences and their
 * policy, activation and trial removal, faults, the clock and the request log. The typed helpers of
 * `Emulator.ts` call these same routes through the emulator's `fetch`.
 */
import {
  AccountOptions,
  ClockChange,
  FaultSpec,
  type Instant,
  LicenseOptions,
  LicensePatch,
  ProductOptions,
  ReleaseOptions,
  TrialPatch,
  UserOptions,
  UserPatch,
  type UserView
} from "../AdminApi.ts"
import { decodeOrRefuse, describe, empty, json, plainError, readJson } from "./Http.ts"
import type { EmulatorClock } from "./EmulatorClock.ts"
import {
  Defaults,
  type Fault,
  type License,
  licenseView,
  newId,
  newLicenseKey,
  productView,
  type Store,
  type User
} from "./Store.ts"
import { md5 } from "./ReleasesApi.ts"
import { generateProductKeys } from "./Tokens.ts"

export interface AdminContext {
  readonly store: Store
  readonly clock: EmulatorClock
  readonly keyBits: number
}

/** Reads an {@link Instant} as epoch ms, refusing a string that is not a date or a number out of Date's range. */
const instant = (field: string, value: Instant): number => {
  const ms = typeof value === "number" ? value : Date.parse(value)
  if (!Number.isFinite(ms) || Number.isNaN(new Date(ms).getTime())) {
    throw plainError(400, `${field}: Expected an ISO-8601 date or epoch milliseconds, got ${describe(value)}`)
  }
  return ms
}

export const createProduct = async (ctx: AdminContext, request: Request): Promise<Response> => {
  const options = decodeOrRefuse(ProductOptions, await readJson(request), "product")
  const id = options.id ?? newId()
  if (ctx.store.products.has(id)) throw plainError(409, `id: A product with id ${id} already exists`)
  const keys = await generateProductKeys(ctx.keyBits)
  // Checked again after the key generation: another request may have taken the id meanwhile.
  if (ctx.store.products.has(id)) throw plainError(409, `id: A product with id ${id} already exists`)
  const d = Defaults.product
  ctx.store.products.set(id, {
    id,
    name: options.name ?? d.name,
    privateKey: keys.privateKey,
    publicKeyPem: keys.publicKeyPem,
    accountId: options.accountId ?? null,
    allowTrial: options.allowTrial ?? d.allowTrial,
    trialLength: options.trialLength ?? d.trialLength,
    allowedTrialActivations: options.allowedTrialActivations ?? d.allowedTrialActivations,
    trialServerSyncInterval: options.trialServerSyncInterval ?? d.trialServerSyncInterval,
    trialServerSyncGracePeriod: options.trialServerSyncGracePeriod ?? d.trialServerSyncGracePeriod,
    trialAllowedClockOffset: options.trialAllowedClockOffset ?? d.trialAllowedClockOffset,
    metadata: options.metadata ?? []
  })
  return json(201, { productId: id, publicKeyPem: keys.publicKeyPem })
}

export const getProduct = (ctx: AdminContext, id: string): Response => {
  const product = ctx.store.products.get(id)
  if (product === undefined) throw plainError(404, `No product with id ${id}`)
  return json(200, productView(ctx.store, product))
}

/** Applies the policy fields present in a create or patch body; meter totals survive for the names kept. */
const applyPolicy = (license: License, policy: typeof LicensePatch.Type): void => {
  if (policy.type !== undefined) license.type = policy.type
  if (policy.expiresAt !== undefined) {
    license.expiresAt = policy.expiresAt === null ? null : instant("expiresAt", policy.expiresAt)
  }
  if (policy.serverSyncInterval !== undefined) license.serverSyncInterval = policy.serverSyncInterval
  if (policy.serverSyncGracePeriod !== undefined) license.serverSyncGracePeriod = policy.serverSyncGracePeriod
  if (policy.allowedActivations !== undefined) license.allowedActivations = policy.allowedActivations
  if (policy.allowedDeactivations !== undefined) license.allowedDeactivations = policy.allowedDeactivations
  if (policy.allowVmActivation !== undefined) license.allowVmActivation = policy.allowVmActivation
  if (policy.allowContainerActivation !== undefined) {
    license.allowContainerActivation = policy.allowContainerActivation
  }
  if (policy.leaseDuration !== undefined) license.leaseDuration = policy.leaseDuration
  if (policy.allowClientLeaseDuration !== undefined) {
    license.allowClientLeaseDuration = policy.allowClientLeaseDuration
  }
  if (policy.allowedClockOffset !== undefined) license.allowedClockOffset = policy.allowedClockOffset
  if (policy.metadata !== undefined) license.metadata = policy.metadata
  if (policy.user !== undefined) license.user = policy.user === null ? null : { ...policy.user }
  if (policy.organization !== undefined) {
    const organization = policy.organization
    const address = organization?.address ?? {}
    license.organization =
      organization === null
        ? null
        : {
            name: organization.name,
            address: {
              addressLine1: address.addressLine1 ?? null,
              addressLine2: address.addressLine2 ?? null,
              city: address.city ?? null,
              state: address.state ?? null,
              country: address.country ?? null,
              postalCode: address.postalCode ?? null
            }
          }
  }
  if (policy.maxAllowedReleaseVersion !== undefined) license.maxAllowedReleaseVersion = policy.maxAllowedReleaseVersion
  if (policy.entitlementSet !== undefined) {
    const set = policy.entitlementSet
    license.entitlementSet =
      set === null ? null : { name: set.name, displayName: set.displayName ?? set.name, tier: set.tier ?? null }
  }
  if (policy.userLocked !== undefined) license.userLocked = policy.userLocked
  if (policy.maintenanceExpiresAt !== undefined) {
    license.maintenanceExpiresAt =
      policy.maintenanceExpiresAt === null ? null : instant("maintenanceExpiresAt", policy.maintenanceExpiresAt)
  }
  if (policy.maintenancePolicy !== undefined) {
    license.maintenancePolicy = policy.maintenancePolicy === null ? null : { ...policy.maintenancePolicy }
  }
  if (policy.featureEntitlements !== undefined) {
    license.featureEntitlements = policy.featureEntitlements.map((feature, index) => ({
      featureName: feature.featureName,
      featureDisplayName: feature.featureDisplayName ?? feature.featureName,
      value: feature.value ?? "",
      baseValue: feature.baseValue ?? null,
      expiresAt:
        feature.expiresAt === undefined || feature.expiresAt === null
          ? null
          : instant(`featureEntitlements[${index}].expiresAt`, feature.expiresAt)
    }))
  }
  if (policy.suspended !== undefined) license.suspended = policy.suspended
  if (policy.revoked !== undefined) license.revoked = policy.revoked
  if (policy.meterAttributes !== undefined) {
    const names = new Set<string>()
    for (const [index, meter] of policy.meterAttributes.entries()) {
      if (names.has(meter.name)) {
        throw plainError(400, `meterAttributes[${index}].name: Expected a unique name, got ${meter.name} twice`)
      }
      names.add(meter.name)
    }
    license.meterAttributes = policy.meterAttributes.map((meter) => {
      const kept = license.meterAttributes.find((old) => old.name === meter.name)
      return {
        id: kept?.id ?? newId(),
        name: meter.name,
        allowedUses: meter.allowedUses,
        totalUses: kept?.totalUses ?? 0,
        grossUses: kept?.grossUses ?? 0
      }
    })
  }
}

export const createLicense = async (ctx: AdminContext, request: Request): Promise<Response> => {
  const options = decodeOrRefuse(LicenseOptions, await readJson(request), "licence")
  if (!ctx.store.products.has(options.productId)) {
    throw plainError(400, `productId: Expected the id of a product, got ${JSON.stringify(options.productId)}`)
  }
  const key = options.key ?? newLicenseKey()
  if (ctx.store.licensesByKey.has(key)) throw plainError(409, `key: A licence with key ${key} already exists`)
  const d = Defaults.license
  const license: License = {
    id: newId(),
    key,
    productId: options.productId,
    createdAt: ctx.clock.now(),
    type: d.type,
    expiresAt: null,
    serverSyncInterval: d.serverSyncInterval,
    serverSyncGracePeriod: d.serverSyncGracePeriod,
    allowedActivations: d.allowedActivations,
    allowedDeactivations: d.allowedDeactivations,
    totalDeactivations: 0,
    allowVmActivation: d.allowVmActivation,
    allowContainerActivation: d.allowContainerActivation,
    leaseDuration: d.leaseDuration,
    allowClientLeaseDuration: d.allowClientLeaseDuration,
    allowedClockOffset: d.allowedClockOffset,
    suspended: false,
    revoked: false,
    metadata: [],
    user: null,
    organization: null,
    meterAttributes: [],
    activatedAt: null,
    maxAllowedReleaseVersion: null,
    entitlementSet: null,
    userLocked: false,
    maintenanceExpiresAt: null,
    maintenancePolicy: null,
    featureEntitlements: []
  }
  applyPolicy(license, options)
  ctx.store.licenses.set(license.id, license)
  ctx.store.licensesByKey.set(license.key, license)
  return json(201, { id: license.id, key: license.key })
}

const licenseOf = (ctx: AdminContext, id: string): License => {
  const license = ctx.store.licenses.get(id)
  if (license === undefined) throw plainError(404, `No licence with id ${id}`)
  return license
}

export const getLicense = (ctx: AdminContext, id: string): Response =>
  json(200, licenseView(ctx.store, licenseOf(ctx, id), ctx.clock.now()))

export const patchLicense = async (ctx: AdminContext, id: string, request: Request): Promise<Response> => {
  const patch = decodeOrRefuse(LicensePatch, await readJson(request), "licence patch")
  const license = licenseOf(ctx, id)
  // Applied to a copy first, so that a refused field leaves the licence as it was.
  const draft: License = { ...license, meterAttributes: license.meterAttributes }
  applyPolicy(draft, patch)
  Object.assign(license, draft)
  return json(200, licenseView(ctx.store, license, ctx.clock.now()))
}

export const deleteActivation = (ctx: AdminContext, id: string): Response => {
  if (!ctx.store.activations.delete(id)) throw plainError(404, `No activation with id ${id}`)
  return empty(204)
}

export const patchTrial = async (ctx: AdminContext, id: string, request: Request): Promise<Response> => {
  const patch = decodeOrRefuse(TrialPatch, await readJson(request), "trial activation patch")
  const trial = ctx.store.trials.get(id)
  if (trial === undefined) throw plainError(404, `No trial activation with id ${id}`)
  trial.expiresAt = instant("expiresAt", patch.expiresAt)
  const product = ctx.store.products.get(trial.productId)!
  return json(
    200,
    productView(ctx.store, product).trialActivations.find((view) => view.id === id)
  )
}

export const deleteTrial = (ctx: AdminContext, id: string): Response => {
  if (!ctx.store.trials.delete(id)) throw plainError(404, `No trial activation with id ${id}`)
  return empty(204)
}

export const addFault = async (ctx: AdminContext, request: Request): Promise<Response> => {
  const spec = decodeOrRefuse(FaultSpec, await readJson(request), "fault")
  if (spec.kind === "delay" && spec.delayMs === undefined) {
    throw plainError(400, "delayMs: Missing (required for a delay fault)")
  }
  const fault: Fault = {
    id: newId(),
    kind: spec.kind,
    status: spec.status ?? null,
    retryAfter: spec.retryAfter ?? null,
    delayMs: spec.delayMs ?? 0,
    body: spec.body,
    remaining: spec.count ?? null,
    from: spec.from === undefined ? null : instant("from", spec.from),
    until: spec.until === undefined ? null : instant("until", spec.until),
    method: spec.match?.method?.toUpperCase() ?? null,
    pathPrefix: spec.match?.path ?? null
  }
  ctx.store.faults.push(fault)
  return json(201, { id: fault.id })
}

export const listFaults = (ctx: AdminContext): Response => json(200, ctx.store.faults)

export const clearFaults = (ctx: AdminContext): Response => {
  ctx.store.faults = []
  return empty(204)
}

export const getClock = (ctx: AdminContext): Response => json(200, { now: ctx.clock.now() })

export const changeClock = async (ctx: AdminContext, request: Request): Promise<Response> => {
  const change = decodeOrRefuse(ClockChange, await readJson(request), "clock change")
  if (!ctx.clock.manual) {
    throw plainError(409, "The emulator's clock is not manual: start it with a manual clock to move time")
  }
  if ((change.advanceSeconds === undefined) === (change.now === undefined)) {
    throw plainError(400, "Expected exactly one of advanceSeconds or now")
  }
  const next = change.now !== undefined ? instant("now", change.now) : ctx.clock.now() + change.advanceSeconds! * 1000
  if (Number.isNaN(new Date(next).getTime())) {
    throw plainError(
      400,
      `advanceSeconds: Expected a move that keeps the clock a valid date, got ${change.advanceSeconds}`
    )
  }
  ctx.clock.set(next)
  return json(200, { now: ctx.clock.now() })
}

export const getLog = (ctx: AdminContext): Response => json(200, ctx.store.log)

export const clearLog = (ctx: AdminContext): Response => {
  ctx.store.log = []
  return empty(204)
}

// Releases, users and accounts (reference-client.md §3 items 4 and 5).

export const createRelease = async (ctx: AdminContext, request: Request): Promise<Response> => {
  const options = decodeOrRefuse(ReleaseOptions, await readJson(request), "release")
  if (!ctx.store.products.has(options.productId)) {
    throw plainError(400, `productId: Expected the id of a product, got ${JSON.stringify(options.productId)}`)
  }
  const now = ctx.clock.now()
  const files = (options.files ?? []).map((file, index) => {
    if ((file.content === undefined) === (file.contentBase64 === undefined)) {
      throw plainError(400, `files[${index}]: Expected exactly one of content or contentBase64`)
    }
    const content =
      file.content !== undefined
        ? new Uint8Array(Buffer.from(file.content, "utf8"))
        : new Uint8Array(Buffer.from(file.contentBase64 as string, "base64"))
    const dot = file.name.lastIndexOf(".")
    return {
      id: newId(),
      name: file.name,
      content,
      size: content.byteLength,
      checksum: file.checksum ?? md5(content),
      secured: file.secured ?? true,
      extension: dot < 0 ? "" : file.name.slice(dot),
      createdAt: now,
      downloads: 0
    }
  })
  const release = {
    id: newId(),
    productId: options.productId,
    name: options.name ?? `v${options.version}`,
    version: options.version,
    channel: options.channel ?? "stable",
    platforms: options.platforms,
    notes: options.notes ?? "",
    published: options.published ?? true,
    private: options.private ?? false,
    createdAt: now,
    publishedAt: options.publishedAt === undefined ? now : instant("publishedAt", options.publishedAt),
    files
  }
  ctx.store.releases.set(release.id, release)
  return json(201, {
    id: release.id,
    files: files.map(({ id, name, size, checksum }) => ({ id, name, size, checksum }))
  })
}

const userView = (user: User): UserView => ({
  id: user.id,
  accountId: user.accountId,
  email: user.email,
  twoFactor: user.twoFactorCode !== null,
  licenseIds: [...user.licenseIds],
  failedLogins: user.failedLogins,
  lockedUntil: user.lockedUntil === null ? null : new Date(user.lockedUntil).toISOString()
})

const checkLicences = (ctx: AdminContext, ids: ReadonlyArray<string>): void => {
  for (const [index, id] of ids.entries()) {
    if (!ctx.store.licenses.has(id)) throw plainError(400, `licenseIds[${index}]: Expected a licence id, got ${id}`)
  }
}

export const createUser = async (ctx: AdminContext, request: Request): Promise<Response> => {
  const options = decodeOrRefuse(UserOptions, await readJson(request), "user")
  checkLicences(ctx, options.licenseIds ?? [])
  const email = options.email.toLowerCase()
  const accountId = options.accountId ?? null
  for (const user of ctx.store.users.values()) {
    if (user.email.toLowerCase() === email && user.accountId === accountId) {
      throw plainError(409, `email: A user with e-mail ${options.email} already exists in this account`)
    }
  }
  const user: User = {
    id: newId(),
    accountId,
    email: options.email,
    password: options.password,
    twoFactorCode: options.twoFactorCode ?? null,
    recoveryCodes: [...(options.recoveryCodes ?? [])],
    idToken: options.idToken ?? null,
    licenseIds: [...(options.licenseIds ?? [])],
    failedLogins: 0,
    lockedUntil: null
  }
  ctx.store.users.set(user.id, user)
  return json(201, userView(user))
}

const userOf = (ctx: AdminContext, id: string): User => {
  const user = ctx.store.users.get(id)
  if (user === undefined) throw plainError(404, `No user with id ${id}`)
  return user
}

export const getUser = (ctx: AdminContext, id: string): Response => json(200, userView(userOf(ctx, id)))

export const patchUser = async (ctx: AdminContext, id: string, request: Request): Promise<Response> => {
  const patch = decodeOrRefuse(UserPatch, await readJson(request), "user patch")
  const user = userOf(ctx, id)
  if (patch.licenseIds !== undefined) checkLicences(ctx, patch.licenseIds)
  if (patch.password !== undefined) user.password = patch.password
  if (patch.twoFactorCode !== undefined) user.twoFactorCode = patch.twoFactorCode
  if (patch.licenseIds !== undefined) user.licenseIds = [...patch.licenseIds]
  if (patch.unlock === true) {
    user.failedLogins = 0
    user.lockedUntil = null
  }
  return json(200, userView(user))
}

export const putAccount = async (ctx: AdminContext, id: string, request: Request): Promise<Response> => {
  const options = decodeOrRefuse(AccountOptions, await readJson(request), "account")
  ctx.store.accounts.set(id, { oidcEnabled: options.oidcEnabled })
  return json(200, { id, oidcEnabled: options.oidcEnabled })
}
