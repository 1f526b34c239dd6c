/**
 * Verification of activation tokens: the only way a token from the server or from the store becomes claims the
 * rest of the library believes.
 *
 * RS256 only, by allow-list on the header before any key is touched, so `alg: none` and HMAC tokens signed with
 * the public key as secret never reach a verifier. The signature is checked with jose over WebCrypto against the
 * product's RSA public key (SPKI PEM, as the Cryptlex dashboard gives it); the payload is then decoded with the
 * claim schema, and compared with what the application expects (product, key, machine fingerprint).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
// jose by subpath, not its root: the root re-exports every JWE/JWK/JWKS module (46 files at start-up for an
// unbundled import), while verification needs these four.
import { compactVerify } from "jose/jws/compact/verify"
import { decodeProtectedHeader } from "jose/decode/protected_header"
import * as errors from "jose/errors"
import { importSPKI } from "jose/key/import"
import * as FastPath from "./internal/ClaimsFastPath.ts"
import {
  type ActivationClaims,
  ActivationTokenClaims,
  lenientPayload,
  type TrialClaims,
  TrialTokenClaims
} from "./Protocol.ts"

/** The algorithms a token may be signed with. Cryptlex signs with its 2048-bit RSA key (protocol §2). */
export const AllowedAlgorithms = ["RS256"] as const

/**
 * Why {@link verify} refused a token: `malformed` (not a JWT), `algorithmNotAllowed` (anything but RS256),
 * `badSignature`, `badPublicKey` (the configured PEM does not import), `badClaims` (a claim missing or of the wrong
 * type), or `wrongProduct` / `wrongKey` / `wrongFingerprint` (valid, but another product's, key's or machine's), or
 * `olderThanHeld` (valid, but issued before the token a sync renews: a replayed answer).
 */
export const TokenErrorReason = Schema.Literals([
  "malformed",
  "algorithmNotAllowed",
  "badSignature",
  "badPublicKey",
  "badClaims",
  "wrongProduct",
  "wrongKey",
  "wrongFingerprint",
  "olderThanHeld"
])
export type TokenErrorReason = typeof TokenErrorReason.Type

/** Why a token was refused, with what was expected and what came. */
export class TokenError extends Schema.TaggedError<TokenError>()("TokenError", {
  reason: TokenErrorReason,
  message: Schema.String
}) {}

/**
 * What a verified token must be for; each field given is compared with the token's claim (`pid`, `key`, `fp`) and a
 * difference is a {@link TokenError} saying which claim was expected and what came. An absent field is not checked.
 * @example { productId: "prod-1", key: "XXXX-XXXX", fingerprint: identity.fingerprint }
 */
export interface Expected {
  /** The Cryptlex product id the token must name. */
  readonly productId?: string | undefined
  /** The licence key the token must carry (activation tokens only). */
  readonly key?: string | undefined
  /** This machine's fingerprint, which the token must have been issued to. */
  readonly fingerprint?: string | undefined
}

/**
 * DECISION: a token longer than this is refused unread. Real tokens are a few kilobytes; the limit is the
 * request-body limit (`MaxBodyBytes` in Protocol.ts), so a hostile answer cannot make us parse megabytes.
 */
export const MaxTokenLength = 64 * 1024

type PublicKey = Awaited<ReturnType<typeof importSPKI>>
const keyCache = new Map<string, Promise<PublicKey>>()
/** The keys whose import has landed: a check with one of these goes on without awaiting the import again. */
const importedKeys = new Map<string, PublicKey>()

const importKey = (publicKeyPem: string): Promise<PublicKey> => {
  let key = keyCache.get(publicKeyPem)
  if (key === undefined) {
    key = importSPKI(publicKeyPem, "RS256").then(
      (imported) => {
        importedKeys.set(publicKeyPem, imported)
        return imported
      },
      (cause: unknown) => {
        keyCache.delete(publicKeyPem)
        throw new TokenError({
          reason: "badPublicKey",
          message: `expected an RSA public key as SPKI PEM ("-----BEGIN PUBLIC KEY-----"), but it did not import: ${describe(cause)}`
        })
      }
    )
    keyCache.set(publicKeyPem, key)
  }
  return key
}

