/**
 * The two local checks LexActivator makes from the token, in the client's own life (issue 11): a licence locked
 * to the OS user who activated it (`ul`/`uh`) answers `LA_E_OS_USER` to another user of the same machine, and a
 * release the licence does not cover (`marv`, or one published after the maintenance expiry `meat`) answers `LA_E_RELEASE_VERSION_NOT_ALLOWED`, only when the
 * application says which release it is. Real HTTP to the emulator, a real encrypted licence file shared by the two
 * users, the real Node fingerprint on a fake root (the user name is its input).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { createNodeLicensing } from "@licensure/node-runtime/NodeLicensing"

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator?.close())
const made: Array<string> = []
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** One machine (a machine id under a fake root) and a licence-file directory on it. */
const machine = () => {
  const dir = mkdtempSync(join(tmpdir(), "licensure-userlock-"))
  made.push(dir)
  const root = join(dir, "root")
  mkdirSync(join(root, "etc"), { recursive: true })
  writeFileSync(join(root, "etc", "machine-id"), "0123456789abcdef0123456789abcdef\n")
  const directory = join(dir, "store")
  mkdirSync(directory)
  return { root, directory }
}

const client = (
  product: { productId: string; publicKeyPem: string },
  where: { root: string; directory: string },
  username: string,
  extra: { releaseVersion?: string; releasePublishedAt?: string } = {}
) =>
  createNodeLicensing({
    productId: product.productId,
    publicKeyPem: product.publicKeyPem,
    host: emulator.url,
    directory: where.directory,
    fingerprint: { root: where.root, platform: "linux", env: {}, hostname: "shared-box", username },
    http: { proxy: "none" },
    retry: { retries: 0 },
    ...extra
  })

describe("the OS-user lock, checked locally", () => {
  it("runs for the user who activated, and is osUserMismatch (LA_E_OS_USER) for another user of the machine", async () => {
    const product = await emulator.createProduct()
    const { key } = await emulator.createLicense({ productId: product.productId, userLocked: true })
    const where = machine()
    const alice = client(product, where, "alice")
    try {
      const view = await alice.activate(key)
      assert.strictEqual(view.state, "active", JSON.stringify(view.lastError))
      assert.isTrue((await alice.license())?.userLocked)
    } finally {
      await alice.close()
    }
    const bob = client(product, where, "bob")
    try {
      const view = await bob.check()
      assert.strictEqual(view.state, "osUserMismatch", JSON.stringify(view.lastError ?? view.clearedBecause))
      assert.strictEqual(view.validation, "osUserMismatch")
      assert.isFalse(view.licensed)
      assert.deepStrictEqual(view.status, { name: "LA_E_OS_USER", code: 104 })
      // The record is Alice's and stays: Bob's run does not take her licence away.
      assert.strictEqual(view.license?.key, key)
    } finally {
      await bob.close()
    }
    const aliceAgain = client(product, where, "alice")
    try {
      const view = await aliceAgain.check()
      assert.strictEqual(view.state, "active", JSON.stringify(view.lastError ?? view.clearedBecause))
      assert.deepStrictEqual(view.status, { name: "LA_OK", code: 0 })
    } finally {
      await aliceAgain.close()
    }
  })

  it("lets any user run a licence that is not user-locked", async () => {
    const product = await emulator.createProduct()
    const { key } = await emulator.createLicense({ productId: product.productId })
    const where = machine()
    const alice = client(product, where, "alice")
    try {
      await alice.activate(key)
    } finally {
      await alice.close()
    }
    const bob = client(product, where, "bob")
    try {
      const view = await bob.check()
      assert.strictEqual(view.state, "active", JSON.stringify(view.lastError ?? view.clearedBecause))
      assert.isFalse(view.license?.userLocked)
    } finally {
      await bob.close()
    }
  })
})

