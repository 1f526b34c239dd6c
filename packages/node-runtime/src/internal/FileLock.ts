/**
 * A cross-process lock made of a lock file next to the file it guards, created only if absent and never seen
 * empty. It holds the holder's pid, host name, a timestamp and a random nonce, so that a lock left behind by a
 * crashed process can be recognised and broken: its pid is no longer alive (same host), or it is older than a bound
 * that no honest write comes near. Waiting is a short jittered retry up to a deadline, then a `locked` failure.
 *
 * This lock coordinates with other processes, which live on the wall clock, so it reads and waits on real time
 * rather than Effect's Clock: a TestClock in one process must not make another process's lock look ancient, and a
 * wait for another process to finish cannot be skipped by adjusting a virtual clock. It has no Effect dependency so
 * that the store's whole on-disk path loads in a bare Node process (the crash tests start hundreds of them).
 *
 * @since 0.1.0
 */
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { errorCode, onPath } from "./SystemError.ts"

export interface FileLockOptions {
  /** How long to keep retrying before failing with reason `locked`. */
  readonly timeoutMillis: number
  /** A lock older than this is taken to belong to a stuck or dead holder, whatever its pid says. */
  readonly staleMillis: number
}

export interface HeldLock {
  readonly path: string
  readonly nonce: string
}

const lockTempMarker = ".new-"
const lockAsideMarker = ".stale-"

interface LockContent {
  readonly pid: number
  readonly host: string
  readonly at: number
  readonly nonce: string
}

/** Raised when the lock stayed taken until the deadline; the store turns it into reason `locked`. */
export class LockTimeoutError extends Error {
  override readonly name = "LockTimeoutError"
}

/** Takes the lock at `path`, waiting with jittered pauses up to `options.timeoutMillis`. */
export const acquireLock = async (path: string, options: FileLockOptions): Promise<HeldLock> => {
  const deadline = Date.now() + options.timeoutMillis
  let pause = 1
  for (;;) {
    const outcome = tryAcquire(path, options.staleMillis)
    if (outcome._tag === "Held") return outcome.lock
    if (Date.now() >= deadline) {
      throw new LockTimeoutError(
        `another writer held the lock ${path} for more than ${options.timeoutMillis} ms` +
          (outcome.holder === undefined ? "" : ` (held by ${outcome.holder})`)
      )
    }
    await new Promise((resolve) => setTimeout(resolve, pause + Math.floor(Math.random() * pause)))
    pause = Math.min(pause * 2, 20)
  }
}

type Attempt = { readonly _tag: "Held"; readonly lock: HeldLock } | { readonly _tag: "Busy"; readonly holder?: string }

const tryAcquire = (path: string, staleMillis: number): Attempt => {
  const nonce = NodeCrypto.randomBytes(12).toString("hex")
  const content = JSON.stringify({ pid: process.pid, host: NodeOs.hostname(), at: Date.now(), nonce })
  const created = createWithContent(path, `${path}${lockTempMarker}${nonce}`, content)
  return created ? { _tag: "Held", lock: { path, nonce } } : inspectExisting(path, staleMillis)
}

/**
 * Creates `path` holding `content` if no such file exists, and says whether it did. The content is written to a
 * private file first and hard-linked into place (link fails if the name is taken), so the lock never exists empty:
 * a holder killed mid-acquire leaves either no lock or a complete one that names its dead pid. Where hard links are
 * unavailable (FAT, some network shares) it falls back to O_EXCL create-then-write, and a lock left empty by a crash
 * there is broken by age.
 */
const createWithContent = (path: string, temp: string, content: string): boolean => {
  // Opened before the try (a failed open leaves nothing of ours), filled inside it: a write that fails (a full
  // disk) must not leave the empty private file behind.
  const fd = NodeFs.openSync(temp, "wx", 0o600)
  try {
    try {
      onPath(temp, () => NodeFs.writeFileSync(fd, content))
    } finally {
      NodeFs.closeSync(fd)
    }
    return linkInPlace(temp, path) ?? createExclusive(path, content)
  } finally {
    NodeFs.rmSync(temp, { force: true })
  }
}

