/**
 * Where the CLI's licensing configuration comes from: flags, then environment variables, then a JSON config file,
 * the first source that gives a value winning for each field. The config file is `--config`, else
 * `LICENSURE_CONFIG`, else `./licensure.json` when it exists.
 *
 * Everything is checked here, whatever its source, and a bad value is a {@link UsageError} that names the source
 * (`--scope`, `LICENSURE_SCOPE`, `licensure.json: scope`), what was expected and what came. The public key is read
 * and parsed now, so that a damaged key file is reported as such before any network call, rather than later as a
 * signature that does not verify.
 *
 * @since 0.1.0
 */
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import type { ConfigFlags } from "./CommandLine.ts"
import { shown, UsageError } from "./UsageError.ts"

export interface CliSettings {
  readonly productId: string
  /** SPKI PEM, re-exported from whatever PEM form was given. */
  readonly publicKeyPem: string
  readonly host: string
  readonly scope: "user" | "system" | "memory"
  /** Absolute; `undefined` for the platform's usual directory. */
  readonly directory: string | undefined
  readonly appVersion: string | undefined
  /** The release the app runs (LexActivator's `SetReleaseVersion`): sent, and judged against the licence locally. */
  readonly releaseVersion: string | undefined
  /** A fake machine root for the fingerprint (tests, containers with a fixed id). */
  readonly fingerprintRoot: string | undefined
  /** The OS user the fingerprint hashes instead of the process's own (tests, containers run as another uid). */
  readonly fingerprintUser: string | undefined
}

export type Env = Readonly<Record<string, string | undefined>>

export const DefaultConfigFile = "licensure.json"

const fileFields = [
  "productId",
  "publicKeyPath",
  "publicKeyPem",
  "host",
  "scope",
  "dir",
  "appVersion",
  "releaseVersion"
] as const
type FileField = (typeof fileFields)[number]
type FileConfig = Partial<Record<FileField, string>>

/** One value and where it came from, for messages and for resolving relative paths. */
interface Sourced {
  readonly value: string
  readonly source: string
  /** Relative paths in this value are relative to this directory. */
  readonly base: string
}

const envValue = (env: Env, name: string): string | undefined => {
  const value = env[name]
  return value === undefined || value.trim() === "" ? undefined : value
}

const readConfigFile = (
  flags: ConfigFlags,
  env: Env,
  cwd: string
): { config: FileConfig; path: string } | undefined => {
  const explicit =
    flags.config !== undefined
      ? { path: flags.config, source: "--config" }
      : envValue(env, "LICENSURE_CONFIG") !== undefined
        ? { path: envValue(env, "LICENSURE_CONFIG")!, source: "LICENSURE_CONFIG" }
        : undefined
  const path = NodePath.resolve(cwd, explicit?.path ?? DefaultConfigFile)
  let text: string
  try {
    text = NodeFs.readFileSync(path, "utf8")
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code
    if (explicit === undefined && code === "ENOENT") return undefined
    throw new UsageError({
      message: `cannot read the config file ${path} (from ${explicit?.source ?? "default"}): ${code ?? String(cause)}`
    })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new UsageError({
      message: `the config file ${path} is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`
    })
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new UsageError({
      message: `the config file ${path} must hold a JSON object, got ${Array.isArray(json) ? "an array" : shown(json)}`
    })
  }
  const config: FileConfig = {}
  for (const [field, value] of Object.entries(json)) {
    if (!(fileFields as ReadonlyArray<string>).includes(field)) {
      throw new UsageError({
        message: `the config file ${path} has an unknown field ${shown(field)} (expected ${fileFields.join(", ")})`
      })
    }
    if (typeof value !== "string" || value.trim() === "") {
      throw new UsageError({
        message: `${path}: ${field} must be a non-empty string, got ${typeof value === "string" ? "an empty string" : shown(value)}`
      })
    }
    config[field as FileField] = value
  }
  return { config, path }
}

/** Resolves and checks the configuration of a licensing command. */
export const resolveConfig = (flags: ConfigFlags, env: Env, cwd: string): CliSettings => {
  const file = readConfigFile(flags, env, cwd)
  const fileBase = file === undefined ? cwd : NodePath.dirname(file.path)
  const fileName = file === undefined ? "" : NodePath.basename(file.path)

  const pick = (flag: keyof ConfigFlags, variable: string, field: FileField): Sourced | undefined => {
    const fromFlag = flags[flag]
    if (fromFlag !== undefined) return { value: fromFlag, source: `--${kebab(flag)}`, base: cwd }
    const fromEnv = envValue(env, variable)
    if (fromEnv !== undefined) return { value: fromEnv, source: variable, base: cwd }
    const fromFile = file?.config[field]
    if (fromFile !== undefined) return { value: fromFile, source: `${fileName}: ${field}`, base: fileBase }
    return undefined
  }

  const productId = pick("productId", "LICENSURE_PRODUCT_ID", "productId")
  if (productId === undefined) {
    throw new UsageError({
      message: "missing product id: give --product-id, LICENSURE_PRODUCT_ID, or productId in licensure.json"
    })
  }
  if (productId.value.trim() !== productId.value) {
    throw new UsageError({
      message: `${productId.source}: a product id has no surrounding spaces, got ${shown(productId.value)}`
    })
  }

  return {
    productId: productId.value,
    publicKeyPem: publicKey(flags, env, file?.config, { cwd, fileBase, fileName }),
    host: host(pick("host", "LICENSURE_HOST", "host")),
    scope: scope(pick("scope", "LICENSURE_SCOPE", "scope")),
    directory: directory(pick("dir", "LICENSURE_DIR", "dir")),
    appVersion: pick("appVersion", "LICENSURE_APP_VERSION", "appVersion")?.value,
    releaseVersion: releaseVersion(pick("releaseVersion", "LICENSURE_RELEASE_VERSION", "releaseVersion")),
    fingerprintRoot:
      envValue(env, "LICENSURE_FINGERPRINT_ROOT") === undefined
        ? undefined
        : NodePath.resolve(cwd, envValue(env, "LICENSURE_FINGERPRINT_ROOT")!),
    fingerprintUser: envValue(env, "LICENSURE_FINGERPRINT_USER")
  }
}

