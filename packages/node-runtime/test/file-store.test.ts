import { spawnSync } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { LicenseStore, type StoredRecord, type StoreError } from "@licensure/core/LicenseStore"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { makeStoreCipher } from "../src/internal/StoreCipher.ts"
import * as NodeFileStore from "../src/NodeFileStore.ts"
import { fingerprint, otherFingerprint, productId, recordFor } from "./fixtures/records.ts"

const temporaryDirectory = Effect.acquireRelease(
  Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "licensure-store-"))),
  (directory) => Effect.sync(() => NodeFs.rmSync(directory, { recursive: true, force: true }))
)

const storeIn = (directory: string, options: Partial<NodeFileStore.NodeFileStoreOptions> = {}) => {
  const full = { productId, fingerprint, directory, ...options }
  return { store: NodeFileStore.make(full), path: NodeFileStore.filePath(full) }
}

const modeOf = (path: string) => NodeFs.statSync(path).mode & 0o777

/** Seals arbitrary plaintext exactly as the store would, to build files with valid encryption but bad contents. */
const sealAs = (plaintext: string) => makeStoreCipher(fingerprint, productId).seal(Buffer.from(plaintext, "utf8"))

const expectFailure = <A>(effect: Effect.Effect<A, StoreError>): Effect.Effect<StoreError, A> => Effect.flip(effect)

