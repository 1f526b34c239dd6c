/**
 * The Cryptlex Web API v3 client: the five calls a licensing client makes, over Effect's `HttpClient`. Every
 * answer becomes either a schema-decoded token or an {@link ApiError} whose `reason` is keyed on the server's
 * `code` (never on message text), on the status where the server sends no code (404, 429, 5xx), or on the
 * transport (network, timeout, a body that is not what the protocol says).
 *
 * Activation calls carry no Authorization header: the licence key is the credential (protocol §1).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import {
  type ActivationRequest,
  ActivationResponse,
  type DeactivationRequest,
  Endpoints,
  Hosts,
  MaxBodyBytes,
  ServerErrorCode,
  type TrialActivationRequest,
  TrialActivationResponse,
  classifyServerCode,
  readErrorBody
} from "./Protocol.ts"

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/** The server refused with a `code` it is known to send (protocol §1.8). */
export class ServerRefused extends Schema.TaggedError<ServerRefused>()("ServerRefused", {
  code: ServerErrorCode,
  status: Schema.Number,
  message: Schema.String
}) {}

/** The server refused with a `code` this client does not know: kept verbatim. */
export class UnknownServerCode extends Schema.TaggedError<UnknownServerCode>()("UnknownServerCode", {
  code: Schema.String,
  status: Schema.Number,
  message: Schema.String
}) {}

/** 404: the activation (or trial activation) no longer exists on the server. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { message: Schema.String }) {}

/** 429: rate limited; `retryAfterSeconds` from the `Retry-After` header when it was sent. */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  retryAfterSeconds: Schema.optionalKey(Schema.Number),
  message: Schema.String
}) {}

/**
 * 5xx, or another status the protocol does not give for this call, with no Cryptlex `code` in its body (an uncoded
 * 4xx is {@link isUncodedRefusal}).
 */
export class ServerFailure extends Schema.TaggedError<ServerFailure>()("ServerFailure", {
  status: Schema.Number,
  message: Schema.String
}) {}

/** The request never got an answer: refused, dropped, DNS, TLS, timeout. */
export class NetworkFailure extends Schema.TaggedError<NetworkFailure>()("NetworkFailure", {
  timedOut: Schema.Boolean,
  message: Schema.String,
  /** The platform's error code, when it gave one: `ECONNREFUSED`, `ENOTFOUND`, `CERT_HAS_EXPIRED`, … */
  errno: Schema.optionalKey(Schema.String),
  /** The failing system call (`connect`, `getaddrinfo`), when the platform said. */
  syscall: Schema.optionalKey(Schema.String),
  /** The host or address the call was for, when the platform said. */
  host: Schema.optionalKey(Schema.String)
}) {}

/**
 * What the platform said about a failed request: walks the error's `cause` chain (fetch wraps the socket error in
 * a `TypeError`, undici wraps again) for the first `code`, `syscall` and host, and the innermost message.
 */
export const networkCause = (
  error: unknown
): { readonly errno?: string; readonly syscall?: string; readonly host?: string; readonly detail?: string } => {
  let errno: string | undefined
  let syscall: string | undefined
  let host: string | undefined
  let detail: string | undefined
  let current: unknown = error
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const e = current as {
      code?: unknown
      syscall?: unknown
      hostname?: unknown
      address?: unknown
      port?: unknown
      message?: unknown
      cause?: unknown
    }
    if (errno === undefined && typeof e.code === "string" && /^[A-Z][A-Z0-9_]+$/.test(e.code)) errno = e.code
    if (syscall === undefined && typeof e.syscall === "string") syscall = e.syscall
    if (host === undefined && typeof e.hostname === "string") host = e.hostname
    if (host === undefined && typeof e.address === "string") {
      host = typeof e.port === "number" ? `${e.address}:${e.port}` : e.address
    }
    if (typeof e.message === "string" && e.message !== "") detail = e.message
    current = e.cause
  }
  return {
    ...(errno !== undefined ? { errno } : {}),
    ...(syscall !== undefined ? { syscall } : {}),
    ...(host !== undefined ? { host } : {}),
    ...(detail !== undefined ? { detail } : {})
  }
}

