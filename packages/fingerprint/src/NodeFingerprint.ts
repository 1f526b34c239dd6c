/**
 * Core's `Fingerprint` service for Node. The fingerprint the server matches exactly is an HMAC-SHA-256, keyed by
 * the product id, of one primary id only: the systemd machine id on Linux, `IOPlatformUUID` on macOS,
 * `MachineGuid` on Windows, or an id generated once and persisted when the machine has none. Nothing else goes
 * into it, because a fingerprint that moves after a kernel, BIOS or host-name change locks a paying user out.
 * Hardware strings and the host name are hashed separately as components, so that `match` can tell a drifted
 * weak component from another machine. Raw identifiers never leave this module, and the product key means two
 * vendors cannot link the same machine.
 *
 * On Linux everything is read from files, with no subprocess; on macOS `/usr/sbin/ioreg` and on Windows
 * `reg.exe` run once per read, and the layer reads once. A missing or unreadable file is never an error: it is
 * skipped and listed. A read computes only the fingerprint (one file and one HMAC on Linux, since checking a stored
 * token at start-up needs nothing more); components, VM and container detection and the user hash are computed on
 * first access to those fields, once.
 *
 * @example
 * ```ts
 * const FingerprintLive = NodeFingerprint.layer({ productId: "3f6c2a0e-9b7d-4c1e-8f2a-5d6b7c8e9f01" })
 * ```
 *
 * @since 0.1.0
 */
import { hash } from "node:crypto"
import { homedir, hostname as osHostname, release, userInfo } from "node:os"
import { isAbsolute, posix, win32 } from "node:path"
import {
  Fingerprint,
  FingerprintError,
  type FingerprintComponent,
  type MachineIdentity,
  matchComponents
} from "@licensure/core/Fingerprint"
import { type OsName, wireHostname } from "@licensure/core/Protocol"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import { loadOrCreateGeneratedId } from "./internal/GeneratedId.ts"
import { HostFiles } from "./internal/HostFiles.ts"
import { saltedHash } from "./internal/SaltedHash.ts"
import {
  type CommandRunner,
  type Env,
  envValue,
  type PlatformDetails,
  type PlatformReading,
  type PrimaryId,
  type PrimarySource,
  readLinuxDetails,
  readLinuxPrimary,
  readMacos,
  readWindows
} from "./internal/PlatformSources.ts"
import type { ContainerKind } from "./internal/Virtualization.ts"

export type { CommandRunner, ContainerKind, PrimarySource }

/**
 * What `NodeFingerprint.layer` reads the machine identity from. Only `productId` is required; every other field
 * overrides a piece of the real machine (a fake root, platform or command runner), which is how tests fingerprint
 * a Windows or macOS machine on Linux.
 */
export interface NodeFingerprintOptions {
  /** The product id (a GUID in Cryptlex): the HMAC key of every hash, so products cannot link machines. */
  readonly productId: string
  /** Where `/etc`, `/sys` and `/proc` are looked up. Default `/`. */
  readonly root?: string
  /** Default `process.env`. */
  readonly env?: Env
  /** Default `process.platform`. */
  readonly platform?: NodeJS.Platform
  /** Default `process.arch`: decides how Windows reaches the 64-bit registry. */
  readonly arch?: string
  /** Default `os.hostname()`. */
  readonly hostname?: string
  /** Default `os.userInfo().username`, then `USER` / `USERNAME`. */
  readonly username?: string
  /** Default the kernel release (`/proc/sys/kernel/osrelease`, else `os.release()`). */
  readonly osVersion?: string
  /** Runs `ioreg` (macOS) or `reg.exe` (Windows). Default `execFileSync` without a shell. */
  readonly runCommand?: CommandRunner
  /**
   * Where a generated id is kept when the machine has none. Default `$XDG_DATA_HOME/licensure` (else
   * `~/.local/share/licensure`), `~/Library/Application Support/licensure` or `%APPDATA%\licensure`.
   */
  readonly dataDir?: string
}

/** Core's `MachineIdentity` plus what only the Node layer knows. `current` yields this shape. */
export interface NodeMachineIdentity extends MachineIdentity {
  /** The container runtime, when `container` is true. */
  readonly containerKind: ContainerKind | undefined
  readonly primarySource: PrimarySource
  /** The file holding the generated id, when `primarySource` is `generated`. */
  readonly generatedIdPath: string | undefined
  /** Sources that exist but could not be read or run (e.g. `/sys/class/dmi/id/product_uuid` without root). */
  readonly unreadable: ReadonlyArray<string>
}

/** The container kind from an identity this package produced; `undefined` for any other identity. */
export const containerKindOf = (identity: MachineIdentity): ContainerKind | undefined =>
  (identity as Partial<NodeMachineIdentity>).containerKind

