/**
 * A fast path in front of the token claim schemas (`ActivationTokenClaims`, `TrialTokenClaims` in Protocol.ts):
 * a plain function per schema that either returns exactly what the schema's decode returns, or `undefined` when
 * it is not sure. It never refuses anything: `undefined` sends the payload to the schema, which stays the only
 * validator and the only source of errors (what was expected, what came). The schemas' own decode walks the AST
 * through Effect for each of the 34–46 claims, about 20 µs warm and 40–60 µs on a start-up's cold code; this is
 * one pass over a field table.
 *
 * The tables below restate the schemas field by field (wire name, readable name, check, absent rule) in the
 * schemas' own order, so the output's keys come in the same order. `ClaimsFastPath.test.ts` proves with fast-check
 * that for any input the answer is `undefined` or deep-equal (and JSON-equal) to the schema's success, and that
 * well-formed payloads do take the fast path; a schema changed without this table falls back or fails that test.
 *
 * @since 0.4.0
 */
import { MetadataKeyMaxLength, MetadataValueMaxLength } from "../Protocol.ts"

/** A field's reading: the decoded value, or {@link unsure} (the schema decides). */
type Read = (value: unknown) => unknown

const unsure: unique symbol = Symbol("unsure")

/** How an absent key reads: left out (`optionalKey`), `unsure` (required: the schema refuses it), or a default. */
type Absent = "omit" | "required" | { readonly default: () => unknown }

type Field = readonly [wire: string, name: string, read: Read, absent: Absent]

// Only plain data: anything with another prototype (a class instance, an object whose properties are inherited)
// is left to the schema, which reads inherited properties too.
const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== "object") return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

const string: Read = (v) => (typeof v === "string" ? v : unsure)
const nonEmpty: Read = (v) => (typeof v === "string" && v.length > 0 ? v : unsure)
const int: Read = (v) => (Number.isSafeInteger(v) ? v : unsure)
const boolean: Read = (v) => (typeof v === "boolean" ? v : unsure)
const literals =
  (...allowed: ReadonlyArray<string>): Read =>
  (v) =>
    typeof v === "string" && allowed.includes(v) ? v : unsure
const nullOr =
  (read: Read): Read =>
  (v) =>
    v === null ? null : read(v)

/** A struct: a plain object, each field read in order, unknown keys dropped (the schemas' default). */
const struct =
  (fields: ReadonlyArray<Field>) =>
  (value: unknown): unknown => {
    if (!isPlainObject(value)) return unsure
    const out: Record<string, unknown> = {}
    for (const [wire, name, read, absent] of fields) {
      if (!Object.hasOwn(value, wire)) {
        if (absent === "omit") continue
        if (absent === "required") return unsure
        out[name] = absent.default()
        continue
      }
      const decoded = read(value[wire])
      if (decoded === unsure) return unsure
      out[name] = decoded
    }
    return out
  }

const array =
  (item: Read): Read =>
  (value) => {
    if (!Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype) return unsure
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) {
      const decoded = item(value[i])
      if (decoded === unsure) return unsure
      out[i] = decoded
    }
    return out
  }

/** Same-named fields of a nested struct. */
const plain = (name: string, read: Read, absent: Absent): Field => [name, name, read, absent]

const metadataEntry = struct([
  plain(
    "key",
    (v) => (typeof v === "string" && v.length >= 1 && v.length <= MetadataKeyMaxLength ? v : unsure),
    "required"
  ),
  plain("value", (v) => (typeof v === "string" && v.length <= MetadataValueMaxLength ? v : unsure), "required")
])
const licenseMeterAttribute = struct([
  plain("id", string, "omit"),
  plain("name", string, "required"),
  plain("allowedUses", int, "required"),
  plain("totalUses", int, "required"),
  plain("grossUses", int, "omit")
])
const activationMeterAttribute = struct([plain("name", string, "required"), plain("uses", int, "required")])
const organizationAddress = struct(
  ["addressLine1", "addressLine2", "city", "state", "country", "postalCode"].map((name) =>
    plain(name, nullOr(string), "omit")
  )
)
const orgAddressOrString: Read = (v) => (typeof v === "string" ? v : organizationAddress(v))
const maintenancePolicy = struct([
  plain("allowMajorVersionUpdates", boolean, "omit"),
  plain("allowMinorVersionUpdates", boolean, "omit"),
  plain("validity", int, "omit")
])
const fingerprintMatchingStrategy = literals("exact", "fuzzy", "loose")

const zero = { default: () => 0 }
const emptyList = { default: () => [] }

