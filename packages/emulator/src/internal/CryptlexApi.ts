/**
 * The Cryptlex Web API v3 endpoints a client calls: activate, sync, deactivate, and the trial pair. Each one
 * decodes its body with the Protocol schema, runs the licence policy checks in the order a real server is
 * most plausibly using, updates the store, and answers with a freshly signed token or an error body.
 *
 * All checks and updates of one request run synchronously after its body is read, so concurrent requests
 * cannot both take the last seat; only the signing is awaited afterwards.
 */
import {
  ActivationRequest,
  type ActivationRequest as ActivationRequestBody,
  DeactivationRequest,
  TrialActivationRequest
} from "@licensure/core/Protocol"
import { compareVersions, parseVersion } from "@licensure/core/ReleaseVersion"
import { cryptlexError, decodeOrRefuse, empty, json, plainError, readJson } from "./Http.ts"
import {
  type Activation,
  type License,
  type LicenseMeter,
  newId,
  type Product,
  type Store,
  type TrialActivation
} from "./Store.ts"
import { activationToken, trialToken } from "./Tokens.ts"

export interface ApiContext {
  readonly store: Store
  readonly now: () => number
}

const productOf = (ctx: ApiContext, productId: string): Product => {
  const product = ctx.store.products.get(productId)
  if (product === undefined) throw cryptlexError("INVALID_PRODUCT_ID", `No product with id ${productId}`)
  return product
}

/**
 * `accountId` is checked when the product has one: a different non-empty id is `INVALID_ACCOUNT_ID`.
 * DECISION (reference-client.md row 8 leaves enforcement unknown): an empty or absent id is accepted, as LexActivator
 * sends `""` when its product data carries none.
 */
const checkAccount = (product: Product, accountId: string | undefined): void => {
  if (product.accountId === null || accountId === undefined || accountId === "") return
  if (accountId !== product.accountId) throw cryptlexError("INVALID_ACCOUNT_ID", "The account id is not the product's")
}

/** Policy checks shared by activation and sync, in order: revocation, licence type, VM, container. */
const checkPolicy = (license: License, body: ActivationRequestBody): void => {
  if (license.revoked) throw cryptlexError("REVOKED_LICENSE", "The licence has been revoked")
  // DECISION: an on-premise-floating licence is served by the customer's own floating server, never by the web
  // API, so activating or syncing one here is refused with INVALID_LICENSE_TYPE.
  if (license.type === "on-premise-floating") {
    throw cryptlexError("INVALID_LICENSE_TYPE", "An on-premise-floating licence is activated on its floating server")
  }
  if (body.vmName !== undefined && body.vmName !== "" && !license.allowVmActivation) {
    throw cryptlexError("VM_ACTIVATION_NOT_ALLOWED", `The licence does not allow activation in a VM (${body.vmName})`)
  }
  if (body.container === true && !license.allowContainerActivation) {
    throw cryptlexError("CONTAINER_ACTIVATION_NOT_ALLOWED", "The licence does not allow activation in a container")
  }
}

/**
 * The release the client says it runs (reference-client.md §3 items 2 and 3): a `releaseVersion` not in the
 * `x.x` … `x.x.x.x` form is `INVALID_RELEASE_VERSION_FORMAT`; one above the licence's maximum allowed release
 * version (`marv`) is `RELEASE_VERSION_NOT_ALLOWED`.
 * DECISION: the server checks only `marv`. §3 item 2 says the release check is "local, from mp/marv/meat, and a
 * server code" without saying which facts the server judges; `marv` is the one a server can judge from the
 * request alone, while `meat` needs the release's published date (optional in the body) and `mp` the version the
 * licence was bought for, and those stay with the client's local check (core's `ReleaseVersion.check`). An absent
 * or empty `releaseVersion` (LexActivator sends `""` when the app set none) is not judged.
 */
const checkRelease = (license: License | undefined, releaseVersion: string | undefined): void => {
  if (releaseVersion === undefined || releaseVersion === "") return
  const running = parseVersion(releaseVersion)
  if (running === undefined) {
    throw cryptlexError(
      "INVALID_RELEASE_VERSION_FORMAT",
      `releaseVersion: expected x.x to x.x.x.x (digits), got ${JSON.stringify(releaseVersion)}`
    )
  }
  const max = license?.maxAllowedReleaseVersion ?? null
  const maxParts = max === null ? undefined : parseVersion(max)
  if (maxParts !== undefined && compareVersions(running, maxParts) > 0) {
    throw cryptlexError(
      "RELEASE_VERSION_NOT_ALLOWED",
      `The licence allows releases up to ${max}; ${releaseVersion} is not allowed`
    )
  }
}