const describe = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause))

const decoder = new TextDecoder()
const base64url = /^[A-Za-z0-9_-]*$/

/** The smallest RSA modulus a product key may have (RFC 7518 §3.3: 2048 bits for RS256). */
const MinimumModulusBits = 2048

const malformed = (message: string) => new TokenError({ reason: "malformed", message })

/** The header's `alg` and `crit`, after the token's shape is checked; throws a {@link TokenError}. */
const checkHeader = (token: string): void => {
  if (typeof token === "string" && token.length > MaxTokenLength) {
    throw malformed(`expected a token of at most ${MaxTokenLength} characters, got ${token.length}`)
  }
  const parts = typeof token === "string" ? token.split(".") : []
  if (parts.length !== 3) throw malformed(`expected a JWT of three dot-separated parts, got ${describeToken(token)}`)
  if (!parts.every((part) => base64url.test(part))) {
    throw malformed("the token does not parse: expected base64url in each of its three parts")
  }
  let header: unknown
  try {
    header = decodeProtectedHeader(token)
  } catch (cause) {
    throw malformed(
      `expected the token header to be a JSON object (base64url-encoded), but it is not: ${describe(cause)}`
    )
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw malformed(`expected the token header to be a JSON object, got ${JSON.stringify(header)}`)
  }
  const { alg, crit } = header as { readonly alg?: unknown; readonly crit?: unknown }
  if (!AllowedAlgorithms.includes(alg as (typeof AllowedAlgorithms)[number])) {
    throw new TokenError({
      reason: "algorithmNotAllowed",
      message: `expected alg ${AllowedAlgorithms.join(" or ")}, got ${JSON.stringify(alg ?? null)}`
    })
  }
  // DECISION: a header naming critical parameters (`crit`, RFC 7515 §4.1.11) is refused before any key is
  // touched: this client understands none, and a recipient must reject what it does not understand (jose would
  // too; here the refusal says so in our words). Cryptlex signs `{alg, typ}` only.
  if (crit !== undefined) throw malformed(`expected no critical header parameters, got crit ${JSON.stringify(crit)}`)
}

/** The product key fit for RS256: RSASSA-PKCS1-v1_5 with SHA-256 and at least 2048 bits; throws `badPublicKey`. */
const checkKey = (key: PublicKey): void => {
  const algorithm = key.algorithm as {
    readonly name: string
    readonly modulusLength?: number
    readonly hash?: { readonly name?: string }
  }
  const modulus = algorithm.modulusLength ?? 0
  const hash = algorithm.hash?.name
  if (algorithm.name !== "RSASSA-PKCS1-v1_5" || hash !== "SHA-256" || modulus < MinimumModulusBits) {
    throw new TokenError({
      reason: "badPublicKey",
      message: `expected an RSA key of at least ${MinimumModulusBits} bits for RS256 (RSASSA-PKCS1-v1_5, SHA-256), got a ${algorithm.name} ${hash ?? "no-hash"} key of ${modulus} bits`
    })
  }
}

/**
 * Checks the signature and returns the raw payload; rejects with a {@link TokenError} only. One async function
 * rather than a chain of effects: a token is verified on every start and every sync, and this is the hot path.
 * The shape, the header's allow-list and the key are checked here first, in the caller's turn; the JWS itself is
 * verified by jose's `compactVerify` (RS256 only), over WebCrypto.
 */
const verifySignatureAsync = async (token: string, publicKeyPem: string): Promise<unknown> => {
  checkHeader(token)
  const key = importedKeys.get(publicKeyPem) ?? (await importKey(publicKeyPem))
  checkKey(key)
  // compactVerify checks the signature only: Cryptlex tokens carry no `exp`/`nbf`, expiry is the custom `eat` and
  // is judged by Validation on Effect's Clock, never by the JWT library's idea of the time.
  let bytes: Uint8Array
  try {
    bytes = (await compactVerify(token, key, { algorithms: [...AllowedAlgorithms] })).payload
  } catch (cause) {
    if (cause instanceof errors.JWSSignatureVerificationFailed) {
      throw new TokenError({
        reason: "badSignature",
        message: "the signature does not match the product's public key (tampered, or signed by another key)"
      })
    }
    if (cause instanceof errors.JOSEAlgNotAllowed) {
      throw new TokenError({ reason: "algorithmNotAllowed", message: describe(cause) })
    }
    throw malformed(`the token does not parse: ${describe(cause)}`)
  }
  try {
    return JSON.parse(decoder.decode(bytes)) as unknown
  } catch {
    throw new TokenError({ reason: "badClaims", message: "expected a JSON object as the token payload" })
  }
}

