/**
 * `licensure`: the Promise face of licensure for Node and Electron apps that don't use Effect, published as one
 * bundled, self-contained file (ESM and CJS) with no runtime dependencies. Inside the workspace this entry
 * re-exports the workspace packages; `pnpm build` bundles it (effect, jose, xstate and the workspace packages
 * inlined) with esbuild.
 *
 * @example
 * import { createNodeLicensing } from "licensure"
 * const licensing = createNodeLicensing({ productId, publicKeyPem })
 * await licensing.activate(process.env.LICENSE_KEY!)
 *
 * @since 0.1.0
 */
// Core by module, not its root: the root would bring every module into the bundle's start-up, while these
// leave releases and user login to load inside the bundle on first use (NodeCalls imports them lazily).
export type { LexStatus, LexStatusCodes, LexStatusName } from "@licensure/core/LexStatus"
export type { EntitlementSet, LicenseDetails, LicenseView } from "@licensure/core/LicenseView"
export type { PromiseLicensing } from "@licensure/core/PromiseLicensing"
// Every type the Promise face's signatures name, so a user can write them down (the bundle test walks the
// surface and fails on one that is reachable but not exported). DECISION: the error reasons are exported as
// their unions (ApiErrorReason, FeatureEntitlementsErrorReason, LicensingErrorReason), narrowed by `_tag`, not
// class by class: LicenseApi and LicensingError both have a `NotFound`, `NetworkFailure`…, and one name cannot
// export both. What only `use` (the Effect escape hatch) reaches is Effect's world: `@licensure/core` types it.
export type {
  ActivateOptions,
  EntitlementsFailure,
  FailureInfo,
  LicenseStateName,
  SettledState,
  Verdict
} from "@licensure/core/LicenseModel"
export type { CauseCommand, CauseOperation, LicenseCause } from "@licensure/core/LicenseCause"
export type {
  Feature,
  FeatureEntitlementsErrorReason,
  FeatureLookup
} from "@licensure/core/FeatureEntitlements"
export type { ApiErrorReason, LicenseApiConfig } from "@licensure/core/LicenseApi"
export type { LicensingConfig } from "@licensure/core/LicensingConfig"
export type { LicensingErrorReason } from "@licensure/core/LicensingError"
export type {
  ActivationClaims,
  ActivationMeterAttribute,
  LicenseMeterAttribute,
  MaintenancePolicy,
  MetadataEntry,
  OrganizationAddress
} from "@licensure/core/Protocol"
export type { ValidationStatus } from "@licensure/core/Validation"
export type { StoreScope } from "@licensure/node-runtime/Paths"
export { LicensingConfigError } from "@licensure/core/LicensingConfig"
export { LicensingError } from "@licensure/core/LicensingError"
export { createNodeLicensing, type NodeLicensingConfig } from "@licensure/node-runtime/NodeLicensing"
export { createNodeCalls, type NodeCalls, type NodeCallsConfig } from "@licensure/node-runtime/NodeCalls"
export * as ActivationMeters from "@licensure/core/ActivationMeters"
export * as FeatureEntitlements from "@licensure/core/FeatureEntitlements"
export * as ReleaseVersion from "@licensure/core/ReleaseVersion"
export * as UserLock from "@licensure/core/UserLock"