describe("the release-version check, in the evaluation", () => {
  it("is refused by the server above marv (77), releaseNotAllowed locally when an update outruns the signed marv, active once marv is raised", async () => {
    const product = await emulator.createProduct()
    const { key, id } = await emulator.createLicense({ productId: product.productId, maxAllowedReleaseVersion: "2.5" })
    const where = machine()
    // The server judges the release too (reference-client.md §3 item 2): the activation of 2.6 is refused.
    const early = client(product, where, "carol", { releaseVersion: "2.6" })
    try {
      const error = await early.activate(key).then(
        (view) => assert.fail(`expected the activation to be refused, got ${view.state}`),
        (e: unknown) => e as { status?: unknown; reason?: { _tag?: string } }
      )
      assert.deepStrictEqual(error.status, { name: "LA_E_RELEASE_VERSION_NOT_ALLOWED", code: 77 })
      assert.strictEqual(error.reason?._tag, "ServerRefused")
    } finally {
      await early.close()
    }
    // 2.5 activates; the app is then updated to 2.6 and starts offline: the signed marv refuses it locally.
    const current = client(product, where, "carol", { releaseVersion: "2.5" })
    try {
      assert.strictEqual((await current.activate(key)).state, "active")
    } finally {
      await current.close()
    }
    const updated = client(product, where, "carol", { releaseVersion: "2.6" })
    try {
      const view = await updated.check()
      assert.strictEqual(view.state, "releaseNotAllowed", JSON.stringify(view.lastError))
      assert.strictEqual(view.validation, "releaseNotAllowed")
      assert.isFalse(view.licensed)
      assert.deepStrictEqual(view.status, { name: "LA_E_RELEASE_VERSION_NOT_ALLOWED", code: 77 })
      assert.strictEqual(view.license?.maxAllowedReleaseVersion, "2.5")
      // A sync on 2.6 is refused by the server with the same code; the activation stays on disk.
      const refused = await updated.sync().then(
        (v) => assert.fail(`expected the sync to be refused, got ${v.state}`),
        (e: unknown) => e as { status?: unknown }
      )
      assert.deepStrictEqual(refused.status, { name: "LA_E_RELEASE_VERSION_NOT_ALLOWED", code: 77 })
      assert.strictEqual((await updated.view()).license?.key, key)
      await emulator.updateLicense(id, { maxAllowedReleaseVersion: "3.0" })
      const synced = await updated.sync()
      assert.strictEqual(synced.state, "active", JSON.stringify(synced.lastError))
      assert.deepStrictEqual(synced.status, { name: "LA_OK", code: 0 })
    } finally {
      await updated.close()
    }
  })

  it("judges an update against the release the activation was made with (crv) under the maintenance policy", async () => {
    const product = await emulator.createProduct()
    const { key } = await emulator.createLicense({
      productId: product.productId,
      maintenancePolicy: { allowMajorVersionUpdates: false, allowMinorVersionUpdates: true, validity: 0 }
    })
    const where = machine()
    const first = client(product, where, "hana", { releaseVersion: "1.4.0" })
    try {
      const view = await first.activate(key)
      assert.strictEqual(view.state, "active", JSON.stringify(view.lastError))
      // The emulator signed the activation's release as `crv`.
      assert.strictEqual(view.license?.currentReleaseVersion, "1.4.0")
    } finally {
      await first.close()
    }
    for (const [releaseVersion, state] of [
      ["1.9.2", "active"],
      ["2.0.0", "releaseNotAllowed"]
    ] as const) {
      const later = client(product, where, "hana", { releaseVersion })
      try {
        const view = await later.check()
        assert.strictEqual(view.state, state, `${releaseVersion}: ${JSON.stringify(view.lastError)}`)
        assert.strictEqual(view.license?.currentReleaseVersion, "1.4.0")
      } finally {
        await later.close()
      }
    }
  })

  it("is active for a release within marv, and for any release when the app does not set one", async () => {
    const product = await emulator.createProduct()
    for (const releaseVersion of ["2.5", undefined]) {
      const { key } = await emulator.createLicense({ productId: product.productId, maxAllowedReleaseVersion: "2.5" })
      const licensing = client(product, machine(), "dave", releaseVersion === undefined ? {} : { releaseVersion })
      try {
        const view = await licensing.activate(key)
        assert.strictEqual(view.state, "active", `${releaseVersion}: ${JSON.stringify(view.lastError)}`)
      } finally {
        await licensing.close()
      }
    }
  })

  it("is releaseNotAllowed for a release published after the maintenance ended (meat), and active once it is renewed", async () => {
    const product = await emulator.createProduct()
    const ended = "2020-06-01T00:00:00Z"
    const { key, id } = await emulator.createLicense({
      productId: product.productId,
      allowedActivations: 3,
      maintenanceExpiresAt: ended,
      maintenancePolicy: { allowMajorVersionUpdates: true, allowMinorVersionUpdates: true, validity: 0 }
    })
    const after = client(product, machine(), "erin", {
      releaseVersion: "1.2.0",
      releasePublishedAt: "2020-07-01T00:00:00Z"
    })
    const before = client(product, machine(), "frank", {
      releaseVersion: "1.1.0",
      releasePublishedAt: "2020-05-01T00:00:00Z"
    })
    try {
      const refused = await after.activate(key)
      assert.strictEqual(refused.state, "releaseNotAllowed", JSON.stringify(refused.lastError))
      assert.deepStrictEqual(refused.status, { name: "LA_E_RELEASE_VERSION_NOT_ALLOWED", code: 77 })
      // The claims came over the wire, signed: the expiry and the policy as the emulator was told.
      assert.strictEqual(refused.license?.maintenanceExpiresAt, Date.parse(ended))
      assert.deepStrictEqual(refused.license?.maintenancePolicy, {
        allowMajorVersionUpdates: true,
        allowMinorVersionUpdates: true,
        validity: 0
      })
      // A release published while the maintenance ran stays covered after it ended.
      const covered = await before.activate(key)
      assert.strictEqual(covered.state, "active", JSON.stringify(covered.lastError))
      // The maintenance renewed on the server: the next sync brings the new `meat`, and the newer release runs.
      await emulator.updateLicense(id, { maintenanceExpiresAt: "2021-01-01T00:00:00Z" })
      const renewed = await after.sync()
      assert.strictEqual(renewed.state, "active", JSON.stringify(renewed.lastError))
      assert.strictEqual(renewed.license?.maintenanceExpiresAt, Date.parse("2021-01-01T00:00:00Z"))
    } finally {
      await after.close()
      await before.close()
    }
  })

  it("signs no meat or mp for a licence without maintenance, so any release runs", async () => {
    const product = await emulator.createProduct()
    const { key } = await emulator.createLicense({ productId: product.productId })
    const licensing = client(product, machine(), "gina", {
      releaseVersion: "9.0.0",
      releasePublishedAt: "2030-01-01T00:00:00Z"
    })
    try {
      const view = await licensing.activate(key)
      assert.strictEqual(view.state, "active", JSON.stringify(view.lastError))
      assert.isUndefined(view.license?.maintenanceExpiresAt)
      assert.isUndefined(view.license?.maintenancePolicy)
    } finally {
      await licensing.close()
    }
  })
})
