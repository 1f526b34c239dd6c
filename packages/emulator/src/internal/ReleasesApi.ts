/**
 * Cryptlex's release calls (reference-client.md row 38 and §3 item 4): `GET /v3/releases/update` answers the newest
 * published release of the product for the platform and channel that is newer than the caller's version (200), or
 * 204; `GET /v3/releases/{id}/allowed` says whether the licence covers a release. The files themselves are served
 * at `/releases/v3/{accountId}/{releaseId}/{name}`, the path shape of `releases.cryptlex.com`, with the licence key
 * as the `key` query parameter for secured files.
 */
import { createHash } from "node:crypto"
import { cryptlexError, empty, json, plainError } from "./Http.ts"
import type { License, Release, Store } from "./Store.ts"

export interface ReleasesContext {
  readonly store: Store
  readonly now: () => number
}

const VersionPattern = /^\d+(\.\d+){1,3}$/

const parts = (version: string): Array<number> => version.split(".").map(Number)

/** Compares two versions part by part, a missing part counting as 0. */
export const compareVersions = (a: string, b: string): number => {
  const x = parts(a)
  const y = parts(b)
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d !== 0) return Math.sign(d)
  }
  return 0
}

/**
 * Whether `candidate` is an update for a caller at `current`: Cryptlex compares only as many parts as the caller
 * sent ("Ignoring PATCH and BUILD updates": 1.2.3 against a latest 1.2.3.4 is 204, 1.2.3.4 against 1.2.3.5 is 200).
 */
export const isUpdate = (candidate: string, current: string): boolean => {
  const width = parts(current).length
  return compareVersions(parts(candidate).slice(0, width).join("."), current) > 0
}

export const md5 = (bytes: Uint8Array): string => createHash("md5").update(bytes).digest("hex")

/** DECISION (row 38: "403 handled"): a key that is not a licence of the product is refused with 403. */
const licenceFor = (ctx: ReleasesContext, productId: string, key: string | null): License => {
  const license = key === null ? undefined : ctx.store.licensesByKey.get(key)
  if (license === undefined || license.productId !== productId) {
    throw cryptlexError("INVALID_LICENSE_KEY", "The licence key is not one of the product's", 403)
  }
  return license
}

export const isAllowedFor = (license: License, release: Release): boolean =>
  license.maxAllowedReleaseVersion === null || compareVersions(release.version, license.maxAllowedReleaseVersion) <= 0

const iso = (ms: number): string => new Date(ms).toISOString()

const accountOf = (ctx: ReleasesContext, productId: string): string =>
  ctx.store.products.get(productId)?.accountId ?? "emulated-account"

/** The release as LexActivator 3.34 reads it (reference-client.md §3 item 4), `UpdatedAt` spelled as it is. */
export const releaseJson = (ctx: ReleasesContext, release: Release, origin: string) => ({
  totalFiles: release.files.length,
  published: release.published,
  private: release.private,
  id: release.id,
  createdAt: iso(release.createdAt),
  UpdatedAt: iso(release.createdAt),
  name: release.name,
  channel: release.channel,
  version: release.version,
  platforms: release.platforms,
  notes: release.notes,
  publishedAt: iso(release.publishedAt),
  productId: release.productId,
  files: release.files.map((file) => ({
    size: file.size,
    downloads: file.downloads,
    secured: file.secured,
    id: file.id,
    name: file.name,
    url: `${origin}/releases/v3/${encodeURIComponent(accountOf(ctx, release.productId))}/${release.id}/${encodeURIComponent(file.name)}`,
    extension: file.extension,
    checksum: file.checksum,
    releaseId: release.id,
    createdAt: iso(file.createdAt),
    updatedAt: iso(file.createdAt)
  }))
})

const required = (params: URLSearchParams, name: string): string => {
  const value = params.get(name)
  if (value === null || value === "") throw plainError(400, `${name}: Missing (required query parameter)`)
  return value
}

const checkAccount = (ctx: ReleasesContext, productId: string, accountId: string | null): void => {
  const expected = ctx.store.products.get(productId)?.accountId ?? null
  if (expected !== null && accountId !== null && accountId !== "" && accountId !== expected) {
    throw cryptlexError("INVALID_ACCOUNT_ID", "The account id is not the product's")
  }
}

export const checkUpdate = (ctx: ReleasesContext, request: Request): Response => {
  const url = new URL(request.url)
  const params = url.searchParams
  const productId = required(params, "productId")
  const platform = required(params, "platform")
  const version = required(params, "version")
  if (!ctx.store.products.has(productId)) throw cryptlexError("INVALID_PRODUCT_ID", `No product with id ${productId}`)
  checkAccount(ctx, productId, params.get("accountId"))
  if (!VersionPattern.test(version)) {
    throw cryptlexError("INVALID_VERSION_FORMAT", `Expected a version x.x to x.x.x.x, got ${JSON.stringify(version)}`)
  }
  const license = licenceFor(ctx, productId, params.get("key"))
  // Cryptlex's documentation: the channel "defaults to stable".
  const channel = params.get("channel") || "stable"
  const onlyAllowed = params.get("allowed") === "true"
  const candidates = [...ctx.store.releases.values()].filter(
    (release) =>
      release.productId === productId &&
      release.published &&
      release.channel === channel &&
      release.platforms.includes(platform) &&
      isUpdate(release.version, version) &&
      (!onlyAllowed || isAllowedFor(license, release))
  )
  if (candidates.length === 0) return empty(204)
  const newest = candidates.reduce((best, release) =>
    compareVersions(release.version, best.version) > 0 ? release : best
  )
  return json(200, releaseJson(ctx, newest, url.origin))
}

export const allowed = (ctx: ReleasesContext, releaseId: string, request: Request): Response => {
  const params = new URL(request.url).searchParams
  const release = ctx.store.releases.get(releaseId)
  if (release === undefined) throw plainError(404, `No release with id ${releaseId}`)
  checkAccount(ctx, release.productId, params.get("accountId"))
  const license = licenceFor(ctx, release.productId, params.get("key"))
  return json(200, { allowed: isAllowedFor(license, release) })
}

/** A file download: the bytes, after the key check for a secured file. */
export const download = (ctx: ReleasesContext, request: Request, releaseId: string, name: string): Response => {
  const release = ctx.store.releases.get(releaseId)
  const file = release?.files.find((candidate) => candidate.name === name)
  if (release === undefined || file === undefined) throw plainError(404, `No file ${name} in release ${releaseId}`)
  if (file.secured) licenceFor(ctx, release.productId, new URL(request.url).searchParams.get("key"))
  file.downloads += 1
  return new Response(file.content.slice(), {
    status: 200,
    headers: { "content-type": "application/octet-stream", "content-length": String(file.size) }
  })
}
