/**
 * Turns what node:fs throws into the store's typed `io` failure, keeping the operating system's error code in the
 * message (`ENOSPC`, `EACCES`, `EROFS`, …): that code is what a user or a support engineer acts on.
 *
 * @since 0.1.0
 */
import { StoreError } from "@licensure/core/LicenseStore"
import { errorCode } from "./SystemError.ts"

export const ioError = (what: string, cause: unknown): StoreError => {
  const code = errorCode(cause)
  const detail = cause instanceof Error ? cause.message : String(cause)
  const message = code === undefined || detail.includes(code) ? detail : `${code}: ${detail}`
  return new StoreError({ reason: "io", message: `${what}: ${message}` })
}