/**
 * Checks the request's meter increments against the licence, then returns a function that applies them; the
 * split keeps a refused request from changing anything.
 *
 * DECISION: an activation's uses never go below 0 (as LexActivator clamps a decrement); the licence total moves
 * by the change actually made and the gross total by every positive increment; `allowedUses` −1 is unlimited.
 */
const meterUpdate = (license: License, current: ReadonlyMap<string, number>, body: ActivationRequestBody) => {
  const uses = new Map(current)
  const changes = new Map<LicenseMeter, { delta: number; gross: number }>()
  ;(body.meterAttributes ?? []).forEach((increment, index) => {
    const meter = license.meterAttributes.find((candidate) => candidate.name === increment.name)
    if (meter === undefined) {
      const known = license.meterAttributes.map((candidate) => JSON.stringify(candidate.name)).join(", ")
      throw plainError(
        400,
        `meterAttributes[${index}].name: Expected one of the licence's meter attributes (${known || "none"}), got ${JSON.stringify(increment.name)}`
      )
    }
    const before = uses.get(meter.name) ?? 0
    const after = Math.max(0, before + increment.usesIncrement)
    uses.set(meter.name, after)
    const change = changes.get(meter) ?? { delta: 0, gross: 0 }
    change.delta += after - before
    change.gross += Math.max(0, increment.usesIncrement)
    changes.set(meter, change)
  })
  for (const [meter, change] of changes) {
    if (meter.allowedUses >= 0 && change.delta > 0 && meter.totalUses + change.delta > meter.allowedUses) {
      throw cryptlexError(
        "METER_ATTRIBUTE_USES_LIMIT_REACHED",
        `Meter attribute ${meter.name} allows ${meter.allowedUses} uses and ${meter.totalUses} are used; ${change.delta} more refused`
      )
    }
  }
  return (target: Activation): void => {
    target.meterUses = uses
    for (const [meter, change] of changes) {
      meter.totalUses += change.delta
      meter.grossUses += change.gross
    }
  }
}

/** Grants (or renews) a hosted-floating lease; node-locked activations carry none. */
const renewLease = (license: License, activation: Activation, body: ActivationRequestBody, now: number): void => {
  if (license.type !== "hosted-floating") {
    activation.leaseExpiresAt = null
    activation.leaseDuration = 0
    return
  }
  const duration =
    license.allowClientLeaseDuration && body.leaseDuration !== undefined ? body.leaseDuration : license.leaseDuration
  // A lease of 0 or −1 is unlimited (protocol §4).
  activation.leaseDuration = Math.max(duration, 0)
  activation.leaseExpiresAt = duration > 0 ? now + duration * 1000 : null
}

const recordClientFacts = (activation: Activation, body: ActivationRequestBody, now: number): void => {
  activation.hostname = body.hostname
  activation.os = body.os
  activation.osVersion = body.osVersion ?? null
  activation.appVersion = body.appVersion
  activation.userHash = body.userHash
  activation.vmName = body.vmName ?? null
  activation.container = body.container ?? false
  if (body.metadata !== undefined) activation.metadata = body.metadata
  activation.lastSyncedAt = now
}