/** An answer whose body is not what the protocol says (not JSON, missing the token, wrong types). */
export class MalformedResponse extends Schema.TaggedError<MalformedResponse>()("MalformedResponse", {
  status: Schema.Number,
  message: Schema.String
}) {}

/**
 * Why a Cryptlex call failed, one of seven tagged cases: {@link ServerRefused} and {@link UnknownServerCode} (the
 * server said no, with a `code`), {@link NotFound}, {@link RateLimited}, {@link ServerFailure}, {@link
 * NetworkFailure} and {@link MalformedResponse}. The schema decodes it from its encoded form, e.g. in a persisted
 * failure.
 */
export const ApiErrorReason = Schema.Union([
  ServerRefused,
  UnknownServerCode,
  NotFound,
  RateLimited,
  ServerFailure,
  NetworkFailure,
  MalformedResponse
])
export type ApiErrorReason = typeof ApiErrorReason.Type

/** Every way a call to the Cryptlex API can fail; branch on `reason._tag` (and `reason.code` for refusals). */
export class ApiError extends Schema.TaggedError<ApiError>()("ApiError", {
  operation: Schema.Literals(["activate", "sync", "deactivate", "activateTrial", "syncTrial"]),
  reason: ApiErrorReason
}) {
  /**
   * One line for logs and the CLI: the operation, the reason's tag, the server's code when it sent one and its
   * message, e.g. `activate failed: ServerRefused ACTIVATION_LIMIT_REACHED: …`.
   */
  override get message(): string {
    const r = this.reason
    const code = "code" in r ? ` ${r.code}` : ""
    return `${this.operation} failed: ${r._tag}${code}: ${r.message}`
  }
}
/** The licence call that failed: `activate`, `sync`, `deactivate`, `activateTrial` or `syncTrial`. */
export type ApiOperation = ApiError["operation"]

/**
 * An answer in 400–499 that carries no Cryptlex `code` (a proxy's 403, a gateway's 405, a bare 401), other than 408
 * (a timeout, worth retrying) and 429 (a rate limit, {@link RateLimited}). LexActivator reads codes only under a
 * status it knows and reports any other status up to 499 as `LA_E_INET`, `LA_E_SERVER` only above 499
 * (reference-client.md rows 20, 23).
 */
export const isUncodedRefusal = (reason: ApiErrorReason): boolean =>
  reason._tag === "ServerFailure" && reason.status >= 400 && reason.status <= 499 && reason.status !== 408

/**
 * A request the platform could not send at all because a module its HTTP client needs is missing (Node's
 * `ERR_MODULE_NOT_FOUND` / `MODULE_NOT_FOUND`, e.g. `undici` for a proxy): a setup problem, the same on every try.
 */
export const isSetupFailure = (reason: ApiErrorReason): boolean =>
  reason._tag === "NetworkFailure" && (reason.errno === "ERR_MODULE_NOT_FOUND" || reason.errno === "MODULE_NOT_FOUND")

/**
 * Failures worth trying again within the call: the network (but not a {@link isSetupFailure}), rate limits,
 * server errors and garbled answers.
 *
 * DECISION: an uncoded 4xx ({@link isUncodedRefusal}) is not retried within the call: whatever stands between the
 * client and the server refused the request as sent, and sending it again seconds later meets the same refusal
 * (LexActivator makes each call once and reports it as `LA_E_INET`, rows 20, 23). The background sync still keeps
 * the activation and tries again at its cadence (`LicensingError.failureFromApi`).
 */
