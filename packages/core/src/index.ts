export * as Protocol from "./Protocol.ts"
export * from "./Fingerprint.ts"
export * from "./LicenseStore.ts"
