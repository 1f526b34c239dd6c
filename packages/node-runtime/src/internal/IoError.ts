/**
 * Turns what node:fs throws into the store's typed `io` failure. The message says what the store expected to do
 * and what the operating system answered: its error code (`ENOSPC`, `EACCES`, `EROFS`, …), the call and the path it
 * failed on. That code and that path are what a user or a support engineer acts on.
 *
 * @since 0.1.0
 */
import { StoreError } from "@licensure/core/LicenseStore"
import { errorCode, NotARegularFileError } from "./SystemError.ts"

/**
 * `ioError("could not save /x/p.user.lic", "to replace the file whole", cause)` gives
 * `could not save /x/p.user.lic: expected to replace the file whole, got ENOSPC from write on
 * /x/p.user.lic.tmp-0a1b (no space left on device)`.
 */
export const ioError = (what: string, expected: string, cause: unknown): StoreError =>
  new StoreError({ reason: "io", message: `${what}: expected ${expected}, got ${describeSystemError(cause)}` })

const describeSystemError = (cause: unknown): string => {
  if (cause instanceof NotARegularFileError) return `${cause.found} at ${cause.path}`
  const code = errorCode(cause)
  const detail = cause instanceof Error ? cause.message : String(cause)
  if (code === undefined) return detail
  const fields = cause as { readonly syscall?: unknown; readonly path?: unknown; readonly dest?: unknown }
  const call = typeof fields.syscall === "string" ? ` from ${fields.syscall}` : ""
  const path = typeof fields.path === "string" ? ` on ${fields.path}` : ""
  const dest = typeof fields.dest === "string" ? ` -> ${fields.dest}` : ""
  // Node's own message is "CODE: description, syscall 'path'"; keep just the description.
  const description = detail.replace(new RegExp(`^${code}: `), "").replace(/, \w+( '.*')?( -> '.*')?$/, "")
  return `${code}${call}${path}${dest} (${description})`
}
