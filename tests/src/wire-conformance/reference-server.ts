/**
 * A Cryptlex-shaped server of the test's own (plain `node:http`), answering the way `reference-client.md` says
 * the real one does, with the shapes our emulator does not produce by itself: `oa` as an address object, `null`
 * user fields, list claims as JSON-encoded strings, numeric claims as numeric strings (rows 28–30), trial tokens
 * with exactly LexActivator's claim set (row 32), limits under 400 and 409, coded 404s, 204 deactivations (rows
 * 4, 18–20). It keeps just enough state to answer a whole lifecycle; `quirks` switch single answers.
 * Each licence has one meter attribute, `exports`, whose uses move by the direct meter call (§3 item 6).
 */
import { generateKeyPairSync, randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { SignJWT } from "jose"

/** A licence meter attribute as the token's `lma` carries it; the totals move with the meter call. */
interface LicenceMeter {
  readonly id: string
  readonly name: string
  readonly allowedUses: number
  totalUses: number
  grossUses: number
}
interface Licence {
  readonly key: string
  readonly allowedActivations: number
  readonly allowedDeactivations: number
  deactivations: number
  readonly organisation: boolean
  readonly meter: LicenceMeter
}
interface Activation {
  readonly id: string
  readonly key: string
  readonly fingerprint: string
  /** The activation's uses of its licence's meter (the token's `ama`). */
  meterUses: number
}

/** What `licence()` may set: the limits, the organisation claims, and the meter's allowance (−1 unlimited). */
export interface LicenceOptions {
  readonly allowedActivations?: number
  readonly allowedDeactivations?: number
  readonly organisation?: boolean
  /** The `exports` meter's allowed uses (default 10); the licence starts with 1 use counted elsewhere. */
  readonly meterAllowedUses?: number
}

export interface ReferenceServer {
  readonly url: string
  readonly productId: string
  readonly accountId: string
  readonly publicKeyPem: string
  readonly licence: (options?: LicenceOptions) => string
  /** The server forgets an activation (deleted in the dashboard). */
  readonly forget: (activationId: string) => void
  /** Answer shapes for the next tokens and refusals. */
  readonly quirks: {
    /** A 404 on sync of a forgotten activation carries no code (older servers, row 18). */
    notFoundWithoutCode: boolean
    /** Trial tokens come back already expired (`eat < iat`, row 32). */
    trialExpired: boolean
    /** `GET /v3/me/licenses` answers the first page whatever `page` says (a server without paging). */
    ignoresPage: boolean
  }
  /** How many licences the signed-in user has (`GET /v3/me/licenses` lists them, paged). */
  userLicences: number
  /** The one published release (linux, stable) and the licence keys it is allowed for. */
  readonly release: { readonly id: string; readonly version: string; readonly allowedKeys: Set<string> }
  readonly close: () => Promise<void>
}

const now = () => Math.floor(Date.now() / 1000)

/** `x.x` … `x.x.x.x` compared part by part, a missing part counting as 0. */
const compareVersions = (a: string, b: string): number => {
  const x = a.split(".").map(Number)
  const y = b.split(".").map(Number)
  for (let i = 0; i < 4; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d !== 0) return Math.sign(d)
  }
  return 0
}

