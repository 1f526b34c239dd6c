/**
 * The durable `LicenseStore` for Node: one encrypted file per product and scope, replaced atomically, written by
 * one process at a time.
 *
 * A file that cannot be used (damaged, copied from another machine, written by a newer format, or holding a record
 * this build does not accept) is never silently overwritten or merged: `load` moves it aside to
 * `<file>.corrupt-<timestamp>-<random>`, fails with the reason and the place it was moved to, and the next `save`
 * starts a clean file. The licence is then recovered from the server, which is the only authority anyway: the
 * store holds the server's signed token and is re-verified on every load.
 *
 * @example
 * import * as NodeFileStore from "@licensure/node-runtime/NodeFileStore"
 * const StoreLive = NodeFileStore.layer({ productId, fingerprint: identity.fingerprint })
 *
 * @since 0.1.0
 */
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import {
  LicenseStore,
  type LicenseStoreService,
  RecordVersion,
  StoredRecord,
  StoreError,
  type StoreUpdate
} from "@licensure/core/LicenseStore"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Semaphore from "effect/Semaphore"
import { LockTimeoutError } from "./internal/FileLock.ts"
import { ioError } from "./internal/IoError.ts"
import { makeStoreFile, maxFileBytes, type StoreFile } from "./internal/StoreFile.ts"
import { defaultDirectory, type StoreScope, storeFilePath } from "./Paths.ts"

/** Which licence file a {@link make} store reads and writes, and how long it waits for another writer. */
export interface NodeFileStoreOptions {
  /** The Cryptlex product id; part of the file name and the encryption key's salt. */
  readonly productId: string
  /** This machine's fingerprint (`MachineIdentity.fingerprint`): the encryption key is derived from it. */
  readonly fingerprint: string
  /** Default `"user"`. */
  readonly scope?: StoreScope
  /** Overrides the platform's usual directory (see `Paths.defaultDirectory`). */
  readonly directory?: string
  /** How long a save waits for another process's write before failing with reason `locked`. Default 5000. */
  readonly lockTimeoutMillis?: number
  /**
   * Where the second copy of the record (the high-water mark) lives, or `false` for none. Default: the store's
   * directory name with `.marks` appended (a sibling, outside the store's own folder).
   */
  readonly markDirectory?: string | false
}

/**
 * DECISION: every save also writes a second, encrypted copy of the record in another directory (`<store
 * directory>.marks`, beside it), and a load takes the later `lastSeenAt` of the two. Restoring an older licence
 * file (a backup, a copied folder) with the clock set back is then caught as a rollback wherever the mark
 * survives (issue 10). The mark never stands in for a missing record (a cleared activation stays cleared), and
 * a mark that cannot be read or written is ignored: the record alone decides, as before.
 */
export const markPath = (
  options: Pick<NodeFileStoreOptions, "productId" | "scope" | "directory" | "markDirectory">
) => {
  if (options.markDirectory === false) return undefined
  const scope = options.scope ?? "user"
  const directory = NodePath.resolve(options.directory ?? defaultDirectory(scope))
  const marks = options.markDirectory ?? `${directory}.marks`
  return storeFilePath(NodePath.resolve(marks), options.productId, scope)
}

const defaultLockTimeoutMillis = 5_000
// DECISION: 30 s. No honest write holds the lock for more than a few milliseconds; a lock this old belongs to a
// process that is stuck or gone (on another host, where its pid cannot be checked).
/** Milliseconds after which another process's write lock counts as abandoned and is broken (30 000). */
export const staleLockMillis = 30_000

/** Where the store for these options lives. */
export const filePath = (options: Pick<NodeFileStoreOptions, "productId" | "scope" | "directory">): string => {
  const scope = options.scope ?? "user"
  const directory = NodePath.resolve(options.directory ?? defaultDirectory(scope))
  return storeFilePath(directory, options.productId, scope)
}