/** The per-user data directory a generated id is kept in when the caller gives none. */
export const defaultDataDir = (platform: NodeJS.Platform, env: Env = process.env): string => {
  if (platform === "win32") {
    const appData = envValue(env, "APPDATA")
    const home = envValue(env, "USERPROFILE") ?? homedir()
    return win32.join(appData || win32.join(home, "AppData", "Roaming"), "licensure")
  }
  const home = env.HOME || homedir()
  if (platform === "darwin") return posix.join(home, "Library", "Application Support", "licensure")
  // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  const xdg = env.XDG_DATA_HOME
  return posix.join(xdg && isAbsolute(xdg) ? xdg : posix.join(home, ".local", "share"), "licensure")
}

/**
 * The runner used when `runCommand` is not given: `execFileSync` without a shell, UTF-8, 10 s at most, stderr
 * ignored. `node:child_process` is taken when a command first runs (macOS and Windows only), not at import: on Linux no
 * subprocess is ever started, and the module (with `net`, `dgram` and the streams it loads) would be start-up
 * cost for nothing. `process.getBuiltinModule` (Node 22.3+, Bun, Deno) is synchronous and works in the ESM and
 * the CommonJS builds alike.
 */
export const defaultCommandRunner: CommandRunner = (file, args) =>
  (process.getBuiltinModule("node:child_process") as typeof import("node:child_process")).execFileSync(file, args, {
    encoding: "utf8",
    timeout: 10_000,
    windowsHide: true,
    stdio: ["ignore", "pipe", "ignore"],
    maxBuffer: 1 << 20
  })

const usernameOf = (options: NodeFingerprintOptions, env: Env): string => {
  if (options.username !== undefined) return options.username
  try {
    return userInfo().username
  } catch {
    // A uid with no passwd entry (common in containers run with --user) makes userInfo throw.
    return envValue(env, "USER") ?? envValue(env, "USERNAME") ?? ""
  }
}

const describe = (value: unknown): string =>
  typeof value === "string" ? JSON.stringify(value) : value === null ? "null" : typeof value

const commandRunner =
  (options: NodeFingerprintOptions, unreadable: Array<string>): CommandRunner =>
  (file, args) => {
    try {
      const out = (options.runCommand ?? defaultCommandRunner)(file, args)
      if (typeof out === "string") return out
    } catch {
      // Falls through to the generated id; the command is listed so the caller can see why.
    }
    unreadable.push(file)
    return ""
  }

const generatedPrimary = (
  options: NodeFingerprintOptions,
  platform: NodeJS.Platform,
  env: Env
): Result.Result<{ readonly primary: PrimaryId; readonly path: string }, FingerprintError> => {
  const generated = loadOrCreateGeneratedId(options.dataDir ?? defaultDataDir(platform, env))
  // DECISION: when no id exists and none can be stored, fail rather than use a per-process random id: an id that
  // changes on every start would take a new activation slot each time and lock the user out once they run out.
  // The message names the directory so the caller can pass a writable `dataDir`.
  if (Result.isFailure(generated)) {
    return Result.fail(
      new FingerprintError({
        message: `no machine id was found and none could be generated: ${generated.failure}; expected a writable dataDir`
      })
    )
  }
  const { id, path } = generated.success
  return Result.succeed({ primary: { name: "generatedId", value: id, source: "generated", kind: "generated" }, path })
}

/** What the lazy fields are computed from, and their values once computed. */
interface Machine {
  readonly options: NodeFingerprintOptions
  readonly env: Env
  readonly root: string
  readonly unreadable: Array<string>
  readonly primary: PrimaryId
  /** Set at once on macOS and Windows (one command gives everything); on Linux read on demand. */
  reading: PlatformReading | undefined
  described?: ReturnType<typeof describeMachine>
  hostname?: string
  kernelRelease?: string | undefined
  osVersion?: string
  userHash?: string
}

const noDetails: PlatformDetails = { hardware: [], vmName: undefined, container: { container: false, kind: undefined } }

const kernelReleaseOf = (machine: Machine): string | undefined => {
  if (!("kernelRelease" in machine)) {
    machine.kernelRelease =
      new HostFiles(machine.root, machine.unreadable).read("/proc/sys/kernel/osrelease")?.trim() || undefined
  }
  return machine.kernelRelease
}

const detailsOf = (machine: Machine): PlatformDetails => {
  if (machine.reading !== undefined) return machine.reading.details()
  return readLinuxDetails(new HostFiles(machine.root, machine.unreadable), machine.env, kernelReleaseOf(machine))
}

const hostnameOf = (machine: Machine): string => {
  if (machine.hostname === undefined) {
    try {
      machine.hostname = machine.options.hostname ?? osHostname()
    } catch {
      // uv_os_gethostname fails only in odd sandboxes; the host name is a weak component, so it can be absent.
      machine.hostname = ""
    }
  }
  return machine.hostname
}

