/**
 * `@licensure/fingerprint`: the machine identity for Node, as a layer of core's `Fingerprint` service.
 *
 * @since 0.1.0
 */
export * as NodeFingerprint from "./NodeFingerprint.ts"
