/**
 * Release updates over real HTTP: the emulator on 127.0.0.1 (a free port), core's `Releases` over Effect's fetch
 * client. LexActivator's three answers (30 available, 31 not available, 32 available but not allowed), the files
 * with their size and checksum, the download checked byte for byte (a good file passes, a corrupted listing or a
 * truncated download does not), the refusals with their LexActivator statuses, and a fault on each call.
 */
import { createHash } from "node:crypto"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { Releases as ReleasesModule } from "@licensure/core"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { Effect } from "effect"
import { FetchHttpClient } from "effect/http"

const { Releases, checksumAlgorithmOf, digestHex, downloadUrl, verifyFile } = ReleasesModule

let emulator: Emulator
let productId: string
const accountId = "acc-releases"

beforeAll(async () => {
  emulator = await startEmulator()
  ;({ productId } = await emulator.createProduct({ accountId }))
  await emulator.createRelease({
    productId,
    version: "1.2.0",
    platforms: ["linux", "windows"],
    files: [{ name: "app-1.2.0.tar.gz", content: "the 1.2.0 build" }]
  })
  await emulator.createRelease({
    productId,
    version: "1.3.0",
    platforms: ["linux"],
    notes: "faster",
    files: [
      { name: "app-1.3.0.tar.gz", content: "the 1.3.0 build, a little longer" },
      { name: "app-1.3.0.sig", content: "signature", checksum: "0".repeat(32) }
    ]
  })
  await emulator.createRelease({ productId, version: "2.0.0", platforms: ["linux"], channel: "beta", files: [] })
  await emulator.createRelease({ productId, version: "9.0.0", platforms: ["linux"], published: false })
})
afterEach(async () => {
  await emulator.clearFaults()
})
afterAll(() => emulator?.close())

const releases = () => Releases.make({ host: emulator.url }).pipe(Effect.provide(FetchHttpClient.layer))
const licence = (options: { maxAllowedReleaseVersion?: string | null } = {}) =>
  Effect.promise(() => emulator.createLicense({ productId, ...options }))

const query = (key: string, extra: Partial<ReleasesModule.ReleaseQuery> = {}): ReleasesModule.ReleaseQuery => ({
  productId,
  key,
  accountId,
  version: "1.0.0",
  platform: "linux",
  channel: "stable",
  ...extra
})

