/**
 * The HTTP client for Node: Effect's `HttpClient` on fetch, with the two things a licensing client on a customer's
 * machine needs beyond the defaults: bounded waits and proxies.
 *
 * DECISION: the platform's own `fetch` (Node 22+) carries every request that goes direct with the default waits,
 * so an app that needs nothing else loads no HTTP code of ours. A proxy, extra CAs or explicit timeouts need a
 * dispatcher, which Node's `fetch` takes only from its own internal undici; for those the `undici` package's
 * `fetch` with its `Agent`/`ProxyAgent` is loaded on first use (one stack per request, never two). Redirects are
 * never followed (`redirect: "manual"`): a licensing answer that moved is an answer to refuse, not to chase.
 *
 * Timeouts are undici's own, so they say what went wrong: `connectTimeout` bounds the TCP connect and the TLS
 * handshake (through a proxy too), `readTimeout` bounds the wait for the response head and every pause between
 * body chunks. Either failure is an `HttpClientError` whose cause carries undici's error code; the transport ones
 * also get a description beginning `connect timeout` or `read timeout`, and {@link timeoutKind} tells them apart.
 *
 * Proxies follow the usual environment variables unless told otherwise: `https_proxy`/`HTTPS_PROXY` for https
 * URLs, `http_proxy`/`HTTP_PROXY` for http URLs (lower case first, as curl reads them), and `no_proxy`/`NO_PROXY`
 * for the hosts that go direct (see `internal/NoProxy.ts`). Plain http goes to the proxy as an absolute-URI request;
 * https is tunnelled with CONNECT, so the proxy never sees the licence traffic in the clear.
 *
 * @example
 * import * as NodeHttp from "@licensure/node-runtime/NodeHttp"
 * const HttpLive = NodeHttp.layer({ readTimeout: 15_000, proxy: { url: "http://proxy.corp:3128", noProxy: ".corp" } })
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as Undici from "undici"
import { bypassesProxy, type NoProxyRule, parseNoProxy } from "./internal/NoProxy.ts"

/** How the Node HTTP client connects: timeouts in milliseconds, the proxy, and extra trusted certificate authorities. */
export interface NodeHttpOptions {
  /** Milliseconds allowed for the TCP connect and TLS handshake. Default 10000. */
  readonly connectTimeout?: number
  /** Milliseconds allowed for the response head, and for each pause in the body. Default 30000. */
  readonly readTimeout?: number
  /** `"env"` (default): the proxy variables; `"none"`: always direct; or one proxy for http and https. */
  readonly proxy?: "env" | "none" | { readonly url: string; readonly noProxy?: string | ReadonlyArray<string> }
  /** Where `"env"` reads the proxy variables. Default `process.env`, read once when the layer is built. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /**
   * Extra certificate authorities (PEM) to trust besides Node's bundled ones, e.g. a corporate TLS-inspecting
   * proxy's root or a test server's self-signed certificate.
   */
  readonly ca?: string | ReadonlyArray<string>
}

/** Which of the two bounded waits ran out, as told by the error's cause. */
export type TimeoutKind = "connect" | "read"

/** `"connect"` or `"read"` when an HTTP failure is one of this client's timeouts, otherwise `undefined`. */
export const timeoutKind = (error: unknown): TimeoutKind | undefined => {
  const code = undiciCode(error)
  if (code === "UND_ERR_CONNECT_TIMEOUT") return "connect"
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") return "read"
  return undefined
}

/** The HTTP client as a layer. Sockets and proxy connections are closed when the layer's scope ends. */
export const layer = (options: NodeHttpOptions = {}): Layer.Layer<HttpClient.HttpClient> => Layer.unwrap(make(options))

/**
 * Whether these options need the `undici` package (an optional peer of the `licensure` bundle): extra CAs,
 * explicit timeouts or an explicit proxy do; the proxy variables do only when one of them is set (see `make`).
 */
export const needsUndici = (options: NodeHttpOptions): boolean =>
  options.ca !== undefined ||
  options.connectTimeout !== undefined ||
  options.readTimeout !== undefined ||
  (typeof options.proxy === "object" && options.proxy !== null)

/** How to get undici, and what Node can do without it: said wherever its absence is reported. */
export const undiciAdvice =
  "install it beside the app (npm install undici@8); for the proxy variables alone, a Node that has " +
  "NODE_USE_ENV_PROXY (Node 24) can do without it: start Node with NODE_USE_ENV_PROXY=1 or --use-env-proxy"

