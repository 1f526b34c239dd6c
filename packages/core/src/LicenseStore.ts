/**
 * Persistence of one licence record per (product, scope). Core defines the record, the errors and an in-memory
 * layer; `@licensure/node-runtime` provides the durable, encrypted file layer.
 *
 * A record holds the raw token (re-verified on every load: the store is not trusted), the key, the fingerprint
 * and components it was activated with, and the last-seen time (a high-water mark for the clock-rollback check).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { FingerprintComponent } from "./Fingerprint.ts"
import type { FailureInfo } from "./LicenseModel.ts"

/**
 * The record format this build writes and reads (`StoredRecord.version`); a stored record of another version is a
 * {@link StoreError} with reason `wrongVersion`, set aside rather than overwritten.
 */
export const RecordVersion = 1

/** Every `FailureInfo.kind`, as a schema (checked against the type below, so the two cannot drift apart). */
const FailureKind = Schema.Literals([
  "ServerRefused",
  "UnknownServerCode",
  "NotFound",
  "RateLimited",
  "ServerFailure",
  "NetworkFailure",
  "MalformedResponse",
  "TokenRejected",
  "StoreFailure",
  "FingerprintFailure",
  "LeaseLapsed",
  "ActivationCleared",
  "InternalError"
])
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never
const _failureKindsComplete: Same<typeof FailureKind.Type, FailureInfo["kind"]> = true
void _failureKindsComplete

/**
 * The last sync's failure, kept with the record so that the next process (`licensure status` after a failed
 * `licensure sync`, an app restarted during an outage) reports what the last one saw.
 *
 * DECISION: the record carries it as an optional field of version 1 rather than a version 2: a build without it
 * reads such a file as before (excess fields are ignored on decode), and a file without it is a record with no
 * failure. What a failed sync stored is never lost by reading it with an older build; it is only not shown.
 */
export const StoredSyncFailure = Schema.Struct({
  kind: FailureKind,
  code: Schema.optionalKey(Schema.String),
  /** The HTTP status of an answer without a code (`ServerFailure`), so a 4xx still reads as `LA_E_INET`. */
  status: Schema.optionalKey(Schema.Number),
  message: Schema.String,
  /** True when the failure was worth retrying (network, rate limit, server): the licence is then in grace. */
  transient: Schema.Boolean,
  retryAfterMillis: Schema.optionalKey(Schema.Number),
  /** Epoch milliseconds: when the failed sync wanted the next attempt. */
  nextSyncAt: Schema.optionalKey(Schema.Number)
})
export type StoredSyncFailure = typeof StoredSyncFailure.Type

/**
 * What a {@link LicenseStore} keeps for one (product, scope): the raw token, the key, the fingerprint and components
 * activated with, and the last-seen and last-synced times in epoch milliseconds. The token is re-verified on every
 * load; nothing here is trusted because it was stored.
 */
export const StoredRecord = Schema.Struct({
  version: Schema.Literal(RecordVersion),
  /** The Cryptlex product id the record belongs to; a record of another product is not this client's. */
  productId: Schema.NonEmptyString,
  /** Whether the token is a licence activation's or a trial activation's. */
  kind: Schema.Literals(["activation", "trial"]),
  /** The licence key; absent for a trial. */
  key: Schema.optionalKey(Schema.String),
  /** The raw activation (or trial activation) token, as the server sent it. */
  token: Schema.NonEmptyString,
  /** The fingerprint the activation was made with, compared with the machine's on every check. */
  fingerprint: Schema.NonEmptyString,
  /**
   * The fingerprint's component hashes at activation, for telling drift from another machine
   * (`FingerprintService.match`).
   */
  components: Schema.Array(FingerprintComponent),
  /** Epoch milliseconds: the latest time this client has seen, never moved backwards. */
  lastSeenAt: Schema.Int,
  /** Epoch milliseconds of the last successful server sync. */
  lastSyncedAt: Schema.Int,
  /** The last sync's failure, when the last sync failed (absent after a successful one). */
  lastSyncFailure: Schema.optionalKey(StoredSyncFailure),
  /**
   * The raw feature-entitlements token, as the server sent it (re-verified on load). Optional, so records written
   * before entitlements were kept still load, as the same version.
   */
  featureEntitlementsToken: Schema.optionalKey(Schema.NonEmptyString)
})
export type StoredRecord = typeof StoredRecord.Type