describe("checkForUpdate", () => {
  it.effect("answers Available (30) with the newest release for the platform and channel, and its files", () =>
    Effect.gen(function* () {
      const { key } = yield* licence()
      const update = yield* (yield* releases()).checkForUpdate(query(key))
      assert.strictEqual(update._tag, "Available")
      assert.deepStrictEqual(update.status, { name: "LA_RELEASE_UPDATE_AVAILABLE", code: 30 })
      if (update._tag !== "Available") return
      assert.strictEqual(update.release.version, "1.3.0")
      assert.strictEqual(update.release.notes, "faster")
      assert.deepStrictEqual(update.release.platforms, ["linux"])
      const [file] = update.release.files
      assert.strictEqual(file?.name, "app-1.3.0.tar.gz")
      assert.strictEqual(file?.size, Buffer.byteLength("the 1.3.0 build, a little longer"))
      assert.strictEqual(file?.checksum, createHash("md5").update("the 1.3.0 build, a little longer").digest("hex"))
    })
  )

  it.effect("answers a windows caller with the newest windows release, and a beta caller with the beta one", () =>
    Effect.gen(function* () {
      const { key } = yield* licence()
      const api = yield* releases()
      const windows = yield* api.checkForUpdate(query(key, { platform: "windows" }))
      assert.strictEqual(windows._tag === "Available" ? windows.release.version : windows._tag, "1.2.0")
      const beta = yield* api.checkForUpdate(query(key, { channel: "beta" }))
      assert.strictEqual(beta._tag === "Available" ? beta.release.version : beta._tag, "2.0.0")
    })
  )

  it.effect("answers NotAvailable (31) on the server's 204, for the latest version and for a partial one", () =>
    Effect.gen(function* () {
      const { key } = yield* licence()
      const api = yield* releases()
      const latest = yield* api.checkForUpdate(query(key, { version: "1.3.0" }))
      assert.deepStrictEqual(latest, {
        _tag: "NotAvailable",
        status: { name: "LA_RELEASE_UPDATE_NOT_AVAILABLE", code: 31 }
      })
      // Cryptlex compares only the parts sent: 1.3 against 1.3.0 is no update; the unpublished 9.0.0 is never offered.
      assert.strictEqual((yield* api.checkForUpdate(query(key, { version: "1.3" })))._tag, "NotAvailable")
      assert.strictEqual((yield* api.checkForUpdate(query(key, { platform: "macos" })))._tag, "NotAvailable")
    })
  )

  it.effect("answers AvailableNotAllowed (32) when the licence does not cover the newest release", () =>
    Effect.gen(function* () {
      const { key } = yield* licence({ maxAllowedReleaseVersion: "1.2.5" })
      const update = yield* (yield* releases()).checkForUpdate(query(key))
      assert.strictEqual(update._tag, "AvailableNotAllowed")
      assert.deepStrictEqual(update.status, { name: "LA_RELEASE_UPDATE_AVAILABLE_NOT_ALLOWED", code: 32 })
      assert.strictEqual(update._tag === "AvailableNotAllowed" ? update.release.version : "", "1.3.0")
    })
  )

  it.effect("with releases: 'allowed', answers the newest release the licence covers instead", () =>
    Effect.gen(function* () {
      const { key } = yield* licence({ maxAllowedReleaseVersion: "1.2.5" })
      const api = yield* releases()
      const update = yield* api.checkForUpdate(query(key, { releases: "allowed" }))
      assert.strictEqual(update._tag === "Available" ? update.release.version : update._tag, "1.2.0")
      const none = yield* api.checkForUpdate(query(key, { releases: "allowed", version: "1.2.0" }))
      assert.strictEqual(none._tag, "NotAvailable")
    })
  )

  it.effect("refuses locally what LexActivator refuses before sending: version 84, platform 85, channel 86", () =>
    Effect.gen(function* () {
      const api = yield* releases()
      yield* Effect.promise(() => emulator.clearLog())
      const codes = []
      for (const bad of [{ version: "1" }, { version: "one.two" }, { platform: "" }, { channel: "" }]) {
        const error = yield* Effect.flip(api.checkForUpdate(query("KEY", bad)))
        assert.strictEqual(error.reason._tag, "InvalidReleaseQuery")
        codes.push(error.status.code)
      }
      assert.deepStrictEqual(codes, [84, 84, 85, 86])
      const long = yield* Effect.flip(api.checkForUpdate(query("KEY", { platform: "p".repeat(257) })))
      assert.strictEqual(long.status.name, "LA_E_RELEASE_PLATFORM_LENGTH")
      assert.deepStrictEqual(yield* Effect.promise(() => emulator.log()), [], "nothing was sent")
    })
  )

  it.effect("maps the server's refusals: a foreign key is 403 (54), a wrong product 43, a bad format 70", () =>
    Effect.gen(function* () {
      const api = yield* releases()
      const foreign = yield* Effect.flip(api.checkForUpdate(query("AAAAAA-BBBBBB")))
      assert.strictEqual(foreign.reason._tag, "ServerRefused")
      assert.strictEqual(foreign.reason._tag === "ServerRefused" ? foreign.reason.status : 0, 403)
      assert.strictEqual(foreign.status.code, 54)
      const { key } = yield* licence()
      const product = yield* Effect.flip(api.checkForUpdate(query(key, { productId: "no-such-product" })))
      assert.strictEqual(product.status.code, 43)
      // The emulator refuses a version the client would not send, as Cryptlex does…
      const raw = yield* Effect.promise(() =>
        fetch(
          `${emulator.url}/v3/releases/update?accountId=${accountId}&productId=${productId}&platform=linux&key=${key}&version=1.x&channel=stable`
        ).then(async (response) => ({ status: response.status, body: await response.json() }))
      )
      assert.deepStrictEqual(raw, {
        status: 400,
        body: { message: 'Expected a version x.x to x.x.x.x, got "1.x"', code: "INVALID_VERSION_FORMAT" }
      })
      // …and the client reads that code (here from a server stricter than the local check) as 70.
      yield* Effect.promise(() =>
        emulator.addFault({
          kind: "status",
          status: 400,
          body: { message: "bad version", code: "INVALID_VERSION_FORMAT" },
          match: { path: "/v3/releases/update" },
          count: 1
        })
      )
      const format = yield* Effect.flip(api.checkForUpdate(query(key)))
      assert.strictEqual(format.reason._tag, "UnknownServerCode")
      assert.deepStrictEqual(format.status, { name: "LA_E_RELEASE_VERSION_FORMAT", code: 70 })
    })
  )

  it.effect(
    "reports faults on both calls: a drop is LA_E_INET (48), a 503 LA_E_SERVER (91), a 429 LA_E_RATE_LIMIT (90)",
    () =>
      Effect.gen(function* () {
        const { key } = yield* licence({ maxAllowedReleaseVersion: "1.2.5" })
        const api = yield* releases()
        yield* Effect.promise(() =>
          emulator.addFault({ kind: "drop", match: { path: "/v3/releases/update" }, count: 1 })
        )
        const dropped = yield* Effect.flip(api.checkForUpdate(query(key)))
        assert.strictEqual(dropped.reason._tag, "NetworkFailure")
        assert.strictEqual(dropped.status.code, 48)
        yield* Effect.promise(() =>
          emulator.addFault({ kind: "status", status: 503, match: { path: "/v3/releases/" }, count: 1 })
        )
        assert.strictEqual((yield* Effect.flip(api.checkForUpdate(query(key)))).status.code, 91)
        yield* Effect.promise(() => emulator.clearFaults())
        yield* Effect.promise(() =>
          emulator.addFault({
            kind: "malformed",
            body: '{"allowed":"maybe"}',
            match: { path: "/v3/releases/" },
            count: 1
          })
        )
        const garbled = yield* Effect.flip(api.isAllowed("any-id", { key, accountId }))
        assert.strictEqual(garbled.reason._tag, "MalformedResponse")
        assert.strictEqual(garbled.operation, "isAllowed")
        yield* Effect.promise(() => emulator.addFault({ kind: "status", status: 429, retryAfter: 7, count: 1 }))
        const limited = yield* Effect.flip(api.checkForUpdate(query(key)))
        assert.strictEqual(limited.reason._tag === "RateLimited" ? limited.reason.retryAfterSeconds : -1, 7)
        assert.strictEqual(limited.status.code, 90)
      })
  )
})

