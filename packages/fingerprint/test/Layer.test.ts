import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, afterEach, describe, it } from "@effect/vitest"
import { Fingerprint } from "@licensure/core/Fingerprint"
import { Effect } from "effect"
import { containerKindOf, layer, type NodeFingerprintOptions } from "../src/NodeFingerprint.ts"
import { cpuinfo, dmi, expectedFingerprint, fakeRoot, machineIds, removeAll, tempDir } from "./FakeHost.ts"

afterEach(removeAll)

const productId = "7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b"

const machine = () =>
  fakeRoot({
    "/etc/machine-id": `${machineIds.a}\n`,
    "/proc/cpuinfo": cpuinfo(true),
    "/.dockerenv": "",
    ...dmi({ sys_vendor: "QEMU", product_name: "Standard PC (Q35 + ICH9, 2009)" })
  })

const options = (root: string, extra: Partial<NodeFingerprintOptions> = {}): NodeFingerprintOptions => ({
  productId,
  root,
  env: {},
  platform: "linux",
  hostname: "node-7",
  username: "svc",
  dataDir: join(root, "data"),
  ...extra
})

const current = Effect.gen(function* () {
  const fingerprint = yield* Fingerprint
  return yield* fingerprint.current
})

describe("NodeFingerprint.layer", () => {
  it.effect("provides core's Fingerprint service with the machine's identity", () =>
    Effect.gen(function* () {
      const root = machine()
      const identity = yield* current.pipe(Effect.provide(layer(options(root))))
      assert.strictEqual(identity.fingerprint, expectedFingerprint(productId, machineIds.a))
      assert.strictEqual(identity.vmName, "QEMU")
      assert.isTrue(identity.container)
      assert.strictEqual(containerKindOf(identity), "docker")
      assert.strictEqual(identity.os, "linux")
    })
  )

  it.effect("reads the machine once per layer: later changes show only in a new layer", () =>
    Effect.gen(function* () {
      const root = machine()
      const built = layer(options(root))
      const [first, second] = yield* Effect.gen(function* () {
        const first = yield* current
        writeFileSync(join(root, "etc/machine-id"), `${machineIds.b}\n`)
        return [first, yield* current] as const
      }).pipe(Effect.provide(built))
      assert.strictEqual(second, first)
      assert.strictEqual(second.fingerprint, expectedFingerprint(productId, machineIds.a))
      const fresh = yield* current.pipe(Effect.provide(layer(options(root))))
      assert.strictEqual(fresh.fingerprint, expectedFingerprint(productId, machineIds.b))
    })
  )

  it.effect("fails with FingerprintError, and does not keep the failure, when no id can be found or stored", () =>
    Effect.gen(function* () {
      const root = fakeRoot({ "/proc/cpuinfo": cpuinfo(false) })
      const parent = tempDir()
      const dataDir = join(parent, "licensure")
      writeFileSync(dataDir, "a file where the directory should be")
      yield* Effect.gen(function* () {
        const error = yield* Effect.flip(current)
        assert.strictEqual(error._tag, "FingerprintError")
        assert.include(error.message, dataDir)
        rmSync(dataDir)
        mkdirSync(dataDir)
        const identity = yield* current
        assert.strictEqual(identity.sources[0], "generated")
      }).pipe(Effect.provide(layer(options(root, { dataDir }))))
    })
  )

  it.effect("turns a bad product id into a FingerprintError, not a throw", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(current.pipe(Effect.provide(layer(options(machine(), { productId: "" })))))
      assert.strictEqual(error.message, 'expected productId to be a non-empty string, got ""')
    })
  )

  it.effect("matches components: exact, sameMachine when only the host name drifted, different otherwise", () =>
    Effect.gen(function* () {
      const root = machine()
      const fingerprint = yield* Fingerprint.pipe(Effect.provide(layer(options(root))))
      const before = yield* current.pipe(Effect.provide(layer(options(root))))
      const renamed = yield* current.pipe(Effect.provide(layer(options(root, { hostname: "node-8" }))))
      const other = yield* current.pipe(
        Effect.provide(layer(options(fakeRoot({ "/etc/machine-id": `${machineIds.c}\n` }))))
      )
      assert.strictEqual(fingerprint.match(before.components, before.components), "exact")
      assert.strictEqual(renamed.fingerprint, before.fingerprint)
      assert.strictEqual(fingerprint.match(before.components, renamed.components), "sameMachine")
      assert.strictEqual(fingerprint.match(before.components, other.components), "different")
    })
  )
})
