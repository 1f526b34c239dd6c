/**
 * When to try a failed call again, as an Effect `Schedule`: capped exponential backoff with full jitter, for
 * transient failures only (network, rate limit, 5xx, garbled answers), with the server's `Retry-After` honoured
 * as a floor. Permanent refusals (a revoked licence, an invalid key, a rejected fingerprint) are never retried:
 * trying again cannot change the answer and only spends the activation's rate limit.
 *
 * Full jitter (AWS's "Exponential Backoff and Jitter"): the n-th wait is uniform in
 * `[0, min(cap, base · 2^n)]`, so a fleet that lost the server at the same moment does not come back in step.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import { type ApiError, isTransient } from "./LicenseApi.ts"

/**
 * How a failed call is retried within one operation: the first and largest backoff ceilings and the number of
 * retries. Each wait is uniform below its ceiling (full jitter), and never shorter than the server's `Retry-After`.
 * @example NodeLicensing.layer({ productId, publicKeyPem, retry: { base: "2 seconds", retries: 2 } })
 */
export interface RetryOptions {
  /** First backoff ceiling (default 1 second). */
  readonly base?: Duration.Input | undefined
  /** Largest backoff ceiling (default 1 minute). */
  readonly cap?: Duration.Input | undefined
  /** Retries after the first attempt (default 4). */
  readonly retries?: number | undefined
}

/**
 * The retry options used where none are given: a 1-second first ceiling doubling up to 1 minute, 4 retries after the
 * first attempt.
 */
export const defaultRetryOptions = { base: "1 second", cap: "1 minute", retries: 4 } as const

/** The ceiling of the n-th wait (n from 0): `min(cap, base · 2^n)`, in milliseconds. */
export const backoffCeilingMillis = (attempt: number, options: RetryOptions = {}): number => {
  const base = Duration.toMillis(Duration.fromInputUnsafe(options.base ?? defaultRetryOptions.base))
  const cap = Duration.toMillis(Duration.fromInputUnsafe(options.cap ?? defaultRetryOptions.cap))
  return Math.min(cap, base * 2 ** attempt)
}

const retryAfterMillis = (error: unknown): number => {
  const e = error as ApiError | undefined
  return e?._tag === "ApiError" && e.reason._tag === "RateLimited" && e.reason.retryAfterSeconds !== undefined
    ? e.reason.retryAfterSeconds * 1000
    : 0
}

/**
 * The retry schedule. Its input is the failure, so a `RateLimited` failure's `Retry-After` sets the least wait.
 */
export const schedule = (options: RetryOptions = {}): Schedule.Schedule<number, ApiError> => {
  const retries = options.retries ?? defaultRetryOptions.retries
  return Schedule.recurs(retries).pipe(
    Schedule.modifyDelay(({ attempt, input }) =>
      Effect.map(Random.next, (random) => {
        const ceiling = backoffCeilingMillis(attempt - 1, options)
        return Duration.millis(Math.max(Math.min(ceiling, Math.floor(random * (ceiling + 1))), retryAfterMillis(input)))
      })
    )
  ) as Schedule.Schedule<number, ApiError>
}

/** The longest `Retry-After` waited inside one operation (see {@link retrying}). */
export const MaxInOperationRetryAfterMillis = 60_000

/**
 * Runs an API call with the retry policy: transient failures are retried, permanent ones fail at once.
 *
 * DECISION: a `Retry-After` longer than a minute ({@link MaxInOperationRetryAfterMillis}) ends the retries at once: the
 * operation fails with `RateLimited`, and the lifecycle machine schedules the next sync after the wait (capped at
 * a day and at the next deadline, `LicenseMachine.MaxRetryAfterMillis`), instead of an operation sleeping for
 * hours inside its own time bound.
 */
export const retrying =
  (options: RetryOptions = {}, observer?: NapObserver) =>
  <A, R>(effect: Effect.Effect<A, ApiError, R>): Effect.Effect<A, ApiError, R> =>
    Effect.retry(observer === undefined ? effect : Effect.andThen(Effect.sync(observer.working), effect), {
      schedule: observer === undefined ? schedule(options) : observed(schedule(options), observer),
      while: (error) => isTransient(error) && retryAfterMillis(error) <= MaxInOperationRetryAfterMillis
    })

/**
 * Told when a retry goes to sleep on the clock (and until when, epoch ms) and when the next attempt starts, so that
 * a simulation knows its client waits for virtual time rather than for I/O (`Licensing.quiet`).
 */
export interface NapObserver {
  /** A retry sleeps on the clock until `untilMillis` (epoch milliseconds). */
  readonly napping: (untilMillis: number) => void
  /** The sleep ended and the next attempt runs in real time. */
  readonly working: () => void
}

/** `schedule`, reporting each wait to `observer` before it is slept. */
export const observed = <Out, In, E, R>(
  schedule: Schedule.Schedule<Out, In, E, R>,
  observer: NapObserver
): Schedule.Schedule<Out, In, E, R> =>
  Schedule.modifyDelay(schedule, ({ duration, now }) =>
    Effect.sync(() => {
      observer.napping(now + Duration.toMillis(duration))
      return duration
    })
  )
