/**
 * Where licensure keeps its files on each operating system, and how a product's store file is named.
 *
 * The user scope follows each platform's convention for per-user application data (XDG on Linux and the other
 * Unixes, Application Support on macOS, the roaming AppData on Windows); the system scope is the machine-wide
 * equivalent that an installer running with administrator rights can prepare for every user. Everything here is a
 * pure function of the platform, the environment and the home directory, so the rules can be checked for every
 * platform from any one of them.
 *
 * @since 0.1.0
 */
import * as NodeOs from "node:os"
import * as NodePath from "node:path"

/** Whose licence this is: the logged-in user's, or the whole machine's. */
export type StoreScope = "user" | "system"

/** What the directory rules read; each field defaults to the running process's own value. */
export interface PlatformFacts {
  readonly platform?: NodeJS.Platform
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly homedir?: string
}

const appFolder = "licensure"

/**
 * The directory for a scope on a platform, e.g. `~/.local/share/licensure` for a Linux user.
 *
 * @example
 * defaultDirectory("system", { platform: "win32", env: { PROGRAMDATA: "D:\\ProgramData" } })
 * // "D:\\ProgramData\\licensure"
 */
export const defaultDirectory = (scope: StoreScope, facts: PlatformFacts = {}): string => {
  const platform = facts.platform ?? process.platform
  const env = facts.env ?? process.env
  const home = () => facts.homedir ?? NodeOs.homedir()
  if (platform === "win32") {
    const win = NodePath.win32
    if (scope === "system") return win.join(nonEmpty(env.PROGRAMDATA) ?? "C:\\ProgramData", appFolder)
    return win.join(nonEmpty(env.APPDATA) ?? win.join(home(), "AppData", "Roaming"), appFolder)
  }
  const posix = NodePath.posix
  if (platform === "darwin") {
    const support = posix.join("Library", "Application Support", appFolder)
    return scope === "system" ? posix.join("/", support) : posix.join(home(), support)
  }
  if (scope === "system") return posix.join("/var/lib", appFolder)
  // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  const xdg = nonEmpty(env.XDG_DATA_HOME)
  const base = xdg !== undefined && posix.isAbsolute(xdg) ? xdg : posix.join(home(), ".local", "share")
  return posix.join(base, appFolder)
}

/**
 * The store file's name for a product and scope: `<productId>.<scope>.lic`. Cryptlex product ids are UUIDs and pass
 * through unchanged; any other character (a path separator, a dot that could make `..`) is escaped as `_XX` hex so
 * that a product id can never point outside the directory.
 */
export const storeFileName = (productId: string, scope: StoreScope): string =>
  `${escapeFileComponent(productId)}.${scope}.lic`

/** The full path of a product's store file in a directory. */
export const storeFilePath = (directory: string, productId: string, scope: StoreScope): string =>
  NodePath.join(directory, storeFileName(productId, scope))

// A name of safe characters only (every Cryptlex product id) is its own escape: no encoding on each store start.
const safeComponent = /^[A-Za-z0-9-]*$/
const escapeFileComponent = (name: string): string => (safeComponent.test(name) ? name : escapeBytes(name))

const escapeBytes = (name: string): string =>
  Array.from(new TextEncoder().encode(name), (byte) => {
    const char = String.fromCharCode(byte)
    return /[A-Za-z0-9-]/.test(char) ? char : `_${byte.toString(16).padStart(2, "0")}`
  }).join("")

const nonEmpty = (value: string | undefined): string | undefined =>
  value !== undefined && value.trim() !== "" ? value : undefined
