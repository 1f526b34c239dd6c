/**
 * What the emulator's tests share: request bodies a client would send, calls to the Cryptlex endpoints over
 * real HTTP, and token checking the way a client does it (signature with the product's PEM, then the Protocol
 * schema).
 */
import { Schema } from "effect"
import { importSPKI, jwtVerify, decodeProtectedHeader } from "jose"
import {
  type ActivationClaims,
  type ActivationRequest,
  ActivationTokenClaims,
  type DeactivationRequest,
  Endpoints,
  lenientPayload,
  type TrialActivationRequest,
  type TrialClaims,
  TrialTokenClaims
} from "@licensure/core/Protocol"

export const fingerprintOf = (machine: string): string =>
  Buffer.from(machine.padEnd(32, ".")).toString("hex").slice(0, 64)

export const activationBody = (
  key: string,
  productId: string,
  extra: Partial<ActivationRequest> = {}
): ActivationRequest => ({
  key,
  productId,
  fingerprint: fingerprintOf("machine-a"),
  hostname: "build-01",
  appVersion: "1.2.3",
  os: "linux",
  userHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  ...extra
})

export const trialBody = (productId: string, extra: Partial<TrialActivationRequest> = {}): TrialActivationRequest => ({
  productId,
  fingerprint: fingerprintOf("machine-a"),
  hostname: "build-01",
  appVersion: "1.2.3",
  os: "linux",
  userHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  ...extra
})

export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: any
}

/** One JSON call over real HTTP; the body is parsed when there is one. */
export const call = async (
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {}
): Promise<Answer> => {
  const response = await fetch(new URL(path, base), {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text === "" ? undefined : JSON.parse(text) }
}

export const activate = (base: string, body: unknown) => call(base, "POST", Endpoints.activate(), body)
export const sync = (base: string, id: string, body: unknown) => call(base, "PATCH", Endpoints.sync(id), body)
/** What LexActivator 3.34 posts to deactivate (reference-client.md row 4): the activation's machine fields. */
export const deactivationBody = (productId: string, extra: Partial<DeactivationRequest> = {}): DeactivationRequest => ({
  productId,
  accountId: "",
  fingerprint: fingerprintOf("machine-a"),
  os: "linux",
  userHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  ...extra
})

export const deactivate = (base: string, id: string, body: unknown) =>
  call(base, "POST", Endpoints.deactivate(id), body)
export const activateTrial = (base: string, body: unknown) => call(base, "POST", Endpoints.activateTrial(), body)
export const syncTrial = (base: string, id: string, body: unknown) => call(base, "PATCH", Endpoints.syncTrial(id), body)

/**
 * Verifies an activation token like a client: RS256 only, the product's public key, then core's `lenientPayload`
 * (a `null` claim is absent, as for `name: null` on a licence without a user) and the claims schema.
 */
export const verifyActivation = async (token: string, publicKeyPem: string): Promise<ActivationClaims> => {
  const header = decodeProtectedHeader(token)
  if (header.alg !== "RS256" || header.typ !== "JWT") throw new Error(`unexpected header ${JSON.stringify(header)}`)
  const { payload } = await jwtVerify(token, await importSPKI(publicKeyPem, "RS256"), { algorithms: ["RS256"] })
  return Schema.decodeUnknownSync(ActivationTokenClaims)(lenientPayload(payload))
}

/** The token's payload as signed (no decoding), to look at the wire shape of its claims. */
export const rawPayload = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"))

export const verifyTrial = async (token: string, publicKeyPem: string): Promise<TrialClaims> => {
  const { payload } = await jwtVerify(token, await importSPKI(publicKeyPem, "RS256"), { algorithms: ["RS256"] })
  return Schema.decodeUnknownSync(TrialTokenClaims)(payload)
}
