/**
 * The raw identity sources of each operating system, read in order of trust. Linux: the systemd machine id
 * (`/etc/machine-id`, then D-Bus's copy), DMI strings, and VM and container detection, all from files. macOS: the
 * `IOPlatformUUID` from `ioreg`, run by absolute path because launchd agents often lack `/usr/sbin` on `PATH`.
 * Windows: `MachineGuid` from the 64-bit registry view through `reg.exe`, since a 32-bit process that reads its
 * own view gets `WOW6432Node`, where the value does not exist. Nothing here hashes: raw values stay inside the
 * caller, which salts them before they go anywhere.
 *
 * @internal
 */
import { readFileSync } from "node:fs"
import { release } from "node:os"
import { join, win32 } from "node:path"
import type { HostFiles } from "./HostFiles.ts"
import {
  type ContainerInfo,
  type DmiStrings,
  detectContainer,
  detectHypervisor,
  hypervisorFromStrings
} from "./Virtualization.ts"

/** Runs a program by absolute path with arguments (no shell) and returns its standard output; may throw. */
export type CommandRunner = (file: string, args: ReadonlyArray<string>) => string

export type Env = Readonly<Record<string, string | undefined>>

/** One raw identifier and where it came from; `name` is the component name its hash is reported under. */
export interface RawSource {
  readonly name: string
  readonly value: string
  readonly source: string
}

/** Where a primary id came from. */
export type PrimarySource = "machine-id" | "dbus-machine-id" | "ioreg" | "registry" | "generated"

export interface PrimaryId extends RawSource {
  readonly kind: PrimarySource
}

/** What the primary id says about the machine beyond itself: hashed as components, sent with the activation. */
export interface PlatformDetails {
  readonly hardware: ReadonlyArray<RawSource>
  readonly vmName: string | undefined
  readonly container: ContainerInfo
}

/**
 * What macOS's and Windows's one command yields. On Linux the primary id (`readLinuxPrimary`) and the details
 * (`readLinuxDetails`) are read separately, the details only when asked for: checking a stored token at start-up
 * needs only the fingerprint, while the details (more files, more hashes) matter for an activation request or a
 * drifted fingerprint.
 */
export interface PlatformReading {
  readonly primary: PrimaryId | undefined
  readonly details: () => PlatformDetails
  readonly osVersion: () => string
}

const notInContainer: ContainerInfo = { container: false, kind: undefined }

/** Windows environment names are case-insensitive; an injected plain object is not. */
export const envValue = (env: Env, name: string): string | undefined => {
  const exact = env[name]
  if (exact !== undefined) return exact
  const lower = name.toLowerCase()
  for (const key of Object.keys(env)) if (key.toLowerCase() === lower) return env[key]
  return undefined
}

const machineIdPaths = [
  ["/etc/machine-id", "machine-id"],
  ["/var/lib/dbus/machine-id", "dbus-machine-id"]
] as const

/**
 * The systemd machine id, else D-Bus's copy (usually a link to the same file): 32 lowercase hex digits, as
 * machine-id(5) specifies. systemd writes "uninitialized" during first boot and images built for cloning ship an
 * empty file; neither identifies a machine, so both fall through.
 *
 * This is the whole cost of a process's first fingerprint, so it is one function with no helpers and no regular
 * expression: in a fresh process every function's first call pays for its lazy compilation (20-50 µs each,
 * measured here), which a handful of tiny helpers would make larger than the file read itself.
 */
export const readLinuxPrimary = (root: string, unreadable: Array<string>): PrimaryId | undefined => {
  for (const [path, kind] of machineIdPaths) {
    let text: string
    try {
      text = readFileSync(root === "/" ? path : join(root, path), "utf8")
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code
      if (code !== "ENOENT" && code !== "ENOTDIR") unreadable.push(path)
      continue
    }
    const id = text.trim().toLowerCase()
    let valid = id.length === 32
    for (let i = 0; valid && i < 32; i++) {
      const c = id.charCodeAt(i)
      valid = (c >= 48 && c <= 57) || (c >= 97 && c <= 102)
    }
    if (valid) return { name: "machineId", value: id, source: path, kind }
  }
  return undefined
}

const dmiFiles = ["sys_vendor", "product_name", "board_vendor", "board_name", "product_uuid"] as const

