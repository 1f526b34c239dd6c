/**
 * Cryptlex's activation meter call (reference-client.md row 13, LexActivator's `LA_IN_MEMORY` mode): `POST
 * /v3/activations/meter-attributes/{id}` with `{productId, activationId, increment, accountId}` moves the
 * activation's uses of the licence meter attribute `{id}` by `increment` and answers `{name, uses,
 * licenseAllowedUses, licenseTotalUses, licenseGrossUses}`, under the same limits as increments sent with a sync.
 */
import { ActivationMeterIncrementRequest } from "@licensure/core/Protocol"
import { cryptlexError, decodeOrRefuse, json, plainError, readJson } from "./Http.ts"
import type { Store } from "./Store.ts"

export interface MetersContext {
  readonly store: Store
  readonly now: () => number
}

/**
 * DECISION (the reference gives the body and `INVALID_ACTIVATION_ID`, not the other answers): an activation that
 * is gone, or not of the meter's licence, is 400 `INVALID_ACTIVATION_ID`; an unknown meter id a 404 without a code;
 * another product's id `INVALID_PRODUCT_ID`, another account's `INVALID_ACCOUNT_ID`; success is 200. Uses never go
 * below 0 and an increment past the licence's allowance is `METER_ATTRIBUTE_USES_LIMIT_REACHED`, as for the sync
 * (`CryptlexApi.meterUpdate`): the licence total moves by the change made, the gross total by every positive
 * increment.
 */
export const incrementMeter = async (ctx: MetersContext, meterId: string, request: Request): Promise<Response> => {
  const body = decodeOrRefuse(ActivationMeterIncrementRequest, await readJson(request), "meter attribute increment")
  const { store } = ctx
  const activation = store.liveActivation(body.activationId, ctx.now())
  if (activation === undefined) {
    throw cryptlexError("INVALID_ACTIVATION_ID", `No activation with id ${body.activationId}`)
  }
  const license = store.licenses.get(activation.licenseId)
  const product = license === undefined ? undefined : store.products.get(license.productId)
  if (license === undefined || product === undefined) {
    throw cryptlexError("INVALID_ACTIVATION_ID", `No activation with id ${body.activationId}`)
  }
  const meter = license.meterAttributes.find((candidate) => candidate.id === meterId)
  if (meter === undefined) {
    const elsewhere = [...store.licenses.values()].some((other) => other.meterAttributes.some((m) => m.id === meterId))
    if (elsewhere) {
      throw cryptlexError("INVALID_ACTIVATION_ID", "The activation is not of the meter attribute's licence")
    }
    throw plainError(404, `No meter attribute with id ${meterId}`)
  }
  if (body.productId !== undefined && body.productId !== "" && body.productId !== product.id) {
    throw cryptlexError("INVALID_PRODUCT_ID", `No product with id ${body.productId} for this activation`)
  }
  if (product.accountId !== null && body.accountId !== "" && body.accountId !== product.accountId) {
    throw cryptlexError("INVALID_ACCOUNT_ID", "The account id is not the product's")
  }
  const before = activation.meterUses.get(meter.name) ?? 0
  const after = Math.max(0, before + body.increment)
  const delta = after - before
  if (meter.allowedUses >= 0 && delta > 0 && meter.totalUses + delta > meter.allowedUses) {
    throw cryptlexError(
      "METER_ATTRIBUTE_USES_LIMIT_REACHED",
      `Meter attribute ${meter.name} allows ${meter.allowedUses} uses and ${meter.totalUses} are used; ${delta} more refused`
    )
  }
  const uses = new Map(activation.meterUses)
  uses.set(meter.name, after)
  activation.meterUses = uses
  meter.totalUses += delta
  meter.grossUses += Math.max(0, body.increment)
  return json(200, {
    name: meter.name,
    uses: after,
    licenseAllowedUses: meter.allowedUses,
    licenseTotalUses: meter.totalUses,
    licenseGrossUses: meter.grossUses
  })
}
