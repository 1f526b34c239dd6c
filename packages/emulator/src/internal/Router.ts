/**
 * The emulator's one request handler over Web-standard objects: it routes `/v3/` requests (through the fault
 * injector and into the request log) and `/__admin/` requests, answers 404 for unknown paths and 405 with
 * `Allow` for a known path under the wrong method, and turns anything a route throws into an answer, so no
 * input can take the emulator down. The in-process `fetch` and the node:http server both call it.
 */
import * as Admin from "./AdminRoutes.ts"
import * as Cryptlex from "./CryptlexApi.ts"
import * as Entitlements from "./EntitlementsApi.ts"
import * as Meters from "./MetersApi.ts"
import * as Releases from "./ReleasesApi.ts"
import * as Users from "./UsersApi.ts"
import type { EmulatorClock } from "./EmulatorClock.ts"
import { malformedAnswer, statusAnswer, takeFault } from "./Faults.ts"
import { json, Refusal } from "./Http.ts"
import { makeRateLimiter, type RateLimitPolicy, tooManyRequests, withHeaders } from "./RateLimit.ts"
import type { Store } from "./Store.ts"

/** What the handler answers instead of a Response when a `drop` fault (or the caller's abort) ends a request. */
export const Dropped: unique symbol = Symbol.for("@licensure/emulator/Dropped")
export type Dropped = typeof Dropped

/** `clientIp` keys the rate limit; the HTTP server passes the socket's address, in process it is absent. */
export type Handler = (request: Request, clientIp?: string) => Promise<Response | Dropped>

/** The rate-limit key of requests that come without a client address (the in-process `fetch`). */
export const InProcessClient = "in-process"

export interface RouterContext {
  readonly store: Store
  readonly clock: EmulatorClock
  readonly keyBits: number
  /** Waits `ms` of real time unless `signal` aborts first (then rejects). */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>
  /** Cryptlex's per-IP limit on `/v3/` (reference-client.md row 23); null when off. */
  readonly rateLimit: RateLimitPolicy | null
}

type Route = {
  readonly pattern: RegExp
  readonly methods: Readonly<Record<string, (request: Request, id: string) => Promise<Response> | Response>>
}

const segment = "([^/]+)"

const routes = (ctx: RouterContext): ReadonlyArray<Route> => {
  const api: Cryptlex.ApiContext = { store: ctx.store, now: ctx.clock.now }
  return [
    { pattern: /^\/v3\/activations\/?$/, methods: { POST: (request) => Cryptlex.activate(api, request) } },
    {
      pattern: new RegExp(`^/v3/activations/${segment}$`),
      methods: {
        PATCH: (request, id) => Cryptlex.syncActivation(api, id, request),
        DELETE: (request, id) => Cryptlex.adminDeleteActivation(api, id, request)
      }
    },
    {
      pattern: new RegExp(`^/v3/activations/${segment}/feature-entitlements$`),
      methods: { GET: (request, id) => Entitlements.featureEntitlements(api, id, request) }
    },
    {
      pattern: new RegExp(`^/v3/activations/meter-attributes/${segment}$`),
      methods: { POST: (request, id) => Meters.incrementMeter(api, id, request) }
    },
    { pattern: /^\/v3\/releases\/update\/?$/, methods: { GET: (request) => Releases.checkUpdate(api, request) } },
    {
      pattern: new RegExp(`^/v3/releases/${segment}/allowed$`),
      methods: { GET: (request, id) => Releases.allowed(api, id, request) }
    },
    { pattern: /^\/v3\/accounts\/login\/?$/, methods: { POST: (request) => Users.login(api, request) } },
    { pattern: /^\/v3\/accounts\/login-oidc\/?$/, methods: { POST: (request) => Users.loginOidc(api, request) } },
    { pattern: /^\/v3\/me\/licenses\/?$/, methods: { GET: (request) => Users.myLicenses(api, request) } },
    {
      // releases.cryptlex.com's path shape: /v3/{accountId}/{releaseId}/{file name}.
      pattern: /^\/releases\/v3\/([^/]+)\/([^/]+)\/([^/]+)$/,
      methods: {
        GET: (request) => {
          const [, , releaseId, name] =
            /^\/releases\/v3\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(new URL(request.url).pathname) ?? []
          return Releases.download(api, request, decodeURIComponent(releaseId ?? ""), decodeURIComponent(name ?? ""))
        }
      }
    },
    { pattern: /^\/__admin\/releases\/?$/, methods: { POST: (request) => Admin.createRelease(ctx, request) } },
    { pattern: /^\/__admin\/users\/?$/, methods: { POST: (request) => Admin.createUser(ctx, request) } },
    {
      pattern: new RegExp(`^/__admin/users/${segment}$`),
      methods: {
        GET: (_, id) => Admin.getUser(ctx, id),
        PATCH: (request, id) => Admin.patchUser(ctx, id, request)
      }
    },
    {
      pattern: new RegExp(`^/__admin/accounts/${segment}$`),
      methods: { PUT: (request, id) => Admin.putAccount(ctx, id, request) }
    },
    {
      pattern: new RegExp(`^/v3/activations/${segment}/deactivate$`),
      methods: { POST: (request, id) => Cryptlex.deactivate(api, id, request) }
    },
    { pattern: /^\/v3\/trial-activations\/?$/, methods: { POST: (request) => Cryptlex.activateTrial(api, request) } },
    {
      pattern: new RegExp(`^/v3/trial-activations/${segment}$`),
      methods: { PATCH: (request, id) => Cryptlex.syncTrial(api, id, request) }
    },
    { pattern: /^\/__admin\/products\/?$/, methods: { POST: (request) => Admin.createProduct(ctx, request) } },
    { pattern: new RegExp(`^/__admin/products/${segment}$`), methods: { GET: (_, id) => Admin.getProduct(ctx, id) } },
    { pattern: /^\/__admin\/licenses\/?$/, methods: { POST: (request) => Admin.createLicense(ctx, request) } },
    {
      pattern: new RegExp(`^/__admin/licenses/${segment}$`),
      methods: {
        GET: (_, id) => Admin.getLicense(ctx, id),
        PATCH: (request, id) => Admin.patchLicense(ctx, id, request)
      }
    },
    {
      pattern: new RegExp(`^/__admin/activations/${segment}$`),
      methods: { DELETE: (_, id) => Admin.deleteActivation(ctx, id) }
    },
    {
      pattern: new RegExp(`^/__admin/trial-activations/${segment}$`),
      methods: {
        PATCH: (request, id) => Admin.patchTrial(ctx, id, request),
        DELETE: (_, id) => Admin.deleteTrial(ctx, id)
      }
    },
    {
      pattern: /^\/__admin\/faults\/?$/,
      methods: {
        GET: () => Admin.listFaults(ctx),
        POST: (request) => Admin.addFault(ctx, request),
        DELETE: () => Admin.clearFaults(ctx)
      }
    },
    {
      pattern: /^\/__admin\/clock\/?$/,
      methods: { GET: () => Admin.getClock(ctx), POST: (request) => Admin.changeClock(ctx, request) }
    },
    { pattern: /^\/__admin\/log\/?$/, methods: { GET: () => Admin.getLog(ctx), DELETE: () => Admin.clearLog(ctx) } }
  ]
}