export const readLinuxDetails = (files: HostFiles, env: Env, kernelRelease: string | undefined): PlatformDetails => {
  const hardware: Array<RawSource> = []
  const dmi: Record<string, string> = {}
  for (const file of dmiFiles) {
    // product_uuid is mode 0400: without root it lands in `unreadable`, which is expected, not a fault.
    const value = files.read(`/sys/class/dmi/id/${file}`)?.trim()
    if (value) {
      dmi[file] = value
      hardware.push({ name: `dmi:${file}`, value, source: `dmi:${file}` })
    }
  }
  const strings: DmiStrings = {
    sysVendor: dmi.sys_vendor,
    productName: dmi.product_name,
    boardVendor: dmi.board_vendor,
    boardName: dmi.board_name
  }
  return {
    hardware,
    vmName: detectHypervisor(files, strings, kernelRelease),
    container: detectContainer(files, env)
  }
}

/** The quoted properties of `ioreg -rd1 -c IOPlatformExpertDevice`; data blobs come as `<"…">`. */
export const parseIoreg = (text: string): Readonly<Record<string, string>> => {
  const out: Record<string, string> = {}
  for (const match of text.matchAll(/^\s*"([^"]+)"\s*=\s*<?"([^"]*)">?\s*$/gm)) {
    const [, key, value] = match
    if (key !== undefined && value !== undefined) out[key] = value
  }
  return out
}

export const ioregCommand = { file: "/usr/sbin/ioreg", args: ["-rd1", "-c", "IOPlatformExpertDevice"] } as const

export const readMacos = (run: CommandRunner): PlatformReading => {
  const props = parseIoreg(run(ioregCommand.file, ioregCommand.args))
  const uuid = props.IOPlatformUUID?.trim().toLowerCase()
  const hardware: Array<RawSource> = []
  const serial = props.IOPlatformSerialNumber?.trim()
  if (serial) hardware.push({ name: "serialNumber", value: serial, source: "ioreg:IOPlatformSerialNumber" })
  const model = props.model?.trim()
  if (model) hardware.push({ name: "model", value: model, source: "ioreg:model" })
  const details: PlatformDetails = {
    hardware,
    vmName: hypervisorFromStrings({ sysVendor: props.manufacturer, productName: model }),
    container: notInContainer
  }
  return {
    primary: uuid ? { name: "platformUuid", value: uuid, source: "ioreg:IOPlatformUUID", kind: "ioreg" } : undefined,
    details: () => details,
    osVersion: release
  }
}

/**
 * The `reg.exe` invocation that reads the 64-bit view whatever the bitness of Node. A 32-bit process on 64-bit
 * Windows (WOW64 sets `PROCESSOR_ARCHITEW6432`) sees `System32` redirected to the 32-bit `SysWOW64`, so it must
 * go through the `Sysnative` alias; `/reg:64` then names the view explicitly. On 32-bit Windows there is only one
 * view, no `Sysnative`, and older `reg.exe` builds there reject the `/reg:` switch, so neither is used.
 */
export const regQueryCommand = (env: Env, arch: string): { readonly file: string; readonly args: Array<string> } => {
  const windir = envValue(env, "windir") ?? envValue(env, "SystemRoot") ?? "C:\\Windows"
  const query = ["query", "HKLM\\SOFTWARE\\Microsoft\\Cryptography", "/v", "MachineGuid"]
  const is32Bit = arch === "ia32" || arch === "arm"
  if (!is32Bit) return { file: win32.join(windir, "System32", "reg.exe"), args: [...query, "/reg:64"] }
  if (envValue(env, "PROCESSOR_ARCHITEW6432") !== undefined) {
    return { file: win32.join(windir, "Sysnative", "reg.exe"), args: [...query, "/reg:64"] }
  }
  return { file: win32.join(windir, "System32", "reg.exe"), args: query }
}

/** `    MachineGuid    REG_SZ    6f1c…` from `reg query`'s output. */
export const parseRegQuery = (text: string): string | undefined =>
  /^\s*MachineGuid\s+REG_SZ\s+(\S+)\s*$/im.exec(text)?.[1]?.toLowerCase()

export const readWindows = (run: CommandRunner, env: Env, arch: string): PlatformReading => {
  const command = regQueryCommand(env, arch)
  const guid = parseRegQuery(run(command.file, command.args))
  // Firmware strings on Windows need WMI or more registry reads, each another subprocess: not worth it here.
  const details: PlatformDetails = { hardware: [], vmName: undefined, container: notInContainer }
  return {
    primary: guid ? { name: "machineGuid", value: guid, source: "registry:MachineGuid", kind: "registry" } : undefined,
    details: () => details,
    osVersion: release
  }
}