/** LexActivator's release-version form, `x.x` to `x.x.x.x` (its LA_E_RELEASE_VERSION_FORMAT otherwise). */
const releaseVersion = (value: Sourced | undefined): string | undefined => {
  if (value === undefined) return undefined
  if (!/^\d+(\.\d+){1,3}$/.test(value.value)) {
    throw new UsageError({
      message: `${value.source}: expected a release version x.x to x.x.x.x (digits and dots), got ${shown(value.value)}`
    })
  }
  return value.value
}

const kebab = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

const publicKey = (
  flags: ConfigFlags,
  env: Env,
  file: FileConfig | undefined,
  where: { cwd: string; fileBase: string; fileName: string }
): string => {
  // The first source that names a key in either form wins; naming both forms in one source is ambiguous.
  const levels: ReadonlyArray<{
    path: string | undefined
    pem: string | undefined
    pathSource: string
    pemSource: string
    base: string
  }> = [
    {
      path: flags.publicKeyPath,
      pem: flags.publicKeyPem,
      pathSource: "--public-key",
      pemSource: "--public-key-pem",
      base: where.cwd
    },
    {
      path: envValue(env, "LICENSURE_PUBLIC_KEY"),
      pem: envValue(env, "LICENSURE_PUBLIC_KEY_PEM"),
      pathSource: "LICENSURE_PUBLIC_KEY",
      pemSource: "LICENSURE_PUBLIC_KEY_PEM",
      base: where.cwd
    },
    {
      path: file?.publicKeyPath,
      pem: file?.publicKeyPem,
      pathSource: `${where.fileName}: publicKeyPath`,
      pemSource: `${where.fileName}: publicKeyPem`,
      base: where.fileBase
    }
  ]
  for (const level of levels) {
    if (level.path !== undefined && level.pem !== undefined) {
      throw new UsageError({ message: `give either ${level.pathSource} or ${level.pemSource}, not both` })
    }
    if (level.pem !== undefined) return parsePublicKey(level.pem, level.pemSource)
    if (level.path !== undefined) {
      const path = NodePath.resolve(level.base, level.path)
      let text: string
      try {
        text = NodeFs.readFileSync(path, "utf8")
      } catch (cause) {
        throw new UsageError({
          message: `cannot read the public key file ${path} (from ${level.pathSource}): ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`
        })
      }
      return parsePublicKey(text, `${level.pathSource} (${path})`)
    }
  }
  throw new UsageError({
    message:
      "missing public key: give --public-key <file>, --public-key-pem, LICENSURE_PUBLIC_KEY, LICENSURE_PUBLIC_KEY_PEM, or publicKeyPath in licensure.json"
  })
}

const parsePublicKey = (pem: string, source: string): string => {
  let key: NodeCrypto.KeyObject
  try {
    key = NodeCrypto.createPublicKey(pem)
  } catch {
    const firstLine = pem.trimStart().split("\n", 1)[0] ?? ""
    throw new UsageError({
      message: `${source}: expected an RSA public key in PEM form (-----BEGIN PUBLIC KEY-----), got ${firstLine === "" ? "an empty text" : `text starting ${shown(firstLine)}`} that does not parse as one`
    })
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new UsageError({
      message: `${source}: expected an RSA public key (Cryptlex signs with RS256), got a ${key.asymmetricKeyType ?? "unknown"} key`
    })
  }
  return key.export({ type: "spki", format: "pem" }).toString()
}

const host = (given: Sourced | undefined): string => {
  if (given === undefined || given.value === "default" || given.value === "eu") return given?.value ?? "default"
  let url: URL
  try {
    url = new URL(given.value)
  } catch {
    throw new UsageError({
      message: `${given.source}: expected default, eu or an http(s) URL, got ${shown(given.value)}`
    })
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError({
      message: `${given.source}: expected an http or https URL, got the protocol ${shown(url.protocol)}`
    })
  }
  return given.value
}

const scope = (given: Sourced | undefined): CliSettings["scope"] => {
  if (given === undefined) return "user"
  if (given.value === "user" || given.value === "system" || given.value === "memory") return given.value
  throw new UsageError({ message: `${given.source}: expected user, system or memory, got ${shown(given.value)}` })
}

const directory = (given: Sourced | undefined): string | undefined =>
  given === undefined ? undefined : NodePath.resolve(given.base, given.value)
