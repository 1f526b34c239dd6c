// The child process of startup-close.test.ts: a client with a stored licence, closed while its start-up load is
// in flight, in each way an application can close it. It never calls process.exit: the parent checks that it ends
// by itself. It prints one JSON line: what each scenario ended with, the unhandled rejections seen, and whether
// the store's files changed after the first client closed.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startEmulator } from "@licensure/emulator"
import * as NodeLicensing from "@licensure/node-runtime/NodeLicensing"
import { Effect, Exit, Fiber, Layer, Scheduler } from "effect"

const unhandled = []
process.on("unhandledRejection", (error) => {
  unhandled.push(String(error))
  process.stderr.write(`unhandled rejection: ${String(error)}\n`)
})

const work = mkdtempSync(join(tmpdir(), "licensure-startup-close-"))
const directory = join(work, "store")
mkdirSync(join(work, "root", "etc"), { recursive: true })
writeFileSync(join(work, "root", "etc", "machine-id"), "3a1f5c7e9b0d42e6a8c1f3e5d7b9a0c2\n")
const emulator = await startEmulator()
const { productId, publicKeyPem } = await emulator.createProduct()
const { key } = await emulator.createLicense({ productId, serverSyncInterval: 60 })
const config = {
  productId,
  publicKeyPem,
  host: emulator.url,
  directory,
  fingerprint: { root: join(work, "root"), platform: "linux", env: {}, hostname: "box", username: "me" },
  http: { proxy: "none" }
}
const first = NodeLicensing.createNodeLicensing(config)
const activated = await first.activate(key)
await first.close()
await emulator.close()

/** Every file of the store with its bytes and modification time: a write after close changes it. */
const snapshot = () =>
  readdirSync(directory)
    .sort()
    .map(
      (name) =>
        `${name}:${statSync(join(directory, name)).mtimeMs}:${readFileSync(join(directory, name)).toString("base64")}`
    )
    .join("\n")
const before = snapshot()
const outcomes = {}
const count = (scenario, what) => {
  outcomes[scenario] ??= {}
  outcomes[scenario][what] = (outcomes[scenario][what] ?? 0) + 1
}
const turns = (n) =>
  Array.from({ length: n }).reduce((p) => p.then(() => new Promise((r) => setImmediate(r))), Promise.resolve())

for (const watchStore of [false, true]) {
  // The Promise face: a check asked for, and close() at once, before the load can have finished.
  const client = NodeLicensing.createNodeLicensing({ ...config, watchStore })
  const pending = client.check().then(
    (view) => `resolved ${view.state}`,
    (error) => `rejected ${error.kind}`
  )
  await client.close()
  count(`promise close() at once${watchStore ? ", watching" : ""}`, await pending)
}

for (let turn = 0; turn < 60; turn++) {
  // The Effect face: the layer's scope closed before the first check, at a different point of the start-up each
  // time. A small yield budget makes the build give the scheduler a turn every few steps, so the close lands
  // inside the build too (between the start-up load's start and the machine's taking it), not only after it.
  const build = Effect.scoped(Effect.andThen(Layer.build(NodeLicensing.layer(config)), Effect.never)).pipe(
    Effect.provideService(Scheduler.MaxOpsBeforeYield, 16)
  )
  const fiber = Effect.runFork(build)
  await turns(turn)
  const exit = await Effect.runPromise(Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber))))
  count("effect scope closed during start-up", Exit.isFailure(exit) ? "closed" : "other")
}

// Give anything left running the chance to write or reject before the store is looked at again.
await turns(50)
const after = snapshot()
rmSync(work, { recursive: true, force: true })
process.stdout.write(
  `${JSON.stringify({ activated: activated.state, outcomes, unhandled, storeChanged: before !== after })}\n`
)
