/**
 * `@licensure/emulator`: a Cryptlex Web API v3 server for tests, simulations and demos. `startEmulator` serves
 * it over HTTP, `createEmulator` answers in process through a `fetch`; the admin API's types and the error-code
 * status table come with them.
 *
 * @since 0.1.0
 */
export * from "./AdminApi.ts"
export * from "./Emulator.ts"
export * from "./ErrorStatus.ts"