const internalError = (error: unknown): Response =>
  json(500, { message: `Emulator internal error: ${error instanceof Error ? error.message : String(error)}` })

const dispatch = async (table: ReadonlyArray<Route>, request: Request, path: string): Promise<Response> => {
  for (const route of table) {
    const match = route.pattern.exec(path)
    if (match === null) continue
    const run = route.methods[request.method]
    if (run === undefined) {
      const allow = Object.keys(route.methods).join(", ")
      return json(405, { message: `Method ${request.method} is not allowed on ${path}; allowed: ${allow}` }, { allow })
    }
    let id = ""
    if (match[1] !== undefined) {
      try {
        id = decodeURIComponent(match[1])
      } catch {
        return json(400, { message: `Expected a URL-encoded id in the path, got ${match[1]}` })
      }
    }
    try {
      return await run(request, id)
    } catch (error) {
      return error instanceof Refusal ? error.response : internalError(error)
    }
  }
  return json(404, { message: `No such endpoint: ${request.method} ${path}` })
}

export const makeHandler = (ctx: RouterContext): Handler => {
  const table = routes(ctx)
  const limiter = ctx.rateLimit === null ? null : makeRateLimiter(ctx.rateLimit)
  return async (request, clientIp = InProcessClient) => {
    try {
      let path: string
      try {
        path = new URL(request.url).pathname
      } catch {
        return json(400, { message: `Expected a URL, got ${request.url}` })
      }
      if (!path.startsWith("/v3/")) return await dispatch(table, request, path)
      const at = ctx.clock.now()
      // The limit comes first, as Cryptlex's gateway answers before any handler (or, here, any fault) runs.
      const rate = limiter?.take(clientIp, at)
      if (rate?.limited === true && ctx.rateLimit !== null) {
        ctx.store.log.push({ at, method: request.method, path, status: 429 })
        return tooManyRequests(ctx.rateLimit, rate)
      }
      const fault = takeFault(ctx.store, request.method, path, at)
      const served = (status: number): void => {
        ctx.store.log.push({ at, method: request.method, path, status, ...(fault ? { fault: fault.kind } : {}) })
      }
      if (fault?.kind === "drop") {
        served(0)
        return Dropped
      }
      if (fault?.kind === "delay") {
        try {
          await ctx.sleep(fault.delayMs, request.signal)
        } catch {
          // The caller gave up (or the emulator closed) during the delay: there is no one left to answer.
          return Dropped
        }
      }
      const response =
        fault?.kind === "status"
          ? statusAnswer(fault)
          : fault?.kind === "malformed"
            ? malformedAnswer(fault)
            : await dispatch(table, request, path)
      served(response.status)
      return rate === undefined ? response : withHeaders(response, rate.headers)
    } catch (error) {
      return internalError(error)
    }
  }
}
