/**
 * User login over real HTTP against the emulator on 127.0.0.1: a password login (with and without a second
 * factor, with a recovery code), the lock after five failures (timed on the emulator's clock), the OIDC login,
 * the user's licences with the bearer token, each refusal with the LexActivator status the native library gives,
 * and faults on each call.
 */
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { UserLogin as UserLoginModule } from "@licensure/core"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { Effect } from "effect"
import { FetchHttpClient } from "effect/http"
import { decodeJwt } from "jose"

const { UserLogin } = UserLoginModule

let emulator: Emulator
let productId: string
let otherProductId: string
const accountId = "acc-users"

beforeAll(async () => {
  emulator = await startEmulator({ manualClock: { startAt: Date.parse("2031-03-01T09:00:00Z") } })
  ;({ productId } = await emulator.createProduct({ accountId }))
  ;({ productId: otherProductId } = await emulator.createProduct({ accountId }))
})
afterEach(() => emulator.clearFaults())
afterAll(() => emulator?.close())

const users = () => UserLogin.make({ host: emulator.url }).pipe(Effect.provide(FetchHttpClient.layer))
let serial = 0
const user = (options: { twoFactorCode?: string; recoveryCodes?: Array<string>; idToken?: string } = {}) =>
  Effect.promise(async () => {
    const mine = await emulator.createLicense({
      productId,
      allowedActivations: 3,
      metadata: [{ key: "seat", value: "a" }]
    })
    const foreign = await emulator.createLicense({ productId: otherProductId })
    const email = `user${++serial}@example.com`
    const created = await emulator.createUser({
      email,
      password: "correct horse",
      accountId,
      licenseIds: [mine.id, foreign.id],
      ...options
    })
    return { ...created, email, key: mine.key }
  })

describe("login", () => {
  it.effect("answers an access token whose subject is the user, and lists the user's licences of the product", () =>
    Effect.gen(function* () {
      const u = yield* user()
      const api = yield* users()
      const session = yield* api.login({ accountId, email: u.email, password: "correct horse" })
      assert.strictEqual(session.userId, u.id)
      assert.strictEqual(decodeJwt(session.accessToken).sub, u.id)
      const licences = yield* api.licenses(session, productId)
      assert.deepStrictEqual(licences, [
        {
          key: u.key,
          type: "node-locked",
          allowedActivations: 3,
          allowedDeactivations: -1,
          totalActivations: 0,
          totalDeactivations: 0,
          metadata: [{ key: "seat", value: "a" }]
        }
      ])
    })
  )

  it.effect("lists every licence of a user with more than a page: 130 licences in two pages of at most 100", () =>
    Effect.gen(function* () {
      const ids = yield* Effect.promise(() =>
        Promise.all(Array.from({ length: 130 }, () => emulator.createLicense({ productId }).then((l) => l.id)))
      )
      const email = `many${++serial}@example.com`
      yield* Effect.promise(() => emulator.createUser({ email, password: "correct horse", accountId, licenseIds: ids }))
      const api = yield* users()
      const session = yield* api.login({ accountId, email, password: "correct horse" })
      yield* Effect.promise(() => emulator.clearLog())
      const licences = yield* api.licenses(session, productId, { accountId })
      assert.strictEqual(licences.length, 130)
      assert.strictEqual(new Set(licences.map((l) => l.key)).size, 130)
      const log = yield* Effect.promise(() => emulator.log())
      assert.deepStrictEqual(
        log.map((e) => `${e.method} ${e.status}`),
        ["GET 200", "GET 200"]
      )
      // Without paging, the emulator answers its default page (the reference sends none: it would see ten).
      const raw = yield* Effect.promise(() =>
        fetch(`${emulator.url}/v3/me/licenses?productId=${productId}`, {
          headers: { authorization: `Bearer ${session.accessToken}` }
        }).then((r) => r.json() as Promise<Array<unknown>>)
      )
      assert.strictEqual(raw.length, 10)
      const bad = yield* Effect.promise(() =>
        fetch(`${emulator.url}/v3/me/licenses?productId=${productId}&limit=101`, {
          headers: { authorization: `Bearer ${session.accessToken}` }
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { message: string } }))
      )
      assert.strictEqual(bad.status, 400)
      assert.match(bad.body.message, /limit to be an integer from 1 to 100, got "101"/)
    })
  )

  it.effect("refuses a wrong password as LA_E_AUTHENTICATION_FAILED (71), and an unknown e-mail the same", () =>
    Effect.gen(function* () {
      const u = yield* user()
      const api = yield* users()
      const wrong = yield* Effect.flip(api.login({ accountId, email: u.email, password: "wrong horse" }))
      assert.strictEqual(wrong.reason._tag, "LoginRefused")
      assert.strictEqual(
        wrong.reason._tag === "LoginRefused" ? wrong.reason.code : "",
        "INVALID_AUTHENTICATION_CREDENTIALS"
      )
      assert.deepStrictEqual(wrong.status, { name: "LA_E_AUTHENTICATION_FAILED", code: 71 })
      const nobody = yield* Effect.flip(api.login({ accountId, email: "nobody@example.com", password: "whatever1" }))
      assert.strictEqual(nobody.status.code, 71)
    })
  )

  it.effect(
    "asks for the second factor (88), refuses a wrong one (89), takes the right one or a recovery code once",
    () =>
      Effect.gen(function* () {
        const u = yield* user({ twoFactorCode: "424242", recoveryCodes: ["recover-1"] })
        const api = yield* users()
        const credentials = { accountId, email: u.email, password: "correct horse" }
        const missing = yield* Effect.flip(api.login(credentials))
        assert.deepStrictEqual(missing.status, { name: "LA_E_TWO_FACTOR_AUTHENTICATION_CODE_MISSING", code: 88 })
        const invalid = yield* Effect.flip(api.login({ ...credentials, twoFactorCode: "000000" }))
        assert.deepStrictEqual(invalid.status, { name: "LA_E_TWO_FACTOR_AUTHENTICATION_CODE_INVALID", code: 89 })
        const ok = yield* api.login({ ...credentials, twoFactorCode: "424242" })
        assert.strictEqual(ok.userId, u.id)
        yield* api.login({ ...credentials, twoFactorRecoveryCode: "recover-1" })
        const reused = yield* Effect.flip(api.login({ ...credentials, twoFactorRecoveryCode: "recover-1" }))
        assert.strictEqual(reused.status.code, 89)
      })
  )

  it.effect("locks the login after five failures (100), even for the right password, until five minutes pass", () =>
    Effect.gen(function* () {
      const u = yield* user()
      const api = yield* users()
      for (let i = 0; i < 5; i++) {
        const failure = yield* Effect.flip(api.login({ accountId, email: u.email, password: `wrong pass ${i}` }))
        assert.strictEqual(failure.status.code, 71, `attempt ${i + 1}`)
      }
      const locked = yield* Effect.flip(api.login({ accountId, email: u.email, password: "correct horse" }))
      assert.strictEqual(
        locked.reason._tag === "LoginRefused" ? locked.reason.code : "",
        "ACCOUNT_LOGIN_TEMPORARILY_LOCKED"
      )
      assert.strictEqual(locked.reason._tag === "LoginRefused" ? locked.reason.status : 0, 409)
      assert.deepStrictEqual(locked.status, { name: "LA_E_LOGIN_TEMPORARILY_LOCKED", code: 100 })
      yield* Effect.promise(() => emulator.clock.advance(299))
      assert.strictEqual(
        (yield* Effect.flip(api.login({ accountId, email: u.email, password: "correct horse" }))).status.code,
        100
      )
      yield* Effect.promise(() => emulator.clock.advance(1))
      const session = yield* api.login({ accountId, email: u.email, password: "correct horse" })
      assert.strictEqual(session.userId, u.id)
      assert.strictEqual((yield* Effect.promise(() => emulator.getUser(u.id))).failedLogins, 0)
    })
  )
})