/** True when linked, false when the name is taken, `undefined` when this file system has no hard links. */
const linkInPlace = (temp: string, path: string): boolean | undefined => {
  try {
    NodeFs.linkSync(temp, path)
    return true
  } catch (cause) {
    const code = errorCode(cause)
    if (code === "EEXIST") return false
    if (code === "EPERM" || code === "ENOTSUP" || code === "ENOSYS" || code === "EXDEV") return undefined
    throw cause
  }
}

const createExclusive = (path: string, content: string): boolean => {
  let fd: number
  try {
    fd = NodeFs.openSync(path, "wx", 0o600)
  } catch (cause) {
    if (errorCode(cause) === "EEXIST") return false
    throw cause
  }
  try {
    onPath(path, () => NodeFs.writeSync(fd, content))
    NodeFs.closeSync(fd)
  } catch (cause) {
    // A lock we could not fill in (a full disk) must not sit there looking half-written until it goes stale.
    NodeFs.closeSync(fd)
    NodeFs.rmSync(path, { force: true })
    throw cause
  }
  return true
}

/**
 * Removes the private files of lock attempts (and of lock breakers) killed before they cleaned up. Only files older than the stale bound
 * are touched, so a live attempt's file is never pulled from under it.
 */
export const sweepLockTemporaries = (path: string, staleMillis: number): void => {
  const directory = NodePath.dirname(path)
  const prefixes = [lockTempMarker, lockAsideMarker].map((marker) => NodePath.basename(path) + marker)
  const now = Date.now()
  for (const name of NodeFs.readdirSync(directory)) {
    if (!prefixes.some((prefix) => name.startsWith(prefix))) continue
    const full = NodePath.join(directory, name)
    try {
      if (now - NodeFs.statSync(full).mtimeMs > staleMillis) NodeFs.rmSync(full, { force: true })
    } catch (cause) {
      if (errorCode(cause) !== "ENOENT") throw cause
    }
  }
}

const inspectExisting = (path: string, staleMillis: number): Attempt => {
  let raw: string
  let modifiedAt: number
  try {
    raw = NodeFs.readFileSync(path, "utf8")
    modifiedAt = NodeFs.statSync(path).mtimeMs
  } catch (cause) {
    // Released between our open and our read: simply try again.
    if (errorCode(cause) === "ENOENT") return { _tag: "Busy" }
    throw cause
  }
  const content = parseContent(raw)
  const now = Date.now()
  // A lock file with no readable content is either being written this instant or was left half-written by a
  // crash; only its age tells which.
  const stale =
    content === undefined
      ? implausibleAge(now - modifiedAt, staleMillis, staleMillis)
      : content.host === NodeOs.hostname()
        ? implausibleAge(now - content.at, staleMillis, sameHostFutureMillis) || !processAlive(content.pid)
        : implausibleAge(now - content.at, staleMillis, staleMillis)
  if (stale) {
    breakStale(path, raw)
    return { _tag: "Busy" }
  }
  return content === undefined ? { _tag: "Busy" } : { _tag: "Busy", holder: `pid ${content.pid} on ${content.host}` }
}

/**
 * DECISION: a lock stamped in the future is broken, not waited on. On this host it was stamped by this very clock,
 * so a stamp more than 1 s ahead means the clock was set back (or the file was planted) since, and the holder's
 * few milliseconds are long over; waiting for such a lock to age would block every save for as long as the clock
 * went back. A lock from another host (a shared directory) may be ahead by that host's clock skew, so there the
 * bound is the stale bound, the same both ways. The file's own mtime (for an unreadable lock) is set by the file
 * system, which may be remote: also the stale bound.
 */
const sameHostFutureMillis = 1_000

