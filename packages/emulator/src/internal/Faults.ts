/**
 * Fault injection for `/v3/` requests: picking the fault that applies to a request (the first one registered
 * that matches its method, path prefix and time window), spending one of its uses, and building the answer a
 * `status` or `malformed` fault gives.
 */
import { json } from "./Http.ts"
import type { Fault, Store } from "./Store.ts"

/** Finds the fault for this request and spends one of its uses; a spent fault is removed. */
export const takeFault = (store: Store, method: string, path: string, now: number): Fault | undefined => {
  const fault = store.faults.find(
    (candidate) =>
      (candidate.method === null || candidate.method === method) &&
      (candidate.pathPrefix === null || path.startsWith(candidate.pathPrefix)) &&
      (candidate.from === null || now >= candidate.from) &&
      (candidate.until === null || now < candidate.until)
  )
  if (fault === undefined) return undefined
  if (fault.remaining !== null) {
    fault.remaining -= 1
    if (fault.remaining <= 0) store.faults = store.faults.filter((candidate) => candidate !== fault)
  }
  return fault
}

/** The answer of a `status` fault: its status (default 503), its body, and `Retry-After` when set. */
export const statusAnswer = (fault: Fault): Response => {
  const status = fault.status ?? 503
  const headers: Record<string, string> = fault.retryAfter === null ? {} : { "retry-after": String(fault.retryAfter) }
  if (typeof fault.body === "string") {
    return new Response(fault.body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } })
  }
  return json(status, fault.body ?? { message: `Injected fault: status ${status}` }, headers)
}

/**
 * The answer of a `malformed` fault: a JSON content type over a body that is not what the client expects, with
 * status 200 unless told otherwise. A string body is sent verbatim, any other body as JSON (well-formed but of
 * the wrong shape), and without a body the answer is a truncated activation answer.
 */
export const malformedAnswer = (fault: Fault): Response =>
  new Response(
    typeof fault.body === "string"
      ? fault.body
      : fault.body === undefined
        ? '{"activationToken":"eyJhbGciOi'
        : JSON.stringify(fault.body),
    { status: fault.status ?? 200, headers: { "content-type": "application/json; charset=utf-8" } }
  )
