/**
 * Cryptlex's feature-entitlements call (reference-client.md §3 item 1): `GET
 * /v3/activations/{id}/feature-entitlements?accountId=&licenseId=` answers `{featureEntitlementsToken}`, an RS256
 * token signed with the product's key whose claims are `aid`, `lid` and `fe`, the licence's features.
 */
import { SignJWT } from "jose"
import { cryptlexError, json } from "./Http.ts"
import type { Store } from "./Store.ts"

export interface EntitlementsContext {
  readonly store: Store
  readonly now: () => number
}

/**
 * DECISION (the reference lists the claims, not their encoding): each feature carries `baseValue` and `expiresAt`
 * (epoch seconds) only when the licence sets them, as LexActivator 3.34 knew neither; every feature is sent with
 * its expiry, even a past one, so that the client judges expiry on its own clock.
 */
export const featureEntitlements = async (
  ctx: EntitlementsContext,
  activationId: string,
  request: Request
): Promise<Response> => {
  const params = new URL(request.url).searchParams
  const activation = ctx.store.liveActivation(activationId, ctx.now())
  // As for a sync of a missing activation (reference-client.md row 18): 404 with ACTIVATION_NOT_FOUND.
  if (activation === undefined) throw cryptlexError("ACTIVATION_NOT_FOUND", `No activation with id ${activationId}`)
  const license = ctx.store.licenses.get(activation.licenseId)
  const product = license === undefined ? undefined : ctx.store.products.get(license.productId)
  if (license === undefined || product === undefined) {
    throw cryptlexError("ACTIVATION_NOT_FOUND", `No activation with id ${activationId}`)
  }
  const accountId = params.get("accountId")
  if (product.accountId !== null && accountId !== null && accountId !== "" && accountId !== product.accountId) {
    throw cryptlexError("INVALID_ACCOUNT_ID", "The account id is not the product's")
  }
  if (params.get("licenseId") !== license.id) {
    throw cryptlexError("INVALID_LICENSE_ID", "The licence id is not the activation's licence")
  }
  const fe = license.featureEntitlements.map((feature) => ({
    featureName: feature.featureName,
    featureDisplayName: feature.featureDisplayName,
    value: feature.value,
    ...(feature.baseValue === null ? {} : { baseValue: feature.baseValue }),
    ...(feature.expiresAt === null ? {} : { expiresAt: Math.floor(feature.expiresAt / 1000) })
  }))
  const token = await new SignJWT({ aid: activation.id, lid: license.id, fe })
    .setProtectedHeader({ alg: "RS256", typ: "JWT" })
    .sign(product.privateKey)
  return json(200, { featureEntitlementsToken: token })
}
