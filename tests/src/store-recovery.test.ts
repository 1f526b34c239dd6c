/**
 * A garbled licence file on a real disk: the store sets it aside, the application sees why, and — when it knows
 * its licence key — the client re-activates by itself; the server hands the same machine its existing activation
 * back, so no seat is spent.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { createNodeLicensing, type NodeLicensingConfig } from "@licensure/node-runtime/NodeLicensing"
import * as NodeFileStore from "@licensure/node-runtime/NodeFileStore"

let emulator: Emulator
let productId: string
let publicKeyPem: string
let work: string

beforeAll(async () => {
  emulator = await startEmulator()
  ;({ productId, publicKeyPem } = await emulator.createProduct())
  work = mkdtempSync(join(tmpdir(), "licensure-recovery-"))
  mkdirSync(join(work, "root", "etc"), { recursive: true })
  writeFileSync(join(work, "root", "etc", "machine-id"), "0123456789abcdef0123456789abcdef\n")
})
afterAll(async () => {
  await emulator?.close()
  rmSync(work, { recursive: true, force: true })
})

const config = (directory: string, licenseKey?: string): NodeLicensingConfig => ({
  productId,
  publicKeyPem,
  host: emulator.url,
  directory,
  fingerprint: { root: join(work, "root"), platform: "linux", env: {}, hostname: "box", username: "me" },
  http: { proxy: "none" },
  ...(licenseKey !== undefined ? { licenseKey } : {})
})

/** Waits (real time, bounded) for a state: the recovery runs in the background after start-up. */
const waitFor = async (licensing: ReturnType<typeof createNodeLicensing>, state: string) => {
  for (let i = 0; i < 200; i++) {
    const view = await licensing.view()
    if (view.state === state) return view
    await new Promise((r) => setTimeout(r, 25))
  }
  return licensing.view()
}

describe("an unreadable licence file", () => {
  it("is set aside, reported, and recovered by re-activating with the configured key on the same seat", async () => {
    const { id, key } = await emulator.createLicense({ productId, allowedActivations: 1 })
    const directory = join(work, "store")
    const first = createNodeLicensing(config(directory))
    const activated = await first.activate(key)
    await first.close()
    const file = NodeFileStore.filePath({ productId, directory })
    const bytes = readFileSync(file)
    bytes[bytes.length - 5] ^= 0xff
    writeFileSync(file, bytes)

    // Without the key the app sees a clear status and no crash.
    const blind = createNodeLicensing(config(directory))
    const blindView = await blind.check()
    await blind.close()
    assert.strictEqual(blindView.state, "unactivated")
    assert.strictEqual(blindView.clearedBecause?.kind, "StoreFailure")
    assert.isTrue(readdirSync(directory).some((f) => f.includes(".corrupt-")))

    // The first file was moved aside; a second unreadable one, now with the key configured.
    writeFileSync(file, Buffer.from("not a licence file at all"))
    const healing = createNodeLicensing(config(directory, key))
    const healed = await waitFor(healing, "active")
    await healing.close()
    assert.strictEqual(healed.state, "active")
    assert.strictEqual(healed.lastError, undefined)
    assert.strictEqual(healed.license?.activationId, activated.license?.activationId)
    const license = await emulator.getLicense(id)
    assert.strictEqual(license.activations.length, 1)
  })
})
