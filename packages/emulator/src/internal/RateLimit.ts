/**
 * Cryptlex's rate limit on the `/v3/` routes (reference-client.md row 23, [REF] `introduction`): a fixed
 * window of `requests` per `windowSeconds` per client IP, timed on the emulator's own clock (so a test moves
 * time with `clock.advance` instead of sleeping). Every `/v3/` answer carries `X-Rate-Limit-Limit`,
 * `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset`; a request over the limit gets 429 `{message}` with
 * `Retry-After` and the same headers. `/__admin/` is never limited.
 */
import { json } from "./Http.ts"

export interface RateLimitPolicy {
  readonly requests: number
  readonly windowSeconds: number
}

/** Cryptlex's documented numbers: 50 requests per 5 seconds per IP (reference-client.md row 23). */
export const CryptlexRateLimit: RateLimitPolicy = { requests: 50, windowSeconds: 5 }

export interface RateDecision {
  /** True when the request is over the limit and must be answered with {@link tooManyRequests}. */
  readonly limited: boolean
  readonly headers: Record<string, string>
}

interface Window {
  start: number
  count: number
}

export interface RateLimiter {
  /** Counts one request from `clientIp` at `now` (epoch ms on the emulator's clock) and decides on it. */
  readonly take: (clientIp: string, now: number) => RateDecision
}

export const makeRateLimiter = (policy: RateLimitPolicy): RateLimiter => {
  const windows = new Map<string, Window>()
  const windowMs = policy.windowSeconds * 1000
  return {
    take: (clientIp, now) => {
      let window = windows.get(clientIp)
      // A clock set backwards (manual clock) also starts a fresh window.
      if (window === undefined || now >= window.start + windowMs || now < window.start) {
        window = { start: now, count: 0 }
        windows.set(clientIp, window)
      }
      const limited = window.count >= policy.requests
      // DECISION: a refused request does not use up the window (only served requests count), so a client that
      // keeps retrying before the reset is refused until the reset and not longer.
      if (!limited) window.count += 1
      /**
       * DECISION: `X-Rate-Limit-Reset` holds the whole seconds until the window resets (at least 1), not an epoch
       * time. Evidence: core's `parseRateLimitReset` (packages/core/src/LicenseApi.ts) reads a value up to one day
       * as seconds to wait and only a larger number as epoch seconds counted from the server's `Date` header; the
       * emulator's clock (manual or a TestClock) is not the wall clock that node:http puts in `Date`, so an epoch
       * value would be misread, while delay seconds mean the same to every reader. `Retry-After` on a 429 carries
       * the same number.
       */
      const reset = Math.max(1, Math.ceil((window.start + windowMs - now) / 1000))
      return {
        limited,
        headers: {
          "x-rate-limit-limit": String(policy.requests),
          "x-rate-limit-remaining": String(Math.max(0, policy.requests - window.count)),
          "x-rate-limit-reset": String(reset)
        }
      }
    }
  }
}

/** The 429 answer for a request over the limit: `{message}`, `Retry-After` (seconds) and the rate headers. */
export const tooManyRequests = (policy: RateLimitPolicy, decision: RateDecision): Response =>
  json(
    429,
    {
      message: `Too many requests: at most ${policy.requests} per ${policy.windowSeconds} s per client; retry in ${decision.headers["x-rate-limit-reset"]} s`
    },
    { ...decision.headers, "retry-after": decision.headers["x-rate-limit-reset"]! }
  )

/** The same answer with the rate headers added (a new Response, as a fetched one may have immutable headers). */
export const withHeaders = (response: Response, headers: Record<string, string>): Response => {
  const merged = new Headers(response.headers)
  for (const [name, value] of Object.entries(headers)) merged.set(name, value)
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: merged })
}
