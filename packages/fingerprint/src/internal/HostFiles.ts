/**
 * Read-only access to the few host files a fingerprint is made from, relative to an injectable filesystem root so
 * that tests can build a fake `/etc`, `/sys` and `/proc` in a temporary directory. Every read is synchronous (a
 * handful of tiny files costs less than the promise machinery around an async read) and never throws: a missing
 * file reads as `undefined`, and a file that exists but cannot be read (permissions, a directory in its place)
 * is also recorded in `unreadable`, so that the caller can report why a source was not used.
 *
 * @internal
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs"
import { join } from "node:path"

const isMissing = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code
  return code === "ENOENT" || code === "ENOTDIR"
}

const closeQuietly = (fd: number): void => {
  try {
    closeSync(fd)
  } catch {
    // The bytes are already read; a failed close leaks nothing worth failing the fingerprint for.
  }
}

export class HostFiles {
  /** Host paths that exist but could not be read, in the order they were tried. */
  readonly unreadable: Array<string>
  readonly #root: string

  constructor(root: string, unreadable: Array<string> = []) {
    this.#root = root
    this.unreadable = unreadable
  }

  #resolve(path: string): string {
    return this.#root === "/" ? path : join(this.#root, path)
  }

  #failed(path: string, error: unknown): undefined {
    if (!isMissing(error)) this.unreadable.push(path)
    return undefined
  }

  /** The whole file as UTF-8, or `undefined` when it is missing or unreadable. */
  read(path: string): string | undefined {
    try {
      return readFileSync(this.#resolve(path), "utf8")
    } catch (error) {
      return this.#failed(path, error)
    }
  }

  /** At most `bytes` bytes from the start: `/proc/cpuinfo` is generated on read and grows with the core count. */
  readHead(path: string, bytes: number): string | undefined {
    let fd: number | undefined
    try {
      fd = openSync(this.#resolve(path), "r")
      const buffer = Buffer.allocUnsafe(bytes)
      const n = readSync(fd, buffer, 0, bytes, 0)
      return buffer.toString("utf8", 0, n)
    } catch (error) {
      return this.#failed(path, error)
    } finally {
      if (fd !== undefined) closeQuietly(fd)
    }
  }

  exists(path: string): boolean {
    return existsSync(this.#resolve(path))
  }
}