/**
 * Why the store could not do what was asked. `corrupt` (truncated or garbled), `foreign` (another machine's or
 * product's file: it does not decrypt here), `wrongVersion` (a format this build does not read) leave the file
 * set aside at `quarantinedTo`; `io` is the operating system's refusal; `locked` is another writer holding on.
 */
export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  reason: Schema.Literals(["corrupt", "foreign", "wrongVersion", "io", "locked"]),
  message: Schema.String,
  quarantinedTo: Schema.optionalKey(Schema.String)
}) {}

/** The {@link LicenseStore} service's shape: one record, loaded, replaced or cleared as a whole. */
export interface LicenseStoreService {
  /**
   * The stored record, or none when nothing is stored; fails with {@link StoreError} when the file is corrupt,
   * foreign, of another version (each set aside), unreadable or locked.
   */
  readonly load: Effect.Effect<Option.Option<StoredRecord>, StoreError>
  /**
   * Replaces the record atomically: after a crash the old record or the new one is there, never half of either. Fails
   * with {@link StoreError} (`io`, `locked`) and then leaves the old record in place.
   */
  readonly save: (record: StoredRecord) => Effect.Effect<void, StoreError>
  /** Removes the record (after deactivation); clearing an empty store succeeds. */
  readonly clear: Effect.Effect<void, StoreError>
  /**
   * Writes `next` (a save, or a clear for none) only if what the store holds passes `expected`, the read and the
   * write done as one step (under the file store's writer lock): what another process wrote in between cannot be
   * replaced unseen. A file that holds no usable record passes (it is set aside, as `load` does, then written).
   * Optional: a store without it is written unchecked (see `RecordWriter`).
   */
  readonly update?: (
    expected: (current: Option.Option<StoredRecord>) => boolean,
    next: Option.Option<StoredRecord>
  ) => Effect.Effect<StoreUpdate, StoreError>
}

/** What {@link LicenseStoreService.update} did: wrote, or kept what the store holds because it failed the test. */
export type StoreUpdate =
  | { readonly _tag: "Written" }
  | { readonly _tag: "Kept"; readonly current: Option.Option<StoredRecord> }

/**
 * Where a licensing client keeps its record between runs. `layerMemory` here keeps it in the process;
 * `@licensure/node-runtime` provides the durable encrypted file.
 * @example Effect.provide(program, LicenseStore.layerMemory)
 */
export class LicenseStore extends Context.Service<LicenseStore, LicenseStoreService>()("@licensure/core/LicenseStore") {
  /** Keeps the record in this process only (LexActivator's `LA_IN_MEMORY`). */
  static readonly layerMemory: Layer.Layer<LicenseStore> = Layer.sync(LicenseStore, () => {
    let current: Option.Option<StoredRecord> = Option.none()
    return LicenseStore.of({
      load: Effect.sync(() => current),
      save: (record) =>
        Effect.sync(() => {
          current = Option.some(record)
        }),
      clear: Effect.sync(() => {
        current = Option.none()
      }),
      update: (expected, next) =>
        Effect.sync((): StoreUpdate => {
          if (!expected(current)) return { _tag: "Kept", current }
          current = next
          return { _tag: "Written" }
        })
    })
  })
}

/**
 * Decodes an unknown value (a file's decrypted JSON) as a {@link StoredRecord}; fails with Effect's `SchemaError`
 * saying which field was wrong. A store layer reports such a record as a `corrupt` {@link StoreError}, as the file
 * store does.
 */
export const decodeStoredRecord = Schema.decodeUnknownEffect(StoredRecord)
