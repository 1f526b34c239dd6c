// The root entry: everything an application and its tests use, with no xstate type in its declarations (so a
// strict consumer's type-check, skipLibCheck off, never loads xstate's). The machine itself, its chart and the
// XState clock are subpaths: `@licensure/core/LicenseMachine`, `@licensure/core/Chart`, `@licensure/core/XStateClock`.
export * as ActivationMeters from "./ActivationMeters.ts"
export { ActivationMeterError } from "./ActivationMeters.ts"
export * as ActivationToken from "./ActivationToken.ts"
export * as FeatureEntitlements from "./FeatureEntitlements.ts"
export { FeatureEntitlementsApi, FeatureEntitlementsError } from "./FeatureEntitlements.ts"
export * from "./Fingerprint.ts"
export * from "./LexStatus.ts"
export * from "./LicenseApi.ts"
export * from "./LicenseCause.ts"
export * as LicenseClaims from "./LicenseClaims.ts"
export * as LicenseModel from "./LicenseModel.ts"
export type {
  ActivateOptions,
  FailureInfo,
  LicenseFacts,
  LicenseStateName,
  MachineActor,
  MachineSnapshot,
  SettledState
} from "./LicenseModel.ts"
export * from "./LicenseStore.ts"
export * from "./Licensing.ts"
export * from "./LicensingConfig.ts"
export * from "./LicenseView.ts"
export {
  LicenseOperations,
  type LicenseOperationsService,
  LoadTimeoutMillis,
  OperationTimeoutMillis
} from "./LicenseOperations.ts"
export { LastSeenPersistMillis, unchangedButSeen } from "./RecordWriter.ts"
export * as LicensingErrorReasons from "./LicensingError.ts"
export * from "./PromiseLicensing.ts"
export * as Protocol from "./Protocol.ts"
export * as Releases from "./Releases.ts"
export * as ReleaseVersion from "./ReleaseVersion.ts"
export * as RetryPolicy from "./RetryPolicy.ts"
export * as UserLock from "./UserLock.ts"
export * as UserLogin from "./UserLogin.ts"
export * as Validation from "./Validation.ts"
