/**
 * User login (LexActivator's `AuthenticateUser`, `AuthenticateUserWithIdToken` and `GetUserLicenses`):
 * `POST /v3/accounts/login` with e-mail, password and an optional two-factor code, or `POST
 * /v3/accounts/login-oidc` with an OpenID Connect id token, answer an access token; `GET /v3/me/licenses` with
 * that token as a bearer lists the user's licences of a product. Refusals are typed ({@link LoginRefused} with
 * the server's code) and carry the LexActivator status the native library would have returned.
 *
 * @example
 * ```ts
 * const users = yield* UserLogin
 * const session = yield* users.login({ accountId, email, password, twoFactorCode: "123456" })
 * const licences = yield* users.licenses(session, productId)
 * ```
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import { decodeJwt } from "jose/jwt/decode"
import {
  lexStatus,
  type LexStatus,
  type LexStatusName,
  lexStatusOfServerCode,
  lexStatusOfTransport
} from "./LexStatus.ts"
import {
  ApiErrorReason,
  encodeJsonBody,
  type LicenseApiConfig,
  MalformedResponse,
  makeTransport,
  type Transport,
  withAccountHeader
} from "./LicenseApi.ts"
import {
  LoginErrorCode,
  LoginErrorCodes,
  type LoginRequest,
  LoginResponse,
  MoreEndpoints,
  type OidcLoginRequest,
  type UserLicense,
  UserLicenses
} from "./Protocol.ts"

/** The server refused the login with one of the login codes (reference-client.md §3 item 5). */
export class LoginRefused extends Schema.TaggedError<LoginRefused>()("LoginRefused", {
  code: LoginErrorCode,
  status: Schema.Number,
  message: Schema.String
}) {}

/** 401 from `/v3/me/…`: the access token is missing, expired or not the server's (LexActivator's 87). */
export class NotAuthenticated extends Schema.TaggedError<NotAuthenticated>()("NotAuthenticated", {
  message: Schema.String
}) {}

/**
 * Why a login or licence listing failed: any {@link ApiErrorReason} of the request, a {@link LoginRefused} with the
 * server's login code, or {@link NotAuthenticated} (401 on `/v3/me/…`).
 */
export const UserLoginErrorReason = Schema.Union([...ApiErrorReason.members, LoginRefused, NotAuthenticated])
export type UserLoginErrorReason = typeof UserLoginErrorReason.Type

/**
 * A user-login call that did not succeed; `operation` names the call, `reason` says why, `status` is LexActivator's
 * code for it.
 */
export class UserLoginError extends Schema.TaggedError<UserLoginError>()("UserLoginError", {
  operation: Schema.Literals(["login", "loginWithIdToken", "userLicenses"]),
  reason: UserLoginErrorReason
}) {
  /** One line for logs: the operation, the reason's tag, the server's code when it sent one, and its message. */
  override get message(): string {
    const r = this.reason
    return `${this.operation} failed: ${r._tag}${"code" in r ? ` ${r.code}` : ""}: ${r.message}`
  }
  /** The LexActivator status `AuthenticateUser`, `AuthenticateUserWithIdToken` or `GetUserLicenses` returns. */
  get status(): LexStatus {
    return lexStatus(loginStatusOf(this.operation, this.reason))
  }
}

/**
 * LexActivator's status for a failed login or licence listing.
 *
 * DECISION (the reference lists the codes and LexActivator's statuses, not which maps to which): credentials
 * refused are `LA_E_AUTHENTICATION_FAILED` (71) for a password login and `LA_E_AUTHENTICATION_ID_TOKEN_INVALID`
 * (101) for an id-token login; `PLAN_UPGRADE_REQUIRED` is `LA_E_USERS_LIMIT_REACHED` (103), the only status
 * LexActivator documents for a login the account's plan cannot take; a 401 is `LA_E_USER_NOT_AUTHENTICATED` (87).
 */