/** The store as a plain service value, for wiring outside a Layer. */
export const make = (options: NodeFileStoreOptions): LicenseStoreService => {
  const problem = validate(options)
  // DECISION: bad options fail every operation with reason "io" and a message naming the option, rather than
  // failing the layer: the brief fixes the layer as Layer<LicenseStore>, and the lifecycle already treats a store
  // it cannot use as a condition to report, not a crash.
  if (problem !== undefined) {
    const refuse = Effect.fail(new StoreError({ reason: "io", message: `invalid NodeFileStore options: ${problem}` }))
    return { load: refuse, save: () => refuse, clear: refuse, update: () => refuse }
  }
  const file = makeStoreFile({
    path: filePath(options),
    fingerprint: options.fingerprint,
    productId: options.productId,
    lock: { timeoutMillis: options.lockTimeoutMillis ?? defaultLockTimeoutMillis, staleMillis: staleLockMillis }
  })
  const markFile = (() => {
    const path = markPath(options)
    return path === undefined
      ? undefined
      : makeStoreFile({
          path,
          fingerprint: options.fingerprint,
          productId: options.productId,
          lock: { timeoutMillis: options.lockTimeoutMillis ?? defaultLockTimeoutMillis, staleMillis: staleLockMillis }
        })
  })()
  /** The mark's record, when there is a readable one; anything else is no mark. */
  const readMark = Effect.sync((): StoredRecord | undefined => {
    if (markFile === undefined) return undefined
    try {
      const bytes = markFile.read()
      if (bytes === undefined) return undefined
      const verdict = classify(markFile, bytes)
      return verdict._tag === "Record" ? verdict.record : undefined
    } catch {
      return undefined
    }
  })
  const withMark = (record: StoredRecord) =>
    Effect.map(readMark, (mark) =>
      mark !== undefined && mark.lastSeenAt > record.lastSeenAt ? { ...record, lastSeenAt: mark.lastSeenAt } : record
    )
  // In-process writers queue here; the lock file orders them against other processes.
  const writers = Semaphore.makeUnsafe(1)

  const failure = (what: string, expected: string) => (cause: unknown) =>
    cause instanceof LockTimeoutError
      ? new StoreError({ reason: "locked", message: `${what}: ${cause.message}` })
      : ioError(what, expected, cause)

  const readBytes = Effect.try({
    try: file.read,
    catch: failure(`could not read ${file.path}`, "a regular file, or nothing there")
  })

  const quarantine = (first: Rejection): Effect.Effect<Option.Option<StoredRecord>, StoreError> =>
    Effect.acquireUseRelease(
      Effect.tryPromise({
        try: file.lock,
        catch: failure(`could not lock ${file.path}`, `to create the lock file ${file.lockPath}`)
      }),
      () =>
        Effect.gen(function* () {
          // Look again under the lock: a writer may have replaced the bad file since we read it, and a good file
          // must never be moved aside.
          const bytes = yield* readBytes
          if (bytes === undefined) return Option.none()
          const verdict = classify(file, bytes)
          if (verdict._tag === "Record") return Option.some(verdict.record)
          const suffix = `.corrupt-${compactTimestamp(yield* Clock.currentTimeMillis)}-${randomTag()}`
          const to = yield* Effect.try({
            try: () => file.moveAside(suffix),
            catch: failure(
              `could not move the unusable store file ${file.path} aside`,
              `to rename it to ${file.path}${suffix}`
            )
          })
          return yield* new StoreError({
            reason: verdict.reason,
            message: `${file.path}: ${verdict.message}; the file was moved aside to ${to}`,
            quarantinedTo: to
          })
        }),
      (held) => Effect.sync(() => file.unlock(held))
    ).pipe(
      Effect.mapError((error) =>
        error.reason === "locked"
          ? new StoreError({
              reason: first.reason,
              message: `${file.path}: ${first.message}; it was left in place because another writer held the lock`
            })
          : error
      )
    )

  const load: Effect.Effect<Option.Option<StoredRecord>, StoreError> = Effect.gen(function* () {
    const bytes = yield* readBytes
    if (bytes === undefined) return Option.none()
    const verdict = classify(file, bytes)
    if (verdict._tag === "Record") return Option.some(yield* withMark(verdict.record))
    return yield* writers.withPermit(quarantine(verdict))
  })

  /** The record as the file's plaintext, or a `corrupt` error saying which field does not match. */
  const plaintextOf = (record: StoredRecord): Effect.Effect<Buffer, StoreError> => {
    const encoded = Schema.encodeUnknownResult(StoredRecord)(record)
    return Result.isFailure(encoded)
      ? Effect.fail(
          new StoreError({
            reason: "corrupt",
            message: `refusing to save a record that does not match StoredRecord: ${encoded.failure.message}`
          })
        )
      : Effect.succeed(Buffer.from(JSON.stringify(encoded.success), "utf8"))
  }
  // Best effort: the record is what must land; the mark only raises a later load's high-water mark.
  const saveMark = (plaintext: Buffer) =>
    markFile === undefined
      ? Effect.void
      : Effect.ignore(
          Effect.tryPromise(async () => {
            NodeFs.mkdirSync(NodePath.dirname(markFile.path), { recursive: true, mode: 0o700 })
            await markFile.save(plaintext)
          })
        )
  const clearMark =
    markFile === undefined ? Effect.void : Effect.ignore(Effect.tryPromise(() => Promise.resolve(markFile.remove())))
  const saveFailure = failure(
    `could not save ${file.path}`,
    "to write the record to a temporary file beside it and rename that into place"
  )
  const clearFailure = failure(`could not delete ${file.path}`, "to remove the file")

  const save = (record: StoredRecord): Effect.Effect<void, StoreError> =>
    Effect.gen(function* () {
      const plaintext = yield* plaintextOf(record)
      yield* writers.withPermit(Effect.tryPromise({ try: () => file.save(plaintext), catch: saveFailure }))
      yield* saveMark(plaintext)
    })

  const clear: Effect.Effect<void, StoreError> = writers
    .withPermit(Effect.tryPromise({ try: file.remove, catch: clearFailure }))
    .pipe(Effect.tap(() => clearMark))

  /**
   * DECISION: the test and the write share one hold of the lock file (`StoreFile.update`), so the window in which
   * another process's write could slip between them is closed, at the price of one read and decrypt of a few
   * kilobytes inside the lock (bench `store`). A file that holds no usable record is moved aside first, as `load`
   * does, and passes: it is no process's record, and nothing in it is lost.
   */
  const update = (
    expected: (current: Option.Option<StoredRecord>) => boolean,
    next: Option.Option<StoredRecord>
  ): Effect.Effect<StoreUpdate, StoreError> =>
    Effect.gen(function* () {
      const plaintext = Option.isSome(next) ? yield* plaintextOf(next.value) : null
      const suffix = `.corrupt-${compactTimestamp(yield* Clock.currentTimeMillis)}-${randomTag()}`
      let kept: Option.Option<StoredRecord> | undefined
      const passes = (bytes: Buffer | undefined) => {
        if (bytes === undefined) {
          kept = expected(Option.none()) ? undefined : Option.none()
        } else {
          const verdict = classify(file, bytes)
          if (verdict._tag === "Record")
            kept = expected(Option.some(verdict.record)) ? undefined : Option.some(verdict.record)
          else file.moveAside(suffix)
        }
        return kept === undefined
      }
      const written = yield* writers.withPermit(
        Effect.tryPromise({
          try: () => file.update(plaintext, passes),
          catch: plaintext === null ? clearFailure : saveFailure
        })
      )
      if (!written) return { _tag: "Kept", current: kept ?? Option.none() }
      yield* plaintext === null ? clearMark : saveMark(plaintext)
      return { _tag: "Written" }
    })

  return { load, save, clear, update }
}