describe("OIDC login and the bearer token", () => {
  it.effect(
    "refuses an id-token login when the account has no SSO (102), takes it once enabled, refuses a bad token (101)",
    () =>
      Effect.gen(function* () {
        const u = yield* user({ idToken: "id-token-of-the-user" })
        const api = yield* users()
        const off = yield* Effect.flip(api.loginWithIdToken({ accountId, idToken: "id-token-of-the-user" }))
        assert.deepStrictEqual(off.status, { name: "LA_E_OIDC_SSO_NOT_ENABLED", code: 102 })
        yield* Effect.promise(() => emulator.updateAccount(accountId, { oidcEnabled: true }))
        const session = yield* api.loginWithIdToken({ accountId, idToken: "id-token-of-the-user" })
        assert.strictEqual(session.userId, u.id)
        const bad = yield* Effect.flip(api.loginWithIdToken({ accountId, idToken: "forged" }))
        assert.deepStrictEqual(bad.status, { name: "LA_E_AUTHENTICATION_ID_TOKEN_INVALID", code: 101 })
        yield* Effect.promise(() => emulator.updateAccount(accountId, { oidcEnabled: false }))
      })
  )

  it.effect("refuses the licence list with a forged or expired token as LA_E_USER_NOT_AUTHENTICATED (87)", () =>
    Effect.gen(function* () {
      const u = yield* user()
      const api = yield* users()
      const forged = yield* Effect.flip(api.licenses("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", productId))
      assert.strictEqual(forged.reason._tag, "NotAuthenticated")
      assert.strictEqual(forged.status.code, 87)
      const session = yield* api.login({ accountId, email: u.email, password: "correct horse" })
      yield* Effect.promise(() => emulator.clock.advance(86_401))
      const expired = yield* Effect.flip(api.licenses(session, productId))
      assert.strictEqual(expired.status.code, 87)
    })
  )

  it.effect("maps a plan's users limit (PLAN_UPGRADE_REQUIRED) to 103, and faults on each call to their classes", () =>
    Effect.gen(function* () {
      const u = yield* user()
      const api = yield* users()
      yield* Effect.promise(() =>
        emulator.addFault({
          kind: "status",
          status: 409,
          body: { message: "upgrade", code: "PLAN_UPGRADE_REQUIRED" },
          match: { path: "/v3/accounts/login" },
          count: 1
        })
      )
      const limit = yield* Effect.flip(api.login({ accountId, email: u.email, password: "correct horse" }))
      assert.deepStrictEqual(limit.status, { name: "LA_E_USERS_LIMIT_REACHED", code: 103 })
      yield* Effect.promise(() =>
        emulator.addFault({ kind: "drop", match: { path: "/v3/accounts/login-oidc" }, count: 1 })
      )
      assert.strictEqual((yield* Effect.flip(api.loginWithIdToken({ accountId, idToken: "x" }))).status.code, 48)
      const session = yield* api.login({ accountId, email: u.email, password: "correct horse" })
      yield* Effect.promise(() =>
        emulator.addFault({ kind: "malformed", body: "[{}]", match: { path: "/v3/me/" }, count: 1 })
      )
      const garbled = yield* Effect.flip(api.licenses(session, productId))
      assert.strictEqual(garbled.reason._tag, "MalformedResponse")
      assert.strictEqual(garbled.status.code, 91)
    })
  )
})
