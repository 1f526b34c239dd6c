/**
 * The `tls` check: a TLS handshake with the licence server (through the proxy's CONNECT tunnel when the client
 * would use one), the certificate chain the server presents, and whether Node's trust store (the one the client
 * uses, with `NODE_EXTRA_CA_CERTS` and `--use-system-ca` applied) accepts it for the server's name. A chain that
 * does not verify is a failure with advice on trusting the right root; a root that is not a public CA is, in an
 * office network, most likely a proxy or security product that inspects TLS.
 *
 * @since 0.1.0
 */
import * as NodeCrypto from "node:crypto"
import * as NodeHttp from "node:http"
import * as NodeHttps from "node:https"
import * as NodeNet from "node:net"
import * as NodeTls from "node:tls"
import { type CheckResult, check } from "./Check.ts"
import { type ProxyRoute, redacted } from "./ProxyCheck.ts"

const TlsTimeoutMillis = 10_000
/** A certificate that ends this soon is worth a warning: the server's operator has days, not hours, to renew. */
const ExpiryWarnDays = 14

export interface ChainEntry {
  readonly subject: string
  readonly issuer: string
  readonly validFrom: string
  readonly validTo: string
  readonly fingerprint256: string
}

const name = (fields: NodeTls.PeerCertificate["subject"] | undefined): string =>
  fields === undefined
    ? "?"
    : Object.entries(fields)
        .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join("+") : value}`)
        .join(", ")

const chainOf = (leaf: NodeTls.DetailedPeerCertificate): Array<NodeTls.DetailedPeerCertificate> => {
  const chain: Array<NodeTls.DetailedPeerCertificate> = []
  let current: NodeTls.DetailedPeerCertificate | undefined = leaf
  while (current !== undefined && Object.keys(current).length > 0 && !chain.includes(current)) {
    chain.push(current)
    // A self-issued root points at itself.
    current = current.issuerCertificate === current ? undefined : current.issuerCertificate
  }
  return chain
}

/** True when Node's bundled public CAs issued (or are) the top of this chain. */
const endsAtPublicCa = (top: NodeTls.DetailedPeerCertificate): boolean => {
  let cert: NodeCrypto.X509Certificate
  try {
    cert = new NodeCrypto.X509Certificate(top.raw)
  } catch {
    return false
  }
  return NodeTls.rootCertificates.some((pem) => {
    try {
      const root = new NodeCrypto.X509Certificate(pem)
      return root.fingerprint256 === cert.fingerprint256 || (cert.checkIssued(root) && cert.verify(root.publicKey))
    } catch {
      return false
    }
  })
}

const tunnel = (proxy: URL, host: string, port: number): Promise<NodeNet.Socket> =>
  new Promise((resolve, reject) => {
    const target = `${NodeNet.isIPv6(host) ? `[${host}]` : host}:${port}`
    const auth =
      proxy.username === ""
        ? {}
        : {
            "proxy-authorization": `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString("base64")}`
          }
    const request = (proxy.protocol === "https:" ? NodeHttps : NodeHttp).request({
      host: proxy.hostname.replace(/^\[|\]$/g, ""),
      port: proxy.port === "" ? (proxy.protocol === "https:" ? 443 : 80) : Number(proxy.port),
      method: "CONNECT",
      path: target,
      headers: { host: target, ...auth },
      timeout: TlsTimeoutMillis
    })
    request.once("connect", (response, socket) => {
      if (response.statusCode === 200) resolve(socket)
      else {
        socket.destroy()
        reject(new Error(`the proxy ${redacted(proxy)} answered CONNECT ${target} with ${response.statusCode}`))
      }
    })
    request.once("timeout", () =>
      request.destroy(new Error(`the proxy ${redacted(proxy)} did not answer CONNECT in time`))
    )
    request.once("error", reject)
    request.end()
  })

interface Handshake {
  readonly authorized: boolean
  readonly authorizationError: string | undefined
  readonly leaf: NodeTls.DetailedPeerCertificate
  readonly protocol: string | null
}

const handshake = (host: string, port: number, socket: NodeNet.Socket | undefined): Promise<Handshake> =>
  new Promise((resolve, reject) => {
    const tls = NodeTls.connect({
      ...(socket !== undefined ? { socket } : { host, port }),
      // An IP address is not a server name (RFC 6066): Node warns when given one.
      ...(NodeNet.isIP(host) === 0 ? { servername: host } : {}),
      // Verified below, so that an untrusted chain can still be shown.
      rejectUnauthorized: false,
      timeout: TlsTimeoutMillis
    })
    tls.once("secureConnect", () => {
      const result: Handshake = {
        authorized: tls.authorized,
        // null, not undefined, once authorized
        authorizationError:
          tls.authorized || tls.authorizationError == null ? undefined : String(tls.authorizationError),
        leaf: tls.getPeerCertificate(true),
        protocol: tls.getProtocol()
      }
      tls.destroy()
      resolve(result)
    })
    tls.once("timeout", () => tls.destroy(new Error(`no TLS handshake within ${TlsTimeoutMillis / 1000} s`)))
    tls.once("error", reject)
  })

const adviceFor = (code: string, top: ChainEntry | undefined, publicCa: boolean): string => {
  const trust =
    "export the issuing root CA as a PEM file and start the app (and licensure) with NODE_EXTRA_CA_CERTS=/path/to/root.pem, or, when that root is installed in the operating system's store, run Node with --use-system-ca"
  switch (code) {
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
      return `the server presents a self-signed certificate (${top?.subject ?? "?"}). If it is yours (an on-premise server, a test), trust it: ${trust}. If it is not, something between this machine and the server is answering in its place`
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
      return publicCa
        ? `the server's chain is incomplete (an intermediate is missing): the server's operator should serve the full chain; meanwhile ${trust}`
        : `the chain ends at ${top?.issuer ?? "?"}, which is not a public CA: most likely a proxy or security product on this network intercepts TLS. Ask IT for its root certificate; ${trust}`
    case "CERT_HAS_EXPIRED":
    case "CERT_NOT_YET_VALID":
      return "check this machine's clock (see the clock check); if it is right, the server's certificate is out of date and its operator must renew it"
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return "the certificate is for another name: check --host / LICENSURE_HOST (use the name on the certificate), or the server's certificate"
    default:
      return `the certificate does not verify (${code}): ${trust}`
  }
}

export const tlsCheck = async (server: URL, route: ProxyRoute): Promise<CheckResult> => {
  if (server.protocol !== "https:") {
    return check("tls", "skip", `the server URL is ${server.protocol.replace(":", "")}, not https: nothing to verify`, {
      advice:
        server.hostname === "localhost" || server.hostname === "127.0.0.1" || server.hostname === "[::1]"
          ? undefined
          : "licence traffic over plain http can be read and changed on the way: use an https URL for a real server"
    })
  }
  const host = server.hostname.replace(/^\[|\]$/g, "")
  const port = server.port === "" ? 443 : Number(server.port)
  let result: Handshake
  try {
    const socket = route._tag === "Proxy" ? await tunnel(route.proxy, host, port) : undefined
    result = await handshake(host, port, socket)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return check(
      "tls",
      "fail",
      `no TLS handshake with ${server.host}: ${error instanceof Error ? error.message : String(error)}`,
      {
        detail: { host: server.host, code, via: route._tag === "Proxy" ? redacted(route.proxy) : "direct" },
        advice: "see the server and proxy checks: the connection itself failed"
      }
    )
  }
  const chain = chainOf(result.leaf)
  const entries: Array<ChainEntry> = chain.map((cert) => ({
    subject: name(cert.subject),
    issuer: name(cert.issuer),
    validFrom: cert.valid_from,
    validTo: cert.valid_to,
    fingerprint256: cert.fingerprint256
  }))
  const top = chain.at(-1)
  const publicCa = top !== undefined && endsAtPublicCa(top)
  const identityError = NodeTls.checkServerIdentity(host, result.leaf)
  const code = result.authorizationError ?? (identityError as NodeJS.ErrnoException | undefined)?.code
  const detail = {
    host: server.host,
    via: route._tag === "Proxy" ? redacted(route.proxy) : "direct",
    protocol: result.protocol,
    verified: code === undefined,
    error: code,
    publicCa,
    nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS,
    chain: entries
  }
  if (code !== undefined) {
    const reason = result.authorizationError !== undefined ? result.authorizationError : identityError!.message
    return check("tls", "fail", `the certificate of ${server.host} does not verify: ${reason}`, {
      detail,
      advice: adviceFor(code, entries.at(-1), publicCa)
    })
  }
  const validTo = Date.parse(result.leaf.valid_to)
  const daysLeft = Math.floor((validTo - Date.now()) / 86_400_000)
  const issuedBy = entries[0]?.issuer ?? "?"
  if (Number.isFinite(daysLeft) && daysLeft < ExpiryWarnDays) {
    const left =
      daysLeft >= 1 ? `${daysLeft} days` : `${Math.max(0, Math.floor((validTo - Date.now()) / 3_600_000))} hours`
    return check("tls", "warn", `the certificate verifies (issued by ${issuedBy}) but expires in ${left}`, {
      detail,
      advice: "tell the server's operator: once it expires no client can reach it"
    })
  }
  return check(
    "tls",
    "ok",
    `${result.protocol ?? "TLS"}, the certificate verifies (issued by ${issuedBy}${publicCa ? "" : ", a CA outside Node's public list"})`,
    { detail }
  )
}
