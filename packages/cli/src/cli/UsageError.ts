/**
 * The one error the CLI reports as the user's to fix: a wrong flag, a missing product id, a public key that is not
 * a key. It becomes one line on stderr and exit code 2, never a stack trace. The message says what was expected
 * and what came, and names where the bad value came from (a flag, a variable or the config file).
 *
 * A plain tagged `Error` rather than a `Schema.TaggedError`: the usage path must not load Effect, so that a typo
 * is answered at once.
 *
 * @since 0.1.0
 */

export class UsageError extends Error {
  readonly _tag = "UsageError"
  constructor(fields: { readonly message: string }) {
    super(fields.message)
    this.name = "UsageError"
  }
}

export const isUsageError = (error: unknown): error is UsageError => error instanceof UsageError

/** `"abc"`, or a short description when the value is long or not a string, for "got …" in messages. */
export const shown = (value: unknown): string => {
  if (typeof value !== "string") return value === null ? "null" : typeof value
  return value.length > 40 ? `${JSON.stringify(value.slice(0, 37))}…` : JSON.stringify(value)
}
