/**
 * Cryptlex's user calls (reference-client.md §3 item 5): `POST /v3/accounts/login` (e-mail, password, two-factor
 * code or a recovery code), `POST /v3/accounts/login-oidc` (an id token), and `GET /v3/me/licenses` with the
 * access token as a bearer. Failed logins count toward a lock: five in a row lock the user for five minutes on the
 * emulator's clock (LexActivator's `LA_E_LOGIN_TEMPORARILY_LOCKED`: "locked for 5 mins due to 5 failed attempts").
 */
import { LoginRequest, OidcLoginRequest, type UserLicense } from "@licensure/core/Protocol"
import { jwtVerify, SignJWT } from "jose"
import { cryptlexError, decodeOrRefuse, json, plainError, readJson } from "./Http.ts"
import type { Store, User } from "./Store.ts"

export interface UsersContext {
  readonly store: Store
  readonly now: () => number
}

export const MaxFailedLogins = 5
export const LockSeconds = 300
/** DECISION (the reference gives no lifetime): an access token is good for one day on the emulator's clock. */
export const AccessTokenSeconds = 86_400

const findUser = (ctx: UsersContext, accountId: string, test: (user: User) => boolean): User | undefined =>
  [...ctx.store.users.values()].find(
    (user) => (accountId === "" || user.accountId === null || user.accountId === accountId) && test(user)
  )

const accessToken = (ctx: UsersContext, user: User): Promise<string> => {
  const iat = Math.floor(ctx.now() / 1000)
  return new SignJWT({ email: user.email, ...(user.accountId === null ? {} : { aid: user.accountId }) })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(user.id)
    .setIssuedAt(iat)
    .setExpirationTime(iat + AccessTokenSeconds)
    .sign(ctx.store.accessTokenSecret)
}

const lockedOut = (ctx: UsersContext, user: User): void => {
  if (user.lockedUntil !== null && ctx.now() < user.lockedUntil) {
    throw cryptlexError(
      "ACCOUNT_LOGIN_TEMPORARILY_LOCKED",
      `Login is locked after ${MaxFailedLogins} failed attempts; try again in ${Math.ceil((user.lockedUntil - ctx.now()) / 1000)} s`
    )
  }
}

const failed = (
  ctx: UsersContext,
  user: User | undefined,
  code: "INVALID_AUTHENTICATION_CREDENTIALS" | "INVALID_TWO_FACTOR_CODE"
) => {
  if (user !== undefined) {
    user.failedLogins += 1
    if (user.failedLogins >= MaxFailedLogins) user.lockedUntil = ctx.now() + LockSeconds * 1000
  }
  return cryptlexError(
    code,
    code === "INVALID_TWO_FACTOR_CODE" ? "The two-factor code is not valid" : "The e-mail or password is not valid"
  )
}

export const login = async (ctx: UsersContext, request: Request): Promise<Response> => {
  const body = decodeOrRefuse(LoginRequest, await readJson(request), "login")
  const email = body.email.toLowerCase()
  const user = findUser(ctx, body.accountId, (candidate) => candidate.email.toLowerCase() === email)
  if (user !== undefined) lockedOut(ctx, user)
  if (user === undefined || user.password !== body.password)
    throw failed(ctx, user, "INVALID_AUTHENTICATION_CREDENTIALS")
  if (user.twoFactorCode !== null) {
    const recovery = body.twoFactorRecoveryCode
    if (recovery !== undefined) {
      const at = user.recoveryCodes.indexOf(recovery)
      if (at < 0) throw failed(ctx, user, "INVALID_TWO_FACTOR_CODE")
      user.recoveryCodes.splice(at, 1)
    } else if (body.twoFactorCode === undefined) {
      throw cryptlexError("MISSING_TWO_FACTOR_CODE", "The user has two-factor authentication: a code is required")
    } else if (body.twoFactorCode !== user.twoFactorCode) {
      throw failed(ctx, user, "INVALID_TWO_FACTOR_CODE")
    }
  }
  user.failedLogins = 0
  user.lockedUntil = null
  return json(200, { accessToken: await accessToken(ctx, user) })
}

export const loginOidc = async (ctx: UsersContext, request: Request): Promise<Response> => {
  const body = decodeOrRefuse(OidcLoginRequest, await readJson(request), "OIDC login")
  if (ctx.store.accounts.get(body.accountId)?.oidcEnabled !== true) {
    throw cryptlexError("OIDC_SSO_NOT_ENABLED", "The account has no OIDC single sign-on")
  }
  const user = findUser(ctx, body.accountId, (candidate) => candidate.idToken === body.idToken)
  if (user === undefined) throw cryptlexError("INVALID_AUTHENTICATION_CREDENTIALS", "The id token is not valid")
  lockedOut(ctx, user)
  return json(200, { accessToken: await accessToken(ctx, user) })
}

/** DECISION (the reference handles 401 without naming a code): a missing or bad bearer token is 401 `{message}`. */
const userOf = async (ctx: UsersContext, request: Request): Promise<User> => {
  const header = request.headers.get("authorization") ?? ""
  const match = /^Bearer\s+(\S+)$/i.exec(header)
  if (match === null) throw plainError(401, "Expected an Authorization: Bearer <access token> header")
  let sub: string | undefined
  try {
    const verified = await jwtVerify(match[1] as string, ctx.store.accessTokenSecret, {
      algorithms: ["HS256"],
      currentDate: new Date(ctx.now())
    })
    sub = verified.payload.sub
  } catch (error) {
    throw plainError(401, `The access token is not valid: ${(error as Error).message}`)
  }
  const user = sub === undefined ? undefined : ctx.store.users.get(sub)
  if (user === undefined) throw plainError(401, "The access token's user no longer exists")
  return user
}

export const myLicenses = async (ctx: UsersContext, request: Request): Promise<Response> => {
  const user = await userOf(ctx, request)
  const params = new URL(request.url).searchParams
  const productId = params.get("productId")
  const page = pageParam(params, "page", 1, Number.MAX_SAFE_INTEGER)
  const limit = pageParam(params, "limit", DefaultLicensesLimit, 100)
  const now = ctx.now()
  const licences: Array<UserLicense> = user.licenseIds.flatMap((id) => {
    const license = ctx.store.licenses.get(id)
    if (license === undefined || (productId !== null && productId !== "" && license.productId !== productId)) return []
    return [
      {
        key: license.key,
        type: license.type,
        allowedActivations: license.allowedActivations,
        allowedDeactivations: license.allowedDeactivations,
        totalActivations: ctx.store.liveActivationsOf(license.id, now).length,
        totalDeactivations: license.totalDeactivations,
        metadata: license.metadata
      }
    ]
  })
  return json(200, licences.slice((page - 1) * limit, page * limit))
}

/**
 * DECISION (the `get-me-licenses` reference page gives `page` and `limit` ≤ 100, not the default page size;
 * lexactivator-surface.md §0 item 4): ten licences a page when `limit` is absent, so a client that sends no
 * paging, as LexActivator 3.34 does (reference-client.md §3 item 5), sees only the first ten.
 */
export const DefaultLicensesLimit = 10

/** A positive integer query parameter within `max`, its default when absent; anything else is a 400. */
const pageParam = (params: URLSearchParams, name: string, fallback: number, max: number): number => {
  const raw = params.get(name)
  if (raw === null || raw === "") return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < 1 || value > max) {
    throw plainError(400, `Expected ${name} to be an integer from 1 to ${max}, got ${JSON.stringify(raw)}`)
  }
  return value
}
