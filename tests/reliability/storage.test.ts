/**
 * Storage (issue 10): the licence file damaged every way a disk, a user or another program damages it, then a
 * fresh client on the same machine starts on it (`createNodeLicensing`, the Node file store, the emulator over
 * real HTTP). Per case: crashed (a start or command that threw instead of answering), hung (past the bound),
 * wrongly accepted (licensed from a file that no longer holds the signed record), written through (a symlink's
 * target changed). Then the two a file cannot show: a directory the process may not write (a real non-root user,
 * uid 65534, when the test runs as root) and a full disk (a 64 KiB tmpfs, when the test may mount one).
 */
import { execFile, spawnSync } from "node:child_process"
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync
} from "node:fs"
import { randomBytes } from "node:crypto"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { createNodeLicensing } from "@licensure/node-runtime/NodeLicensing"
import * as NodeFileStore from "@licensure/node-runtime/NodeFileStore"
import { report, tally, within } from "./Tally.ts"

let emulator: Emulator
let productId: string
let publicKeyPem: string
let work: string
beforeAll(async () => {
  emulator = await startEmulator()
  ;({ productId, publicKeyPem } = await emulator.createProduct())
  work = mkdtempSync(join(tmpdir(), "licensure-reliability-"))
})
afterAll(async () => {
  await emulator?.close()
  rmSync(work, { recursive: true, force: true })
  console.log(report())
})

let n = 0
const machine = () => {
  const root = join(work, `root-${++n}`)
  mkdirSync(join(root, "etc"), { recursive: true })
  writeFileSync(join(root, "etc", "machine-id"), `${randomBytes(16).toString("hex")}\n`)
  return root
}
const configFor = (root: string, directory: string) => ({
  productId,
  publicKeyPem,
  host: emulator.url,
  directory,
  fingerprint: { root, platform: "linux" as const, env: {}, hostname: "workstation", username: "tester" },
  http: { proxy: "none" as const }
})

const damages: ReadonlyArray<readonly [string, (file: string) => void]> = [
  ["truncated to half", (file) => truncateSync(file, Math.floor(readFileSync(file).length / 2))],
  ["truncated to 3 bytes", (file) => truncateSync(file, 3)],
  ["emptied", (file) => writeFileSync(file, "")],
  ["random bytes of the same length", (file) => writeFileSync(file, randomBytes(readFileSync(file).length))],
  [
    "one bit flipped in the middle",
    (file) => {
      const bytes = readFileSync(file)
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01
      writeFileSync(file, bytes)
    }
  ],
  ["zero-filled", (file) => writeFileSync(file, Buffer.alloc(readFileSync(file).length))],
  [
    "plain JSON of a made-up record",
    (file) => writeFileSync(file, JSON.stringify({ token: "a.b.c", kind: "activation" }))
  ],
  ["2 MiB of junk", (file) => writeFileSync(file, Buffer.alloc(2 * 1024 * 1024, 0x41))],
  [
    "a directory in its place",
    (file) => {
      rmSync(file)
      mkdirSync(file)
    }
  ],
  [
    "a FIFO in its place",
    (file) => {
      rmSync(file)
      spawnSync("mkfifo", [file])
    }
  ],
  [
    "a dangling symlink in its place",
    (file) => {
      rmSync(file)
      symlinkSync(join(work, "nowhere", "at-all"), file)
    }
  ]
]

