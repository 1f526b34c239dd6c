/**
 * The `proxy` check: which proxy variables are set, the route a request to the licence server takes under them,
 * and how that squares with what Node itself would do. The route is `@licensure/node-runtime`'s own
 * (`NodeHttp.resolveProxyPlan` and `NodeHttp.proxyFor`, the functions its dispatcher routes with), so what the
 * doctor reports is what the client does, not a restatement of it.
 *
 * @since 0.1.0
 */
import * as NodeHttp from "@licensure/node-runtime/NodeHttp"
import type { Env } from "../CliConfig.ts"
import { type CheckResult, check } from "./Check.ts"

export const ProxyVariables = [
  "https_proxy",
  "HTTPS_PROXY",
  "http_proxy",
  "HTTP_PROXY",
  "no_proxy",
  "NO_PROXY",
  "NODE_USE_ENV_PROXY"
] as const

export type ProxyRoute =
  | { readonly _tag: "Direct"; readonly why: string }
  | { readonly _tag: "Proxy"; readonly proxy: URL; readonly variable: string }
  | { readonly _tag: "Invalid"; readonly message: string }

const nonEmpty = (value: string | undefined) => (value !== undefined && value.trim() !== "" ? value.trim() : undefined)

/** Lower case first, as `NodeHttp` reads them. */
const chosen = (env: Env, lower: string, upper: string): string | undefined =>
  nonEmpty(env[lower]) !== undefined ? lower : nonEmpty(env[upper]) !== undefined ? upper : undefined

/** The route a request to `server` takes, and why. */
export const proxyRoute = (server: URL, env: Env): ProxyRoute => {
  const resolved = NodeHttp.resolveProxyPlan({ proxy: "env", env })
  if (resolved._tag === "Invalid") return { _tag: "Invalid", message: resolved.message }
  const plan = resolved.plan
  const proxy = NodeHttp.proxyFor(plan, server)
  const https = server.protocol === "https:"
  const variable = https ? chosen(env, "https_proxy", "HTTPS_PROXY") : chosen(env, "http_proxy", "HTTP_PROXY")
  if (proxy !== undefined) return { _tag: "Proxy", proxy, variable: variable ?? "?" }
  if (variable !== undefined) {
    return { _tag: "Direct", why: `${chosen(env, "no_proxy", "NO_PROXY") ?? "NO_PROXY"} excludes ${server.host}` }
  }
  const other = https ? chosen(env, "http_proxy", "HTTP_PROXY") : undefined
  return {
    _tag: "Direct",
    why:
      other !== undefined
        ? `no ${https ? "https_proxy/HTTPS_PROXY" : "http_proxy/HTTP_PROXY"} (licensure does not send https through ${other})`
        : "no proxy variable set"
  }
}

/** `http://user:***@host:port/`: a proxy URL as it may be shown. */
export const redacted = (url: URL): string => {
  const copy = new URL(url.href)
  if (copy.password !== "") copy.password = "***"
  return copy.href
}

export const describeRoute = (route: ProxyRoute): string =>
  route._tag === "Proxy"
    ? `via the proxy ${redacted(route.proxy)} from ${route.variable}`
    : route._tag === "Direct"
      ? `direct: ${route.why}`
      : `no route: ${route.message}`

/** Whether Node's own `fetch` and `http` in this process read the proxy variables (Node 24.5+, 22.21+). */
const nodeHonoursEnvProxy = (env: Env): { readonly on: boolean; readonly by: string | undefined } => {
  if (process.execArgv.includes("--use-env-proxy") || /(^|\s)--use-env-proxy\b/.test(env.NODE_OPTIONS ?? "")) {
    return { on: true, by: "--use-env-proxy" }
  }
  return env.NODE_USE_ENV_PROXY === "1" ? { on: true, by: "NODE_USE_ENV_PROXY=1" } : { on: false, by: undefined }
}

export const proxyCheck = (server: URL, env: Env, route: ProxyRoute, probeAnswered: boolean): CheckResult => {
  const set = Object.fromEntries(
    ProxyVariables.filter((name) => env[name] !== undefined).map((name) => [name, redactedValue(name, env[name]!)])
  )
  const node = nodeHonoursEnvProxy(env)
  const detail = {
    variables: set,
    server: server.origin,
    route:
      route._tag === "Proxy"
        ? { via: redacted(route.proxy), variable: route.variable }
        : route._tag === "Direct"
          ? { direct: route.why }
          : { invalid: route.message },
    // DECISION: reported as two facts, because they differ: licensure's HTTP layer reads the variables itself
    // (NodeHttp, with undici's ProxyAgent) whatever Node is told; Node's own fetch/http only with the flag.
    licensureReadsProxyVariables: true,
    nodeBuiltinsUseEnvProxy: node.on,
    nodeVersion: process.versions.node
  }
  if (route._tag === "Invalid") {
    return check("proxy", "fail", `the proxy settings are unusable: ${route.message}`, {
      detail,
      advice:
        "fix the variable (e.g. https_proxy=http://proxy.example:3128) or unset it; until then every request fails"
    })
  }
  const nodeNote = node.on
    ? `Node's own fetch also uses them (${node.by})`
    : "Node's own fetch ignores them (no NODE_USE_ENV_PROXY), licensure does not need it"
  const upperLowerClash = [
    ["https_proxy", "HTTPS_PROXY"],
    ["http_proxy", "HTTP_PROXY"],
    ["no_proxy", "NO_PROXY"]
  ].filter(
    ([lower, upper]) =>
      nonEmpty(env[lower!]) !== undefined &&
      nonEmpty(env[upper!]) !== undefined &&
      env[lower!]!.trim() !== env[upper!]!.trim()
  )
  if (route._tag === "Proxy" && !probeAnswered) {
    return check("proxy", "warn", `${describeRoute(route)}, and the request through it got no answer`, {
      detail,
      advice: `check that the proxy ${route.proxy.host} is up and allows ${server.host}; to bypass it for this host add it to NO_PROXY`
    })
  }
  if (upperLowerClash.length > 0) {
    return check(
      "proxy",
      "warn",
      `${describeRoute(route)}; ${upperLowerClash.map(([l, u]) => `${l} and ${u} differ`).join(", ")}`,
      {
        detail,
        advice: `licensure uses the lower-case one (${upperLowerClash.map(([l]) => l).join(", ")}); other tools may take the upper-case one: set both alike`
      }
    )
  }
  return check("proxy", "ok", `${describeRoute(route)}; ${nodeNote}`, { detail })
}

const redactedValue = (name: string, value: string): string => {
  if (name.toLowerCase() === "no_proxy") return value
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`)
    return url.password === "" ? value : redacted(url)
  } catch {
    return value
  }
}
