/**
 * The configuration of a licensing client: its schema first, the type derived from it, and the check that runs
 * before anything starts (a wrong option is one typed error that says which option, what was expected and what
 * came, never a later surprise).
 *
 * @since 0.3.0
 */
import * as Duration from "effect/Duration"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { MetadataEntry } from "./Protocol.ts"

/** A configuration the library cannot work with: says which option, what was expected and what came. */
export class LicensingConfigError extends Schema.TaggedError<LicensingConfigError>()("LicensingConfigError", {
  message: Schema.String
}) {}

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** A duration as Effect takes one: `"1 second"`, milliseconds as a number, a `Duration`. */
const DurationInput = Schema.declare(
  (u: unknown): u is Duration.Input => {
    try {
      return Duration.fromInput(u as Duration.Input)._tag === "Some"
    } catch {
      return false
    }
  },
  { expected: 'a duration ("1 second", milliseconds, a Duration)' }
)

/**
 * What a configuration must look like. Options other than these (the platform's: a store directory, a proxy)
 * pass through the check unchanged.
 */
export const LicensingConfigSchema = Schema.Struct({
  /** The product's id (a GUID on Cryptlex). */
  productId: Schema.NonEmptyString,
  /** The product's RSA public key, SPKI PEM, from the Cryptlex dashboard. */
  publicKeyPem: Schema.String.check(
    Schema.isPattern(/-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/, {
      expected: "an RSA public key as SPKI PEM (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----)"
    })
  ),
  appVersion: Schema.optional(Schema.String),
  /** The Cryptlex account id (the dashboard shows it): sent in every body (`""` when unset) and as `X-Account-Id`. */
  accountId: Schema.optional(Schema.String),
  releaseVersion: Schema.optional(Schema.String),
  releasePlatform: Schema.optional(Schema.String),
  releaseChannel: Schema.optional(Schema.String),
  /** The release's publication time, as the Cryptlex release shows it. */
  releasePublishedAt: Schema.optional(Schema.String),
  /** Sent with activations (protocol: key ≤ 256, value ≤ 4096 characters). */
  metadata: Schema.optional(Schema.Array(MetadataEntry)),
  /** Sent with trial activations (LexActivator's `SetTrialActivationMetadata`); the token carries it as `amd`. */
  trialMetadata: Schema.optional(Schema.Array(MetadataEntry)),
  /** Hosted-floating: the lease the client asks for, in seconds (if the licence allows client lease durations). */
  leaseDuration: Schema.optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(-1))),
  email: Schema.optional(Schema.String),
  password: Schema.optional(Schema.String),
  /** The key to re-activate with when the stored record is unreadable (corrupt, foreign, forged). */
  licenseKey: Schema.optional(Schema.NonEmptyString),
  /** Answer a sync that rejects the fingerprint with deactivate-then-activate (off by default). */
  reactivateOnFingerprintRejected: Schema.optional(Schema.Boolean),
  /**
   * How far background sync retries after a transient failure are spread below the sync interval, as a fraction
   * in [0, 1]: the first retry of a failing spell is uniform in `[interval × (1 − j), interval]`, later ones keep
   * its phase (default 1, see `LicenseModel.DefaultRetryJitter`); 0 turns the spread off. A server's
   * `Retry-After` is never undercut.
   */
  retryJitter: Schema.optional(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))),
  /** The retry policy of each call (`RetryPolicy.RetryOptions`). */
  retry: Schema.optional(
    Schema.Struct({
      /** First backoff ceiling (default 1 second). */
      base: Schema.optional(DurationInput),
      /** Largest backoff ceiling (default 1 minute). */
      cap: Schema.optional(DurationInput),
      /** Retries after the first attempt (default 4). */
      retries: Schema.optional(NonNegativeInt)
    })
  )
})

/** A licensing client's configuration, as {@link LicensingConfigSchema} describes it. */
export type LicensingConfig = typeof LicensingConfigSchema.Type

/** `rsaEncryption` (1.2.840.113549.1.1.1) with NULL parameters: the AlgorithmIdentifier of an RSA SPKI key. */
const RsaAlgorithmIdentifier = [
  0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00
]

