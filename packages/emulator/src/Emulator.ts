/**
 * A Cryptlex Web API v3 emulator for tests, simulations and demos. `createEmulator` gives the in-process form:
 * a `fetch` with `globalThis.fetch`'s signature that answers from memory (plug it into Effect's
 * `FetchHttpClient.Fetch` for a transport without sockets); `startEmulator` also serves the very same handler
 * over real HTTP. Both carry typed helpers for the admin API, which call that handler too.
 *
 * @example
 * ```ts
 * const emulator = await startEmulator({ manualClock: { startAt: Date.parse("2030-01-01") } })
 * const { productId, publicKeyPem } = await emulator.createProduct()
 * const { key } = await emulator.createLicense({ productId, allowedActivations: 2 })
 * await emulator.addFault({ kind: "status", status: 429, retryAfter: 30, count: 1 })
 * await emulator.clock.advance(86_400)
 * await emulator.close()
 * ```
 *
 * @since 0.1.0
 */
import {
  type AccountOptions,
  type CreatedLicense,
  type CreatedRelease,
  type CreatedProduct,
  EmulatorAdminError,
  type FaultSpec,
  type Instant,
  type LicenseOptions,
  type LicensePatch,
  type LicenseView,
  type LogEntry,
  type ProductOptions,
  type ProductView,
  type ReleaseOptions,
  type TrialActivationView,
  type TrialPatch,
  type UserOptions,
  type UserPatch,
  type UserView
} from "./AdminApi.ts"
import { makeClock } from "./internal/EmulatorClock.ts"
import { listen } from "./internal/NodeServer.ts"
import { CryptlexRateLimit, type RateLimitPolicy } from "./internal/RateLimit.ts"
import { Dropped, type Handler, makeHandler } from "./internal/Router.ts"
import { Store } from "./internal/Store.ts"

/** Options of {@link startEmulator} and {@link createEmulator}; every field is optional. */
export interface EmulatorOptions {
  /** Port of the HTTP server (`startEmulator` only); 0, the default, picks a free one. */
  readonly port?: number
  /** Interface of the HTTP server (`startEmulator` only); default 127.0.0.1. */
  readonly host?: string
  /** The emulator's clock, epoch milliseconds (default `Date.now`); bind it to a TestClock in simulations. */
  readonly now?: () => number
  /** A clock of its own, starting at `startAt` (epoch ms), moved only by `clock.set`/`clock.advance`. */
  readonly manualClock?: { readonly startAt: number }
  /** RSA modulus length of product keys; at least 2048 (RS256's minimum), default 2048. */
  readonly keyBits?: number
  /**
   * Cryptlex's rate limit on `/v3/` (never `/__admin/`): `requests` per `windowSeconds` per client IP, timed on
   * the emulator's clock; `false` turns it off. Default: {@link DefaultRateLimit}.
   */
  readonly rateLimit?: RateLimitOptions | false
}

/** A rate limit on the `/v3/` calls: past it, `429` with `Retry-After` (reference-client.md row 23). */
export interface RateLimitOptions {
  /** Requests allowed per window and client IP (an integer ≥ 1). */
  readonly requests: number
  /** The window's length in seconds (an integer ≥ 1). */
  readonly windowSeconds: number
}

/** Cryptlex's documented limit, 50 requests per 5 seconds per IP (reference-client.md row 23). */
export const CryptlexRateLimitOptions: RateLimitOptions = CryptlexRateLimit

/**
 * DECISION (reference-client.md row 23: Cryptlex limits 50 requests per 5 s per IP): off by default, for both
 * `startEmulator` and `createEmulator`. With Cryptlex's numbers on by default, 13 existing tests of the repo fail
 * (core's LicenseApi tests and the emulator's robustness tests make more than 50 requests without moving the
 * manual clock), so a test that wants Cryptlex's limit asks for it: `rateLimit: CryptlexRateLimitOptions`.
 */
export const DefaultRateLimit: RateLimitOptions | false = false

/** The emulator's clock as the admin API moves it ({@link Emulator.clock}). */
export interface EmulatorClockControl {
  /** The emulator's current time, epoch milliseconds. */
  readonly now: () => Promise<number>
  /** Sets a manual clock; rejects with {@link EmulatorAdminError} (409) on any other clock. */
  readonly set: (at: Instant) => Promise<number>
  /** Moves a manual clock by `seconds` (may be negative); rejects (409) on any other clock. */
  readonly advance: (seconds: number) => Promise<number>
}

/** `globalThis.fetch`'s signature: what {@link Emulator.fetch} is, and what Effect's `FetchHttpClient.Fetch` takes. */
export type Fetch = (input: Request | string | URL, init?: RequestInit) => Promise<Response>

/**
 * A running emulator: its URL (or in-process `fetch`) for the client under test, and the admin API as typed calls
 * (each rejects with {@link EmulatorAdminError} when the emulator refuses it, with the status and message).
 */
