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
export type {
  LexStatus,
  LexStatusName,
  LicenseDetails,
  LicenseView,
  PromiseLicensing
} from "@licensure/core"
export { LicensingConfigError, LicensingError } from "@licensure/core"
export { createNodeLicensing, type NodeLicensingConfig } from "@licensure/node-runtime/NodeLicensing"
export { createNodeCalls, type NodeCalls, type NodeCallsConfig } from "@licensure/node-runtime/NodeCalls"
export { ActivationMeters, FeatureEntitlements, ReleaseVersion, UserLock } from "@licensure/core"