/**
 * Reads the PEM's body far enough to know it is an RSA SubjectPublicKeyInfo: Base64 that decodes to one DER
 * SEQUENCE of exactly its stated length, starting with the rsaEncryption AlgorithmIdentifier. Synchronous, so
 * `createLicensing` can refuse a garbled key before anything starts; jose checks the key itself on first use.
 * Returns what is wrong, or `undefined`.
 */
export const publicKeyProblem = (pem: string): string | undefined => {
  const body = /-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----/.exec(pem)?.[1]?.replace(/\s+/g, "")
  if (body === undefined) return undefined // the schema's pattern says this one
  if (body.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) {
    return "publicKeyPem: expected Base64 between the PEM lines, got characters Base64 does not use (or a cut body)"
  }
  const der = Uint8Array.from(atob(body), (c) => c.charCodeAt(0))
  let length = der[1] ?? 0
  let header = 2
  if (length & 0x80) {
    const bytes = length & 0x7f
    length = 0
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[2 + i] ?? 0)
    header = 2 + bytes
  }
  if (der[0] !== 0x30 || header + length !== der.length) {
    return `publicKeyPem: expected one DER SEQUENCE (a SubjectPublicKeyInfo), got ${der.length} bytes that are not one`
  }
  if (!RsaAlgorithmIdentifier.every((byte, i) => der[header + i] === byte)) {
    return "publicKeyPem: expected an RSA key (rsaEncryption), got a SubjectPublicKeyInfo for another algorithm"
  }
  if (der.length < 250) return `publicKeyPem: expected an RSA key of at least 2048 bits, got ${der.length} bytes of key`
  return undefined
}

/**
 * {@link publicKeyProblem}, remembered for the last few keys: an app builds its client from one key, often many
 * times (every start of a layer, tests, a fleet), and the DER walk is a tenth of a cold start's own work.
 */
const checkedKeys = new Map<string, string | undefined>()
const checkedKey = (pem: string): string | undefined => {
  if (checkedKeys.has(pem)) return checkedKeys.get(pem)
  const problem = publicKeyProblem(pem)
  if (checkedKeys.size >= 8) checkedKeys.clear()
  checkedKeys.set(pem, problem)
  return problem
}

/** Checks a configuration before anything starts; a wrong option is one typed error, never a later surprise. */
export const checkConfig = <C extends LicensingConfig>(config: C): Result.Result<C, LicensingConfigError> => {
  const problem = schemaProblem(LicensingConfigSchema, config)
  if (problem !== undefined) return Result.fail(problem)
  const keyProblem = checkedKey(config.publicKeyPem)
  return keyProblem === undefined
    ? Result.succeed(config)
    : Result.fail(new LicensingConfigError({ message: `invalid licensing configuration: ${keyProblem}` }))
}

/**
 * Checks `config` against a configuration schema (core's, or a platform's for its own options), or `undefined`
 * when it fits: the error names the option's path, what was expected and what came.
 * @example schemaProblem(NodeOptionsSchema, config) // "invalid licensing configuration: Expected boolean … at ["watchStore"], got "yes""
 */
export const schemaProblem = (
  schema: Schema.ConstraintDecoder<unknown>,
  config: unknown
): LicensingConfigError | undefined => {
  const result = Schema.decodeUnknownResult(schema)(config)
  if (Result.isSuccess(result)) return undefined
  const message = result.failure.message
  return new LicensingConfigError({
    message: `invalid licensing configuration: ${message}, got ${cameAt(config, message)}`
  })
}

/** What the configuration holds at the path a schema message names (`at ["metadata"][0]["key"]`), shortened. */
const cameAt = (config: unknown, message: string): string => {
  const path = /at ((?:\[[^\]]+\])+)/.exec(message)?.[1] ?? ""
  let value: unknown = config
  for (const match of path.matchAll(/\[("?)([^"\]]*)\1\]/g)) {
    const segment = match[2] ?? ""
    value = value === null || typeof value !== "object" ? undefined : (value as Record<string, unknown>)[segment]
  }
  const text = value === undefined ? "nothing" : JSON.stringify(value)
  return text.length > 60 ? `${text.slice(0, 57)}…` : text
}