/**
 * Whether Node's own `fetch` follows the proxy variables (`NODE_USE_ENV_PROXY=1` or `--use-env-proxy`, Node 24),
 * for the `"env"` proxy read from `process.env` itself.
 *
 * DECISION: then the platform's `fetch` carries the request and undici is not loaded for the proxy: Node applies
 * the same variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) to its fetch, so the app that asked Node for it needs no
 * extra package; explicit options (a proxy object, CAs, timeouts) still take undici's dispatcher.
 */
const nodeFollowsEnvProxy = (options: NodeHttpOptions): boolean =>
  (options.proxy === undefined || options.proxy === "env") &&
  options.env === undefined &&
  (process.env.NODE_USE_ENV_PROXY === "1" || process.execArgv.includes("--use-env-proxy"))

/**
 * Whether `undici` can be found, decided synchronously (before anything starts), by resolving it from every place
 * the lazy `import("undici")` may look: this file in CommonJS (`require.resolve`), the app's main script and the
 * working directory (`module.createRequire`).
 *
 * DECISION: found from any of them counts as there. This file is compiled to ES modules and CommonJS alike, and
 * `import.meta` (the only way an ES module knows where it is) cannot be written in the CommonJS pass; so an ES
 * module build asks from the app's side, where an app's dependencies are installed. A miss everywhere is a
 * package that is not installed; a wrong "there" leaves the first request to say it, as it did before.
 */
export const undiciAvailable = (): boolean => {
  const resolvers: Array<(id: string) => string> = []
  if (typeof require === "function" && typeof (require as { resolve?: unknown }).resolve === "function") {
    resolvers.push((id) => require.resolve(id))
  }
  const nodeModule = process.getBuiltinModule?.("node:module")
  if (nodeModule !== undefined) {
    for (const base of [process.argv[1], `${process.cwd()}/`]) {
      if (base !== undefined && base !== "") resolvers.push((id) => nodeModule.createRequire(base).resolve(id))
    }
  }
  if (resolvers.length === 0) return true
  return resolvers.some((resolve) => {
    try {
      resolve("undici")
      return true
    } catch {
      return false
    }
  })
}

/**
 * What is wrong with these options, or `undefined`: a timeout that is not a positive whole number, an explicit
 * proxy that is not a proxy URL, or options that need undici where it is not installed. `NodeLicensing` calls
 * it at construction; the layer built from options it refused fails every request with the same words.
 */
export const optionsProblem = (options: NodeHttpOptions): string | undefined => {
  const problem = validate(options)
  if (problem !== undefined) return problem
  if (options.proxy !== undefined && options.proxy !== "env") {
    const resolved = resolveProxyPlan({ proxy: options.proxy })
    if (resolved._tag === "Invalid") return resolved.message
  }
  if (needsUndici(options) && !undiciAvailable()) {
    return `a proxy, extra CAs or explicit timeouts need the undici package, which is not installed: ${undiciAdvice}`
  }
  return undefined
}

/** Proxy routing after reading the options and the environment: undefined means direct. */
export interface ProxyPlan {
  readonly http: URL | undefined
  readonly https: URL | undefined
  readonly noProxy: ReadonlyArray<NoProxyRule>
}

/** Works out the proxy routing, or says what in the options or environment is wrong. */
export const resolveProxyPlan = (
  options: Pick<NodeHttpOptions, "proxy" | "env">
): { readonly _tag: "Plan"; readonly plan: ProxyPlan } | { readonly _tag: "Invalid"; readonly message: string } => {
  const proxy = options.proxy ?? "env"
  if (proxy === "none") return { _tag: "Plan", plan: { http: undefined, https: undefined, noProxy: [] } }
  if (proxy === "env") {
    // DECISION: lower case wins over upper case (curl; the upper-case HTTP_PROXY is the one CGI lets a client set);
    // https never falls back to HTTP_PROXY (curl, Go, Python agree); ALL_PROXY and socks:// proxies are not read.
    const env = options.env ?? process.env
    const pick = (lower: string, upper: string) => {
      const value = nonEmpty(env[lower]) ?? nonEmpty(env[upper])
      return value === undefined ? undefined : { name: nonEmpty(env[lower]) !== undefined ? lower : upper, value }
    }
    const http = pick("http_proxy", "HTTP_PROXY")
    const https = pick("https_proxy", "HTTPS_PROXY")
    const parsedHttp = http === undefined ? undefined : parseProxyUrl(http.value, http.name)
    if (typeof parsedHttp === "string") return { _tag: "Invalid", message: parsedHttp }
    const parsedHttps = https === undefined ? undefined : parseProxyUrl(https.value, https.name)
    if (typeof parsedHttps === "string") return { _tag: "Invalid", message: parsedHttps }
    const noProxy = nonEmpty(env.no_proxy) ?? nonEmpty(env.NO_PROXY) ?? ""
    return { _tag: "Plan", plan: { http: parsedHttp, https: parsedHttps, noProxy: parseNoProxy(noProxy) } }
  }
  if (typeof proxy !== "object" || proxy === null || typeof proxy.url !== "string") {
    return { _tag: "Invalid", message: `expected proxy to be "env", "none" or { url }, got ${describe(proxy)}` }
  }
  const url = parseProxyUrl(proxy.url, "proxy.url")
  if (typeof url === "string") return { _tag: "Invalid", message: url }
  return { _tag: "Plan", plan: { http: url, https: url, noProxy: parseNoProxy(proxy.noProxy ?? "") } }
}

