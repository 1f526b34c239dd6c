/**
 * The `NO_PROXY` rules: which hosts a request reaches directly although a proxy is configured.
 *
 * DECISION: the variable has no standard; this follows what curl, Go and most tools agree on. Entries are
 * separated by commas (whitespace is tolerated). `*` alone matches every host. An entry matches its host and every
 * subdomain (`example.com` and `.example.com` both match `example.com` and `api.example.com`; `*.example.com`
 * matches only the subdomains). `host:port` limits the entry to that port; IPv6 literals may be bracketed
 * (`[::1]:8080`). Hosts compare case-insensitively and without a trailing dot. CIDR ranges are not understood: an
 * entry such as `10.0.0.0/8` matches nothing rather than something unexpected.
 *
 * @since 0.1.0
 */

export interface NoProxyRule {
  /** Lower-case host without brackets or trailing dot; `*` for every host. */
  readonly host: string
  /** `undefined` for any port. */
  readonly port: number | undefined
  /** Only strict subdomains match (the entry was written `*.example.com`). */
  readonly subdomainsOnly: boolean
}

/** Parses a `NO_PROXY` value (or a list of entries) into rules; empty and malformed entries are dropped. */
export const parseNoProxy = (value: string | ReadonlyArray<string>): ReadonlyArray<NoProxyRule> => {
  const entries = typeof value === "string" ? value.split(/[\s,]+/) : value.flatMap((entry) => entry.split(/[\s,]+/))
  const rules: Array<NoProxyRule> = []
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase()
    if (entry === "") continue
    const { host, port } = splitPort(entry)
    if (host === "*") {
      rules.push({ host: "*", port, subdomainsOnly: false })
      continue
    }
    const subdomainsOnly = host.startsWith("*.")
    const bare = normaliseHost(host.replace(/^\*?\./, ""))
    if (bare === "" || bare.includes("*")) continue
    rules.push({ host: bare, port, subdomainsOnly })
  }
  return rules
}

/** True when a request to `url` should bypass the proxy under `rules`. */
export const bypassesProxy = (rules: ReadonlyArray<NoProxyRule>, url: URL): boolean => {
  const host = normaliseHost(url.hostname)
  const port = url.port === "" ? defaultPort(url.protocol) : Number(url.port)
  return rules.some((rule) => {
    if (rule.port !== undefined && rule.port !== port) return false
    if (rule.host === "*") return true
    if (host === rule.host) return !rule.subdomainsOnly
    return host.endsWith(`.${rule.host}`)
  })
}

const splitPort = (entry: string): { host: string; port: number | undefined } => {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry)
  if (bracketed !== null) {
    return { host: bracketed[1], port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) }
  }
  // More than one colon without brackets is a bare IPv6 address, not host:port.
  const colons = entry.split(":").length - 1
  const withPort = colons === 1 ? /^(.+):(\d+)$/.exec(entry) : null
  return withPort === null ? { host: entry, port: undefined } : { host: withPort[1], port: Number(withPort[2]) }
}

const normaliseHost = (host: string): string => {
  const unbracketed = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host
  const lower = unbracketed.toLowerCase()
  return lower.length > 1 && lower.endsWith(".") ? lower.slice(0, -1) : lower
}

const defaultPort = (protocol: string): number => (protocol === "https:" ? 443 : 80)