export const isTransient = (error: ApiError): boolean => {
  switch (error.reason._tag) {
    case "NetworkFailure":
      return !isSetupFailure(error.reason)
    case "RateLimited":
    case "MalformedResponse":
      return true
    case "ServerFailure":
      return !isUncodedRefusal(error.reason)
    default:
      return false
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------------------------------------------

/**
 * Where and how {@link LicenseApi} talks to the server. Every field is optional: Cryptlex's default host, a 30-second
 * timeout, a `licensure/<version>` user agent and a 256 KiB response cap.
 * @example LicenseApi.layer({ host: "eu", timeout: "10 seconds" })
 */
export interface LicenseApiConfig {
  /** `"default"`, `"eu"`, or the base URL of an on-premise server or an emulator. */
  readonly host?: "default" | "eu" | (string & {}) | undefined
  /** Per-request timeout (default 30 seconds), measured on Effect's Clock. */
  readonly timeout?: Duration.Input | undefined
  /** The `User-Agent` header sent on every call (default `licensure/` followed by {@link LibraryVersion}). */
  readonly userAgent?: string | undefined
  /** The largest response body read, in bytes (default {@link MaxResponseBytes}); a longer one is refused unread. */
  readonly maxResponseBytes?: number | undefined
}

/**
 * DECISION: 256 KiB. A real answer is a token of a few kilobytes (tokens over 64 KiB are refused anyway,
 * `ActivationToken.MaxTokenLength`) or a one-line error; a body past this bound is a broken proxy, a captive
 * portal or an attack, and is refused (as a malformed answer, a server fault) after reading just past the bound,
 * never held whole in memory.
 */
export const MaxResponseBytes = 256 * 1024

/** This library's version, as sent in the default user agent (`licensure/0.1.0`). */
export const LibraryVersion = "0.1.0"

/**
 * The five licence calls LexActivator makes (protocol §1). Each succeeds with the server's signed token, still
 * unverified (verification is `ActivationToken`'s job), or fails with an {@link ApiError} naming the call and the
 * reason; none retries (that is `RetryPolicy`'s job).
 */
export interface LicenseApiService {
  /**
   * `POST /v3/activations`: activates the licence key in `body` on this machine; succeeds with the activation token
   * (a JWT).
   */
  readonly activate: (body: ActivationRequest) => Effect.Effect<string, ApiError>
  /**
   * `PATCH /v3/activations/{id}`: renews the activation with the same body as activation; succeeds with a fresh
   * activation token. A 404 is {@link NotFound}: the activation was deleted on the server.
   */
  readonly sync: (activationId: string, body: ActivationRequest) => Effect.Effect<string, ApiError>
  /**
   * `POST /v3/activations/{id}/deactivate`: frees the activation's seat. Any 404 is {@link NotFound} (the activation
   * is already gone), which callers may treat as done.
   */
  readonly deactivate: (activationId: string, body: DeactivationRequest) => Effect.Effect<void, ApiError>
  /**
   * `POST /v3/trial-activations`: starts (or resumes) this machine's trial; succeeds with the trial activation token.
   */
  readonly activateTrial: (body: TrialActivationRequest) => Effect.Effect<string, ApiError>
  /**
   * `PATCH /v3/trial-activations/{id}`: renews the trial activation; succeeds with a fresh trial activation token.
   */
  readonly syncTrial: (trialActivationId: string, body: TrialActivationRequest) => Effect.Effect<string, ApiError>
}

/**
 * The base URL for a configured host: `default` (or nothing) is `https://api.cryptlex.com`, `eu` is
 * `https://api.eu.cryptlex.com`, anything else is used as given without trailing slashes.
 * @example resolveHost("http://127.0.0.1:8080/") // "http://127.0.0.1:8080"
 */
export const resolveHost = (host: LicenseApiConfig["host"]): string => {
  if (host === undefined || host === "default") return Hosts.default
  if (host === "eu") return Hosts.eu
  return host.replace(/\/+$/, "")
}

/** The settings every call resolves once from {@link LicenseApiConfig}. */
export interface TransportSettings {
  readonly base: string
  readonly timeout: Duration.Duration
  readonly userAgent: string
  readonly maxResponseBytes: number
}

/**
 * Resolves a {@link LicenseApiConfig} to concrete settings, filling in the defaults (Cryptlex's host, 30 seconds,
 * `licensure/<version>`, {@link MaxResponseBytes}). Pure.
 */
export const transportSettings = (config: LicenseApiConfig = {}): TransportSettings => ({
  base: resolveHost(config.host),
  timeout: Duration.fromInputUnsafe(config.timeout ?? "30 seconds"),
  userAgent: config.userAgent ?? `licensure/${LibraryVersion}`,
  maxResponseBytes: config.maxResponseBytes ?? MaxResponseBytes
})

/**
 * How a non-success answer is read. `anyNotFound`: every 404 is {@link NotFound}, whatever its code (LexActivator's
 * deactivation, row 19); otherwise only a 404 without a code or with `ACTIVATION_NOT_FOUND` is (row 18).
 */
export interface RefusalPolicy {
  readonly anyNotFound?: boolean | undefined
  /** What the call takes, for the message when a success status it does not take came (`HTTP 204`). */
  readonly expected?: string | undefined
}

/**
 * The request machinery every Cryptlex call shares (the licence calls here, and `Releases`, `UserLogin`,
 * `FeatureEntitlements`): one exchange with the server under the timeout, the user agent, JSON accept, the body
 * cap, and the status/code/transport classification into an {@link ApiErrorReason}. Calls wrap the reason in their
 * own error type.
 */
export interface Transport {
  readonly settings: TransportSettings
  /**
   * Sends `request` (relative to the base URL) under the timeout; a status in `okStatus` goes to `onOk`, any other
   * becomes a refusal, a not-found, a rate limit or a server failure; no answer within the timeout is a {@link
   * NetworkFailure} with `timedOut` set. Never retries.
   */
  readonly execute: <A>(
    request: HttpClientRequest.HttpClientRequest,
    okStatus: ReadonlyArray<number>,
    onOk: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, ApiErrorReason>,
    policy?: RefusalPolicy
  ) => Effect.Effect<A, ApiErrorReason>
  /** The body as JSON, read under the cap. */
  readonly readJson: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<unknown, ApiErrorReason>
}

/**
 * A {@link Transport} over the `HttpClient` in context, with settings resolved from `config`; for Cryptlex calls
 * beyond the five licence ones.
 */
export const makeTransport = (config: LicenseApiConfig = {}): Effect.Effect<Transport, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    return transportOver(http, transportSettings(config))
  })

