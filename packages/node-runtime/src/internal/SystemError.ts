/**
 * Reading the `code` that Node's system errors carry (`ENOENT`, `EEXIST`, `ENOSPC`, …). Kept apart from the store's
 * typed errors so that the Effect-free file modules can use it without loading Effect.
 *
 * @since 0.1.0
 */

/** The `code` of a Node system error, if the value carries one. */
export const errorCode = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined
