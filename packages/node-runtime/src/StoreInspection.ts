/**
 * A look at the licence file without changing anything: where it is, its permissions, whether a writer holds (or
 * left behind) its lock, and whether its bytes open with this machine's key and hold a record. `licensure doctor`
 * reports from it. Unlike `NodeFileStore.load`, nothing here moves an unusable file aside or breaks a stale lock:
 * a diagnosis must leave the evidence where it found it.
 *
 * @example
 * import * as StoreInspection from "@licensure/node-runtime/StoreInspection"
 * const found = StoreInspection.inspect({ productId, fingerprint: identity.fingerprint, directory })
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import { inspectLock, type LockState } from "./internal/FileLock.ts"
import { makeStoreFile } from "./internal/StoreFile.ts"
import {
  classify,
  filePath,
  markPath,
  type NodeFileStoreOptions,
  staleLockMillis,
  type Verdict
} from "./NodeFileStore.ts"

export type { LockState, Verdict }

export interface StoreInspection {
  readonly path: string
  readonly lockPath: string
  /** The second copy (the high-water mark), when the store keeps one. */
  readonly markPath: string | undefined
  readonly markExists: boolean
  /** `undefined` when there is no file; otherwise its permission bits (`mode & 0o777`). */
  readonly mode: number | undefined
  readonly size: number | undefined
  readonly lock: LockState
  /** `undefined` when there is no file (or it could not be read: see `readError`). */
  readonly verdict: Verdict | undefined
  /** The system's refusal to read the file or its lock, e.g. `EACCES`. */
  readonly readError: string | undefined
}

/** Inspects the store these options name, as the store itself would open it. Never throws, never writes. */
export const inspect = (
  options: Pick<NodeFileStoreOptions, "productId" | "fingerprint" | "scope" | "directory" | "markDirectory">
): StoreInspection => {
  const path = filePath(options)
  const file = makeStoreFile({
    path,
    fingerprint: options.fingerprint,
    productId: options.productId,
    lock: { timeoutMillis: 0, staleMillis: staleLockMillis }
  })
  const mark = markPath(options)
  let readError: string | undefined
  const attempt = <A>(f: () => A, fallback: A): A => {
    try {
      return f()
    } catch (cause) {
      readError ??= (cause as NodeJS.ErrnoException).code ?? String(cause)
      return fallback
    }
  }
  const stat = attempt(() => NodeFs.statSync(path, { throwIfNoEntry: false }), undefined)
  const bytes = stat === undefined ? undefined : attempt(() => file.read(), undefined)
  return {
    path,
    lockPath: file.lockPath,
    markPath: mark,
    markExists: mark !== undefined && attempt(() => NodeFs.existsSync(mark), false),
    mode: stat === undefined ? undefined : stat.mode & 0o777,
    size: stat?.size,
    lock: attempt((): LockState => inspectLock(file.lockPath, staleLockMillis), { _tag: "Free" }),
    verdict: bytes === undefined ? undefined : classify(file, bytes),
    readError
  }
}
