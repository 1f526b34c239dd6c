/**
 * Profiling probe for the cold path of bench `check`: a fresh `Licensing` layer over a stored `NodeFileStore`
 * record, then the first `check`, many times in one process. Run under `node --cpu-prof`; prints µs per cold start.
 * `PROBE_N` sets the number of cold starts (default 2000).
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { Licensing } from "@licensure/core"
import { createEmulator } from "@licensure/testing"
import { Context, Effect, Layer } from "effect"
import { coldFixture } from "./ColdFixture.ts"

const n = Number(process.env.PROBE_N ?? 2000)
const root = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "licensure-probe-cold-"))
const emulator = createEmulator()
try {
  const { license, fileClient } = await coldFixture(emulator, root, "probe-host")
  await Effect.runPromise(
    Effect.gen(function* () {
      const licensing = Context.get(yield* Layer.build(fileClient), Licensing)
      yield* licensing.activate(license.key)
      yield* licensing.flush
    }).pipe(Effect.scoped)
  )
  // Where a cold start's time goes: the layer build (which starts the load), the first check, the scope's close.
  const phases = { build: [] as Array<number>, check: [] as Array<number>, close: [] as Array<number> }
  let marks = [0, 0, 0]
  const coldOnce = Effect.gen(function* () {
    marks[0] = performance.now()
    const licensing = Context.get(yield* Layer.build(fileClient), Licensing)
    marks[1] = performance.now()
    const view = yield* licensing.check
    marks[2] = performance.now()
    if (!view.licensed) throw new Error(`cold check ended ${view.state}`)
  }).pipe(Effect.scoped)
  const timed = async () => {
    marks = [0, 0, 0]
    await Effect.runPromise(coldOnce)
    const closed = performance.now()
    phases.build.push(marks[1] - marks[0])
    phases.check.push(marks[2] - marks[1])
    phases.close.push(closed - marks[2])
  }
  for (let i = 0; i < 100; i++) await Effect.runPromise(coldOnce)
  const start = performance.now()
  const cpu = process.cpuUsage()
  for (let i = 0; i < n; i++) await timed()
  const used = process.cpuUsage(cpu)
  const wall = ((performance.now() - start) / n) * 1000
  const cpuPerOp = (used.user + used.system) / n
  console.log(`cold validate: ${wall.toFixed(1)} µs/op wall, ${cpuPerOp.toFixed(1)} µs/op CPU (all threads), over ${n}`)
  const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN
  for (const [name, xs] of Object.entries(phases)) console.log(`  ${name}: median ${(median(xs) * 1000).toFixed(1)} µs`)
} finally {
  await emulator.close()
  NodeFs.rmSync(root, { recursive: true, force: true })
}