/** The store as a layer: `Layer<LicenseStore>`. */
export const layer = (options: NodeFileStoreOptions): Layer.Layer<LicenseStore> =>
  Layer.sync(LicenseStore, () => LicenseStore.of(make(options)))

/** Why a store file holds no usable record: not a store file or damaged, sealed for another machine, or a newer format. */
export interface Rejection {
  readonly _tag: "Rejected"
  readonly reason: "corrupt" | "foreign" | "wrongVersion"
  readonly message: string
}

/** What a store file's bytes hold: the record, or why they hold none (shared with `StoreInspection`). */
export type Verdict = { readonly _tag: "Record"; readonly record: StoredRecord } | Rejection

/**
 * Reads a store file's bytes: decrypts them with the file's key and decodes the record, or says why not. Never
 * throws; a file larger than any store file is `corrupt` without being decrypted.
 */
export const classify = (file: Pick<StoreFile, "open">, bytes: Uint8Array): Verdict => {
  if (bytes.length > maxFileBytes) {
    return {
      _tag: "Rejected",
      reason: "corrupt",
      message: `the file is larger than ${maxFileBytes} bytes, far more than any store file; it is not one`
    }
  }
  const opened = file.open(bytes)
  if (opened._tag === "Rejected") return opened
  let json: unknown
  try {
    json = JSON.parse(opened.plaintext.toString("utf8"))
  } catch (cause) {
    return {
      _tag: "Rejected",
      reason: "corrupt",
      message: `the decrypted contents are not JSON (${cause instanceof Error ? cause.message : String(cause)})`
    }
  }
  if (typeof json === "object" && json !== null && "version" in json && json.version !== RecordVersion) {
    return {
      _tag: "Rejected",
      reason: "wrongVersion",
      message:
        `the record has version ${JSON.stringify(json.version)}; ` + `this build reads record version ${RecordVersion}`
    }
  }
  const decoded = Schema.decodeUnknownResult(StoredRecord)(json)
  if (Result.isFailure(decoded)) {
    return {
      _tag: "Rejected",
      reason: "corrupt",
      message: `the decrypted record does not match StoredRecord: ${decoded.failure.message}`
    }
  }
  return { _tag: "Record", record: decoded.success }
}

const validate = (options: NodeFileStoreOptions): string | undefined => {
  const shown = (value: unknown) => (typeof value === "string" ? JSON.stringify(value) : typeof value)
  if (typeof options.productId !== "string" || options.productId.trim() === "") {
    return `expected productId to be a non-empty string, got ${shown(options.productId)}`
  }
  if (typeof options.fingerprint !== "string" || options.fingerprint === "") {
    return `expected fingerprint to be a non-empty string, got ${shown(options.fingerprint)}`
  }
  if (options.scope !== undefined && options.scope !== "user" && options.scope !== "system") {
    return `expected scope to be "user" or "system", got ${shown(options.scope)}`
  }
  if (options.directory !== undefined && (typeof options.directory !== "string" || options.directory === "")) {
    return `expected directory to be a non-empty path, got ${shown(options.directory)}`
  }
  const timeout = options.lockTimeoutMillis
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout >= 0)) {
    return `expected lockTimeoutMillis to be a finite number >= 0, got ${String(timeout)}`
  }
  return undefined
}

/** `20250301T141503123Z`: sortable, and free of the `:` that Windows file names cannot hold. */
const compactTimestamp = (millis: number): string => new Date(millis).toISOString().replace(/[-:.]/g, "")

const randomTag = (): string => NodeCrypto.randomBytes(4).toString("hex")
