// The child process of startup-close.test.ts: a client with a stored licence, closed while its start-up load is
// in flight, in each way an application can close it. It never calls process.exit: the parent checks that it ends
// by itself. Before each scenario the stored record's clock marks are moved ten minutes back, so that a start-up
// that gets as far as its first evaluation has a write to make (the marks are persisted after a minute). It prints
// one JSON line: what each scenario ended with, the unhandled rejections seen, and how many scenarios saw the
// store's files change after their close() or scope close had finished; a control scenario that lets its client
// start up shows that such a write is seen.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startEmulator } from "@licensure/emulator"
import { LicenseStore } from "@licensure/core"
import * as NodeLicensing from "@licensure/node-runtime/NodeLicensing"
import { Effect, Exit, Fiber, Layer, Option, Scheduler } from "effect"

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
/** Moves the stored record's clock marks ten minutes back through the file store itself. */
const age = () =>
  Effect.runPromise(
    Effect.gen(function* () {
      const store = yield* LicenseStore
      const record = Option.getOrThrow(yield* store.load)
      const back = 10 * 60_000
      yield* store.save({ ...record, lastSeenAt: record.lastSeenAt - back, lastSyncedAt: record.lastSyncedAt - back })
    }).pipe(Effect.provide(NodeLicensing.platformLayer(config)))
  )
const writesAfterClose = {}
/** After a close has finished: does the store change while anything left running gets its turns? */
const watchAfterClose = async (scenario) => {
  const closed = snapshot()
  await turns(30)
  await new Promise((r) => setTimeout(r, 20))
  if (snapshot() !== closed) writesAfterClose[scenario] = (writesAfterClose[scenario] ?? 0) + 1
}
const outcomes = {}
const count = (scenario, what) => {
  outcomes[scenario] ??= {}
  outcomes[scenario][what] = (outcomes[scenario][what] ?? 0) + 1
}
const turns = (n) =>
  Array.from({ length: n }).reduce((p) => p.then(() => new Promise((r) => setImmediate(r))), Promise.resolve())

{
  // The control: a client let start up writes its clock mark (the measurement below can see a write).
  await age()
  const aged = snapshot()
  const client = NodeLicensing.createNodeLicensing(config)
  await client.check()
  await client.close()
  count("control", snapshot() !== aged ? "wrote" : "did not write")
}

for (const watchStore of [false, true]) {
  // The Promise face: a check asked for, and close() at once, before the load can have finished.
  await age()
  const client = NodeLicensing.createNodeLicensing({ ...config, watchStore })
  const pending = client.check().then(
    (view) => `resolved ${view.state}`,
    (error) => `rejected ${error.kind}`
  )
  await client.close()
  const scenario = `promise close() at once${watchStore ? ", watching" : ""}`
  count(scenario, await pending)
  await watchAfterClose(scenario)
}

for (let turn = 0; turn < 60; turn++) {
  // The Effect face: the layer's scope closed before the first check, at a different point of the start-up each
  // time. A small yield budget makes the build give the scheduler a turn every few steps, so the close lands
  // inside the build too (between the start-up load's start and the machine's taking it), not only after it.
  const build = Effect.scoped(Effect.andThen(Layer.build(NodeLicensing.layer(config)), Effect.never)).pipe(
    Effect.provideService(Scheduler.MaxOpsBeforeYield, 16)
  )
  if (turn % 10 === 0) await age()
  const fiber = Effect.runFork(build)
  await turns(turn)
  const exit = await Effect.runPromise(Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber))))
  count("effect scope closed during start-up", Exit.isFailure(exit) ? "closed" : "other")
  await watchAfterClose("effect scope closed during start-up")
}

// Give anything left running the chance to reject before the process is let go.
await turns(50)
rmSync(work, { recursive: true, force: true })
process.stdout.write(`${JSON.stringify({ activated: activated.state, outcomes, unhandled, writesAfterClose })}\n`)
