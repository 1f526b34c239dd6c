import { spawn } from "node:child_process"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, afterEach, describe, it } from "@effect/vitest"
import type { FingerprintComponent } from "@licensure/core/Fingerprint"
import { readMachineIdentity } from "../src/NodeFingerprint.ts"
import { cpuinfo, dmi, expectedFingerprint, fakeRoot, machineIds, removeAll, tempDir } from "./FakeHost.ts"

afterEach(removeAll)

const productId = "7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b"
const source = fileURLToPath(new URL("../src/NodeFingerprint.ts", import.meta.url))

interface Printed {
  readonly fingerprint: string
  readonly components: ReadonlyArray<FingerprintComponent>
  readonly primarySource: string
}

/** A separate Node process that reads the identity of `root` and prints it. */
const script = () => {
  const path = join(tempDir("licensure-fp-script-"), "read.mjs")
  writeFileSync(
    path,
    `import { readMachineIdentity } from ${JSON.stringify(source)}
import { existsSync } from "node:fs"
const [root, dataDir, hostname, productId, go] = process.argv.slice(2)
if (go) {
  // A start barrier: announce readiness, then spin until the parent creates the go file, so that racers call at once.
  console.log("ready")
  while (!existsSync(go)) {}
}
const result = readMachineIdentity({ productId, root, dataDir, hostname, env: {}, platform: "linux", username: "u" })
if (result._tag === "Failure") { console.error(result.failure.message); process.exit(2) }
const { fingerprint, components, primarySource } = result.success
console.log(JSON.stringify({ fingerprint, components, primarySource }))
`
  )
  return path
}

const runNode = (args: ReadonlyArray<string>, onReady?: () => void): Promise<Printed> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (d) => {
      out += d
      if (onReady && out.startsWith("ready\n")) {
        out = out.slice("ready\n".length)
        onReady()
        onReady = undefined
      }
    })
    child.stderr.on("data", (d) => {
      err += d
    })
    child.on("error", reject)
    child.on("close", (code) =>
      code === 0 ? resolve(JSON.parse(out) as Printed) : reject(new Error(`exit ${code}: ${err.trim()}`))
    )
  })

describe("fingerprint across processes", () => {
  it("is the same in two separate Node processes, and in this one, for the same machine", async () => {
    const root = fakeRoot({
      "/etc/machine-id": `${machineIds.a}\n`,
      "/proc/cpuinfo": cpuinfo(true),
      ...dmi({ sys_vendor: "VMware, Inc.", product_name: "VMware20,1" })
    })
    const path = script()
    const dataDir = join(root, "data")
    const [first, second] = await Promise.all([
      runNode([path, root, dataDir, "ci-runner-a", productId]),
      runNode([path, root, dataDir, "ci-runner-a", productId])
    ])
    assert.strictEqual(first.fingerprint, expectedFingerprint(productId, machineIds.a))
    assert.deepStrictEqual(second, first)
    const here = readMachineIdentity({ productId, root, dataDir, hostname: "ci-runner-a", env: {}, platform: "linux" })
    assert.strictEqual(here._tag === "Success" && here.success.fingerprint, first.fingerprint)
    assert.deepStrictEqual(here._tag === "Success" && here.success.components, first.components)
  })

  it("gives two processes racing to create the generated id the same one", async () => {
    const root = fakeRoot({ "/proc/cpuinfo": cpuinfo(false) })
    const path = script()
    const dataDir = join(tempDir(), "shared")
    const go = join(tempDir(), "go")
    let ready = 0
    const release = () => {
      ready += 1
      if (ready === 2) writeFileSync(go, "")
    }
    const racers = await Promise.all(
      ["a", "b"].map((host) => runNode([path, root, dataDir, `host-${host}`, productId, go], release))
    )
    const id = readFileSync(join(dataDir, "machine-id"), "utf8").trim()
    for (const r of racers) {
      assert.strictEqual(r.primarySource, "generated")
      assert.strictEqual(r.fingerprint, expectedFingerprint(productId, id))
    }
    assert.deepStrictEqual(readdirSync(dataDir), ["machine-id"], "no temporary file is left behind")
  })
})