/** An async check as an effect that fails with its {@link TokenError} (anything else thrown is `malformed`). */
const fromAsync = <A>(check: () => Promise<A>): Effect.Effect<A, TokenError> =>
  Effect.tryPromise({
    try: check,
    catch: (cause) =>
      cause instanceof TokenError
        ? cause
        : new TokenError({ reason: "malformed", message: `the token could not be checked: ${describe(cause)}` })
  })

const verifySignature = (token: string, publicKeyPem: string): Effect.Effect<unknown, TokenError> =>
  fromAsync(() => verifySignatureAsync(token, publicKeyPem))

const describeToken = (token: unknown) =>
  typeof token !== "string"
    ? typeof token
    : token.length === 0
      ? "an empty string"
      : `a string of ${token.split(".").length} part(s)`

const badClaims = (error: { readonly message: string }) =>
  new TokenError({ reason: "badClaims", message: `the token's claims are not what Cryptlex sends: ${error.message}` })

// Decoders are built once: a token is verified on every start and every sync.
const decodeActivationClaims = Schema.decodeUnknownResult(ActivationTokenClaims)
const decodeTrialClaims = Schema.decodeUnknownResult(TrialTokenClaims)

/**
 * The claims of a verified payload, or the schema's refusal thrown as a {@link TokenError}. The fast path answers
 * only what the schema would answer the same (internal/ClaimsFastPath.ts, property-tested against it); everything
 * else, and every error, comes from the schema.
 */
const decodeOrThrow = <A>(
  payload: unknown,
  fast: (payload: unknown) => unknown,
  decode: (payload: unknown) => Result.Result<A, { readonly message: string; readonly issue?: unknown }>
): A => {
  const lenient = lenientPayload(payload)
  const quick = fast(lenient)
  if (quick !== undefined) return quick as A
  const decoded = decode(lenient)
  if (Result.isFailure(decoded)) {
    const came = cameAt(lenient, failingPath(decoded.failure.issue))
    throw badClaims({
      message: came === undefined ? decoded.failure.message : `${decoded.failure.message}, got ${came}`
    })
  }
  return decoded.success
}

/** The path of a schema issue's first failure, in the payload's own (wire) names: `["lma", 0, "name"]`. */
const failingPath = (issue: unknown): ReadonlyArray<PropertyKey> => {
  type Node = { readonly _tag?: string; readonly path?: ReadonlyArray<PropertyKey>; readonly issue?: unknown }
  const path: Array<PropertyKey> = []
  let at = issue as (Node & { readonly issues?: ReadonlyArray<unknown> }) | undefined
  for (let depth = 0; typeof at === "object" && at !== null && depth < 64; depth++) {
    if (at._tag === "Pointer" && Array.isArray(at.path)) path.push(...at.path)
    at = (at.issue ?? at.issues?.[0]) as typeof at
  }
  return path
}

/**
 * What the payload holds at `path`, shown short (`null`, `"gold"`, `42`), or `undefined` when nothing is there (a
 * missing key says so itself). The schema's message says what it expected; this says what came instead.
 */
const cameAt = (payload: unknown, path: ReadonlyArray<PropertyKey>): string | undefined => {
  if (path.length === 0) return undefined
  let at: unknown = payload
  for (const key of path) {
    if (typeof at !== "object" || at === null || !Object.hasOwn(at, key)) return undefined
    at = (at as Record<PropertyKey, unknown>)[key]
  }
  if (at === undefined) return "undefined"
  const shown = JSON.stringify(at)
  return shown === undefined ? typeof at : shown.length > 40 ? `${shown.slice(0, 40)}…` : shown
}