/** `POST /v3/activations` → 201 `{activationToken}`. */
export const activate = async (ctx: ApiContext, request: Request): Promise<Response> => {
  const body = decodeOrRefuse(ActivationRequest, await readJson(request), "activation request")
  const now = ctx.now()
  const { store } = ctx
  const product = productOf(ctx, body.productId)
  checkAccount(product, body.accountId)
  const license = store.licensesByKey.get(body.key)
  if (license === undefined) throw cryptlexError("INVALID_LICENSE_KEY", "No licence has this key")
  if (license.productId !== product.id) {
    throw cryptlexError("INVALID_PRODUCT_ID", "The licence key belongs to another product")
  }
  checkPolicy(license, body)
  checkRelease(license, body.releaseVersion)
  const live = store.liveActivationsOf(license.id, now)
  // Re-activation from the same machine reuses its activation and seat.
  const existing = live.find((activation) => activation.fingerprint === body.fingerprint) ?? null
  if (existing === null && license.allowedActivations > 0 && live.length >= license.allowedActivations) {
    throw cryptlexError(
      "ACTIVATION_LIMIT_REACHED",
      `The licence allows ${license.allowedActivations} activation(s), all in use`
    )
  }
  const applyMeters = meterUpdate(license, existing?.meterUses ?? new Map(), body)
  const activation: Activation = existing ?? {
    id: newId(),
    licenseId: license.id,
    fingerprint: body.fingerprint,
    createdAt: now,
    hostname: body.hostname,
    os: body.os,
    osVersion: null,
    appVersion: body.appVersion,
    userHash: body.userHash,
    vmName: null,
    container: false,
    releaseVersion: null,
    metadata: [],
    meterUses: new Map(),
    lastSyncedAt: now,
    leaseExpiresAt: null,
    leaseDuration: 0
  }
  recordClientFacts(activation, body, now)
  // DECISION: `crv` ("current release version", reference-client.md row 27, no semantics given) is the release
  // the activation was created with, and syncs do not move it: the maintenance policy `mp` allows or refuses major
  // and minor updates, which only means something against a version fixed before the update (core's LicenseView
  // reads `crv` as "the release version the licence was activated for"). A re-activation of the same machine
  // keeps its activation and so its `crv`, unless it had none.
  if (activation.releaseVersion === null && body.releaseVersion !== undefined && body.releaseVersion !== "") {
    activation.releaseVersion = body.releaseVersion
  }
  applyMeters(activation)
  renewLease(license, activation, body, now)
  store.activations.set(activation.id, activation)
  license.activatedAt ??= now
  const seats = ctx.store.liveActivationsOf(license.id, now).length
  return json(201, { activationToken: await activationToken(product, license, activation, now, seats) })
}

const findActivation = (ctx: ApiContext, id: string, now: number): Activation => {
  const activation = ctx.store.liveActivation(id, now)
  if (activation === undefined) throw cryptlexError("ACTIVATION_NOT_FOUND", `No activation with id ${id}`)
  return activation
}

/** `PATCH /v3/activations/{id}` → 200 `{activationToken}`: server sync, lease renewal, meter increments. */
export const syncActivation = async (ctx: ApiContext, id: string, request: Request): Promise<Response> => {
  const body = decodeOrRefuse(ActivationRequest, await readJson(request), "activation request")
  const now = ctx.now()
  const activation = findActivation(ctx, id, now)
  const license = ctx.store.licenses.get(activation.licenseId)!
  if (body.productId !== license.productId) {
    throw cryptlexError("INVALID_PRODUCT_ID", `The activation belongs to another product than ${body.productId}`)
  }
  checkAccount(productOf(ctx, license.productId), body.accountId)
  if (body.key !== license.key) throw cryptlexError("INVALID_LICENSE_KEY", "The key is not this activation's")
  checkPolicy(license, body)
  if (body.fingerprint !== activation.fingerprint) {
    throw cryptlexError("INVALID_ACTIVATION_FINGERPRINT", "The fingerprint differs from the activation's")
  }
  checkRelease(license, body.releaseVersion)
  const applyMeters = meterUpdate(license, activation.meterUses, body)
  recordClientFacts(activation, body, now)
  applyMeters(activation)
  renewLease(license, activation, body, now)
  const product = productOf(ctx, license.productId)
  const seats = ctx.store.liveActivationsOf(license.id, now).length
  return json(200, { activationToken: await activationToken(product, license, activation, now, seats) })
}

/**
 * `POST /v3/activations/{id}/deactivate` → 204 (reference-client.md row 4). The body is checked first, then the
 * activation (coded 404), its product, account and fingerprint.
 *
 * DECISION: only node-locked deactivations count against `allowedDeactivations` (−1 unlimited, 0 none); a
 * hosted-floating deactivation only hands the seat back, which is the normal end of every floating session.
 */
export const deactivate = async (ctx: ApiContext, id: string, request: Request): Promise<Response> => {
  const body = decodeOrRefuse(DeactivationRequest, await readJson(request), "deactivation request")
  const now = ctx.now()
  const activation = findActivation(ctx, id, now)
  const license = ctx.store.licenses.get(activation.licenseId)!
  if (body.productId !== license.productId) {
    throw cryptlexError("INVALID_PRODUCT_ID", `The activation belongs to another product than ${body.productId}`)
  }
  checkAccount(productOf(ctx, license.productId), body.accountId)
  if (body.fingerprint !== activation.fingerprint) {
    throw cryptlexError("INVALID_ACTIVATION_FINGERPRINT", "The fingerprint differs from the activation's")
  }
  if (license.type === "node-locked") {
    if (license.allowedDeactivations >= 0 && license.totalDeactivations >= license.allowedDeactivations) {
      throw cryptlexError(
        "DEACTIVATION_LIMIT_REACHED",
        `The licence allows ${license.allowedDeactivations} deactivation(s), all used`
      )
    }
    license.totalDeactivations += 1
  }
  ctx.store.activations.delete(id)
  return empty(204)
}