describe("reliability: storage", () => {
  it(`${damages.length} damaged files: the next start answers, never licensed from the damage, never crashes`, async () => {
    const counts = tally("storage (damaged files)")
    for (const [name, damage] of damages) {
      counts.tried++
      const root = machine()
      const directory = join(work, `store-${n}`)
      const { key } = await emulator.createLicense({ productId, allowedActivations: 5 })
      const first = createNodeLicensing(configFor(root, directory))
      await first.activate(key)
      await first.close()
      damage(NodeFileStore.filePath({ productId, directory }))
      const outcome = await within(
        10_000,
        (async () => {
          const second = createNodeLicensing(configFor(root, directory))
          try {
            return await second.check()
          } finally {
            await second.close()
          }
        })().catch((error: unknown) => ({ crashed: String(error) }))
      )
      if (outcome === undefined) counts.hung++
      else if ("crashed" in outcome.value) counts.crashed++
      else if (outcome.value.licensed) counts.wronglyAccepted++
      assert.isDefined(outcome, `${name}: hung`)
      assert.notProperty(outcome!.value, "crashed", `${name}: ${JSON.stringify(outcome!.value)}`)
      assert.isFalse((outcome!.value as { licensed: boolean }).licensed, `${name}: licensed from a damaged file`)
    }
    assert.deepStrictEqual([counts.hung, counts.crashed, counts.wronglyAccepted], [0, 0, 0])
  })

  it("a symlink planted at the store path is never written through", async () => {
    const counts = tally("storage (symlinks)")
    counts.tried++
    const root = machine()
    const directory = join(work, `store-${n}`)
    mkdirSync(directory, { recursive: true })
    const target = join(work, `precious-${n}.txt`)
    writeFileSync(target, "do not touch")
    symlinkSync(target, NodeFileStore.filePath({ productId, directory }))
    const { key } = await emulator.createLicense({ productId })
    const licensing = createNodeLicensing(configFor(root, directory))
    try {
      await licensing.activate(key).catch(() => undefined)
    } finally {
      await licensing.close()
    }
    if (readFileSync(target, "utf8") !== "do not touch") counts.dataLost++
    assert.strictEqual(readFileSync(target, "utf8"), "do not touch")
  })

  const root = process.getuid?.() === 0
  it.skipIf(!root)(
    "a directory the user may not write (uid 65534): activate says persisted false, nothing thrown",
    () => {
      const counts = tally("storage (unwritable, uid 65534)")
      counts.tried++
      const directory = join(work, "root-owned")
      mkdirSync(directory, { recursive: true })
      chmodSync(directory, 0o755)
      chmodSync(work, 0o755)
      const script = join(import.meta.dirname, "fixtures", "activate-once.mjs")
      return (async () => {
        const { key } = await emulator.createLicense({ productId })
        const machineRoot = machine()
        chmodSync(machineRoot, 0o755)
        // Asynchronously: the emulator answering the child runs in this process's event loop.
        const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
          execFile(
            process.execPath,
            [script],
            {
              // Resolve @licensure/* from the tests package, run from sources.
              cwd: join(import.meta.dirname, ".."),
              env: {
                ...process.env,
                CASE: JSON.stringify({ key, config: configFor(machineRoot, directory) }),
                HOME: work
              },
              uid: 65534,
              gid: 65534,
              encoding: "utf8",
              timeout: 30_000
            },
            (error, stdout, stderr) =>
              resolve({
                status: error === null ? 0 : typeof error.code === "number" ? error.code : null,
                stdout,
                stderr
              })
          )
        })
        const line = run.stdout.trim().split("\n").at(-1) ?? ""
        if (run.status !== 0) counts.crashed++
        assert.strictEqual(run.status, 0, `${run.stderr} ${run.stdout}`)
        const seen = JSON.parse(line)
        assert.isTrue(seen.licensed)
        assert.isFalse(seen.persisted)
        assert.match(seen.storeError, /EACCES|permission/i)
      })()
    }
  )

  it("a full disk (a 64 KiB tmpfs): persisted false, no litter left beside the file", async (context) => {
    const counts = tally("storage (disk full)")
    const mount = join(work, "tiny")
    mkdirSync(mount, { recursive: true })
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mount], { encoding: "utf8" })
    if (mounted.status !== 0) {
      console.log(`reliability storage (disk full): skipped, cannot mount a tmpfs here: ${mounted.stderr.trim()}`)
      context.skip()
      return
    }
    try {
      counts.tried++
      // Fill the disk, leaving less than a record needs.
      writeFileSync(join(mount, "filler"), Buffer.alloc(60 * 1024))
      const directory = join(mount, "store")
      mkdirSync(directory)
      const { key } = await emulator.createLicense({ productId })
      const licensing = createNodeLicensing(configFor(machine(), directory))
      try {
        const view = await licensing.activate(key)
        assert.isTrue(view.licensed)
        assert.isFalse(view.persisted)
        assert.match(view.storeError ?? "", /ENOSPC/)
      } finally {
        await licensing.close()
      }
      const litter = spawnSync("ls", ["-A", directory], { encoding: "utf8" }).stdout.trim()
      if (litter !== "") counts.dataLost++
      assert.strictEqual(litter, "", "temporary files left behind")
    } finally {
      spawnSync("umount", [mount])
    }
  })
})