const networkReason = (error: { readonly message: string }): NetworkFailure => {
  // The platform client reports its own connect/read timeouts in the description; the socket's own code
  // (refused, DNS, TLS) is kept so support can tell them apart.
  const { detail, ...cause } = networkCause(error)
  const said = [cause.errno, cause.syscall, cause.host].filter((x) => x !== undefined).join(" ")
  const message = said === "" ? error.message : `${error.message} (${said}${detail !== undefined ? `: ${detail}` : ""})`
  return new NetworkFailure({ timedOut: /timeout|timed out/i.test(message), message, ...cause })
}

/**
 * A {@link Transport} over a given `HttpClient` and already resolved settings: what {@link makeTransport} builds, for
 * callers that hold the client themselves.
 */
export const transportOver = (http: HttpClient.HttpClient, settings: TransportSettings): Transport => ({
  settings,
  execute: (request, okStatus, onOk, policy = {}) =>
    http
      .execute(
        request.pipe(
          HttpClientRequest.prependUrl(settings.base),
          HttpClientRequest.setHeader("user-agent", settings.userAgent),
          HttpClientRequest.acceptJson
        )
      )
      .pipe(
        Effect.mapError(networkReason),
        Effect.flatMap((response) =>
          okStatus.includes(response.status)
            ? onOk(response)
            : Effect.flip(
                refusal(response, settings.maxResponseBytes, {
                  ...policy,
                  expected: policy.expected ?? `HTTP ${okStatus.join(" or ")}`
                })
              )
        ),
        Effect.timeoutOrElse({
          duration: settings.timeout,
          orElse: () =>
            Effect.fail(
              new NetworkFailure({ timedOut: true, message: `no answer within ${Duration.format(settings.timeout)}` })
            )
        })
      ),
  readJson: (response) => readJson(response, settings.maxResponseBytes)
})