/** `ActivationTokenClaims`, field for field (Protocol.ts `ActivationClaimFields` and `ClaimNames`). */
const activationFields: ReadonlyArray<Field> = [
  ["aid", "activationId", nonEmpty, "required"],
  ["lid", "licenseId", nonEmpty, "required"],
  ["pid", "productId", nonEmpty, "required"],
  ["key", "key", nonEmpty, "required"],
  ["fp", "fingerprint", nonEmpty, "required"],
  ["fms", "fingerprintMatchingStrategy", fingerprintMatchingStrategy, "omit"],
  ["os", "os", string, "omit"],
  [
    "type",
    "licenseType",
    literals("node-locked", "hosted-floating", "on-premise-floating"),
    { default: () => "node-locked" }
  ],
  ["iat", "issuedAt", int, "required"],
  ["eat", "expiresAt", int, zero],
  ["ssi", "serverSyncInterval", int, zero],
  ["ssgpeat", "serverSyncGraceExpiresAt", int, zero],
  ["aco", "allowedClockOffset", int, zero],
  ["leat", "leaseExpiresAt", int, zero],
  ["ld", "leaseDuration", int, zero],
  ["ls", "leasingStrategy", string, "omit"],
  ["orv", "offlineResponseValidity", int, "omit"],
  ["suspended", "suspended", boolean, { default: () => false }],
  ["name", "userName", string, "omit"],
  ["email", "userEmail", string, "omit"],
  ["company", "userCompany", string, "omit"],
  ["on", "organizationName", string, "omit"],
  ["oa", "organizationAddress", orgAddressOrString, "omit"],
  ["lcat", "licenseCreatedAt", int, "omit"],
  ["laat", "licenseActivatedAt", int, "omit"],
  ["acat", "activationCreatedAt", int, "omit"],
  ["aa", "allowedActivations", int, "omit"],
  ["ta", "totalActivations", int, "omit"],
  ["ad", "allowedDeactivations", int, "omit"],
  ["td", "totalDeactivations", int, "omit"],
  ["meat", "maintenanceExpiresAt", int, "omit"],
  ["marv", "maxAllowedReleaseVersion", string, "omit"],
  ["crv", "currentReleaseVersion", string, "omit"],
  ["mp", "maintenancePolicy", maintenancePolicy, "omit"],
  ["esn", "entitlementSetName", string, "omit"],
  ["esdn", "entitlementSetDisplayName", string, "omit"],
  ["est", "entitlementSetTier", int, "omit"],
  ["uh", "userHash", string, "omit"],
  ["ul", "userLocked", boolean, "omit"],
  ["fc", "floatingClients", int, "omit"],
  ["pmd", "productMetadata", array(metadataEntry), emptyList],
  ["lmd", "licenseMetadata", array(metadataEntry), emptyList],
  ["umd", "userMetadata", array(metadataEntry), emptyList],
  ["amd", "activationMetadata", array(metadataEntry), emptyList],
  ["lma", "licenseMeterAttributes", array(licenseMeterAttribute), emptyList],
  ["ama", "activationMeterAttributes", array(activationMeterAttribute), emptyList]
]

/** `TrialTokenClaims`, field for field (Protocol.ts `TrialClaimFields` and `TrialClaimNames`). */
const trialFields: ReadonlyArray<Field> = [
  ["aid", "trialActivationId", nonEmpty, "required"],
  ["pid", "productId", nonEmpty, "required"],
  ["fp", "fingerprint", nonEmpty, "required"],
  ["fms", "fingerprintMatchingStrategy", fingerprintMatchingStrategy, "omit"],
  ["os", "os", string, "omit"],
  ["uh", "userHash", string, "omit"],
  ["ul", "userLocked", boolean, "omit"],
  ["orv", "offlineResponseValidity", int, "omit"],
  ["iat", "issuedAt", int, "required"],
  ["eat", "expiresAt", int, zero],
  ["ssi", "serverSyncInterval", int, zero],
  ["ssgpeat", "serverSyncGraceExpiresAt", int, zero],
  ["aco", "allowedClockOffset", int, zero],
  ["pmd", "productMetadata", array(metadataEntry), emptyList],
  ["amd", "trialMetadata", array(metadataEntry), emptyList]
]

const readActivation = struct(activationFields)
const readTrial = struct(trialFields)

/**
 * What `Schema.decodeUnknown(ActivationTokenClaims)` returns for `payload`, or `undefined` when the schema must
 * decide (it may still accept: this path takes only the shapes it is sure of).
 */
export const activationClaims = (payload: unknown): unknown => {
  const out = readActivation(payload)
  return out === unsure ? undefined : out
}

/** What `Schema.decodeUnknown(TrialTokenClaims)` returns for `payload`, or `undefined` when the schema must decide. */
export const trialClaims = (payload: unknown): unknown => {
  const out = readTrial(payload)
  return out === unsure ? undefined : out
}
