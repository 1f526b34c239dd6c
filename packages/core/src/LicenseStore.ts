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

export const RecordVersion = 1

export const StoredRecord = Schema.Struct({
  version: Schema.Literal(RecordVersion),
  productId: Schema.NonEmptyString,
  kind: Schema.Literals(["activation", "trial"]),
  /** The licence key; absent for a trial. */
  key: Schema.optionalKey(Schema.String),
  /** The raw activation (or trial activation) token, as the server sent it. */
  token: Schema.NonEmptyString,
  fingerprint: Schema.NonEmptyString,
  components: Schema.Array(FingerprintComponent),
  /** Epoch milliseconds: the latest time this client has seen, never moved backwards. */
  lastSeenAt: Schema.Int,
  /** Epoch milliseconds of the last successful server sync. */
  lastSyncedAt: Schema.Int,
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

export interface LicenseStoreService {
  readonly load: Effect.Effect<Option.Option<StoredRecord>, StoreError>
  readonly save: (record: StoredRecord) => Effect.Effect<void, StoreError>
  readonly clear: Effect.Effect<void, StoreError>
}

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
      })
    })
  })
}

export const decodeStoredRecord = Schema.decodeUnknownEffect(StoredRecord)
