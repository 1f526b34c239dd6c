/**
 * Whether a verified feature-entitlements set is the one asked for: the activation and licence it names against
 * the ones expected. Shared by `FeatureEntitlements.verify` (which checks after the signature) and the start-up
 * load (which verifies the entitlements token beside the activation token and compares once both are in).
 *
 * @since 0.4.0
 */

/** The first id that differs, with the message to refuse the set with; `undefined` when it is the one expected. */
export const mismatchOf = (
  set: { readonly aid: string; readonly lid: string },
  expected: { readonly activationId?: string | undefined; readonly licenseId?: string | undefined }
): { readonly claim: "aid" | "lid"; readonly message: string } | undefined => {
  if (expected.activationId !== undefined && set.aid !== expected.activationId) {
    return {
      claim: "aid",
      message: `expected entitlements for activation ${expected.activationId}, got ones for ${set.aid}`
    }
  }
  if (expected.licenseId !== undefined && set.lid !== expected.licenseId) {
    return { claim: "lid", message: `expected entitlements for licence ${expected.licenseId}, got ones for ${set.lid}` }
  }
  return undefined
}