/** The proxy a request to `origin` goes through under `plan`, or `undefined` when it goes direct. */
export const proxyFor = (plan: ProxyPlan, origin: URL): URL | undefined => {
  const proxy = origin.protocol === "https:" ? plan.https : plan.http
  return proxy === undefined || bypassesProxy(plan.noProxy, origin) ? undefined : proxy
}

/** The fetch client with `fetch` as its transport, redirects left to the caller (as answers, never followed). */
const fetchLayer = (fetch: typeof globalThis.fetch) =>
  FetchHttpClient.layer.pipe(
    Layer.provide(Layer.succeed(FetchHttpClient.Fetch, fetch)),
    Layer.provide(Layer.succeed(FetchHttpClient.RequestInit, { redirect: "manual" }))
  )

const make = (options: NodeHttpOptions) =>
  Effect.gen(function* () {
    const problem = validate(options)
    const resolved = resolveProxyPlan(options)
    if (problem !== undefined || resolved._tag === "Invalid") {
      const message = `invalid NodeHttp options: ${problem ?? (resolved._tag === "Invalid" ? resolved.message : "")}`
      return Layer.succeed(
        HttpClient.HttpClient,
        HttpClient.make((request) => Effect.fail(transportError(request, message, undefined)))
      )
    }
    const plan = resolved.plan
    const needsDispatcher =
      needsUndici(options) || ((plan.http !== undefined || plan.https !== undefined) && !nodeFollowsEnvProxy(options))
    if (!needsDispatcher) return fetchLayer(globalThis.fetch)
    const connectTimeout = options.connectTimeout ?? 10_000
    const readTimeout = options.readTimeout ?? 30_000
    const loaded = yield* Effect.result(Effect.tryPromise(() => import("undici")))
    if (loaded._tag === "Failure") {
      const viaEnv = !needsUndici(options)
      const what = viaEnv
        ? `the proxy in ${proxyVariables(options)} needs the undici package, which is not installed`
        : "a proxy, extra CAs or explicit timeouts need the undici package, which is not installed"
      const message = `${what}: ${undiciAdvice} (${String(loaded.failure.cause)})`
      // DECISION: the failure carries Node's code for a missing module, which core's `isTransient` does not retry
      // (LicenseApi.isSetupFailure): every attempt would meet the same missing package, and ~10 s of backoff
      // would only turn a setup problem into "offline, try later".
      const cause = Object.assign(new Error(message, { cause: loaded.failure.cause }), { code: "ERR_MODULE_NOT_FOUND" })
      return Layer.succeed(
        HttpClient.HttpClient,
        HttpClient.make((request) => Effect.fail(transportError(request, message, cause)))
      )
    }
    const undici = loaded.success
    // node:tls only for its bundled roots, and only with extra CAs: imported at the top it is the costliest
    // built-in at start-up (its TLS and net internals compile on first load), for a client that may never connect.
    const roots = options.ca === undefined ? [] : (yield* Effect.promise(() => import("node:tls"))).rootCertificates
    return Layer.unwrap(
      Effect.gen(function* () {
        const built = yield* Effect.acquireRelease(
          Effect.sync(() => buildDispatcher(undici, plan, connectTimeout, readTimeout, options.ca, roots)),
          (b) => Effect.promise(() => b.destroy())
        )
        const fetch = ((input: string | URL | Request, init?: RequestInit) =>
          undici.fetch(
            input as never,
            { ...(init as object), dispatcher: built.dispatcher } as never
          )) as unknown as typeof globalThis.fetch
        return Layer.effect(
          HttpClient.HttpClient,
          Effect.map(HttpClient.HttpClient, (client) =>
            client.pipe(
              HttpClient.transform((effect, request) =>
                Effect.mapError(effect, (error) => describeTimeout(error, request, connectTimeout, readTimeout))
              )
            )
          )
        ).pipe(Layer.provide(fetchLayer(fetch)))
      })
    )
  })

