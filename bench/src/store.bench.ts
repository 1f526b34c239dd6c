/**
 * The durable store against raw node:fs, in one process and the same minute, in a temp directory on the machine's
 * disk. A `NodeFileStore` save (seal with AES-256-GCM, take the lock file, sweep stray temporaries, write a temp
 * file, fsync, rename, fsync the directory, release the lock) is timed against the floor of `floors.md` §2: "write
 * temp, fsync, rename, fsync dir" of the very bytes the store wrote. A load (read, authenticate and decrypt, parse,
 * decode the record) is timed against `readFileSync` + AES-256-GCM decrypt of a file of the same size. Both of
 * ours run through `Effect.runPromise` per operation, as a caller outside Effect pays them. Rounds alternate; the
 * ratios are ratios of medians. Target (reported, never enforced): save <= 1.5x the raw durable write. The
 * `update` a client's writes go through (the file read and compared under the lock, then saved) is timed beside it.
 *
 * `BENCH_REPS` overrides the number of measured rounds (default 15).
 */
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { RecordVersion, type StoredRecord } from "@licensure/core/LicenseStore"
import * as NodeFileStore from "@licensure/node-runtime/NodeFileStore"
import { Effect, Option } from "effect"
import { printTable, writeResult } from "./Harness.ts"
import { ratioOf, rounds } from "./probe/Rounds.ts"

const reps = Number(process.env.BENCH_REPS ?? 15)
const root = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "licensure-bench-store-"))