export interface Emulator {
  /** Base URL: the server's for `startEmulator`, a placeholder (`http://licensure-emulator.invalid`) in-process. */
  readonly url: string
  /**
   * Answers a request in process, like `globalThis.fetch` against the emulator: any absolute URL is served
   * (only its path matters), a relative one is resolved against {@link url}. A `drop` fault rejects with
   * `TypeError("fetch failed")`, an abort with the signal's reason.
   */
  readonly fetch: Fetch
  /** Stops the server (if any), cancels delayed requests; later requests fail like a refused connection. */
  readonly close: () => Promise<void>
  /** A product with a fresh RSA key pair: its id and the public key a client verifies tokens with. */
  readonly createProduct: (options?: ProductOptions) => Promise<CreatedProduct>
  /** A product's settings (trial policy, account id, metadata) as stored. */
  readonly getProduct: (id: string) => Promise<ProductView>
  /** A licence of a product, with its policy (type, seats, expiry, sync interval, grace, meters, user…). */
  readonly createLicense: (options: LicenseOptions) => Promise<CreatedLicense>
  /** A licence as the server holds it, with its live activations (what a client changed shows here). */
  readonly getLicense: (id: string) => Promise<LicenseView>
  /** Changes a licence's policy (revoke, suspend, extend, …): the next token a client gets carries it. */
  readonly updateLicense: (id: string, patch: LicensePatch) => Promise<LicenseView>
  /** Deletes an activation as an admin would, without counting a deactivation: its next sync gets a coded 404. */
  readonly deleteActivation: (id: string) => Promise<void>
  /** Changes a trial activation (its expiry: a trial extension), signed into the next trial token. */
  readonly updateTrialActivation: (id: string, patch: TrialPatch) => Promise<TrialActivationView>
  /** Deletes a trial activation: its next sync gets a coded 404. */
  readonly deleteTrialActivation: (id: string) => Promise<void>
  /** Breaks the matching `/v3/` requests as {@link FaultSpec} says (drop, delay, status, malformed). */
  readonly addFault: (fault: FaultSpec) => Promise<{ readonly id: string }>
  /** A release of a product, offered by `GET /v3/releases/update` to the platforms and channel it names. */
  readonly createRelease: (options: ReleaseOptions) => Promise<CreatedRelease>
  /** A user who logs in with `POST /v3/accounts/login` and lists licences with `GET /v3/me/licenses`. */
  readonly createUser: (options: UserOptions) => Promise<UserView>
  /** A user as stored: failed logins, lock, licences. */
  readonly getUser: (id: string) => Promise<UserView>
  /** Changes a user (password, two-factor code, licences) or unlocks it. */
  readonly updateUser: (id: string, patch: UserPatch) => Promise<UserView>
  /** An account's settings (OIDC single sign-on). */
  readonly updateAccount: (accountId: string, options: AccountOptions) => Promise<{ readonly id: string }>
  /** Removes every fault. */
  readonly clearFaults: () => Promise<void>
  /** The `/v3/` requests served so far, oldest first: method, path, status, time on the emulator's clock. */
  readonly log: () => Promise<ReadonlyArray<LogEntry>>
  /** Empties the request log. */
  readonly clearLog: () => Promise<void>
  readonly clock: EmulatorClockControl
}

const InProcessUrl = "http://licensure-emulator.invalid"

const networkError = (reason: string): TypeError => new TypeError("fetch failed", { cause: new Error(reason) })

const checkOptions = (options: EmulatorOptions): void => {
  const { port, keyBits, now, manualClock, rateLimit } = options
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535)) {
    throw new TypeError(`port: Expected an integer from 0 to 65535, got ${port}`)
  }
  if (keyBits !== undefined && !(Number.isInteger(keyBits) && keyBits >= 2048)) {
    throw new TypeError(`keyBits: Expected an integer of at least 2048 (RS256's minimum), got ${keyBits}`)
  }
  if (rateLimit !== undefined && rateLimit !== false) {
    if (rateLimit === null || typeof rateLimit !== "object") {
      throw new TypeError(`rateLimit: Expected {requests, windowSeconds} or false, got ${String(rateLimit)}`)
    }
    for (const field of ["requests", "windowSeconds"] as const) {
      const value = rateLimit[field]
      if (!(Number.isInteger(value) && value >= 1)) {
        throw new TypeError(`rateLimit.${field}: Expected an integer of at least 1, got ${String(value)}`)
      }
    }
  }
  if (now !== undefined && manualClock !== undefined) {
    throw new TypeError("Expected either now or manualClock, got both")
  }
  if (manualClock !== undefined && !Number.isFinite(manualClock.startAt)) {
    throw new TypeError(`manualClock.startAt: Expected epoch milliseconds, got ${manualClock.startAt}`)
  }
}

const rateLimitOf = (option: RateLimitOptions | false | undefined): RateLimitPolicy | null => {
  const chosen = option ?? DefaultRateLimit
  return chosen === false ? null : { requests: chosen.requests, windowSeconds: chosen.windowSeconds }
}