describe("NodeFileStore", () => {
  it.effect("loads nothing when no file was ever written", () =>
    Effect.gen(function* () {
      const { store, path } = storeIn(yield* temporaryDirectory)
      assert.isTrue(Option.isNone(yield* store.load))
      assert.isFalse(NodeFs.existsSync(path))
    })
  )

  it.effect("saves a record and loads it back, encrypted at rest under the LCNS header", () =>
    Effect.gen(function* () {
      const { store, path } = storeIn(yield* temporaryDirectory)
      const record = recordFor("w", 7)
      yield* store.save(record)
      assert.deepStrictEqual(yield* store.load, Option.some(record))
      const bytes = NodeFs.readFileSync(path)
      assert.strictEqual(bytes.subarray(0, 4).toString("latin1"), "LCNS")
      assert.strictEqual(bytes[4], 1)
      assert.isFalse(bytes.includes(Buffer.from(record.token.slice(0, 32))), "the token must not be in the clear")
      assert.isFalse(bytes.includes(Buffer.from(record.key!)), "the key must not be in the clear")
    })
  )

  it.effect("names the file <productId>.<scope>.lic in the directory it is given", () =>
    Effect.gen(function* () {
      const directory = yield* temporaryDirectory
      const { store, path } = storeIn(directory, { scope: "system" })
      yield* store.save(recordFor("w", 1))
      assert.strictEqual(path, NodePath.join(directory, `${productId}.system.lic`))
      assert.isTrue(NodeFs.existsSync(path))
    })
  )

  it.effect("uses a fresh IV for every write", () =>
    Effect.gen(function* () {
      const { store, path } = storeIn(yield* temporaryDirectory)
      yield* store.save(recordFor("w", 1))
      const first = NodeFs.readFileSync(path)
      yield* store.save(recordFor("w", 1))
      const second = NodeFs.readFileSync(path)
      assert.strictEqual(first.length, second.length)
      assert.isFalse(first.subarray(13, 25).equals(second.subarray(13, 25)), "the IV repeated")
      assert.isFalse(first.equals(second))
    })
  )

  it.effect("writes the file with mode 0600 and creates missing directories with mode 0700", () =>
    Effect.gen(function* () {
      const root = yield* temporaryDirectory
      const directory = NodePath.join(root, "created", "here")
      const previousUmask = process.umask(0o000)
      try {
        const { store, path } = storeIn(directory)
        yield* store.save(recordFor("w", 1))
        assert.strictEqual(modeOf(path), 0o600)
        assert.strictEqual(modeOf(directory), 0o700)
        assert.strictEqual(modeOf(NodePath.join(root, "created")), 0o700)
      } finally {
        process.umask(previousUmask)
      }
    })
  )

  it.effect("leaves the mode of a directory that already existed alone", () =>
    Effect.gen(function* () {
      const directory = yield* temporaryDirectory
      NodeFs.chmodSync(directory, 0o755)
      const { store, path } = storeIn(directory)
      yield* store.save(recordFor("w", 1))
      assert.strictEqual(modeOf(directory), 0o755)
      assert.strictEqual(modeOf(path), 0o600)
    })
  )

  it.effect("clears the record, and clearing nothing is not an error", () =>
    Effect.gen(function* () {
      const { store, path } = storeIn(yield* temporaryDirectory)
      yield* store.clear
      yield* store.save(recordFor("w", 1))
      yield* store.clear
      assert.isFalse(NodeFs.existsSync(path))
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.effect("serves the LicenseStore service through its layer", () =>
    Effect.gen(function* () {
      const directory = yield* temporaryDirectory
      const loaded = yield* Effect.gen(function* () {
        const store = yield* LicenseStore
        yield* store.save(recordFor("layer", 3))
        return yield* store.load
      }).pipe(Effect.provide(NodeFileStore.layer({ productId, fingerprint, directory })))
      assert.deepStrictEqual(loaded, Option.some(recordFor("layer", 3)))
    })
  )

  it.effect("lets many in-process saves run at once and ends with one of them, whole", () =>
    Effect.gen(function* () {
      const { store } = storeIn(yield* temporaryDirectory)
      yield* Effect.all(
        Array.from({ length: 20 }, (_, i) => store.save(recordFor("many", i + 1))),
        { concurrency: "unbounded" }
      )
      const loaded = Option.getOrThrow(yield* store.load)
      assert.deepStrictEqual(loaded, recordFor("many", loaded.lastSeenAt))
    })
  )

  describe("an unusable file is set aside with a typed reason, and the next save starts clean", () => {
    const cases: ReadonlyArray<{
      readonly name: string
      readonly reason: StoreError["reason"]
      readonly says: RegExp
      readonly spoil: (path: string, directory: string) => Effect.Effect<void, StoreError>
    }> = [
      {
        name: "truncated",
        reason: "corrupt",
        says: /truncated: the header declares \d+ bytes of ciphertext, \d+ are present/,
        spoil: (path) => Effect.sync(() => NodeFs.writeFileSync(path, NodeFs.readFileSync(path).subarray(0, -40)))
      },
      {
        name: "truncated inside the header",
        reason: "corrupt",
        says: /truncated: 20 bytes, expected at least 45/,
        spoil: (path) => Effect.sync(() => NodeFs.writeFileSync(path, NodeFs.readFileSync(path).subarray(0, 20)))
      },
      {
        name: "empty",
        reason: "corrupt",
        says: /the file is empty/,
        spoil: (path) => Effect.sync(() => NodeFs.writeFileSync(path, ""))
      },
      {
        name: "garbled bytes",
        reason: "corrupt",
        says: /altered: .*authentication failed/,
        spoil: (path) =>
          Effect.sync(() => {
            const bytes = NodeFs.readFileSync(path)
            for (let i = 100; i < 110; i++) bytes[i] ^= 0x5a
            NodeFs.writeFileSync(path, bytes)
          })
      },
      {
        name: "not our magic",
        reason: "corrupt",
        says: /expected the magic bytes "LCNS", found "\{"ke"/,
        spoil: (path) => Effect.sync(() => NodeFs.writeFileSync(path, JSON.stringify({ key: "plain text licence" })))
      },
      {
        name: "binary junk",
        reason: "corrupt",
        says: /expected the magic bytes "LCNS", found bytes 0x00ff1020/,
        spoil: (path) => Effect.sync(() => NodeFs.writeFileSync(path, Buffer.from([0, 255, 16, 32, 64, 128])))
      },
      {
        name: "written on another machine (other fingerprint)",
        reason: "foreign",
        says: /written on another machine or for another product/,
        spoil: (_, directory) =>
          NodeFileStore.make({ productId, fingerprint: otherFingerprint, directory }).save(recordFor("elsewhere", 1))
      },
      {
        name: "a newer store format",
        reason: "wrongVersion",
        says: /store format version 2; this build reads version 1/,
        spoil: (path) =>
          Effect.sync(() => {
            const bytes = NodeFs.readFileSync(path)
            bytes[4] = 2
            NodeFs.writeFileSync(path, bytes)
          })
      },
      {
        name: "a record of another version",
        reason: "wrongVersion",
        says: /the record has version 2; this build reads record version 1/,
        spoil: (path) =>
          Effect.sync(() => NodeFs.writeFileSync(path, sealAs(JSON.stringify({ ...recordFor("w", 1), version: 2 }))))
      },
      {
        name: "a record that fails the schema",
        reason: "corrupt",
        says: /does not match StoredRecord: .*lastSeenAt/s,
        spoil: (path) =>
          Effect.sync(() =>
            NodeFs.writeFileSync(path, sealAs(JSON.stringify({ ...recordFor("w", 1), lastSeenAt: "x" })))
          )
      },
      {
        name: "contents that are not JSON",
        reason: "corrupt",
        says: /the decrypted contents are not JSON/,
        spoil: (path) => Effect.sync(() => NodeFs.writeFileSync(path, sealAs("{ not json")))
      }
    ]

    for (const testCase of cases) {
      it.effect(`${testCase.name}: reason ${testCase.reason}`, () =>
        Effect.gen(function* () {
          const directory = yield* temporaryDirectory
          const { store, path } = storeIn(directory)
          yield* store.save(recordFor("good", 1))
          yield* testCase.spoil(path, directory)
          const spoiled = NodeFs.readFileSync(path)

          const error = yield* expectFailure(store.load)
          assert.strictEqual(error._tag, "StoreError")
          assert.strictEqual(error.reason, testCase.reason)
          assert.match(error.message, testCase.says)
          assert.include(error.message, path)
          const aside = error.quarantinedTo
          assert.isDefined(aside)
          // The timestamp comes from Effect's Clock (the TestClock stands at the epoch here).
          assert.match(aside!, /\.lic\.corrupt-19700101T000000000Z-[0-9a-f]{8}$/)
          assert.include(error.message, aside!)
          assert.isTrue(NodeFs.readFileSync(aside!).equals(spoiled), "the bad file is kept, byte for byte")
          assert.isFalse(NodeFs.existsSync(path))

          assert.isTrue(Option.isNone(yield* store.load))
          yield* store.save(recordFor("fresh", 2))
          assert.deepStrictEqual(yield* store.load, Option.some(recordFor("fresh", 2)))
          assert.isTrue(NodeFs.readFileSync(aside!).equals(spoiled), "the next save leaves the kept file alone")
        })
      )
    }

    it.effect("a file copied from another product's store does not open as this product's: reason foreign", () =>
      Effect.gen(function* () {
        const directory = yield* temporaryDirectory
        const otherProduct = "0b9d0a3c-1111-4222-8333-944455556666"
        const other = storeIn(directory, { productId: otherProduct })
        yield* other.store.save({ ...recordFor("other", 1), productId: otherProduct })
        const { store, path } = storeIn(directory)
        NodeFs.copyFileSync(other.path, path)
        const error = yield* expectFailure(store.load)
        assert.strictEqual(error.reason, "foreign")
        assert.isDefined(error.quarantinedTo)
      })
    )
  })

  it.effect("refuses to save a record that does not match StoredRecord, and keeps the stored one", () =>
    Effect.gen(function* () {
      const { store } = storeIn(yield* temporaryDirectory)
      yield* store.save(recordFor("good", 1))
      const bad = { ...recordFor("bad", 2), lastSeenAt: 1.5 } as StoredRecord
      const error = yield* expectFailure(store.save(bad))
      assert.strictEqual(error.reason, "corrupt")
      assert.match(error.message, /refusing to save a record that does not match StoredRecord: .*lastSeenAt/s)
      assert.deepStrictEqual(yield* store.load, Option.some(recordFor("good", 1)))
    })
  )

  describe("update: the test and the write under one hold of the lock", () => {
    const holds = (token: string) => (current: Option.Option<StoredRecord>) =>
      Option.isSome(current) && current.value.token === token
    const holdsNothing = (current: Option.Option<StoredRecord>) => Option.isNone(current)

    it.effect("writes the record, or clears it, when what the file holds passes the test", () =>
      Effect.gen(function* () {
        const { store, path } = storeIn(yield* temporaryDirectory)
        const first = recordFor("a", 1)
        assert.deepStrictEqual(yield* store.update!(holdsNothing, Option.some(first)), { _tag: "Written" })
        const second = recordFor("b", 2)
        assert.deepStrictEqual(yield* store.update!(holds(first.token), Option.some(second)), { _tag: "Written" })
        assert.deepStrictEqual(yield* store.load, Option.some(second))
        assert.deepStrictEqual(yield* store.update!(holds(second.token), Option.none()), { _tag: "Written" })
        assert.isFalse(NodeFs.existsSync(path))
      })
    )

    it.effect("keeps what the file holds, and answers it, when it fails the test", () =>
      Effect.gen(function* () {
        const { store } = storeIn(yield* temporaryDirectory)
        const theirs = recordFor("theirs", 2)
        yield* store.save(theirs)
        const kept = yield* store.update!(holds("mine"), Option.some(recordFor("mine", 3)))
        assert.deepStrictEqual(kept, { _tag: "Kept", current: Option.some(theirs) })
        assert.deepStrictEqual(yield* store.update!(holds("mine"), Option.none()), kept)
        assert.deepStrictEqual(yield* store.load, Option.some(theirs))
        // A cleared file fails a test that expects a record: nothing is written back.
        yield* store.clear
        const none = yield* store.update!(holds("theirs"), Option.some(recordFor("mine", 4)))
        assert.deepStrictEqual(none, { _tag: "Kept", current: Option.none() })
        assert.isTrue(Option.isNone(yield* store.load))
      })
    )

    it.effect("sets an unusable file aside, then writes: it is no process's record", () =>
      Effect.gen(function* () {
        const directory = yield* temporaryDirectory
        const { store, path } = storeIn(directory)
        NodeFs.mkdirSync(directory, { recursive: true })
        NodeFs.writeFileSync(path, sealAs("{ not json"))
        const mine = recordFor("mine", 5)
        assert.deepStrictEqual(yield* store.update!(holdsNothing, Option.some(mine)), { _tag: "Written" })
        assert.deepStrictEqual(yield* store.load, Option.some(mine))
        const aside = NodeFs.readdirSync(directory).filter((name) => name.includes(".corrupt-"))
        assert.strictEqual(aside.length, 1, "the unusable file was not kept aside")
      })
    )
  })

  describe("the writer lock", () => {
    const writeLock = (path: string, content: object) => NodeFs.writeFileSync(`${path}.lock`, JSON.stringify(content))

    it.effect("fails a save with reason locked while a live process holds the lock", () =>
      Effect.gen(function* () {
        const { store, path } = storeIn(yield* temporaryDirectory, { lockTimeoutMillis: 100 })
        yield* store.save(recordFor("before", 1))
        writeLock(path, { pid: process.pid, host: NodeOs.hostname(), at: Date.now(), nonce: "held" })
        const error = yield* expectFailure(store.save(recordFor("blocked", 2)))
        assert.strictEqual(error.reason, "locked")
        assert.match(error.message, new RegExp(`held by pid ${process.pid} on `))
        assert.deepStrictEqual(yield* store.load, Option.some(recordFor("before", 1)))
        assert.isTrue(NodeFs.existsSync(`${path}.lock`), "someone else's lock is not taken away")
      })
    )

    it.effect("breaks a lock left by a process that has died", () =>
      Effect.gen(function* () {
        const { store, path } = storeIn(yield* temporaryDirectory, { lockTimeoutMillis: 2_000 })
        const dead = spawnSync(process.execPath, ["-e", "0"])
        assert.strictEqual(dead.status, 0)
        NodeFs.mkdirSync(NodePath.dirname(path), { recursive: true })
        writeLock(path, { pid: dead.pid, host: NodeOs.hostname(), at: Date.now(), nonce: "dead" })
        yield* store.save(recordFor("after-crash", 1))
        assert.deepStrictEqual(yield* store.load, Option.some(recordFor("after-crash", 1)))
        assert.isFalse(NodeFs.existsSync(`${path}.lock`))
      })
    )

    it.effect("breaks a lock older than the stale bound even when its pid still runs", () =>
      Effect.gen(function* () {
        const { store, path } = storeIn(yield* temporaryDirectory, { lockTimeoutMillis: 2_000 })
        writeLock(path, { pid: process.pid, host: NodeOs.hostname(), at: Date.now() - 60_000, nonce: "old" })
        yield* store.save(recordFor("after-stale", 1))
        assert.deepStrictEqual(yield* store.load, Option.some(recordFor("after-stale", 1)))
      })
    )

    it.effect("breaks a lock stamped in the future on this host instead of waiting for it to age", () =>
      Effect.gen(function* () {
        const { store, path } = storeIn(yield* temporaryDirectory, { lockTimeoutMillis: 200 })
        NodeFs.mkdirSync(NodePath.dirname(path), { recursive: true })
        writeLock(path, { pid: process.pid, host: NodeOs.hostname(), at: Date.now() + 3_600_000, nonce: "future" })
        yield* store.save(recordFor("after-future", 1))
        assert.deepStrictEqual(yield* store.load, Option.some(recordFor("after-future", 1)))
        assert.isFalse(NodeFs.existsSync(`${path}.lock`))
      })
    )

    it.effect("breaks an unreadable lock file only once it is old", () =>
      Effect.gen(function* () {
        const { store, path } = storeIn(yield* temporaryDirectory, { lockTimeoutMillis: 100 })
        NodeFs.writeFileSync(`${path}.lock`, "")
        const error = yield* expectFailure(store.save(recordFor("blocked", 1)))
        assert.strictEqual(error.reason, "locked")
        const old = new Date(Date.now() - 60_000)
        NodeFs.utimesSync(`${path}.lock`, old, old)
        yield* store.save(recordFor("after-old-empty-lock", 1))
        assert.deepStrictEqual(yield* store.load, Option.some(recordFor("after-old-empty-lock", 1)))
      })
    )

    it.effect("leaves a bad file in place (and says so) when it cannot take the lock to move it", () =>
      Effect.gen(function* () {
        const { store, path } = storeIn(yield* temporaryDirectory, { lockTimeoutMillis: 100 })
        NodeFs.writeFileSync(path, "garbage")
        writeLock(path, { pid: process.pid, host: NodeOs.hostname(), at: Date.now(), nonce: "held" })
        const error = yield* expectFailure(store.load)
        assert.strictEqual(error.reason, "corrupt")
        assert.isUndefined(error.quarantinedTo)
        assert.match(error.message, /left in place because another writer held the lock/)
        assert.strictEqual(NodeFs.readFileSync(path, "utf8"), "garbage")
      })
    )
  })

  it.effect("turns an operating-system refusal into reason io with the OS error code", () =>
    Effect.gen(function* () {
      const root = yield* temporaryDirectory
      const notADirectory = NodePath.join(root, "plain-file")
      NodeFs.writeFileSync(notADirectory, "")
      const { store } = storeIn(NodePath.join(notADirectory, "store"))
      const error = yield* expectFailure(store.save(recordFor("w", 1)))
      assert.strictEqual(error.reason, "io")
      assert.match(error.message, /could not save .*: expected to write the record .*, got ENOTDIR from mkdir on /)
      assert.include(error.message, notADirectory)
    })
  )

  it.effect("answers a directory in place of the file with a typed io error on load and save, and keeps it", () =>
    Effect.gen(function* () {
      const { store, path } = storeIn(yield* temporaryDirectory)
      NodeFs.mkdirSync(path, { recursive: true })
      const loadError = yield* expectFailure(store.load)
      assert.strictEqual(loadError.reason, "io")
      assert.include(loadError.message, `got a directory at ${path}`)
      const saveError = yield* expectFailure(store.save(recordFor("w", 1)))
      assert.strictEqual(saveError.reason, "io")
      assert.match(saveError.message, /got EISDIR from rename/)
      assert.isTrue(NodeFs.statSync(path).isDirectory())
      assert.deepStrictEqual(
        NodeFs.readdirSync(NodePath.dirname(path)).filter((name) => name !== NodePath.basename(path)),
        [],
        "no temporary or lock file is left behind"
      )
    })
  )

  it.effect("answers a FIFO in place of the file with a typed io error instead of blocking on it", () =>
    Effect.gen(function* () {
      const { store, path } = storeIn(yield* temporaryDirectory)
      const made = spawnSync("mkfifo", [path])
      assert.strictEqual(made.status, 0)
      const error = yield* expectFailure(store.load)
      assert.strictEqual(error.reason, "io")
      assert.include(error.message, `got a FIFO at ${path}`)
    })
  )

  it.effect("answers bad options with a typed error naming what was expected and what came", () =>
    Effect.gen(function* () {
      const directory = yield* temporaryDirectory
      const noProduct = NodeFileStore.make({ productId: "", fingerprint, directory })
      const error = yield* expectFailure(noProduct.load)
      assert.strictEqual(error.reason, "io")
      assert.strictEqual(
        error.message,
        'invalid NodeFileStore options: expected productId to be a non-empty string, got ""'
      )
      const badTimeout = NodeFileStore.make({ productId, fingerprint, directory, lockTimeoutMillis: -1 })
      const timeoutError = yield* expectFailure(badTimeout.save(recordFor("w", 1)))
      assert.match(timeoutError.message, /expected lockTimeoutMillis to be a finite number >= 0, got -1/)
      assert.deepStrictEqual(NodeFs.readdirSync(directory), [])
    })
  )
})
