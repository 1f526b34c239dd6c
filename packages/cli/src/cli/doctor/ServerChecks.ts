/**
 * The doctor's one request to the licence server, and the three checks read from its answer: `server` (did an
 * answer come, and how), `clock` (the answer's `Date` against this machine's clock) and `rate-limit` (the rate
 * headers on it). The request goes through `@licensure/node-runtime`'s HTTP layer with the environment the client
 * reads, so it takes the route a licensing request takes: the same proxy, the same `NO_PROXY`, the same trust.
 *
 * @since 0.1.0
 */
import { networkCause } from "@licensure/core/LicenseApi"
import { RollbackToleranceSeconds } from "@licensure/core/Validation"
import * as NodeHttp from "@licensure/node-runtime/NodeHttp"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type { Env } from "../CliConfig.ts"
import { type CheckResult, check } from "./Check.ts"

/**
 * DECISION: the doctor asks `GET <host>/v3/activations`: the path every activation is posted to, so it reaches
 * the service (not a CDN's landing page) through the route the client takes, yet it carries no key and changes
 * nothing; any status (405, 401, 404) is an answer with a `Date`. The wait is bounded at 15 s in all.
 */
export const ProbePath = "/v3/activations"
const ProbeTimeoutMillis = 15_000

export type Probe =
  | {
      readonly _tag: "Answered"
      readonly url: string
      readonly status: number
      readonly headers: Readonly<Record<string, string>>
      readonly sentAt: number
      readonly receivedAt: number
    }
  | {
      readonly _tag: "Failed"
      readonly url: string
      readonly message: string
      readonly errno: string | undefined
      readonly elapsedMillis: number
    }

/** Sends the probe; never fails (a failure is a `Failed` probe). */
export const probeServer = async (base: string, env: Env): Promise<Probe> => {
  const url = `${base}${ProbePath}`
  const sentAt = Date.now()
  const program = Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const response = yield* http.execute(
      HttpClientRequest.get(url).pipe(
        HttpClientRequest.setHeader("user-agent", `licensure-doctor/${process.versions.node}`)
      )
    )
    const receivedAt = Date.now()
    // The body says nothing the doctor needs; it is read (and dropped) so the connection closes cleanly.
    yield* Effect.ignore(response.text)
    return { status: response.status, headers: response.headers as Readonly<Record<string, string>>, receivedAt }
  }).pipe(
    Effect.timeoutOrElse({
      duration: `${ProbeTimeoutMillis} millis`,
      orElse: () => Effect.fail(new Error(`no answer within ${ProbeTimeoutMillis / 1000} s`))
    }),
    Effect.scoped,
    Effect.provide(NodeHttp.layer({ env }))
  )
  try {
    const answer = await Effect.runPromise(program)
    return { _tag: "Answered", url, sentAt, ...answer }
  } catch (error) {
    const cause = networkCause(error)
    const message = error instanceof Error ? error.message : String(error)
    return {
      _tag: "Failed",
      url,
      message: cause.detail !== undefined && !message.includes(cause.detail) ? `${message}: ${cause.detail}` : message,
      errno: cause.errno,
      elapsedMillis: Date.now() - sentAt
    }
  }
}

export const serverCheck = (probe: Probe, route: string): CheckResult => {
  if (probe._tag === "Failed") {
    return check("server", "fail", `GET ${probe.url} got no answer (${route}): ${probe.message}`, {
      detail: { url: probe.url, errno: probe.errno, message: probe.message, route },
      advice: adviceForFailure(probe)
    })
  }
  const elapsedMillis = probe.receivedAt - probe.sentAt
  const location = probe.headers.location
  const detail = { url: probe.url, status: probe.status, elapsedMillis, route, ...(location ? { location } : {}) }
  const said = `GET ${probe.url} answered ${probe.status} in ${elapsedMillis} ms (${route})`
  // Any 4xx is the service answering a request it does not serve; a 5xx or a redirect is worth a look.
  if (probe.status >= 500) {
    return check("server", "warn", `${said}: the server is up but failing`, {
      detail,
      advice: "retry later; if it persists (or a proxy answers in its place), tell the server's operator"
    })
  }
  if (probe.status >= 300 && probe.status < 400) {
    return check("server", "warn", `${said}: a redirect${location ? ` to ${location}` : ""}`, {
      detail,
      advice:
        "licensure never follows redirects: set --host / LICENSURE_HOST to the address the server redirects to (often https instead of http)"
    })
  }
  return check("server", "ok", said, { detail })
}

