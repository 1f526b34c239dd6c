/**
 * A licence that cannot be saved is never a silent success (issue 10): with a regular file where the store's
 * directory should be, `activate()` still activates (the server gave the seat), but the view says the record is
 * not persisted and why; once the directory can be written, the next evaluation saves it and the view says so.
 * Real files in a temp dir, the Node file store, the emulator over real HTTP.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { createNodeLicensing } from "@licensure/node-runtime/NodeLicensing"
import * as NodeFileStore from "@licensure/node-runtime/NodeFileStore"

let emulator: Emulator
let dir: string
beforeAll(async () => {
  emulator = await startEmulator()
  dir = mkdtempSync(join(tmpdir(), "licensure-save-"))
})
afterAll(async () => {
  await emulator?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe("a save that fails", () => {
  it("is reported on the view (persisted false, with the cause), and retried until it lands", async () => {
    const { productId, publicKeyPem } = await emulator.createProduct()
    const { key } = await emulator.createLicense({ productId })
    const root = join(dir, "root")
    mkdirSync(join(root, "etc"), { recursive: true })
    writeFileSync(join(root, "etc", "machine-id"), "5d1c3e5f9b2d4f6a8c0e1f3a5b7d9c2e\n")
    const blocked = join(dir, "blocked")
    // A regular file where the store directory's parent should be: every write fails with ENOTDIR/EEXIST.
    writeFileSync(blocked, "not a directory")
    const directory = join(blocked, "store")
    const licensing = createNodeLicensing({
      productId,
      publicKeyPem,
      host: emulator.url,
      directory,
      fingerprint: { root, platform: "linux", env: {}, hostname: "workstation", username: "tester" },
      http: { proxy: "none" }
    })
    try {
      const view = await licensing.activate(key)
      assert.strictEqual(view.state, "active")
      assert.isTrue(view.licensed)
      assert.isFalse(view.persisted, "the failed save must show on the view")
      assert.match(view.storeError ?? "", /could not save the licence record/)
      assert.match(view.storeError ?? "", /ENOTDIR|EEXIST|blocked/)

      rmSync(blocked)
      mkdirSync(directory, { recursive: true })
      const again = await licensing.check()
      // check() answers at once; the write it queues lands a moment later.
      await new Promise((resolve) => setTimeout(resolve, 200))
      const after = await licensing.view()
      assert.isTrue(after.persisted, `saved once the directory exists (${after.storeError})`)
      assert.isUndefined(after.storeError)
      assert.isTrue(existsSync(NodeFileStore.filePath({ productId, directory })))
      assert.strictEqual(again.state, "active")
    } finally {
      await licensing.close()
    }
  })
})