interface Core {
  readonly handler: Handler
  readonly shutdown: () => void
  readonly isClosed: () => boolean
}

const makeCore = (options: EmulatorOptions): Core => {
  checkOptions(options)
  const closing = new AbortController()
  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const either = AbortSignal.any([signal, closing.signal])
      if (either.aborted) return reject(either.reason)
      const onAbort = () => {
        clearTimeout(timer)
        reject(either.reason)
      }
      const timer = setTimeout(() => {
        either.removeEventListener("abort", onAbort)
        resolve()
      }, ms)
      either.addEventListener("abort", onAbort, { once: true })
    })
  const handler = makeHandler({
    store: new Store(),
    clock: makeClock(options),
    keyBits: options.keyBits ?? 2048,
    sleep,
    rateLimit: rateLimitOf(options.rateLimit)
  })
  return {
    handler,
    shutdown: () => closing.abort(new Error("The emulator was closed")),
    isClosed: () => closing.signal.aborted
  }
}

const rejectOnAbort = <A>(work: Promise<A>, signal: AbortSignal): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener("abort", onAbort, { once: true })
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort)
        reject(error)
      }
    )
  })

const assemble = (core: Core, url: string, close: () => Promise<void>): Emulator => {
  const fetch: Fetch = async (input, init) => {
    const request = input instanceof Request ? new Request(input, init) : new Request(new URL(String(input), url), init)
    if (core.isClosed()) throw networkError("The emulator is closed")
    if (request.signal.aborted) throw request.signal.reason
    const outcome = await rejectOnAbort(core.handler(request), request.signal)
    if (outcome === Dropped) throw networkError("Connection dropped by an emulator fault")
    return outcome
  }

  const call = async <A>(method: string, path: string, body?: unknown): Promise<A> => {
    const response = await fetch(new URL(path, url), {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    })
    if (!response.ok) {
      const text = await response.text()
      let message = text
      try {
        message = String(JSON.parse(text).message ?? text)
      } catch {
        // Not JSON: keep the text as the message.
      }
      throw new EmulatorAdminError({ method, path, status: response.status, message })
    }
    return (response.status === 204 ? undefined : await response.json()) as A
  }
  const id = encodeURIComponent

  return {
    url,
    fetch,
    close,
    createProduct: (options = {}) => call("POST", "/__admin/products", options),
    getProduct: (productId) => call("GET", `/__admin/products/${id(productId)}`),
    createLicense: (options) => call("POST", "/__admin/licenses", options),
    getLicense: (licenseId) => call("GET", `/__admin/licenses/${id(licenseId)}`),
    updateLicense: (licenseId, patch) => call("PATCH", `/__admin/licenses/${id(licenseId)}`, patch),
    deleteActivation: (activationId) => call("DELETE", `/__admin/activations/${id(activationId)}`),
    updateTrialActivation: (trialId, patch) => call("PATCH", `/__admin/trial-activations/${id(trialId)}`, patch),
    deleteTrialActivation: (trialId) => call("DELETE", `/__admin/trial-activations/${id(trialId)}`),
    addFault: (fault) => call("POST", "/__admin/faults", fault),
    createRelease: (options) => call("POST", "/__admin/releases", options),
    createUser: (options) => call("POST", "/__admin/users", options),
    getUser: (userId) => call("GET", `/__admin/users/${id(userId)}`),
    updateUser: (userId, patch) => call("PATCH", `/__admin/users/${id(userId)}`, patch),
    updateAccount: (accountId, options) => call("PUT", `/__admin/accounts/${id(accountId)}`, options),
    clearFaults: () => call("DELETE", "/__admin/faults"),
    log: () => call("GET", "/__admin/log"),
    clearLog: () => call("DELETE", "/__admin/log"),
    clock: {
      now: () => call<{ now: number }>("GET", "/__admin/clock").then((answer) => answer.now),
      set: (at) => call<{ now: number }>("POST", "/__admin/clock", { now: at }).then((answer) => answer.now),
      advance: (seconds) =>
        call<{ now: number }>("POST", "/__admin/clock", { advanceSeconds: seconds }).then((answer) => answer.now)
    }
  }
}

/** The in-process emulator: no socket, only `fetch` and the helpers. Throws a TypeError on invalid options. */
export const createEmulator = (options: EmulatorOptions = {}): Emulator => {
  const core = makeCore(options)
  return assemble(core, InProcessUrl, async () => core.shutdown())
}

/** The emulator served over HTTP on `host:port` (default 127.0.0.1, a free port). */
export const startEmulator = async (options: EmulatorOptions = {}): Promise<Emulator> => {
  const core = makeCore(options)
  const server = await listen(core.handler, options.port ?? 0, options.host ?? "127.0.0.1")
  return assemble(core, server.url, async () => {
    core.shutdown()
    await server.close()
  })
}
