/**
 * Release updates (LexActivator's `CheckReleaseUpdate`): asks `GET /v3/releases/update` whether a newer release
 * of the product exists for this platform and channel, and answers with LexActivator's three outcomes, available
 * (30), not available (31), and available but not allowed by the licence (32), each carrying the release and
 * its files. {@link verifyFile} checks a downloaded file against the size and checksum the release lists, over
 * WebCrypto (and a small MD5 of core's own, which WebCrypto lacks), so core stays free of `node:` imports.
 *
 * @example
 * ```ts
 * const releases = yield* Releases
 * const update = yield* releases.checkForUpdate({ productId, key, version: "1.2.0", platform: "linux", channel: "stable" })
 * if (update._tag === "Available") {
 *   const file = update.release.files[0]
 *   const bytes = new Uint8Array(await (await fetch(downloadUrl(file, key))).arrayBuffer())
 *   yield* verifyFile(file, bytes) // fails with a ChecksumMismatch on a corrupted download
 * }
 * ```
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import { md5Hex } from "./internal/Md5.ts"
import { lexStatus, type LexStatus, type LexStatusName, lexStatusOfTransport } from "./LexStatus.ts"
import {
  ApiErrorReason,
  type LicenseApiConfig,
  MalformedResponse,
  makeTransport,
  type Transport,
  withAccountHeader
} from "./LicenseApi.ts"
import { MoreEndpoints, Release, ReleaseAllowedResponse, type ReleaseFile } from "./Protocol.ts"

// ---------------------------------------------------------------------------------------------------------------
// Results and errors
// ---------------------------------------------------------------------------------------------------------------

/** LexActivator's `LA_RELEASE_UPDATE_AVAILABLE` (30): a newer release the licence may install. */
export interface UpdateAvailable {
  readonly _tag: "Available"
  readonly release: Release
  readonly status: LexStatus
}
/** `LA_RELEASE_UPDATE_NOT_AVAILABLE` (31): the server answered 204, the current version is the latest. */
export interface UpdateNotAvailable {
  readonly _tag: "NotAvailable"
  readonly status: LexStatus
}
/** `LA_RELEASE_UPDATE_AVAILABLE_NOT_ALLOWED` (32): a newer release exists, but the licence does not cover it. */
export interface UpdateNotAllowed {
  readonly _tag: "AvailableNotAllowed"
  readonly release: Release
  readonly status: LexStatus
}
/**
 * What {@link ReleasesService.checkForUpdate} found, tagged `Available` (30), `NotAvailable` (31) or
 * `AvailableNotAllowed` (32) as LexActivator's `CheckReleaseUpdate` reports it; `status` carries the code.
 */
export type ReleaseUpdate = UpdateAvailable | UpdateNotAvailable | UpdateNotAllowed

/**
 * The query is not one LexActivator would send: its release version, platform or channel is unset, or too long
 * (LexActivator's 84–86, 78–79; `SetReleaseVersion` takes `x.x` to `x.x.x.x`, the others at most 256 characters).
 */
export class InvalidReleaseQuery extends Schema.TaggedError<InvalidReleaseQuery>()("InvalidReleaseQuery", {
  field: Schema.Literals(["version", "platform", "channel", "productId", "key"]),
  message: Schema.String
}) {}

/**
 * Why a release call failed: any {@link ApiErrorReason} of the request, or an {@link InvalidReleaseQuery} refused
 * before sending.
 */
export const ReleaseErrorReason = Schema.Union([...ApiErrorReason.members, InvalidReleaseQuery])
export type ReleaseErrorReason = typeof ReleaseErrorReason.Type

/** A release check that did not get an answer; `status` is LexActivator's code for it. */
export class ReleaseError extends Schema.TaggedError<ReleaseError>()("ReleaseError", {
  operation: Schema.Literals(["checkForUpdate", "isAllowed"]),
  reason: ReleaseErrorReason
}) {
  /** One line for logs: the operation, the reason's tag, the server's code when it sent one, and its message. */
  override get message(): string {
    const r = this.reason
    return `${this.operation} failed: ${r._tag}${"code" in r ? ` ${r.code}` : ""}: ${r.message}`
  }
  /** The LexActivator status `CheckReleaseUpdate` would have passed to its callback. */
  get status(): LexStatus {
    return lexStatus(releaseStatusOf(this.reason))
  }
}

/**
 * LexActivator's status for a failed release check.
 *
 * DECISION (row 38 says only "403 handled"): a 403 is the licence key refused for this product's releases (the
 * documentation: "the license key must belong to the product for which the release was created"), so
 * `LA_E_LICENSE_KEY` (54), whatever its code. `INVALID_VERSION_FORMAT` is `LA_E_RELEASE_VERSION_FORMAT` (70).
 */