/**
 * `DELETE /v3/activations/{id}`: on Cryptlex an admin call (a bearer token; reference-client.md row 4, inferred
 * from `delete-trial-activations-id`). DECISION: without `Authorization: Bearer …` it answers 401; with any bearer
 * token it deletes the activation without counting a deactivation, like `DELETE /__admin/activations/{id}`.
 */
export const adminDeleteActivation = (ctx: ApiContext, id: string, request: Request): Response => {
  if (!/^Bearer\s+\S+/i.test(request.headers.get("authorization") ?? "")) {
    throw plainError(401, "Expected an Authorization: Bearer access token; this is an admin call")
  }
  findActivation(ctx, id, ctx.now())
  ctx.store.activations.delete(id)
  return empty(204)
}

/** `POST /v3/trial-activations` → 201 `{trialActivationToken}`; the same machine gets its same trial back. */
export const activateTrial = async (ctx: ApiContext, request: Request): Promise<Response> => {
  const body = decodeOrRefuse(TrialActivationRequest, await readJson(request), "trial activation request")
  const now = ctx.now()
  const product = productOf(ctx, body.productId)
  checkAccount(product, body.accountId)
  if (!product.allowTrial) throw cryptlexError("TRIAL_NOT_ALLOWED", "The product does not offer trials")
  checkRelease(undefined, body.releaseVersion)
  const trials = ctx.store.trialsOf(product.id)
  let trial = trials.find((candidate) => candidate.fingerprint === body.fingerprint)
  if (trial === undefined) {
    // DECISION (the notes give no semantics for the trial limit): like allowedActivations, 0 or −1 is unlimited.
    if (product.allowedTrialActivations > 0 && trials.length >= product.allowedTrialActivations) {
      throw cryptlexError(
        "TRIAL_ACTIVATION_LIMIT_REACHED",
        `The product allows ${product.allowedTrialActivations} trial activation(s), all used`
      )
    }
    trial = {
      id: newId(),
      productId: product.id,
      fingerprint: body.fingerprint,
      createdAt: now,
      hostname: body.hostname,
      os: body.os,
      userHash: body.userHash,
      metadata: body.metadata ?? [],
      expiresAt: now + product.trialLength * 1000
    }
    ctx.store.trials.set(trial.id, trial)
  } else {
    updateTrialFacts(trial, body)
  }
  return json(201, { trialActivationToken: await trialToken(product, trial, now) })
}

const updateTrialFacts = (trial: TrialActivation, body: typeof TrialActivationRequest.Type): void => {
  trial.hostname = body.hostname
  trial.os = body.os
  trial.userHash = body.userHash
  if (body.metadata !== undefined) trial.metadata = body.metadata
}

/** `PATCH /v3/trial-activations/{id}` → 200 `{trialActivationToken}` (trial sync; carries any extension). */
export const syncTrial = async (ctx: ApiContext, id: string, request: Request): Promise<Response> => {
  const body = decodeOrRefuse(TrialActivationRequest, await readJson(request), "trial activation request")
  const now = ctx.now()
  const trial = ctx.store.trials.get(id)
  // DECISION: a missing trial gets the same coded 404 as a missing activation (reference-client.md row 18).
  if (trial === undefined) throw cryptlexError("ACTIVATION_NOT_FOUND", `No trial activation with id ${id}`)
  if (body.productId !== trial.productId) {
    throw cryptlexError("INVALID_PRODUCT_ID", `The trial belongs to another product than ${body.productId}`)
  }
  if (body.fingerprint !== trial.fingerprint) {
    throw cryptlexError("INVALID_ACTIVATION_FINGERPRINT", "The fingerprint differs from the trial activation's")
  }
  checkRelease(undefined, body.releaseVersion)
  updateTrialFacts(trial, body)
  const product = productOf(ctx, trial.productId)
  return json(200, { trialActivationToken: await trialToken(product, trial, now) })
}