const describeMachine = (machine: Machine) => {
  const { primary } = machine
  const key = machine.options.productId
  let found: PlatformDetails
  try {
    found = detailsOf(machine)
  } catch (error) {
    // Detection reads only through non-throwing helpers; this guards the getters below against a bug all the same,
    // since they run wherever the host app touches the identity.
    machine.unreadable.push(`details: ${String(error)}`)
    found = noDetails
  }
  const components: Array<FingerprintComponent> = [
    { name: primary.name, strength: "primary", hash: saltedHash(key, primary.name, primary.value) }
  ]
  const sources = [primary.source]
  for (const raw of found.hardware) {
    components.push({ name: raw.name, strength: "hardware", hash: saltedHash(key, raw.name, raw.value) })
    sources.push(raw.source)
  }
  const host = hostnameOf(machine).trim().toLowerCase()
  if (host !== "") {
    components.push({ name: "hostname", strength: "weak", hash: saltedHash(key, "hostname", host) })
    sources.push("hostname")
  }
  return { components, sources, found }
}

const described = (machine: Machine) => {
  machine.described ??= describeMachine(machine)
  return machine.described
}

/**
 * Only the fingerprint is computed up front; the other fields are getters that compute once, on first access (see
 * the module doc). They are own enumerable getters, so spreading or serialising the identity still sees them.
 */
const identityOf = (machine: Machine, fingerprint: string, os: OsName, generatedIdPath: string | undefined) =>
  ({
    fingerprint,
    os,
    primarySource: machine.primary.kind,
    generatedIdPath,
    get components() {
      return described(machine).components
    },
    get sources() {
      return described(machine).sources
    },
    get vmName() {
      return described(machine).found.vmName
    },
    get container() {
      return described(machine).found.container.container
    },
    get containerKind() {
      return described(machine).found.container.kind
    },
    // The host name as the request sends it: never empty or over-long (`wireHostname`, reference-client.md row 12).
    get hostname() {
      return wireHostname(hostnameOf(machine))
    },
    get osVersion() {
      machine.osVersion ??=
        machine.options.osVersion ??
        (machine.reading ? machine.reading.osVersion() : (kernelReleaseOf(machine) ?? release()))
      return machine.osVersion
    },
    get userHash() {
      machine.userHash ??= hash("sha256", usernameOf(machine.options, machine.env), "hex")
      return machine.userHash
    },
    get unreadable() {
      described(machine)
      return [...machine.unreadable]
    }
  }) satisfies NodeMachineIdentity

const compute = (options: NodeFingerprintOptions): Result.Result<NodeMachineIdentity, FingerprintError> => {
  const platform = options.platform ?? process.platform
  const env = options.env ?? process.env
  const root = options.root ?? "/"
  // DECISION: the protocol knows only windows/linux/macos/android/ios. BSDs, illumos and AIX read the Linux
  // sources (which usually end in a generated id) and report "linux", the nearest value the server accepts.
  const os: OsName =
    platform === "darwin" ? "macos" : platform === "win32" ? "windows" : platform === "android" ? "android" : "linux"
  const unreadable: Array<string> = []
  let reading: PlatformReading | undefined
  if (os === "macos") reading = readMacos(commandRunner(options, unreadable))
  else if (os === "windows")
    reading = readWindows(commandRunner(options, unreadable), env, options.arch ?? process.arch)
  let primary = reading ? reading.primary : readLinuxPrimary(root, unreadable)
  let generatedIdPath: string | undefined
  if (primary === undefined) {
    const generated = generatedPrimary(options, platform, env)
    if (Result.isFailure(generated)) return Result.fail(generated.failure)
    primary = generated.success.primary
    generatedIdPath = generated.success.path
  }
  const machine: Machine = { options, env, root, unreadable, primary, reading }
  const fingerprint = saltedHash(options.productId, "fingerprint", primary.value)
  return Result.succeed(identityOf(machine, fingerprint, os, generatedIdPath))
}

/**
 * Reads the machine identity now, uncached. Synchronous: a few small file reads cost less than scheduling async
 * ones. Never throws; bad options and an id that can be neither found nor stored come back as a failure.
 */
export const readMachineIdentity = (
  options: NodeFingerprintOptions
): Result.Result<NodeMachineIdentity, FingerprintError> => {
  const productId: unknown = options?.productId
  if (typeof productId !== "string" || productId.trim() === "") {
    return Result.fail(
      new FingerprintError({ message: `expected productId to be a non-empty string, got ${describe(productId)}` })
    )
  }
  try {
    return compute(options)
  } catch (error) {
    return Result.fail(new FingerprintError({ message: `reading the machine identity failed: ${String(error)}` }))
  }
}

/**
 * The `Fingerprint` layer. The identity is read on the first `current` and kept for the life of the layer; a
 * failure is not kept, so a later call can succeed once, say, the data directory becomes writable.
 */
export const layer = (options: NodeFingerprintOptions): Layer.Layer<Fingerprint> =>
  Layer.sync(Fingerprint, () => {
    let cached: NodeMachineIdentity | undefined
    const current = Effect.suspend(() => {
      if (cached !== undefined) return Effect.succeed(cached)
      const result = readMachineIdentity(options)
      if (Result.isSuccess(result)) cached = result.success
      return Effect.fromResult(result)
    })
    return Fingerprint.of({ current, match: matchComponents })
  })