/** LexActivator sends `X-Account-Id` on every call (reference-client.md row 8): set when the id is known. */
export const withAccountHeader = (
  request: HttpClientRequest.HttpClientRequest,
  accountId: string | undefined
): HttpClientRequest.HttpClientRequest =>
  accountId !== undefined && accountId !== ""
    ? HttpClientRequest.setHeader(request, "x-account-id", accountId)
    : request

/**
 * The Cryptlex licence API as an Effect service: the five calls of {@link LicenseApiService}, over the application's
 * `HttpClient`.
 * @example const token = yield* (yield* LicenseApi).activate(body)
 */
export class LicenseApi extends Context.Service<LicenseApi, LicenseApiService>()("@licensure/core/LicenseApi") {
  /**
   * Builds the service over the `HttpClient` in context, for callers that wrap or decorate it before providing it;
   * {@link LicenseApi.layer} is the usual way in.
   */
  static readonly make = (config: LicenseApiConfig = {}) =>
    Effect.gen(function* () {
      const transport = yield* makeTransport(config)
      const wrap = (operation: ApiOperation) => (reason: ApiErrorReason) => new ApiError({ operation, reason })

      const send = <A>(
        operation: ApiOperation,
        request: HttpClientRequest.HttpClientRequest,
        okStatus: ReadonlyArray<number>,
        onOk: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, ApiErrorReason>
      ): Effect.Effect<A, ApiError> =>
        transport
          .execute(request, okStatus, onOk, { anyNotFound: operation === "deactivate" })
          .pipe(Effect.mapError(wrap(operation)))

      const jsonBody = (operation: ApiOperation, body: unknown) =>
        Effect.mapError(encodeJsonBody(body), wrap(operation))

      const withAccount = (request: HttpClientRequest.HttpClientRequest, body: unknown) => {
        const accountId = (body as { readonly accountId?: unknown } | null)?.accountId
        return withAccountHeader(request, typeof accountId === "string" ? accountId : undefined)
      }

      const tokenCall = (
        operation: ApiOperation,
        method: "POST" | "PATCH",
        path: string,
        body: unknown,
        field: "activationToken" | "trialActivationToken"
      ) =>
        Effect.flatMap(jsonBody(operation, body), (text) =>
          send(
            operation,
            withAccount(
              HttpClientRequest.make(method)(path).pipe(HttpClientRequest.bodyText(text, "application/json")),
              body
            ),
            [200, 201],
            (response) =>
              transport.readJson(response).pipe(
                Effect.flatMap((json) =>
                  (field === "activationToken"
                    ? Schema.decodeUnknownEffect(ActivationResponse)(json).pipe(Effect.map((r) => r.activationToken))
                    : Schema.decodeUnknownEffect(TrialActivationResponse)(json).pipe(
                        Effect.map((r) => r.trialActivationToken)
                      )
                  ).pipe(
                    Effect.mapError(
                      (error) =>
                        new MalformedResponse({
                          status: response.status,
                          message: `expected {"${field}": "<JWT>"}: ${error.message}`
                        })
                    )
                  )
                )
              )
          )
        )

      return LicenseApi.of({
        activate: (body) => tokenCall("activate", "POST", Endpoints.activate(), body, "activationToken"),
        sync: (id, body) => tokenCall("sync", "PATCH", Endpoints.sync(id), body, "activationToken"),
        // LexActivator 3.34 succeeds on 204 only; the reference page documents 200 too (row 4).
        deactivate: (id, body) =>
          Effect.flatMap(jsonBody("deactivate", body), (text) =>
            send(
              "deactivate",
              withAccount(
                HttpClientRequest.make("POST")(Endpoints.deactivate(id)).pipe(
                  HttpClientRequest.bodyText(text, "application/json")
                ),
                body
              ),
              // DECISION: only 204 frees the seat, as in LexActivator 3.34 (success only on 204, reference-client.md
              // row 4); a 200 (a captive portal's sign-in page, a proxy's empty answer) is not the server's word
              // that the seat is free, so the activation is kept and the deactivation fails.
              [204],
              () => Effect.void
            )
          ),
        activateTrial: (body) =>
          tokenCall("activateTrial", "POST", Endpoints.activateTrial(), body, "trialActivationToken"),
        syncTrial: (id, body) => tokenCall("syncTrial", "PATCH", Endpoints.syncTrial(id), body, "trialActivationToken")
      })
    })

