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
export type { LexStatus, LexStatusName } from "@licensure/core/LexStatus"
export type { LicenseDetails, LicenseView } from "@licensure/core/LicenseView"
export type { PromiseLicensing } from "@licensure/core/PromiseLicensing"
export { LicensingConfigError } from "@licensure/core/LicensingConfig"
export { LicensingError } from "@licensure/core/LicensingError"
export { createNodeLicensing, type NodeLicensingConfig } from "@licensure/node-runtime/NodeLicensing"
export { createNodeCalls, type NodeCalls, type NodeCallsConfig } from "@licensure/node-runtime/NodeCalls"
export * as ActivationMeters from "@licensure/core/ActivationMeters"
export * as FeatureEntitlements from "@licensure/core/FeatureEntitlements"
export * as ReleaseVersion from "@licensure/core/ReleaseVersion"
export * as UserLock from "@licensure/core/UserLock"
