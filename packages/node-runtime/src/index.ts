export { createNodeCalls } from "./NodeCalls.ts"
export * as NodeCalls from "./NodeCalls.ts"
export * as NodeFileStore from "./NodeFileStore.ts"
export * as NodeHttp from "./NodeHttp.ts"
export * as NodeLicensing from "./NodeLicensing.ts"
export { createNodeLicensing } from "./NodeLicensing.ts"
export * as Paths from "./Paths.ts"
export * as StoreWatch from "./StoreWatch.ts"
// DECISION: what an Effect app needs beside the runtime comes from here too, so `@licensure/node-runtime` is its
// one licensure dependency (the root README: "Effect apps install @licensure/node-runtime"): the `Licensing`
// service that `NodeLicensing.layer` provides, its errors, and the types of the views it answers with, the same
// names the `licensure` package exports. Re-exported from core's modules, not its root, so importing the runtime
// still loads no more of core than a check uses (startup-imports.test.ts). The rest of core (tokens, the model,
// the protocol) stays `@licensure/core`'s, a direct dependency for the apps that reach for it.
export { Licensing, type LicensingService, type LicenseMoment } from "@licensure/core/Licensing"
export { LicensingError, type LicensingErrorReason } from "@licensure/core/LicensingError"
export { LicensingConfigError, type LicensingConfig } from "@licensure/core/LicensingConfig"
export type { LexStatus, LexStatusCodes, LexStatusName } from "@licensure/core/LexStatus"
export type { EntitlementSet, LicenseDetails, LicenseView } from "@licensure/core/LicenseView"
export type { PromiseLicensing } from "@licensure/core/PromiseLicensing"
export type {
  ActivateOptions,
  EntitlementsFailure,
  FailureInfo,
  LicenseStateName,
  SettledState,
  Verdict
} from "@licensure/core/LicenseModel"
export type { CauseCommand, CauseOperation, LicenseCause } from "@licensure/core/LicenseCause"
export type { Feature, FeatureEntitlementsErrorReason, FeatureLookup } from "@licensure/core/FeatureEntitlements"
export type { ApiErrorReason, LicenseApiConfig } from "@licensure/core/LicenseApi"
export type { ValidationStatus } from "@licensure/core/Validation"
export type { StoreScope } from "./Paths.ts"
