/**
 * The file operations a durable store needs, each leaving the file either as it was or wholly replaced: a new
 * version is written to a temporary file in the same directory, flushed to disk, renamed over the old one (an atomic
 * step on every local file system Node supports), and the directory entry itself is flushed so that the rename
 * survives a power cut. A process killed at any instant leaves at worst a stray temporary file, which the next
 * writer sweeps away.
 *
 * Effect-free on purpose (see `FileLock.ts`): these run in bare Node processes in the crash tests.
 *
 * @since 0.1.0
 */
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { errorCode, NotARegularFileError, onPath } from "./SystemError.ts"

const tempMarker = ".tmp-"

/**
 * The file's first `limit` bytes (the whole file when it is no longer), or `undefined` when there is no file.
 *
 * Whatever sits at the path is opened without blocking and checked to be a regular file before a byte is read, so
 * that a FIFO, a device (`/dev/zero` behind a symlink) or a directory there is a typed refusal rather than a read
 * that never returns or never ends. A file longer than `limit` is not read to its end.
 */
export const readIfPresent = (path: string, limit: number): Buffer | undefined => {
  let fd: number
  try {
    fd = NodeFs.openSync(path, NodeFs.constants.O_RDONLY | (NodeFs.constants.O_NONBLOCK ?? 0))
  } catch (cause) {
    if (errorCode(cause) === "ENOENT") return undefined
    throw cause
  }
  try {
    const stat = onPath(path, () => NodeFs.fstatSync(fd))
    if (!stat.isFile()) throw new NotARegularFileError(path, describeKind(stat))
    const buffer = Buffer.alloc(Math.min(stat.size, limit))
    let filled = 0
    while (filled < buffer.length) {
      const read = onPath(path, () => NodeFs.readSync(fd, buffer, filled, buffer.length - filled, filled))
      if (read === 0) break
      filled += read
    }
    return buffer.subarray(0, filled)
  } finally {
    NodeFs.closeSync(fd)
  }
}

const describeKind = (stat: NodeFs.Stats): string =>
  stat.isDirectory()
    ? "a directory"
    : stat.isFIFO()
      ? "a FIFO"
      : stat.isCharacterDevice()
        ? "a character device"
        : stat.isBlockDevice()
          ? "a block device"
          : stat.isSocket()
            ? "a socket"
            : "something that is not a file"

/** Replaces (or creates) `path` with `bytes`, mode 0600, all or nothing. The caller holds the writer lock. */
export const replaceAtomically = (path: string, bytes: Uint8Array): void => {
  const temp = `${path}${tempMarker}${NodeCrypto.randomBytes(6).toString("hex")}`
  // Created before the try: if the open fails, there is nothing of ours to remove.
  const fd = NodeFs.openSync(temp, "wx", 0o600)
  try {
    try {
      onPath(temp, () => {
        NodeFs.writeFileSync(fd, bytes)
        // The creation mode is filtered by the umask; set it outright so that no umask can widen it.
        NodeFs.fchmodSync(fd, 0o600)
        NodeFs.fsyncSync(fd)
      })
    } finally {
      NodeFs.closeSync(fd)
    }
    NodeFs.renameSync(temp, path)
  } catch (cause) {
    NodeFs.rmSync(temp, { force: true })
    throw cause
  }
  syncDirectory(NodePath.dirname(path))
}

/** Renames `path` to `to` and makes the rename durable. */
export const moveAside = (path: string, to: string): void => {
  NodeFs.renameSync(path, to)
  syncDirectory(NodePath.dirname(path))
}

/** Deletes `path`; true when there was a file to delete. */
export const removeIfPresent = (path: string): boolean => {
  try {
    NodeFs.unlinkSync(path)
  } catch (cause) {
    if (errorCode(cause) === "ENOENT") return false
    throw cause
  }
  syncDirectory(NodePath.dirname(path))
  return true
}

/** Creates the directory (and its parents) when missing; a directory this creates gets mode 0700. */
export const ensureDirectory = (directory: string): void => {
  const firstCreated = NodeFs.mkdirSync(directory, { recursive: true, mode: 0o700 })
  if (firstCreated === undefined) return
  // mkdir's mode is filtered by the umask too; fix every level that was created just now.
  let current = NodePath.resolve(directory)
  const top = NodePath.resolve(firstCreated)
  for (;;) {
    NodeFs.chmodSync(current, 0o700)
    if (current === top) break
    const parent = NodePath.dirname(current)
    if (parent === current) break
    current = parent
  }
}

/**
 * Removes temporary files that a killed writer left next to `path`. Only safe while holding the writer lock: then
 * no live writer can be between creating its temporary file and renaming it.
 */
export const sweepTemporaries = (path: string): void => {
  const directory = NodePath.dirname(path)
  const prefix = NodePath.basename(path) + tempMarker
  for (const name of NodeFs.readdirSync(directory)) {
    if (name.startsWith(prefix)) NodeFs.rmSync(NodePath.join(directory, name), { force: true })
  }
}

/**
 * Flushes a directory's entries, which is what makes a rename or an unlink durable on Linux and macOS. Windows
 * cannot open a directory for flushing (and commits renames in its journal), and some file systems refuse the call;
 * those refusals are not failures of the write.
 */
export const syncDirectory = (directory: string): void => {
  if (process.platform === "win32") return
  let fd: number
  try {
    fd = NodeFs.openSync(directory, "r")
  } catch (cause) {
    if (unsupportedDirectorySync(cause)) return
    throw cause
  }
  try {
    onPath(directory, () => NodeFs.fsyncSync(fd))
  } catch (cause) {
    if (!unsupportedDirectorySync(cause)) throw cause
  } finally {
    NodeFs.closeSync(fd)
  }
}

const unsupportedDirectorySync = (cause: unknown): boolean => {
  const code = errorCode(cause)
  return code === "EINVAL" || code === "ENOTSUP" || code === "EISDIR" || code === "EPERM" || code === "EBADF"
}