export const startReferenceServer = async (): Promise<ReferenceServer> => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 })
  const publicKeyPem = publicKey.export({ type: "spki", format: "pem" }).toString()
  const productId = randomUUID()
  const accountId = `acc-${randomUUID().slice(0, 8)}`
  const licences = new Map<string, Licence>()
  const activations = new Map<string, Activation>()
  const trials = new Map<string, string>()
  const quirks = { notFoundWithoutCode: false, trialExpired: false, ignoresPage: false }
  const user = { licences: 0 }
  const release = { id: randomUUID(), version: "2.0.0", allowedKeys: new Set<string>() }
  const releaseFileId = randomUUID()

  const sign = (payload: Record<string, unknown>) =>
    new SignJWT(payload).setProtectedHeader({ alg: "RS256", typ: "JWT" }).sign(privateKey)

  /** An activation token in the shapes LexActivator tolerates and our emulator does not send by itself. */
  const activationToken = (activation: Activation, licence: Licence) => {
    const iat = now()
    return sign({
      aid: activation.id,
      lid: `lic-${licence.key.slice(0, 6)}`,
      pid: productId,
      key: licence.key,
      fp: activation.fingerprint,
      fms: "exact",
      os: "linux",
      type: "node-locked",
      iat,
      eat: iat + 365 * 86_400,
      // Numeric claims as numeric strings (row 29–30, defensive).
      ssi: "3600",
      ssgpeat: iat + 30 * 86_400,
      aco: 3600,
      leat: 0,
      ld: 0,
      ls: "immediate",
      orv: 0,
      suspended: false,
      // Null user fields (row 29).
      name: null,
      email: null,
      company: null,
      ...(licence.organisation
        ? {
            on: "Acme Research",
            oa: {
              addressLine1: "1 Lab Road",
              addressLine2: null,
              city: "Cambridge",
              state: null,
              country: "GB",
              postalCode: "CB1 1AA"
            }
          }
        : { on: null, oa: null }),
      lcat: iat - 86_400,
      laat: iat,
      // List claims as JSON-encoded strings (row 30), and a null one.
      pmd: JSON.stringify([{ key: "edition", value: "pro" }]),
      lmd: "[]",
      umd: null,
      amd: [],
      lma: JSON.stringify([
        {
          id: licence.meter.id,
          name: licence.meter.name,
          allowedUses: licence.meter.allowedUses,
          totalUses: licence.meter.totalUses,
          grossUses: licence.meter.grossUses,
          floating: false
        }
      ]),
      ama: activation.meterUses === 0 ? [] : [{ name: licence.meter.name, uses: activation.meterUses }],
      // Claims our client does not read (row 27): ignored, never refused.
      accountid: accountId,
      aa: licence.allowedActivations,
      ta: [...activations.values()].filter((a) => a.key === licence.key).length,
      mp: { allowMajorVersionUpdates: true, allowMinorVersionUpdates: true, validity: 0 }
    })
  }

  const trialToken = (id: string, body: Record<string, unknown>) => {
    const iat = now()
    return sign({
      aid: id,
      os: body.os,
      fp: body.fingerprint,
      fms: "exact",
      pid: productId,
      uh: body.userHash,
      ul: false,
      eat: quirks.trialExpired ? iat - 60 : iat + 14 * 86_400,
      iat,
      orv: 0,
      pmd: "[]",
      amd: JSON.stringify([{ key: "source", value: "website" }])
    })
  }

  const refuse = (response: ServerResponse, status: number, code: string | undefined, message: string) => {
    response.writeHead(status, { "content-type": "application/json" })
    response.end(JSON.stringify(code === undefined ? { message } : { message, code }))
  }
  const answer = (response: ServerResponse, status: number, body?: unknown) => {
    if (body === undefined) {
      response.writeHead(status)
      response.end()
      return
    }
    response.writeHead(status, { "content-type": "application/json" })
    response.end(JSON.stringify(body))
  }

  const handle = async (request: IncomingMessage, response: ServerResponse, raw: string) => {
    const method = request.method ?? ""
    const path = new URL(request.url ?? "/", "http://x").pathname
    let body: Record<string, unknown> = {}
    try {
      body = raw === "" ? {} : JSON.parse(raw)
    } catch {
      return refuse(response, 400, undefined, "The request body is not JSON")
    }
    // Row 8: the account id is required (empty allowed); a wrong non-empty one is INVALID_ACCOUNT_ID.
    if (typeof body.accountId === "string" && body.accountId !== "" && body.accountId !== accountId) {
      return refuse(response, 400, "INVALID_ACCOUNT_ID", "Invalid account id.")
    }
    if (method === "POST" && path === "/v3/activations") {
      const licence = licences.get(String(body.key ?? "").toUpperCase())
      if (licence === undefined) return refuse(response, 400, "INVALID_LICENSE_KEY", "Invalid license key.")
      const existing = [...activations.values()].find(
        (a) => a.key === licence.key && a.fingerprint === body.fingerprint
      )
      if (existing !== undefined)
        return answer(response, 201, { activationToken: await activationToken(existing, licence) })
      const used = [...activations.values()].filter((a) => a.key === licence.key).length
      if (used >= licence.allowedActivations) {
        return refuse(response, 400, "ACTIVATION_LIMIT_REACHED", "Activation limit of the license has been reached.")
      }
      const activation = { id: randomUUID(), key: licence.key, fingerprint: String(body.fingerprint), meterUses: 0 }
      activations.set(activation.id, activation)
      return answer(response, 201, { activationToken: await activationToken(activation, licence) })
    }
    const sync = /^\/v3\/activations\/([^/]+)$/.exec(path)
    if (method === "PATCH" && sync !== null) {
      const activation = activations.get(decodeURIComponent(sync[1]!))
      if (activation === undefined) {
        return refuse(
          response,
          404,
          quirks.notFoundWithoutCode ? undefined : "ACTIVATION_NOT_FOUND",
          "Activation not found."
        )
      }
      return answer(response, 200, {
        activationToken: await activationToken(activation, licences.get(activation.key)!)
      })
    }
    // §3 item 1: `GET …/feature-entitlements?accountId=&licenseId=` → `{featureEntitlementsToken}`, a JWT with
    // `aid, lid, fe`; LexActivator 3.34's features carry no `baseValue`/`expiresAt`, and a null display name is
    // tolerated by its reader (row 29).
    const entitlements = /^\/v3\/activations\/([^/]+)\/feature-entitlements$/.exec(path)
    if (method === "GET" && entitlements !== null) {
      const params = new URL(request.url ?? "/", "http://x").searchParams
      const activation = activations.get(decodeURIComponent(entitlements[1]!))
      if (activation === undefined) return refuse(response, 404, "ACTIVATION_NOT_FOUND", "Activation not found.")
      const accountParam = params.get("accountId") ?? ""
      if (accountParam !== "" && accountParam !== accountId) {
        return refuse(response, 400, "INVALID_ACCOUNT_ID", "Invalid account id.")
      }
      const lid = `lic-${activation.key.slice(0, 6)}`
      if (params.get("licenseId") !== lid) return refuse(response, 400, "INVALID_LICENSE_ID", "Invalid license id.")
      return answer(response, 200, {
        featureEntitlementsToken: await sign({
          aid: activation.id,
          lid,
          fe: [
            { featureName: "reports", featureDisplayName: "Reports", value: "on" },
            { featureName: "seats", featureDisplayName: null, value: "5" }
          ]
        })
      })
    }
    // §3 item 6 / row 13: `POST /v3/activations/meter-attributes/{lma id}` with LexActivator's
    // `ActivationMeterAttributeIncrementRequestModel` `{productId, activationId, increment, accountId}` → 200
    // `{name, uses, licenseAllowedUses, licenseTotalUses, licenseGrossUses}`. The refusals are `{message, code}`:
    // `INVALID_ACTIVATION_ID` (the one code the reference names for this call) for an activation that is not the
    // meter's, `METER_ATTRIBUTE_USES_LIMIT_REACHED` past the allowance; an unknown meter id is a bare 404.
    const meterCall = /^\/v3\/activations\/meter-attributes\/([^/]+)$/.exec(path)
    if (method === "POST" && meterCall !== null) {
      const { activationId, increment, productId: bodyProduct } = body
      if (
        typeof activationId !== "string" ||
        activationId.length < 1 ||
        activationId.length > 256 ||
        typeof body.accountId !== "string" ||
        !Number.isSafeInteger(increment) ||
        (bodyProduct !== undefined && typeof bodyProduct !== "string")
      ) {
        return refuse(response, 400, undefined, "activationId, accountId and an integer increment are required.")
      }
      const meterId = decodeURIComponent(meterCall[1]!)
      const licence = [...licences.values()].find((l) => l.meter.id === meterId)
      if (licence === undefined) return refuse(response, 404, undefined, "Meter attribute not found.")
      const activation = activations.get(activationId)
      if (activation === undefined || activation.key !== licence.key) {
        return refuse(response, 400, "INVALID_ACTIVATION_ID", "Invalid activation id.")
      }
      if (bodyProduct !== undefined && bodyProduct !== "" && bodyProduct !== productId) {
        return refuse(response, 400, "INVALID_PRODUCT_ID", "Invalid product id.")
      }
      const meter = licence.meter
      const uses = Math.max(0, activation.meterUses + (increment as number))
      const change = uses - activation.meterUses
      if (meter.allowedUses >= 0 && change > 0 && meter.totalUses + change > meter.allowedUses) {
        return refuse(
          response,
          400,
          "METER_ATTRIBUTE_USES_LIMIT_REACHED",
          "Meter attribute uses limit of the license has been reached."
        )
      }
      activation.meterUses = uses
      meter.totalUses += change
      meter.grossUses += Math.max(0, increment as number)
      return answer(response, 200, {
        name: meter.name,
        uses,
        licenseAllowedUses: meter.allowedUses,
        licenseTotalUses: meter.totalUses,
        licenseGrossUses: meter.grossUses
      })
    }
    const deactivate = /^\/v3\/activations\/([^/]+)\/deactivate$/.exec(path)
    if (method === "POST" && deactivate !== null) {
      const activation = activations.get(decodeURIComponent(deactivate[1]!))
      if (activation === undefined) return refuse(response, 404, "ACTIVATION_NOT_FOUND", "Activation not found.")
      if (body.fingerprint !== activation.fingerprint) {
        return refuse(response, 400, "INVALID_ACTIVATION_FINGERPRINT", "Fingerprint does not match the activation.")
      }
      const licence = licences.get(activation.key)!
      if (licence.deactivations >= licence.allowedDeactivations) {
        return refuse(
          response,
          409,
          "DEACTIVATION_LIMIT_REACHED",
          "Deactivation limit of the license has been reached."
        )
      }
      licence.deactivations += 1
      activations.delete(activation.id)
      return answer(response, 204)
    }
    if (method === "POST" && path === "/v3/trial-activations") {
      const fingerprint = String(body.fingerprint)
      const id = trials.get(fingerprint) ?? randomUUID()
      trials.set(fingerprint, id)
      return answer(response, 201, { trialActivationToken: await trialToken(id, body) })
    }
    const trialSync = /^\/v3\/trial-activations\/([^/]+)$/.exec(path)
    if (method === "PATCH" && trialSync !== null) {
      const id = decodeURIComponent(trialSync[1]!)
      if (![...trials.values()].includes(id)) return refuse(response, 404, "ACTIVATION_NOT_FOUND", "Trial not found.")
      return answer(response, 200, { trialActivationToken: await trialToken(id, body) })
    }
    // §3 item 5: `POST /v3/accounts/login {accountId, email, password, twoFactorCode?}` → `{accessToken}`; the
    // refusals are `{message, code}`: 400 for the credentials and the second factor.
    if (method === "POST" && path === "/v3/accounts/login") {
      if (body.email !== "ada@example.com" || body.password !== "correct horse") {
        return refuse(response, 400, "INVALID_AUTHENTICATION_CREDENTIALS", "Invalid email or password.")
      }
      if (body.twoFactorCode === undefined) {
        return refuse(response, 400, "MISSING_TWO_FACTOR_CODE", "Two-factor code is required.")
      }
      if (body.twoFactorCode !== "246810") return refuse(response, 400, "INVALID_TWO_FACTOR_CODE", "Invalid code.")
      return answer(response, 200, {
        accessToken: await new SignJWT({ sub: "user-ada" }).setProtectedHeader({ alg: "RS256" }).sign(privateKey)
      })
    }
    // Row 38 / §3 item 4: `GET /v3/releases/update?accountId&productId&platform&key&version&channel[&allowed]`
    // → 200 with the Release JSON (its `UpdatedAt` spelt so), or 204 when nothing newer (or nothing allowed).
    if (method === "GET" && path === "/v3/releases/update") {
      const params = new URL(request.url ?? "/", "http://x").searchParams
      if (params.get("productId") !== productId)
        return refuse(response, 400, "INVALID_PRODUCT_ID", "Invalid product id.")
      const version = params.get("version") ?? ""
      if (!/^\d+(\.\d+){1,3}$/.test(version)) {
        return refuse(response, 400, "INVALID_VERSION_FORMAT", "Invalid version format.")
      }
      const newer = compareVersions(release.version, version) > 0
      const key = (params.get("key") ?? "").toUpperCase()
      const onlyAllowed = params.get("allowed") === "true"
      const wanted = params.get("platform") === "linux" && params.get("channel") === "stable"
      if (!wanted || !newer || (onlyAllowed && !release.allowedKeys.has(key))) return answer(response, 204)
      return answer(response, 200, {
        totalFiles: 1,
        published: true,
        private: false,
        id: release.id,
        createdAt: "2026-01-10T08:00:00Z",
        UpdatedAt: "2026-01-10T08:00:00Z",
        name: "Version 2",
        channel: "stable",
        version: release.version,
        platforms: ["linux"],
        notes: null,
        publishedAt: "2026-01-10T09:00:00Z",
        productId,
        files: [
          {
            size: 1024,
            downloads: 3,
            secured: false,
            id: releaseFileId,
            name: "app-2.0.0.tar.gz",
            url: "https://downloads.example.com/app-2.0.0.tar.gz",
            extension: "tar.gz",
            checksum: "a".repeat(64),
            releaseId: release.id,
            createdAt: "2026-01-10T08:00:00Z",
            updatedAt: "2026-01-10T08:00:00Z"
          }
        ]
      })
    }
    const releaseAllowed = /^\/v3\/releases\/([^/]+)\/allowed$/.exec(path)
    if (method === "GET" && releaseAllowed !== null) {
      const params = new URL(request.url ?? "/", "http://x").searchParams
      if (decodeURIComponent(releaseAllowed[1]!) !== release.id) return refuse(response, 404, undefined, "No release.")
      return answer(response, 200, { allowed: release.allowedKeys.has((params.get("key") ?? "").toUpperCase()) })
    }
    // §3 item 5: the user's licences as a JSON list, with `Authorization: Bearer`; the REF page's `page` and
    // `limit` (≤ 100) page it. The default page size is not published: ten here.
    if (method === "GET" && path === "/v3/me/licenses") {
      if (!/^Bearer \S+$/.test(request.headers.authorization ?? "")) {
        return refuse(response, 401, undefined, "Authorization required.")
      }
      const params = new URL(request.url ?? "/", "http://x").searchParams
      const limit = Number(params.get("limit") ?? "10")
      const page = quirks.ignoresPage ? 1 : Number(params.get("page") ?? "1")
      if (!Number.isInteger(limit) || limit < 1 || limit > 100 || !Number.isInteger(page) || page < 1) {
        return refuse(response, 400, undefined, "Invalid paging.")
      }
      const all = Array.from({ length: user.licences }, (_, i) => ({
        allowedActivations: 1,
        allowedDeactivations: 1,
        key: `USER-LICENCE-${String(i + 1).padStart(4, "0")}`,
        type: "node-locked",
        totalActivations: 0,
        totalDeactivations: 0,
        metadata: []
      }))
      return answer(response, 200, all.slice((page - 1) * limit, page * limit))
    }
    return refuse(response, 404, undefined, `No route for ${method} ${path}`)
  }

  const server = createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      handle(request, response, Buffer.concat(chunks).toString("utf8")).catch((error: unknown) =>
        refuse(response, 500, undefined, String(error))
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    productId,
    accountId,
    publicKeyPem,
    quirks,
    release,
    get userLicences() {
      return user.licences
    },
    set userLicences(count: number) {
      user.licences = count
    },
    licence: (options = {}) => {
      const key = randomUUID().toUpperCase()
      licences.set(key, {
        key,
        allowedActivations: options.allowedActivations ?? 1,
        allowedDeactivations: options.allowedDeactivations ?? 10,
        deactivations: 0,
        organisation: options.organisation ?? false,
        meter: {
          id: `lma-${randomUUID()}`,
          name: "exports",
          allowedUses: options.meterAllowedUses ?? 10,
          totalUses: 1,
          grossUses: 1
        }
      })
      return key
    },
    forget: (id) => {
      activations.delete(id)
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