describe("verifyFile", () => {
  const available = (key: string) =>
    Effect.gen(function* () {
      const update = yield* (yield* releases()).checkForUpdate(query(key))
      if (update._tag !== "Available") return assert.fail(`expected an update, got ${update._tag}`)
      return update.release
    })
  const download = (url: string) =>
    Effect.promise(() =>
      fetch(url).then(async (response) => ({
        status: response.status,
        bytes: new Uint8Array(await response.arrayBuffer())
      }))
    )

  it.effect("passes a downloaded file whose size and MD5 are the ones the release lists", () =>
    Effect.gen(function* () {
      const { key } = yield* licence()
      const release = yield* available(key)
      const file = release.files[0]!
      const { status, bytes } = yield* download(downloadUrl(file, key))
      assert.strictEqual(status, 200)
      assert.strictEqual(checksumAlgorithmOf(file.checksum), "MD5")
      yield* verifyFile(file, bytes)
      // A secured file is not served without the key.
      assert.strictEqual((yield* download(file.url)).status, 403)
    })
  )

  it.effect("refuses a file whose checksum is not the listed one, and a truncated download by its size", () =>
    Effect.gen(function* () {
      const { key } = yield* licence()
      const release = yield* available(key)
      const sig = release.files.find((file) => file.name === "app-1.3.0.sig")!
      const { bytes } = yield* download(downloadUrl(sig, key))
      const wrong = yield* Effect.flip(verifyFile(sig, bytes))
      assert.strictEqual(wrong.reason, "checksum")
      assert.include(wrong.message, `got ${createHash("md5").update("signature").digest("hex")}`)
      const tarball = release.files[0]!
      const full = (yield* download(downloadUrl(tarball, key))).bytes
      const short = yield* Effect.flip(verifyFile(tarball, full.slice(0, -1)))
      assert.strictEqual(short.reason, "size")
      // One flipped bit, same size: the checksum catches it.
      const flipped = full.slice()
      flipped[0] = (flipped[0] as number) ^ 1
      assert.strictEqual((yield* Effect.flip(verifyFile(tarball, flipped))).reason, "checksum")
    })
  )

  it.effect("checks SHA-256 and SHA-512 listings with WebCrypto, and refuses a checksum of no known shape", () =>
    Effect.gen(function* () {
      const bytes = new TextEncoder().encode("payload")
      for (const [algorithm, node] of [
        ["SHA-256", "sha256"],
        ["SHA-512", "sha512"],
        ["SHA-1", "sha1"],
        ["MD5", "md5"]
      ] as const) {
        const checksum = createHash(node).update(bytes).digest("hex")
        assert.strictEqual(yield* digestHex(algorithm, bytes), checksum)
        yield* verifyFile(
          { name: "f", url: "https://x/f", size: bytes.length, checksum: checksum.toUpperCase() },
          bytes
        )
      }
      const odd = yield* Effect.flip(verifyFile({ name: "f", url: "https://x/f", size: 7, checksum: "abc" }, bytes))
      assert.strictEqual(odd.reason, "unknownChecksumFormat")
    })
  )

  it("MD5 agrees with node:crypto on lengths around the 64-byte block boundary", () => {
    for (const length of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 1000]) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 31 + length) & 0xff)
      const ours = Effect.runSync(digestHex("MD5", bytes))
      assert.strictEqual(ours, createHash("md5").update(bytes).digest("hex"), `length ${length}`)
    }
  })

  it("adds the licence key to a secured file's URL only", () => {
    const file = { name: "a", url: "https://releases.cryptlex.com/v3/acc/rel/a.zip", size: 1, checksum: "x" }
    assert.strictEqual(downloadUrl(file, "K-1"), "https://releases.cryptlex.com/v3/acc/rel/a.zip?key=K-1")
    assert.strictEqual(downloadUrl({ ...file, secured: false }, "K-1"), file.url)
  })
})