/** The first claim that is not what `expected` asks for, as the error to refuse the token with. */
const mismatchOf = (
  claims: { readonly productId: string; readonly fingerprint: string; readonly key?: string | undefined },
  expected: Expected
): TokenError | undefined => {
  if (expected.productId !== undefined && claims.productId !== expected.productId) {
    return new TokenError({
      reason: "wrongProduct",
      message: `expected a token for product ${expected.productId}, got one for ${claims.productId}`
    })
  }
  // LexActivator compares ToUpper(token key) with ToUpper(local key) (reference-client.md row 35).
  if (expected.key !== undefined && claims.key?.toUpperCase() !== expected.key.toUpperCase()) {
    return new TokenError({
      reason: "wrongKey",
      message: `expected a token for licence key ${mask(expected.key)}, got one for ${mask(claims.key ?? "")}`
    })
  }
  if (expected.fingerprint !== undefined && claims.fingerprint !== expected.fingerprint) {
    return new TokenError({
      reason: "wrongFingerprint",
      message: `expected a token for this machine (${expected.fingerprint.slice(0, 12)}…), got one for ${claims.fingerprint.slice(0, 12)}…`
    })
  }
  return undefined
}

/** Shows enough of a key to tell two apart in a message, without writing the whole secret to logs. */
const mask = (key: string) => (key.length <= 8 ? key : `${key.slice(0, 6)}…${key.slice(-4)}`)

/**
 * Verifies an activation token and returns its claims.
 *
 * @example
 * const claims = yield* ActivationToken.verify(token, publicKeyPem, { productId, key, fingerprint })
 */
export const verify = (
  token: string,
  publicKeyPem: string,
  expected: Expected = {}
): Effect.Effect<ActivationClaims, TokenError> =>
  // One promise for the whole check, as for the signature: a start-up verifies on its critical path, and each
  // effect step between the signature and the claims was a fiber turn it paid for.
  fromAsync(async () => {
    const payload = await verifySignatureAsync(token, publicKeyPem)
    const claims = decodeOrThrow(payload, FastPath.activationClaims, decodeActivationClaims)
    const mismatch = mismatchOf(claims, expected)
    if (mismatch !== undefined) throw mismatch
    return claims
  })

/**
 * DECISION: a trial token is told from an activation token by the licence it does not carry. Both name their
 * activation `aid` (reference-client.md row 32), but LexActivator 3.34's `ParseTrialActivationPayload` reads no
 * `lid` and no `key`, while every activation token carries both (row 26). A token with either claim is an
 * activation token, and is refused where a trial token is expected; an empty one (`""`, or `null`) names no
 * licence, so a server that sends the fields empty on a trial is not refused for it.
 */
const licenceClaimsOnTrial = (payload: unknown): TokenError | undefined => {
  const claims = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>) : {}
  const carried = (["lid", "key"] as const).filter(
    (name) => claims[name] !== undefined && claims[name] !== null && claims[name] !== ""
  )
  return carried.length === 0
    ? undefined
    : badClaims({
        message: `expected a trial token, which carries no licence; got one with ${carried.join(" and ")}, which is an activation token`
      })
}

/** Verifies a trial-activation token (same rules, the trial claim set). */
export const verifyTrial = (
  token: string,
  publicKeyPem: string,
  expected: Omit<Expected, "key"> = {}
): Effect.Effect<TrialClaims, TokenError> =>
  fromAsync(async () => {
    const payload = await verifySignatureAsync(token, publicKeyPem)
    const carriesLicence = licenceClaimsOnTrial(payload)
    if (carriesLicence !== undefined) throw carriesLicence
    const claims = decodeOrThrow(payload, FastPath.trialClaims, decodeTrialClaims)
    const mismatch = mismatchOf(claims, expected)
    if (mismatch !== undefined) throw mismatch
    return claims
  })

/**
 * Checks a token's RS256 signature against the product's key and returns its raw payload, with the same
 * allow-list and limits as {@link verify}; for the other tokens Cryptlex signs with the product key (the
 * feature-entitlements token, `FeatureEntitlements.verify`).
 */
export const verifySignedPayload: (token: string, publicKeyPem: string) => Effect.Effect<unknown, TokenError> =
  verifySignature
