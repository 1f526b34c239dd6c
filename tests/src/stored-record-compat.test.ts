/**
 * A user's existing licence file keeps working across this release: `tests/fixtures/store/v0.1.0-*` is a file
 * written by the first round's code (commit 71f09f5, through `createNodeLicensing` against its emulator: a
 * node-locked licence without expiry or sync, with a user). Today's client, on the same machine identity, must
 * load it offline (nothing listens at the host), verify it, and report the licence as before.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "@effect/vitest"
import { createNodeLicensing } from "@licensure/node-runtime/NodeLicensing"
import * as NodeFileStore from "@licensure/node-runtime/NodeFileStore"

const fixtures = new URL("../fixtures/store/", import.meta.url)
const meta = JSON.parse(readFileSync(new URL("v0.1.0-meta.json", fixtures), "utf8"))
const made: Array<string> = []
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe("a licence file written by licensure 0.1.0", () => {
  it("loads offline as the same active licence, without asking the server", async () => {
    const dir = mkdtempSync(join(tmpdir(), "licensure-compat-"))
    made.push(dir)
    const root = join(dir, "root")
    mkdirSync(join(root, "etc"), { recursive: true })
    writeFileSync(join(root, "etc", "machine-id"), `${meta.machineId}\n`)
    const directory = join(dir, "store")
    mkdirSync(directory)
    const file = NodeFileStore.filePath({ productId: meta.productId, directory })
    copyFileSync(new URL("v0.1.0-activation.user.lic", fixtures), file)
    const licensing = createNodeLicensing({
      productId: meta.productId,
      publicKeyPem: meta.publicKeyPem,
      // Port 9 (discard): nothing answers; the load must not need the network.
      host: "http://127.0.0.1:9",
      directory,
      fingerprint: { root, platform: "linux", env: {}, hostname: "workstation", username: "tester" },
      http: { proxy: "none" },
      retry: { retries: 0 }
    })
    try {
      const view = await licensing.check()
      assert.strictEqual(view.state, "active", JSON.stringify(view.lastError ?? view.clearedBecause))
      assert.isTrue(view.licensed)
      assert.deepStrictEqual(await licensing.status(), { name: "LA_OK", code: 0 })
      const details = await licensing.license()
      assert.strictEqual(details?.key, meta.key)
      assert.deepStrictEqual(details?.user, { name: "Ada", email: "ada@example.com" })
      // Written before feature entitlements were kept: it loads without any, and nothing is reported missing.
      assert.deepStrictEqual(view.features, [])
      assert.isUndefined(view.featuresError)
      assert.deepStrictEqual(await licensing.features(), [])
    } finally {
      await licensing.close()
    }
  })
})