const adviceForFailure = (probe: Extract<Probe, { _tag: "Failed" }>): string => {
  const errno = probe.errno ?? ""
  if (/CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS/.test(errno) || /certificate/i.test(probe.message)) {
    return "the TLS certificate is not trusted: see the tls check below"
  }
  if (errno === "ENOTFOUND" || errno === "EAI_AGAIN") {
    return "the server's name does not resolve: check --host / LICENSURE_HOST and this machine's DNS"
  }
  if (errno === "ECONNREFUSED") return "nothing listens there: check --host / LICENSURE_HOST, and the proxy check"
  return "check --host / LICENSURE_HOST, the network, and the proxy check below"
}

/** How far to let the server's clock be from ours before saying so: one minute (a clock NTP keeps is within 1 s). */
export const ClockWarnSeconds = 60

/**
 * `Date` minus the local time at the middle of the exchange, in whole seconds. `Date` has a one-second
 * resolution and is taken while the server answers, so the midpoint is the fairest local moment to compare it to.
 */
export const clockOffsetSeconds = (serverDate: string, sentAt: number, receivedAt: number): number | undefined => {
  const server = Date.parse(serverDate)
  if (!Number.isFinite(server)) return undefined
  return Math.round((server - (sentAt + receivedAt) / 2) / 1000)
}

export const clockCheck = (probe: Probe): CheckResult => {
  if (probe._tag === "Failed") return check("clock", "skip", "no answer from the server to read its clock from")
  const date = probe.headers.date
  if (date === undefined) return check("clock", "skip", "the server's answer has no Date header")
  const offset = clockOffsetSeconds(date, probe.sentAt, probe.receivedAt)
  if (offset === undefined)
    return check("clock", "warn", `the server's Date header does not parse: ${JSON.stringify(date)}`)
  const detail = {
    offsetSeconds: offset,
    serverDate: date,
    localDate: new Date(probe.receivedAt).toUTCString(),
    warnBeyondSeconds: ClockWarnSeconds,
    failBeyondSeconds: RollbackToleranceSeconds
  }
  const ahead = offset > 0 ? "behind the server's" : "ahead of the server's"
  const said = `this machine's clock is ${Math.abs(offset)} s ${offset === 0 ? "from the server's" : ahead}`
  const fix =
    "set the system clock right (enable NTP: timedatectl set-ntp true, or the OS's automatic time setting), then run licensure sync"
  if (Math.abs(offset) > RollbackToleranceSeconds) {
    return check("clock", "fail", `${said}: more than the ${RollbackToleranceSeconds} s the client tolerates`, {
      detail,
      advice: `${fix}; until then a licence may read as clock-tampered (exit 23)`
    })
  }
  if (Math.abs(offset) > ClockWarnSeconds) {
    return check("clock", "warn", `${said}: within the ${RollbackToleranceSeconds} s tolerated, but drifting`, {
      detail,
      advice: fix
    })
  }
  return check("clock", "ok", `${said} (Date header of the answer)`, { detail })
}

const rateHeader = /^(x-)?rate-?limit-|^retry-after$/

export const rateLimitCheck = (probe: Probe): CheckResult => {
  if (probe._tag === "Failed") return check("rate-limit", "skip", "no answer from the server to read rate headers from")
  const headers = Object.fromEntries(
    Object.entries(probe.headers).filter(([name]) => rateHeader.test(name.toLowerCase()))
  )
  const names = Object.keys(headers)
  if (names.length === 0) {
    return check(
      "rate-limit",
      probe.status === 429 ? "warn" : "ok",
      probe.status === 429 ? "rate limited (429), with no rate headers" : "no rate-limit headers on the answer",
      {
        detail: { status: probe.status, headers }
      }
    )
  }
  const remaining = Object.entries(headers).find(([name]) => /remaining$/i.test(name))?.[1]
  const limited = probe.status === 429 || headers["retry-after"] !== undefined || remaining?.trim() === "0"
  const shown = names.map((name) => `${name}: ${headers[name]}`).join(", ")
  return limited
    ? check("rate-limit", "warn", `the server is limiting this client: ${probe.status} with ${shown}`, {
        detail: { status: probe.status, headers },
        advice:
          "something on this machine or network (another app instance, a CI loop, a shared NAT address) sends many requests; wait for the reset and reduce how often it calls the server"
      })
    : check("rate-limit", "ok", `within the limit: ${shown}`, { detail: { status: probe.status, headers } })
}