export const loginStatusOf = (operation: UserLoginError["operation"], reason: UserLoginErrorReason): LexStatusName => {
  switch (reason._tag) {
    case "LoginRefused":
      switch (reason.code) {
        case "INVALID_AUTHENTICATION_CREDENTIALS":
          return operation === "loginWithIdToken"
            ? "LA_E_AUTHENTICATION_ID_TOKEN_INVALID"
            : "LA_E_AUTHENTICATION_FAILED"
        case "ACCOUNT_LOGIN_TEMPORARILY_LOCKED":
          return "LA_E_LOGIN_TEMPORARILY_LOCKED"
        case "MISSING_TWO_FACTOR_CODE":
          return "LA_E_TWO_FACTOR_AUTHENTICATION_CODE_MISSING"
        case "INVALID_TWO_FACTOR_CODE":
          return "LA_E_TWO_FACTOR_AUTHENTICATION_CODE_INVALID"
        case "OIDC_SSO_NOT_ENABLED":
          return "LA_E_OIDC_SSO_NOT_ENABLED"
        case "PLAN_UPGRADE_REQUIRED":
          return "LA_E_USERS_LIMIT_REACHED"
      }
      return "LA_E_CLIENT"
    case "NotAuthenticated":
      return "LA_E_USER_NOT_AUTHENTICATED"
    case "ServerRefused":
    case "UnknownServerCode":
      return lexStatusOfServerCode(reason.code)
    case "NetworkFailure":
    case "RateLimited":
    case "ServerFailure":
    case "MalformedResponse":
      return lexStatusOfTransport(reason)
    case "NotFound":
      return "LA_E_SERVER"
  }
}

/** A logged-in user: the access token, and its `sub` (the user id), read without verification. */
export interface UserSession {
  /**
   * The bearer token the `/v3/me/…` calls send; it expires on the server's schedule, and then those calls fail with
   * {@link NotAuthenticated}.
   */
  readonly accessToken: string
  /** The token's `sub` claim, when it has one; informative only (the server checks the token, not us). */
  readonly userId: string | undefined
}

/**
 * The body of `POST /v3/accounts/login`: the account id, e-mail, password and, when the account has two-factor
 * sign-in, a six-digit `twoFactorCode` or a recovery code.
 */
export type LoginCredentials = LoginRequest
/**
 * The body of `POST /v3/accounts/login-oidc`: the account id and the OpenID Connect id token from the identity
 * provider.
 */
export type IdTokenCredentials = OidcLoginRequest

/** The {@link UserLogin} service's shape: the two ways to sign a user in and the listing of their licences. */
export interface UserLoginService {
  /**
   * Signs the user in with e-mail and password (LexActivator's `AuthenticateUser`). Fails with a {@link
   * UserLoginError}: `LoginRefused` with `INVALID_AUTHENTICATION_CREDENTIALS`, `MISSING_TWO_FACTOR_CODE`, …, or the
   * request's reason.
   * @example const session = yield* users.login({ accountId, email, password })
   */
  readonly login: (credentials: LoginCredentials) => Effect.Effect<UserSession, UserLoginError>
  /**
   * Signs the user in with an OpenID Connect id token (LexActivator's `AuthenticateUserWithIdToken`); fails as
   * `login` does, e.g. `LoginRefused` with `OIDC_SSO_NOT_ENABLED`.
   */
  readonly loginWithIdToken: (credentials: IdTokenCredentials) => Effect.Effect<UserSession, UserLoginError>
  /**
   * `GET /v3/me/licenses?productId=…&page=N&limit=100` with the session's bearer token, page after page until a
   * short one: every licence of the user for the product.
   */
  readonly licenses: (
    session: UserSession | string,
    productId: string,
    options?: { readonly accountId?: string | undefined }
  ) => Effect.Effect<ReadonlyArray<UserLicense>, UserLoginError>
}

/**
 * DECISION (LexActivator 3.34 sends only `?productId=`, reference-client.md §3 item 5, and so sees one page; the
 * `get-me-licenses` reference page gives `page` and `limit` ≤ 100, lexactivator-surface.md §0 item 4): licensure
 * asks for pages of the largest size, `?productId=…&page=N&limit=100`, until a page comes back short, so a user with
 * more licences than one page gets all of them. At most {@link UserLicensesMaxPages} pages are read.
 */
export const UserLicensesPageSize = 100

/** The most pages one `licenses` call reads (10,000 licences): a server that never ends a list cannot hang it. */
export const UserLicensesMaxPages = 100

const loginCodes: ReadonlySet<string> = new Set(LoginErrorCodes)

/** A login code arrives as an unknown activation code from the shared machinery: it is sorted here. */
const sortReason = (reason: ApiErrorReason): UserLoginErrorReason => {
  if ((reason._tag === "UnknownServerCode" || reason._tag === "ServerRefused") && loginCodes.has(reason.code)) {
    return new LoginRefused({
      code: reason.code as LoginErrorCode,
      status: reason.status,
      message: reason.message
    })
  }
  if (reason._tag === "ServerFailure" && reason.status === 401) return new NotAuthenticated({ message: reason.message })
  if ((reason._tag === "UnknownServerCode" || reason._tag === "ServerRefused") && reason.status === 401) {
    return new NotAuthenticated({ message: reason.message })
  }
  return reason
}