  /** The API over whatever `HttpClient` the application provides (Node, fetch, or an in-process emulator). */
  static readonly layer = (config: LicenseApiConfig = {}): Layer.Layer<LicenseApi, never, HttpClient.HttpClient> =>
    Layer.effect(LicenseApi, LicenseApi.make(config))
}

/** A request body as JSON text, refused before sending past {@link MaxBodyBytes}. */
export const encodeJsonBody = (body: unknown): Effect.Effect<string, MalformedResponse> => {
  const text = JSON.stringify(body)
  return text.length > MaxBodyBytes
    ? Effect.fail(
        new MalformedResponse({
          status: 0,
          message: `the request body is ${text.length} bytes; the server takes at most ${MaxBodyBytes}`
        })
      )
    : Effect.succeed(text)
}

/** A body longer than the cap: refused after reading just past it. */
class BodyTooLarge {
  readonly _tag = "BodyTooLarge"
  readonly cap: number
  constructor(cap: number) {
    this.cap = cap
  }
}

/** Reads the body as UTF-8 text, chunk by chunk, failing as soon as it passes `cap` bytes. */
const readCapped = (response: HttpClientResponse.HttpClientResponse, cap: number) =>
  Effect.suspend(() => {
    const declared = Number(response.headers["content-length"])
    if (Number.isFinite(declared) && declared > cap) return Effect.fail(new BodyTooLarge(cap))
    const parts: Array<Uint8Array> = []
    let total = 0
    return Stream.runForEach(response.stream, (chunk) => {
      total += chunk.byteLength
      if (total > cap) return Effect.fail(new BodyTooLarge(cap))
      parts.push(chunk)
      return Effect.void
    }).pipe(
      Effect.map(() => {
        const all = new Uint8Array(total)
        let at = 0
        for (const part of parts) {
          all.set(part, at)
          at += part.byteLength
        }
        return new TextDecoder().decode(all)
      })
    )
  })

const readJson = (
  response: HttpClientResponse.HttpClientResponse,
  cap: number
): Effect.Effect<unknown, ApiErrorReason> =>
  readCapped(response, cap).pipe(
    Effect.mapError((error) =>
      error instanceof BodyTooLarge
        ? new MalformedResponse({
            status: response.status,
            message: `expected a body of at most ${error.cap} bytes, got a longer one (not read further)`
          })
        : new NetworkFailure({ timedOut: false, message: `body read failed: ${error.message}` })
    ),
    Effect.flatMap((text) =>
      Effect.try({
        try: () => JSON.parse(text) as unknown,
        catch: () =>
          new MalformedResponse({
            status: response.status,
            message: `expected a JSON body, got ${text.length === 0 ? "an empty body" : JSON.stringify(text.slice(0, 80))}`
          })
      })
    )
  )

