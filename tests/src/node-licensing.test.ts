/**
 * The Node wiring end to end: `createNodeLicensing` with the Node fingerprint reading a fake root (a temporary
 * directory holding `etc/machine-id`), the encrypted file store in a temporary directory, and the Node HTTP
 * client talking to the emulator over real HTTP on 127.0.0.1. It checks what a desktop application relies on
 * across restarts: the licence file is written private to the user, a restart reads it without asking the
 * server, and a file copied to another machine is recognised as foreign rather than crashing anything.
 */
import { createHmac } from "node:crypto"
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { createNodeLicensing, type NodeLicensingConfig } from "@licensure/node-runtime/NodeLicensing"
import * as NodeFileStore from "@licensure/node-runtime/NodeFileStore"

const machineIds = { first: "4c8f0e2a9b7d41c3a5e6f7081928374a", second: "9e1d2c3b4a5f46e7b8c9d0e1f2a3b4c5" } as const

let emulator: Emulator
let productId: string
let publicKeyPem: string
const made: Array<string> = []

beforeAll(async () => {
  emulator = await startEmulator()
  ;({ productId, publicKeyPem } = await emulator.createProduct())
})
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})
afterAll(() => emulator?.close())

const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

/** A fake filesystem root whose only identity is `etc/machine-id`. */
const fakeRoot = (machineId: string) => {
  const root = tempDir("licensure-root-")
  mkdirSync(join(root, "etc"))
  writeFileSync(join(root, "etc", "machine-id"), `${machineId}\n`)
  return root
}

const config = (directory: string, root: string): NodeLicensingConfig => ({
  productId,
  publicKeyPem,
  host: emulator.url,
  directory,
  fingerprint: { root, platform: "linux", env: {}, hostname: "workstation", username: "tester" },
  // Straight to 127.0.0.1 whatever proxy variables the machine running the tests has.
  http: { proxy: "none" }
})

/** The fingerprint the Node layer promises: HMAC-SHA-256 keyed by the product id over "fingerprint\0<id>". */
const expectedFingerprint = (machineId: string) =>
  createHmac("sha256", productId).update(`fingerprint\0${machineId}`).digest("hex")

describe("createNodeLicensing", () => {
  it("activates into a 0600 file, a restart loads it offline, and a copy on another machine is foreign", async () => {
    const { id, key } = await emulator.createLicense({ productId, allowedActivations: 2 })
    const directory = tempDir("licensure-store-")
    const root = fakeRoot(machineIds.first)
    const file = NodeFileStore.filePath({ productId, directory })

    const first = createNodeLicensing(config(directory, root))
    const activated = await first.activate(key)
    assert.strictEqual(activated.state, "active")
    assert.isTrue(existsSync(file))
    assert.strictEqual(statSync(file).mode & 0o777, 0o600)
    assert.isFalse(readFileSync(file).includes(Buffer.from(key)), "the key must not be in the file in the clear")
    const onServer = await emulator.getLicense(id)
    assert.deepStrictEqual(
      onServer.activations.map((a) => a.fingerprint),
      [expectedFingerprint(machineIds.first)]
    )
    await first.close()

    // A restart on the same machine: the file is read and verified, and the server is not asked.
    await emulator.clearLog()
    const second = createNodeLicensing(config(directory, root))
    const restarted = await second.check()
    assert.strictEqual(restarted.state, "active")
    assert.isTrue(restarted.licensed)
    assert.strictEqual(restarted.license?.activationId, activated.license?.activationId)
    assert.deepStrictEqual(await second.status(), { name: "LA_OK", code: 0 })
    assert.deepStrictEqual(await emulator.log(), [])
    await second.close()

    // The same file on another machine (another machine-id): the store calls it foreign, the client is unactivated.
    const elsewhere = tempDir("licensure-store-")
    const copied = NodeFileStore.filePath({ productId, directory: elsewhere })
    copyFileSync(file, copied)
    const third = createNodeLicensing(config(elsewhere, fakeRoot(machineIds.second)))
    const foreign = await third.check()
    assert.strictEqual(foreign.state, "unactivated")
    assert.isFalse(foreign.licensed)
    assert.isUndefined(foreign.license)
    assert.strictEqual(foreign.clearedBecause?.kind, "StoreFailure")
    assert.strictEqual(foreign.clearedBecause?.operation, "load")
    assert.include(foreign.clearedBecause?.message, "another machine")
    assert.notStrictEqual((await third.status()).code, 0)
    assert.deepStrictEqual(await emulator.log(), [])
    // The foreign file was moved aside, not deleted nor overwritten.
    assert.isFalse(existsSync(copied))
    const aside = readdirSync(elsewhere).filter((name) => name.includes(".corrupt-"))
    assert.strictEqual(aside.length, 1)
    assert.deepStrictEqual(readFileSync(join(elsewhere, aside[0]!)), readFileSync(file))

    // That machine can still activate for itself (a second seat), into a file of its own.
    const own = await third.activate(key)
    assert.strictEqual(own.state, "active")
    assert.notStrictEqual(own.license?.activationId, activated.license?.activationId)
    assert.isTrue(existsSync(copied))
    await third.close()
    assert.deepStrictEqual(
      (await emulator.getLicense(id)).activations.map((a) => a.fingerprint).sort(),
      [expectedFingerprint(machineIds.first), expectedFingerprint(machineIds.second)].sort()
    )
  })

  it("deactivate removes the licence file", async () => {
    const { key } = await emulator.createLicense({ productId })
    const directory = tempDir("licensure-store-")
    const licensing = createNodeLicensing(config(directory, fakeRoot(machineIds.first)))
    await licensing.activate(key)
    const file = NodeFileStore.filePath({ productId, directory })
    assert.isTrue(existsSync(file))
    const view = await licensing.deactivate()
    assert.strictEqual(view.state, "unactivated")
    assert.isFalse(existsSync(file))
    await licensing.close()
  })

  it("keeps a failed sync in the licence file: the next client reports it, in grace, until a sync succeeds", async () => {
    const { key } = await emulator.createLicense({ productId })
    const directory = tempDir("licensure-store-")
    const root = fakeRoot(machineIds.first)
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const offline = { ...config(directory, root), host: "http://127.0.0.1:9", retry: { retries: 0 } }

    const first = createNodeLicensing(config(directory, root))
    await first.activate(key)
    await first.close()

    const failing = createNodeLicensing(offline)
    const failed = await failing.sync().then(
      () => assert.fail("a sync to a closed port must reject"),
      (error: { kind: string }) => error
    )
    assert.strictEqual(failed.kind, "NetworkFailure")
    const seen = await failing.check()
    await failing.close()
    assert.strictEqual(seen.state, "grace")

    // Another process (a new client over the same file, still offline) sees what the failed one saw.
    const next = createNodeLicensing(offline)
    const restarted = await next.check()
    await next.close()
    assert.strictEqual(restarted.state, "grace")
    assert.isTrue(restarted.licensed)
    assert.strictEqual(restarted.lastError?.operation, "sync")
    assert.strictEqual(restarted.lastError?.kind, "NetworkFailure")
    assert.strictEqual(restarted.lastError?.message, seen.lastError?.message)
    assert.strictEqual(restarted.nextSyncAt, seen.nextSyncAt)

    // A sync that succeeds clears it, in the file too.
    const online = createNodeLicensing(config(directory, root))
    assert.strictEqual((await online.sync()).state, "active")
    await online.close()
    const after = createNodeLicensing(offline)
    const cleared = await after.check()
    await after.close()
    assert.strictEqual(cleared.state, "active")
    assert.isUndefined(cleared.lastError)
  })
})
