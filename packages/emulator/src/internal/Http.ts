/**
 * Web-standard request/response plumbing shared by the Cryptlex and admin routes: JSON answers, the error bodies
 * of both APIs, a body reader that enforces the size limit while streaming, and schema decoding that turns a
 * schema issue into a message naming the field, what was expected and what came.
 *
 * A route refuses a request by throwing a {@link Refusal}: the dispatcher catches it and answers with its
 * response. Throwing keeps each route a straight line of checks; nothing outside the dispatcher ever sees one.
 */
import * as Result from "effect/Result"
import type * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import * as SchemaParser from "effect/SchemaParser"
import {
  type LoginErrorCode,
  MaxBodyBytes,
  type ReleaseErrorCode,
  type ServerErrorCode
} from "@licensure/core/Protocol"
import { ErrorStatus, MoreErrorStatus } from "../ErrorStatus.ts"

/** A finished answer a route gives up with; caught by the dispatcher, never by the host application. */
export class Refusal {
  readonly response: Response
  constructor(response: Response) {
    this.response = response
  }
}

export const json = (status: number, body: unknown, headers?: Record<string, string>): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers }
  })

export const empty = (status: number): Response => new Response(null, { status })

/** A Cryptlex error answer: `{message, code}` with the status the emulator's single table gives the code. */
export const cryptlexError = (
  code: ServerErrorCode | LoginErrorCode | ReleaseErrorCode,
  message: string,
  status?: number
): Refusal =>
  new Refusal(
    json(
      status ?? (code in ErrorStatus ? ErrorStatus[code as ServerErrorCode] : MoreErrorStatus[code as LoginErrorCode]),
      {
        message,
        code
      }
    )
  )

/** An answer without a code: malformed input (400), unknown things (404), conflicts (409). */
export const plainError = (status: number, message: string, headers?: Record<string, string>): Refusal =>
  new Refusal(json(status, { message }, headers))

/** Describes a JSON value's kind for "expected X, got Y" messages. */
export const describe = (value: unknown): string => {
  if (value === null) return "null"
  if (Array.isArray(value)) return "an array"
  if (typeof value === "string") {
    return value.length > 40 ? `a string of ${value.length} characters` : `the string ${JSON.stringify(value)}`
  }
  if (typeof value === "object") return "an object"
  if (typeof value === "undefined") return "nothing"
  return `the ${typeof value} ${String(value)}`
}

/**
 * Reads the whole body as JSON, refusing with 413 as soon as it passes {@link MaxBodyBytes} (a declared
 * Content-Length over the limit is refused before reading), and with 400 when it is empty or not JSON.
 */
export const readJson = async (request: Request): Promise<unknown> => {
  const declared = Number(request.headers.get("content-length") ?? "0")
  if (Number.isFinite(declared) && declared > MaxBodyBytes) throw tooLarge(declared)
  if (request.body === null) throw plainError(400, "Expected a JSON body, got an empty body")
  const reader = request.body.getReader()
  const chunks: Array<Uint8Array> = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MaxBodyBytes) {
      // Stop reading: the rest of an oversize body is never wanted.
      reader.cancel().catch(() => undefined)
      throw tooLarge(size)
    }
    chunks.push(value)
  }
  const text = Buffer.concat(chunks).toString("utf8")
  if (text.trim() === "") throw plainError(400, "Expected a JSON body, got an empty body")
  try {
    return JSON.parse(text)
  } catch (error) {
    throw plainError(400, `Expected a JSON body, got invalid JSON (${(error as Error).message})`)
  }
}

const tooLarge = (size: number): Refusal =>
  plainError(413, `Expected a body of at most ${MaxBodyBytes} bytes, got ${size} bytes or more`)

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

const valueAt = (root: unknown, path: ReadonlyArray<PropertyKey>): unknown => {
  let current: unknown = root
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined
    current = (current as Record<PropertyKey, unknown>)[key]
  }
  return current
}

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : out === "" ? String(key) : `${out}.${String(key)}`),
    ""
  )

/** Decodes `input` with `schema`, refusing with 400 and a message per bad field ("fingerprint: Expected string, got the number 5"). */
export const decodeOrRefuse = <S extends Schema.Top & { readonly DecodingServices: never }>(
  schema: S,
  input: unknown,
  what: string
): S["Type"] => {
  const result = SchemaParser.decodeUnknownResult(schema)(input, { errors: "all" })
  if (Result.isSuccess(result)) return result.success
  const problems = formatIssues(result.failure).issues.map((issue) => {
    const path = (issue.path ?? []).map((segment) => (typeof segment === "object" ? segment.key : segment))
    const where = formatPath(path)
    const got =
      issue.message === "Missing key" || issue.message.includes(", got ")
        ? ""
        : `, got ${describe(valueAt(input, path))}`
    const message = issue.message === "Missing key" ? "Missing (required)" : `${issue.message}${got}`
    return where === "" ? message : `${where}: ${message}`
  })
  throw plainError(400, `Invalid ${what}: ${problems.join("; ")}`)
}