const subjectOf = (token: string): string | undefined => {
  try {
    const sub = decodeJwt(token).sub
    return typeof sub === "string" ? sub : undefined
  } catch {
    return undefined
  }
}

const decodeLogin = Schema.decodeUnknownEffect(LoginResponse)
const decodeLicenses = Schema.decodeUnknownEffect(UserLicenses)

/**
 * The login calls over a {@link Transport}: what {@link UserLogin.make} builds, for callers that share one transport
 * between several Cryptlex calls.
 */
export const makeUserLogin = (transport: Transport): UserLoginService => {
  const post = (operation: "login" | "loginWithIdToken", path: string, body: { readonly accountId: string }) =>
    encodeJsonBody(body).pipe(
      Effect.flatMap((text) =>
        transport.execute(
          withAccountHeader(
            HttpClientRequest.post(path).pipe(HttpClientRequest.bodyText(text, "application/json")),
            body.accountId
          ),
          [200, 201],
          (response) =>
            transport.readJson(response).pipe(
              Effect.flatMap((json) =>
                Effect.mapError(
                  decodeLogin(json),
                  (error) =>
                    new MalformedResponse({
                      status: response.status,
                      message: `expected {"accessToken": "<JWT>"}: ${error.message}`
                    })
                )
              )
            )
        )
      ),
      Effect.map((answer): UserSession => ({ accessToken: answer.accessToken, userId: subjectOf(answer.accessToken) })),
      Effect.mapError((reason) => new UserLoginError({ operation, reason: sortReason(reason) }))
    )

  return {
    login: (credentials) => post("login", MoreEndpoints.login(), credentials),
    loginWithIdToken: (credentials) => post("loginWithIdToken", MoreEndpoints.loginOidc(), credentials),
    licenses: (session, productId, options = {}) => {
      const token = typeof session === "string" ? session : session.accessToken
      const page = (n: number) =>
        transport
          .execute(
            withAccountHeader(
              HttpClientRequest.get(
                `${MoreEndpoints.userLicenses()}?productId=${encodeURIComponent(productId)}&page=${n}&limit=${UserLicensesPageSize}`
              ).pipe(HttpClientRequest.bearerToken(token)),
              options.accountId
            ),
            [200],
            (response) =>
              transport.readJson(response).pipe(
                Effect.flatMap((json) =>
                  Effect.mapError(
                    decodeLicenses(json),
                    (error) =>
                      new MalformedResponse({
                        status: response.status,
                        message: `expected a list of licences: ${error.message}`
                      })
                  )
                )
              )
          )
          .pipe(
            Effect.mapError((reason) => new UserLoginError({ operation: "userLicenses", reason: sortReason(reason) }))
          )
      return Effect.gen(function* () {
        const all: Array<UserLicense> = []
        const seen = new Set<string>()
        for (let n = 1; n <= UserLicensesMaxPages; n++) {
          const licences = yield* page(n)
          const fresh = licences.filter((licence) => !seen.has(licence.key))
          for (const licence of fresh) {
            seen.add(licence.key)
            all.push(licence)
          }
          // A short page is the last; a page with nothing new is a server that ignores `page`.
          if (licences.length < UserLicensesPageSize || fresh.length === 0) break
        }
        return all
      })
    }
  }
}

/**
 * User login and licence listing as an Effect service, over the application's `HttpClient`.
 * @example Effect.provide(program, UserLogin.layer())
 */
export class UserLogin extends Context.Service<UserLogin, UserLoginService>()("@licensure/core/UserLogin") {
  /**
   * Builds the service over the `HttpClient` in context, with the same host, timeout and user agent settings as
   * {@link LicenseApi}.
   */
  static readonly make = (config: LicenseApiConfig = {}) =>
    Effect.map(makeTransport(config), (transport) => UserLogin.of(makeUserLogin(transport)))

  /** The service as a layer needing only an `HttpClient`. */
  static readonly layer = (config: LicenseApiConfig = {}): Layer.Layer<UserLogin, never, HttpClient.HttpClient> =>
    Layer.effect(UserLogin, UserLogin.make(config))
}
