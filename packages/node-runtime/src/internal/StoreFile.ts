/**
 * One product's store file with everything that touches the disk: the cipher, the writer lock and the atomic
 * replace, composed into the few operations the store needs. The Effect layer (`NodeFileStore`) adds the record
 * schema, typed errors and in-process ordering on top; the crash tests drive this module directly from bare Node
 * processes, so what they kill mid-write is exactly the code path a save runs.
 *
 * @since 0.1.0
 */
import * as NodePath from "node:path"
import {
  ensureDirectory,
  moveAside,
  readIfPresent,
  removeIfPresent,
  replaceAtomically,
  sweepTemporaries
} from "./AtomicFile.ts"
import { acquireLock, type FileLockOptions, type HeldLock, releaseLock, sweepLockTemporaries } from "./FileLock.ts"
import { makeStoreCipher, type Opened } from "./StoreCipher.ts"

/**
 * DECISION: 1 MiB. A record is a signed token of a few kilobytes plus a handful of component hashes; a store file
 * anywhere near this size is not one, and is refused (as corrupt) after reading just past this bound rather than
 * read whole into memory.
 */
export const maxFileBytes = 1024 * 1024

export interface StoreFileOptions {
  readonly path: string
  readonly fingerprint: string
  readonly productId: string
  readonly lock: FileLockOptions
}

export interface StoreFile {
  readonly path: string
  readonly lockPath: string
  /**
   * The raw bytes (at most `maxFileBytes + 1` of them), or `undefined` when there is no file. Needs no lock: a
   * reader only ever sees whole files.
   */
  readonly read: () => Buffer | undefined
  /** Authenticates and decrypts a file's bytes, or says why they cannot be. */
  readonly open: (bytes: Uint8Array) => Opened
  /** Encrypts and atomically replaces the file under the writer lock. */
  readonly save: (plaintext: Uint8Array) => Promise<void>
  /** Deletes the file under the writer lock. */
  readonly remove: () => Promise<void>
  /**
   * Under one hold of the writer lock: reads the file, and only if `passes` accepts its bytes (`undefined`: no
   * file) replaces it with `plaintext` sealed, or deletes it for `null`. Says whether it wrote. `passes` runs under
   * the lock, so it may move the file aside.
   */
  readonly update: (plaintext: Uint8Array | null, passes: (bytes: Buffer | undefined) => boolean) => Promise<boolean>
  /** Takes the writer lock (for a read-check-move that must not race a writer). */
  readonly lock: () => Promise<HeldLock>
  readonly unlock: (held: HeldLock) => void
  /** Renames the file to `<path><suffix>` and returns the new path; the caller holds the lock. */
  readonly moveAside: (suffix: string) => string
}

export const makeStoreFile = (options: StoreFileOptions): StoreFile => {
  const { path } = options
  const lockPath = `${path}.lock`
  const cipher = makeStoreCipher(options.fingerprint, options.productId)

  const withLock = async <A>(f: () => A): Promise<A> => {
    ensureDirectory(NodePath.dirname(path))
    const held = await acquireLock(lockPath, options.lock)
    try {
      return f()
    } finally {
      releaseLock(held)
    }
  }

  let swept = false
  /** Replaces the file with sealed bytes; the caller holds the lock. */
  const replace = (sealed: Uint8Array) => {
    // Leftovers of writers that crashed mid-save are swept once per store, not on every save: they are litter,
    // never read, and two directory listings would cost a third of each save.
    if (!swept) {
      sweepTemporaries(path)
      sweepLockTemporaries(lockPath, options.lock.staleMillis)
      swept = true
    }
    replaceAtomically(path, sealed)
  }
  const read = () => readIfPresent(path, maxFileBytes + 1)
  return {
    path,
    lockPath,
    read,
    open: cipher.open,
    save: async (plaintext) => {
      // Seal before taking the lock: the lock is held only for the disk work.
      const sealed = cipher.seal(plaintext)
      return withLock(() => replace(sealed))
    },
    remove: () =>
      withLock(() => {
        removeIfPresent(path)
      }),
    update: async (plaintext, passes) => {
      const sealed = plaintext === null ? null : cipher.seal(plaintext)
      return withLock(() => {
        if (!passes(read())) return false
        if (sealed === null) removeIfPresent(path)
        else replace(sealed)
        return true
      })
    },
    lock: async () => {
      ensureDirectory(NodePath.dirname(path))
      return acquireLock(lockPath, options.lock)
    },
    unlock: releaseLock,
    moveAside: (suffix) => {
      const to = `${path}${suffix}`
      moveAside(path, to)
      return to
    }
  }
}