/** True when a lock `age` ms old (negative: stamped in the future) cannot belong to a live, honest holder. */
const implausibleAge = (age: number, staleMillis: number, futureMillis: number): boolean =>
  age > staleMillis || -age > futureMillis || Number.isNaN(age)

/**
 * Removes a stale lock without ever removing a fresh one: the lock is first renamed to a private name (only one
 * breaker can win that rename), and if what was taken is not the stale content we judged, it is linked back.
 */
const breakStale = (path: string, judged: string): void => {
  const aside = `${path}${lockAsideMarker}${NodeCrypto.randomBytes(6).toString("hex")}`
  try {
    NodeFs.renameSync(path, aside)
  } catch (cause) {
    if (errorCode(cause) === "ENOENT") return
    throw cause
  }
  try {
    if (NodeFs.readFileSync(aside, "utf8") !== judged) {
      try {
        NodeFs.linkSync(aside, path)
      } catch (cause) {
        if (errorCode(cause) !== "EEXIST") throw cause
      }
    }
  } finally {
    NodeFs.rmSync(aside, { force: true })
  }
}

/** What a look at a lock file, without taking or breaking it, finds there (for diagnostics). */
export type LockState =
  | { readonly _tag: "Free" }
  | {
      readonly _tag: "Held"
      /** `pid 123 on host`, when the file says; `undefined` for a lock file without readable content. */
      readonly holder: string | undefined
      /** Milliseconds since the holder stamped it (or since the file was modified, for an unreadable one). */
      readonly ageMillis: number
      /** True when a writer would break it: its holder is gone, or it is implausibly old or stamped ahead. */
      readonly stale: boolean
      /** `false` when the holder is on this host and its pid is not alive; `undefined` when it cannot be told. */
      readonly holderAlive: boolean | undefined
    }

/** Reads the lock at `path` and judges it by the same rules a writer applies before breaking it. */
export const inspectLock = (path: string, staleMillis: number): LockState => {
  let raw: string
  let modifiedAt: number
  try {
    raw = NodeFs.readFileSync(path, "utf8")
    modifiedAt = NodeFs.statSync(path).mtimeMs
  } catch (cause) {
    if (errorCode(cause) === "ENOENT") return { _tag: "Free" }
    throw cause
  }
  const content = parseContent(raw)
  const now = Date.now()
  if (content === undefined) {
    const age = now - modifiedAt
    return {
      _tag: "Held",
      holder: undefined,
      ageMillis: age,
      stale: implausibleAge(age, staleMillis, staleMillis),
      holderAlive: undefined
    }
  }
  const age = now - content.at
  const sameHost = content.host === NodeOs.hostname()
  const alive = sameHost ? processAlive(content.pid) : undefined
  const stale = sameHost
    ? implausibleAge(age, staleMillis, sameHostFutureMillis) || alive === false
    : implausibleAge(age, staleMillis, staleMillis)
  return { _tag: "Held", holder: `pid ${content.pid} on ${content.host}`, ageMillis: age, stale, holderAlive: alive }
}

/** Gives the lock up, unless a waiter already judged it stale and took it over. */
export const releaseLock = (held: HeldLock): void => {
  try {
    const content = parseContent(NodeFs.readFileSync(held.path, "utf8"))
    // If a waiter judged us stale and took over, the lock is theirs now; leave it.
    if (content?.nonce === held.nonce) NodeFs.rmSync(held.path, { force: true })
  } catch {
    // Releasing is best effort: a lock we cannot remove is broken later as stale, and failing here would turn a
    // successful save into an error.
  }
}

const parseContent = (raw: string): LockContent | undefined => {
  try {
    const value: unknown = JSON.parse(raw)
    if (typeof value !== "object" || value === null) return undefined
    const { pid, host, at, nonce } = value as Record<string, unknown>
    if (typeof pid !== "number" || typeof host !== "string" || typeof at !== "number" || typeof nonce !== "string") {
      return undefined
    }
    return { pid, host, at, nonce }
  } catch {
    return undefined
  }
}

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (cause) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(cause) === "EPERM"
  }
}