export const releaseStatusOf = (reason: ReleaseErrorReason): LexStatusName => {
  switch (reason._tag) {
    case "InvalidReleaseQuery":
      return reason.field === "version"
        ? "LA_E_RELEASE_VERSION"
        : reason.field === "platform"
          ? reason.message.includes("at most")
            ? "LA_E_RELEASE_PLATFORM_LENGTH"
            : "LA_E_RELEASE_PLATFORM"
          : reason.field === "channel"
            ? reason.message.includes("at most")
              ? "LA_E_RELEASE_CHANNEL_LENGTH"
              : "LA_E_RELEASE_CHANNEL"
            : reason.field === "productId"
              ? "LA_E_PRODUCT_ID"
              : "LA_E_LICENSE_KEY"
    case "ServerRefused":
    case "UnknownServerCode":
      if (reason.status === 403) return "LA_E_LICENSE_KEY"
      switch (reason.code) {
        case "INVALID_VERSION_FORMAT":
          return "LA_E_RELEASE_VERSION_FORMAT"
        case "INVALID_PRODUCT_ID":
          return "LA_E_PRODUCT_ID"
        case "INVALID_LICENSE_KEY":
          return "LA_E_LICENSE_KEY"
        case "INVALID_ACCOUNT_ID":
          return "LA_E_ACCOUNT_ID"
        default:
          return "LA_E_CLIENT"
      }
    case "ServerFailure":
      return reason.status === 403 ? "LA_E_LICENSE_KEY" : lexStatusOfTransport(reason)
    case "NetworkFailure":
    case "RateLimited":
    case "MalformedResponse":
      return lexStatusOfTransport(reason)
    case "NotFound":
      return "LA_E_SERVER"
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------------------------

/**
 * Which releases count: LexActivator's `LA_RELEASES_ALL` (1) and `LA_RELEASES_ALLOWED` (2).
 *
 * DECISION (row 38 gives both calls, `…/update[&allowed=true]` and `GET /v3/releases/{id}/allowed`, but not how
 * `CheckReleaseUpdate` combines them): `"allowed"` sends `allowed=true`, so the server answers only with a release
 * the licence covers (30 or 31, never 32); `"all"` (the default) asks without it and, when a release comes back,
 * asks `/allowed` for it, which tells 30 from 32.
 */
export type ReleaseFilter = "all" | "allowed"

/**
 * What {@link ReleasesService.checkForUpdate} asks about: the product and licence key, the running version, the
 * platform and channel. Checked before sending (an {@link InvalidReleaseQuery} when a field is unset or too long).
 * @example { productId, key, version: "1.2.0", platform: "linux", channel: "stable" }
 */
export interface ReleaseQuery {
  /** The Cryptlex product id whose releases are asked about. */
  readonly productId: string
  /** The licence key; the server answers only for a key of this product. */
  readonly key: string
  /** The running release version, `x.x` to `x.x.x.x` (LexActivator's `SetReleaseVersion`). */
  readonly version: string
  /**
   * The release platform as the product's releases name it (e.g. `windows`, `linux`, `macos`), at most 256
   * characters.
   */
  readonly platform: string
  /** The release channel, e.g. `"stable"` (LexActivator requires one; the server's default is "stable"). */
  readonly channel: string
  /** The Cryptlex account id; sent as `accountId` and `X-Account-Id` (reference-client.md row 8). */
  readonly accountId?: string | undefined
  /** Which releases count (default `all`): see {@link ReleaseFilter}. */
  readonly releases?: ReleaseFilter | undefined
}

/** The {@link Releases} service's shape: LexActivator's `CheckReleaseUpdate` and the `allowed` check behind it. */
export interface ReleasesService {
  /**
   * `GET /v3/releases/update`: whether a release newer than `query.version` exists, and whether the licence covers
   * it. Fails with a {@link ReleaseError}: an invalid query (before sending), or the request's reason (network, rate
   * limit, a refusal such as `INVALID_VERSION_FORMAT`).
   * @example releases.checkForUpdate({ productId, key, version: "1.2.0", platform: "linux", channel: "stable" })
   */
  readonly checkForUpdate: (query: ReleaseQuery) => Effect.Effect<ReleaseUpdate, ReleaseError>
  /** `GET /v3/releases/{id}/allowed`: whether the licence covers this release. */
  readonly isAllowed: (
    releaseId: string,
    licence: { readonly key: string; readonly accountId?: string | undefined }
  ) => Effect.Effect<boolean, ReleaseError>
}

/** `x.x`, `x.x.x` or `x.x.x.x` (LexActivator's `SetReleaseVersion`). */
const VersionPattern = /^\d+(\.\d+){1,3}$/
const MaxFieldLength = 256

const checkQuery = (query: ReleaseQuery): InvalidReleaseQuery | undefined => {
  if (!VersionPattern.test(query.version)) {
    return new InvalidReleaseQuery({
      field: "version",
      message: `expected a release version x.x to x.x.x.x, got ${JSON.stringify(query.version)}`
    })
  }
  for (const field of ["platform", "channel"] as const) {
    const value = query[field]
    if (value === "") return new InvalidReleaseQuery({ field, message: `expected a release ${field}, got none` })
    if (value.length > MaxFieldLength) {
      return new InvalidReleaseQuery({
        field,
        message: `expected a release ${field} of at most ${MaxFieldLength} characters, got ${value.length}`
      })
    }
  }
  if (query.productId === "") return new InvalidReleaseQuery({ field: "productId", message: "expected a product id" })
  if (query.key === "") return new InvalidReleaseQuery({ field: "key", message: "expected a licence key" })
  return undefined
}

/** A query string in the given order (LexActivator's), every value URI-encoded. */
const queryString = (pairs: ReadonlyArray<readonly [string, string]>): string =>
  pairs.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join("&")

const decodeRelease = Schema.decodeUnknownEffect(Release)
const decodeAllowed = Schema.decodeUnknownEffect(ReleaseAllowedResponse)

const decodeWith =
  <A>(transport: Transport, decode: (json: unknown) => Effect.Effect<A, Schema.SchemaError>, what: string) =>
  (response: HttpClientResponse.HttpClientResponse): Effect.Effect<A, ApiErrorReason> =>
    transport
      .readJson(response)
      .pipe(
        Effect.flatMap((json) =>
          Effect.mapError(
            decode(json),
            (error) => new MalformedResponse({ status: response.status, message: `expected ${what}: ${error.message}` })
          )
        )
      )

/**
 * The release calls over a {@link Transport}: what {@link Releases.make} builds, for callers that share one transport
 * between several Cryptlex calls.
 */
export const makeReleases = (transport: Transport): ReleasesService => {
  const isAllowed: ReleasesService["isAllowed"] = (releaseId, licence) =>
    transport
      .execute(
        withAccountHeader(
          HttpClientRequest.get(
            `${MoreEndpoints.releaseAllowed(releaseId)}?${queryString([
              ["accountId", licence.accountId ?? ""],
              ["key", licence.key]
            ])}`
          ),
          licence.accountId
        ),
        [200],
        decodeWith(transport, decodeAllowed, '{"allowed": <boolean>}')
      )
      .pipe(
        Effect.map((answer) => answer.allowed),
        Effect.mapError((reason) => new ReleaseError({ operation: "isAllowed", reason }))
      )

  const checkForUpdate: ReleasesService["checkForUpdate"] = (query) => {
    const invalid = checkQuery(query)
    if (invalid !== undefined) return Effect.fail(new ReleaseError({ operation: "checkForUpdate", reason: invalid }))
    const filter = query.releases ?? "all"
    // reference-client.md row 38: accountId, productId, platform, key, version, channel, then allowed=true.
    const pairs: Array<readonly [string, string]> = [
      ["accountId", query.accountId ?? ""],
      ["productId", query.productId],
      ["platform", query.platform],
      ["key", query.key],
      ["version", query.version],
      ["channel", query.channel]
    ]
    if (filter === "allowed") pairs.push(["allowed", "true"])
    const request = withAccountHeader(
      HttpClientRequest.get(`${MoreEndpoints.releaseUpdate()}?${queryString(pairs)}`),
      query.accountId
    )
    return transport
      .execute(request, [200, 204], (response) =>
        response.status === 204
          ? Effect.succeed(undefined)
          : decodeWith(transport, decodeRelease, "a release")(response)
      )
      .pipe(
        Effect.mapError((reason) => new ReleaseError({ operation: "checkForUpdate", reason })),
        Effect.flatMap((release): Effect.Effect<ReleaseUpdate, ReleaseError> => {
          if (release === undefined) {
            return Effect.succeed({ _tag: "NotAvailable", status: lexStatus("LA_RELEASE_UPDATE_NOT_AVAILABLE") })
          }
          const available: ReleaseUpdate = {
            _tag: "Available",
            release,
            status: lexStatus("LA_RELEASE_UPDATE_AVAILABLE")
          }
          if (filter === "allowed") return Effect.succeed(available)
          return Effect.map(
            isAllowed(release.id, { key: query.key, accountId: query.accountId }),
            (allowed): ReleaseUpdate =>
              allowed
                ? available
                : { _tag: "AvailableNotAllowed", release, status: lexStatus("LA_RELEASE_UPDATE_AVAILABLE_NOT_ALLOWED") }
          )
        })
      )
  }

  return { checkForUpdate, isAllowed }
}

/**
 * Release updates as an Effect service, over the application's `HttpClient`.
 * @example Effect.provide(program, Releases.layer({ host: "eu" }))
 */
export class Releases extends Context.Service<Releases, ReleasesService>()("@licensure/core/Releases") {
  /**
   * Builds the service over the `HttpClient` in context, with the same host, timeout and user agent settings as
   * {@link LicenseApi}.
   */
  static readonly make = (config: LicenseApiConfig = {}) =>
    Effect.map(makeTransport(config), (transport) => Releases.of(makeReleases(transport)))

  /** The service as a layer needing only an `HttpClient`. */
  static readonly layer = (config: LicenseApiConfig = {}): Layer.Layer<Releases, never, HttpClient.HttpClient> =>
    Layer.effect(Releases, Releases.make(config))
}

// ---------------------------------------------------------------------------------------------------------------
// Downloads
// ---------------------------------------------------------------------------------------------------------------

/**
 * Where to download a release file. A secured file needs the licence key as the `key` query parameter (Cryptlex's
 * "Distributing Releases": "the release URL must contain license key as key query parameter"); an external file
 * (`secured: false`) is fetched as listed.
 */
export const downloadUrl = (file: ReleaseFile, key: string): string => {
  if (file.secured === false) return file.url
  const url = new URL(file.url)
  url.searchParams.set("key", key)
  return url.toString()
}

/**
 * The digests a release file's checksum may use; told apart by the checksum's length ({@link checksumAlgorithmOf}).
 */
export const ChecksumAlgorithm = Schema.Literals(["MD5", "SHA-1", "SHA-256", "SHA-512"])
export type ChecksumAlgorithm = typeof ChecksumAlgorithm.Type

/** A downloaded file that is not the one the release lists. */
export class ChecksumMismatch extends Schema.TaggedError<ChecksumMismatch>()("ChecksumMismatch", {
  reason: Schema.Literals(["size", "checksum", "unknownChecksumFormat"]),
  file: Schema.String,
  message: Schema.String
}) {}

/**
 * The digest a listed checksum was made with, told by its length in hex digits.
 *
 * DECISION (the reference lists `checksum` on each file without naming the algorithm): Cryptlex's own samples
 * ("Distributing Releases": `"checksum": "1239d72ef6ff110ef63a803120728907"`, `"8892af7769c1147f9801c1a5aab52cce"`)
 * are 32 hex digits, an MD5; so 32 digits are MD5, computed by core itself since WebCrypto has none. A longer hex
 * checksum is read as the SHA WebCrypto computes for that length (40 SHA-1, 64 SHA-256, 128 SHA-512), so a server
 * that moves to SHA-256 is checked too. Anything else is refused as `unknownChecksumFormat`, never passed.
 */
export const checksumAlgorithmOf = (checksum: string): ChecksumAlgorithm | undefined => {
  if (!/^[0-9a-fA-F]+$/.test(checksum)) return undefined
  switch (checksum.length) {
    case 32:
      return "MD5"
    case 40:
      return "SHA-1"
    case 64:
      return "SHA-256"
    case 128:
      return "SHA-512"
    default:
      return undefined
  }
}

const hex = (bytes: ArrayBuffer): string =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("")

/** The hex digest of `bytes` with `algorithm` (MD5 by core's own code, the SHAs by `crypto.subtle.digest`). */
export const digestHex = (algorithm: ChecksumAlgorithm, bytes: Uint8Array): Effect.Effect<string> =>
  algorithm === "MD5"
    ? Effect.sync(() => md5Hex(bytes))
    : Effect.promise(() => globalThis.crypto.subtle.digest(algorithm, bytes as Uint8Array<ArrayBuffer>)).pipe(
        Effect.map(hex)
      )

/**
 * Checks a downloaded file against the release's listing: its size first, then its checksum.
 *
 * @example
 * yield* verifyFile(release.files[0], new Uint8Array(await response.arrayBuffer()))
 */
export const verifyFile = (file: ReleaseFile, bytes: Uint8Array | ArrayBuffer): Effect.Effect<void, ChecksumMismatch> =>
  Effect.gen(function* () {
    const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
    if (data.byteLength !== file.size) {
      return yield* new ChecksumMismatch({
        reason: "size",
        file: file.name,
        message: `expected ${file.name} to be ${file.size} bytes, got ${data.byteLength}`
      })
    }
    const algorithm = checksumAlgorithmOf(file.checksum)
    if (algorithm === undefined) {
      return yield* new ChecksumMismatch({
        reason: "unknownChecksumFormat",
        file: file.name,
        message: `expected a hex MD5 or SHA checksum for ${file.name}, got ${JSON.stringify(file.checksum.slice(0, 140))}`
      })
    }
    const actual = yield* digestHex(algorithm, data)
    if (actual !== file.checksum.toLowerCase()) {
      return yield* new ChecksumMismatch({
        reason: "checksum",
        file: file.name,
        message: `expected ${file.name} to have ${algorithm} ${file.checksum.toLowerCase()}, got ${actual}`
      })
    }
  })