const buildDispatcher = (
  undici: typeof Undici,
  plan: ProxyPlan,
  connectTimeout: number,
  readTimeout: number,
  ca: string | ReadonlyArray<string> | undefined,
  roots: ReadonlyArray<string>
) => {
  // `ca` replaces Node's bundled roots in a TLS connection; keep them and add the extra ones.
  const trust = ca === undefined ? undefined : { ca: [...roots, ...(typeof ca === "string" ? [ca] : ca)] }
  const direct = new undici.Agent({ connect: { timeout: connectTimeout, ...trust } })
  const proxies = new Map<string, Undici.ProxyAgent>()
  const proxyAgent = (url: URL) => {
    let agent = proxies.get(url.href)
    if (agent === undefined) {
      agent = new undici.ProxyAgent({
        uri: url.href,
        connectTimeout,
        // The connection to the proxy carries the CONNECT handshake: bound its wait for an answer like any read.
        clientFactory: (origin, clientOptions) =>
          new undici.Pool(origin, { ...clientOptions, headersTimeout: readTimeout }),
        ...(trust === undefined ? {} : { requestTls: trust, proxyTls: trust })
      })
      proxies.set(url.href, agent)
    }
    return agent
  }
  const routeFor = (origin: URL): Undici.Dispatcher | undefined => {
    const proxy = proxyFor(plan, origin)
    return proxy === undefined ? undefined : proxyAgent(proxy)
  }
  // The Effect client asks for an hour of header wait and no body limit on every request (it leaves timeouts to
  // Effect.timeout); this layer's read timeout replaces both here, where undici can enforce it per socket.
  const dispatcher = direct.compose((dispatch) => (request, handler) => {
    const timed = { ...request, headersTimeout: readTimeout, bodyTimeout: readTimeout }
    const origin = request.origin === undefined ? undefined : new URL(String(request.origin))
    const via = origin === undefined ? undefined : routeFor(origin)
    return via === undefined ? dispatch(timed, handler) : via.dispatch(timed, handler)
  })
  const destroy = async () => {
    await Promise.all([direct.destroy(), ...Array.from(proxies.values(), (agent) => agent.destroy())])
  }
  return { dispatcher, destroy }
}

const describeTimeout = (
  error: HttpClientError.HttpClientError,
  request: HttpClientRequest.HttpClientRequest,
  connectTimeout: number,
  readTimeout: number
): HttpClientError.HttpClientError => {
  if (error.reason._tag !== "TransportError") return error
  const kind = timeoutKind(error)
  if (kind === undefined) return error
  const host = hostOf(request.url)
  const description =
    kind === "connect"
      ? `connect timeout: no connection to ${host} within ${connectTimeout} ms`
      : `read timeout: ${host} sent nothing for ${readTimeout} ms`
  return transportError(request, description, error.reason.cause)
}

const transportError = (request: HttpClientRequest.HttpClientRequest, description: string, cause: unknown) =>
  new HttpClientError.HttpClientError({
    reason: new HttpClientError.TransportError({ request, description, cause })
  })

/** Follows `reason` and `cause` links to the first undici error code (`UND_ERR_…`). */
const undiciCode = (error: unknown): string | undefined => {
  let current: unknown = error
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    if ("code" in current && typeof current.code === "string" && current.code.startsWith("UND_ERR")) {
      return current.code
    }
    current = "reason" in current && typeof current.reason === "object" ? current.reason : (current as Error).cause
  }
  return undefined
}

const parseProxyUrl = (value: string, source: string): URL | string => {
  // "proxy.corp:3128" without a scheme is common in the wild and means an http proxy.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    return `${source} is ${JSON.stringify(value)}, expected a proxy URL such as http://proxy.example:3128`
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `${source} is ${JSON.stringify(value)}, expected an http:// or https:// proxy URL (got ${url.protocol})`
  }
  return url
}

const validate = (options: NodeHttpOptions): string | undefined => {
  for (const name of ["connectTimeout", "readTimeout"] as const) {
    const value = options[name]
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      return `expected ${name} to be a positive whole number of milliseconds, got ${describe(value)}`
    }
  }
  return undefined
}

/** The proxy variables set in the environment `"env"` reads, named for a message. */
const proxyVariables = (options: NodeHttpOptions): string => {
  const env = options.env ?? process.env
  const set = ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"].filter((name) => nonEmpty(env[name]))
  return set.length === 0 ? "the environment" : set.join(", ")
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}

const describe = (value: unknown): string =>
  typeof value === "string" ? JSON.stringify(value) : typeof value === "object" ? JSON.stringify(value) : String(value)

const nonEmpty = (value: string | undefined): string | undefined =>
  value !== undefined && value.trim() !== "" ? value.trim() : undefined