/**
 * Parses `Retry-After` (RFC 9110): delay seconds, or an HTTP date, counted from the server's own `Date` header so
 * that a client whose clock is off still waits what the server asked. A date with no `Date` header is unusable.
 */
const parseRetryAfter = (value: string | undefined, serverDate: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const text = value.trim()
  const seconds = Number(text)
  if (text !== "" && Number.isFinite(seconds) && seconds >= 0) return seconds
  const at = Date.parse(text)
  const now = serverDate === undefined ? Number.NaN : Date.parse(serverDate)
  return Number.isFinite(at) && Number.isFinite(now) ? Math.max(0, Math.round((at - now) / 1000)) : undefined
}

/**
 * Parses `X-Rate-Limit-Reset`: an HTTP/ISO date (counted from the server's `Date`), epoch seconds (likewise), or
 * small delay seconds.
 *
 * DECISION: the reference page says only "the UTC …" time of the reset; a value up to one day is read as seconds
 * to wait, a larger number as epoch seconds, anything else as a date.
 */
const parseRateLimitReset = (value: string | undefined, serverDate: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const text = value.trim()
  const number = Number(text)
  const now = serverDate === undefined ? Number.NaN : Date.parse(serverDate)
  if (text !== "" && Number.isFinite(number)) {
    if (number >= 0 && number <= 86_400) return number
    return Number.isFinite(now) ? Math.max(0, Math.round(number - now / 1000)) : undefined
  }
  const at = Date.parse(text)
  return Number.isFinite(at) && Number.isFinite(now) ? Math.max(0, Math.round((at - now) / 1000)) : undefined
}

/** Turns a non-success answer into the matching reason (as a success, flipped by the caller). */
const refusal = (
  response: HttpClientResponse.HttpClientResponse,
  cap: number,
  policy: RefusalPolicy
): Effect.Effect<ApiErrorReason> =>
  Effect.gen(function* () {
    const status = response.status
    if (status === 429) {
      // Cryptlex's `X-Rate-Limit-Reset` (the window's end, a UTC time) when `Retry-After` is absent (row 23).
      const retryAfterSeconds =
        parseRetryAfter(response.headers["retry-after"], response.headers.date) ??
        parseRateLimitReset(response.headers["x-rate-limit-reset"], response.headers.date)
      return new RateLimited({
        message: "rate limited by the server",
        ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {})
      })
    }
    // A refusal's body is read under the same cap; past it, the answer is judged by its status alone.
    const text = yield* readCapped(response, cap).pipe(Effect.orElseSucceed(() => ""))
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    // A success status the call does not take (a deactivation answered 200 instead of 204): not the server's
    // answer to this call, whatever it says.
    if (status >= 200 && status < 300) {
      return new MalformedResponse({
        status,
        message: `expected ${policy.expected ?? "another status"}, got HTTP ${status}${text.length > 0 ? `: ${text.slice(0, 120)}` : " with an empty body"}`
      })
    }
    const body = readErrorBody(json)
    // LexActivator: a 404 coded ACTIVATION_NOT_FOUND clears the activation; on deactivation any 404 does (rows
    // 18, 19). A 404 without a code is read the same way.
    const code = body.code
    if (status === 404 && (policy.anyNotFound === true || code === undefined || code === "ACTIVATION_NOT_FOUND")) {
      return new NotFound({ message: body.message ?? "not found on the server" })
    }
    if (code !== undefined) {
      // A code without a message (row 17) is still the code; the message then says what came instead.
      const message = body.message ?? `HTTP ${status} ${code}, with ${body.messageCame ?? "no message"}`
      const classified = classifyServerCode(code)
      return classified._tag === "Known"
        ? new ServerRefused({ code: classified.code, status, message })
        : new UnknownServerCode({ code: classified.code, status, message })
    }
    return new ServerFailure({
      status,
      message: body.message ?? (text.length > 0 ? `HTTP ${status}: ${text.slice(0, 120)}` : `HTTP ${status}`)
    })
  })
