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

/**
 * Runs a file-system call on a descriptor and, when it throws, records the file's path on the error: Node leaves the
 * path out of errors from calls on a descriptor (`write`, `fsync`, `fchmod`), and a message that says "ENOSPC,
 * write" without saying which file is no use to anyone.
 */
export const onPath = <A>(path: string, f: () => A): A => {
  try {
    return f()
  } catch (cause) {
    if (typeof cause === "object" && cause !== null && !("path" in cause)) {
      Object.defineProperty(cause, "path", { value: path, enumerable: true })
    }
    throw cause
  }
}

/** Thrown when the store path holds something other than a regular file (a directory, a FIFO, a device). */
export class NotARegularFileError extends Error {
  override readonly name = "NotARegularFileError"
  readonly path: string
  readonly found: string
  constructor(path: string, found: string) {
    super(`expected a regular file at ${path}, found ${found}`)
    this.path = path
    this.found = found
  }
}