try {
  const productId = "0d6c8f2e-5b1a-4e7c-9a3d-bench0000002"
  const fingerprint = "7c".repeat(32)
  const store = NodeFileStore.make({ productId, fingerprint, directory: NodePath.join(root, "store") })
  const storePath = NodeFileStore.filePath({ productId, directory: NodePath.join(root, "store") })

  // A record of the size a real one has: a ~1.3 KB RS256 token (random bytes stand in for the signature, the store
  // neither knows nor checks), the fingerprint components, the two times.
  const segment = (bytes: number) => NodeCrypto.randomBytes(bytes).toString("base64url")
  const record: StoredRecord = {
    version: RecordVersion,
    productId,
    kind: "activation",
    key: "E3A1C9-7B2D4F-8A6E0C-5D3B1F-9C7A2E-4B6D8F",
    token: `${segment(27)}.${segment(700)}.${segment(256)}`,
    fingerprint,
    components: [
      { name: "machine-id", strength: "primary", hash: "1f".repeat(32) },
      { name: "dmi-product-uuid", strength: "hardware", hash: "2e".repeat(32) },
      { name: "hostname", strength: "weak", hash: "3d".repeat(32) }
    ],
    lastSeenAt: Date.parse("2026-01-01T00:00:00Z"),
    lastSyncedAt: Date.parse("2026-01-01T00:00:00Z")
  }

  // The store must round-trip the record before its time means anything.
  await Effect.runPromise(store.save(record))
  const loaded = await Effect.runPromise(store.load)
  if (Option.isNone(loaded) || loaded.value.token !== record.token) throw new Error("the store did not round-trip")
  const sealed = NodeFs.readFileSync(storePath)
  const plaintext = Buffer.from(JSON.stringify(record), "utf8")

  // The raw durable write of the same bytes, in a sibling directory of its own (so each side fsyncs one directory).
  const rawDir = NodePath.join(root, "raw")
  NodeFs.mkdirSync(rawDir)
  const rawTarget = NodePath.join(rawDir, "licence.bin")
  let k = 0
  const rawDurableWrite = () => {
    const temp = `${rawTarget}.${k++}.tmp`
    const fd = NodeFs.openSync(temp, "w", 0o600)
    try {
      NodeFs.writeSync(fd, sealed)
      NodeFs.fsyncSync(fd)
    } finally {
      NodeFs.closeSync(fd)
    }
    NodeFs.renameSync(temp, rawTarget)
    const dfd = NodeFs.openSync(rawDir, "r")
    try {
      NodeFs.fsyncSync(dfd)
    } finally {
      NodeFs.closeSync(dfd)
    }
  }

  // Not a floor: the raw write plus the same extra metadata work a save does (a lock file made by write + link,
  // two directory sweeps, the lock read back and removed), to show how much of the gap is the lock.
  const rawLock = NodePath.join(rawDir, "licence.bin.lock")
  const lockedRawWrite = () => {
    const temp = `${rawLock}.new-${k}`
    NodeFs.writeFileSync(temp, JSON.stringify({ pid: process.pid, at: Date.now(), n: k }), { mode: 0o600, flag: "wx" })
    NodeFs.linkSync(temp, rawLock)
    NodeFs.rmSync(temp, { force: true })
    NodeFs.readdirSync(rawDir)
    NodeFs.readdirSync(rawDir)
    rawDurableWrite()
    JSON.parse(NodeFs.readFileSync(rawLock, "utf8"))
    NodeFs.rmSync(rawLock, { force: true })
  }

  // The raw read floor: a file of the same size sealed with a plain AES-256-GCM key, read and decrypted.
  const key = NodeCrypto.randomBytes(32)
  const iv = NodeCrypto.randomBytes(12)
  const cipher = NodeCrypto.createCipheriv("aes-256-gcm", key, iv)
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
  const tag = cipher.getAuthTag()
  const rawReadTarget = NodePath.join(rawDir, "read.bin")
  NodeFs.writeFileSync(rawReadTarget, ciphertext)
  const rawRead = () => {
    const bytes = NodeFs.readFileSync(rawReadTarget)
    const decipher = NodeCrypto.createDecipheriv("aes-256-gcm", key, iv)
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(bytes), decipher.final()])
  }
  if (!rawRead().equals(plaintext)) throw new Error("the raw read floor did not decrypt its own file")

  const save = await rounds(
    {
      "NodeFileStore save (Effect.runPromise)": async (n) => {
        for (let i = 0; i < n; i++) await Effect.runPromise(store.save(record))
      },
      // What the record writer runs for each write of a client that has read or written the record: the file read
      // and compared under the same hold of the lock as the write (`update`).
      "NodeFileStore update (read, compare, save; Effect.runPromise)": async (n) => {
        for (let i = 0; i < n; i++) {
          const outcome = await Effect.runPromise(store.update!(Option.isSome, Option.some(record)))
          if (outcome._tag !== "Written") throw new Error("the bench's update did not write")
        }
      },
      "raw: write temp, fsync, rename, fsync dir": (n) => {
        for (let i = 0; i < n; i++) rawDurableWrite()
      },
      "(info) raw + lock file and sweeps, as a save does": (n) => {
        for (let i = 0; i < n; i++) lockedRawWrite()
      }
    },
    { n: 20, reps }
  )

  let sink = 0
  const load = await rounds(
    {
      "NodeFileStore load (Effect.runPromise)": async (n) => {
        for (let i = 0; i < n; i++) {
          const got = await Effect.runPromise(store.load)
          if (Option.isSome(got)) sink++
        }
      },
      "raw: readFileSync + AES-256-GCM decrypt": (n) => {
        for (let i = 0; i < n; i++) sink += rawRead().length
      },
      "raw: readFileSync + decrypt + JSON.parse": (n) => {
        for (let i = 0; i < n; i++) if (JSON.parse(rawRead().toString("utf8")).version === RecordVersion) sink++
      }
    },
    { n: 500, reps }
  )
  if (sink === 0) throw new Error("no load returned anything")

  const saveRatio = ratioOf(
    save["NodeFileStore save (Effect.runPromise)"],
    save["raw: write temp, fsync, rename, fsync dir"]
  )
  const loadRatio = ratioOf(
    load["NodeFileStore load (Effect.runPromise)"],
    load["raw: readFileSync + AES-256-GCM decrypt"]
  )
  const µs = (ns: number) => ns / 1000
  printTable(
    `Store save (µs/op; ${sealed.length}-byte file; 20 ops x ${reps} rounds, alternating; ${root})`,
    ["case", "median", "min"],
    Object.entries(save).map(([name, s]) => [name, µs(s.median), µs(s.min)])
  )
  printTable(
    `Store load (µs/op; 500 ops x ${reps} rounds, alternating)`,
    ["case", "median", "min"],
    Object.entries(load).map(([name, s]) => [name, µs(s.median), µs(s.min)])
  )
  console.log(`\nsave, ours / raw durable write (medians): ${saveRatio.toFixed(2)}x (target <= 1.5x)`)
  console.log(`load, ours / raw read + decrypt: ${loadRatio.toFixed(2)}x`)

  const path = writeResult(
    "store",
    {
      label: "NodeFileStore save / raw durable write (medians)",
      value: saveRatio,
      unit: "x",
      target: "<= 1.5x",
      met: saveRatio <= 1.5
    },
    { reps, fileBytes: sealed.length, unit: "ns/op", saveRatio, loadRatio, save, load }
  )
  console.log(`wrote ${path}`)
} finally {
  NodeFs.rmSync(root, { recursive: true, force: true })
}
