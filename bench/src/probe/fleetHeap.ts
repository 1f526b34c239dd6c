/**
 * Probe (run with `--expose-gc`): the heap a fleet of licensing clients keeps, in a fresh process. One in-process
 * emulator on a TestClock holds one product and N licences; in mode `bare` that is all, in mode `fleet` N clients
 * (each its own machine identity, in-memory store and `Licensing` layer, all on the one clock) activate and are
 * advanced together by `days` of virtual time at a sync interval of `ssi` seconds, stepping from deadline to
 * deadline and settling every client after each step. Heap figures are `heapUsed` after two full collections,
 * relative to the heap after the imports; `peak` is the highest uncollected `heapUsed` seen after a step (garbage
 * included). The emulator's request log is cleared before the last measurement: it is the server's memory, not
 * the clients'.
 *
 * Usage: `node --expose-gc fleetHeap.ts <bare|fleet> <N> <days> <ssi seconds>`; prints one JSON line.
 */
import { Licensing } from "@licensure/core"
import { createEmulator } from "@licensure/emulator"
import { DAY, emulatorLayer, settled, Start } from "@licensure/testing"
import { Clock, Context, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import * as Fleet from "./Fleet.ts"
import { heapAfterGc } from "./Heap.ts"

const [mode = "fleet", nArg = "200", daysArg = "7", ssiArg = "86400"] = process.argv.slice(2)
const n = Number(nArg)
const days = Number(daysArg)
const ssi = Number(ssiArg)
if ((mode !== "bare" && mode !== "fleet") || !(n > 0) || !(days > 0) || !(ssi > 0)) {
  console.error(`expected <bare|fleet> <N > 0> <days > 0> <ssi > 0>, got ${process.argv.slice(2).join(" ")}`)
  process.exit(2)
}

const program = Effect.gen(function* () {
  yield* TestClock.setTime(Start)
  const clock = yield* Clock.Clock
  const base = heapAfterGc()
  const emulator = createEmulator({ now: () => clock.currentTimeMillisUnsafe() })
  const { product, keys } = yield* Fleet.licences(emulator, n, ssi)
  const licences = heapAfterGc() - base
  if (mode === "bare") return { retained: licences }

  const api = emulatorLayer(emulator)
  const clients: Array<Licensing["Service"]> = []
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const context = yield* Layer.build(Fleet.clientLayer(api, product, i, "fleet-host"))
    const licensing = Context.get(context, Licensing)
    yield* licensing.activate(keys[i]!)
    clients.push(licensing)
  }
  const t1 = performance.now()

  let peak = 0
  let now = Start
  const until = Start + days * DAY
  while (now < until) {
    let target = Math.min(until, now + DAY)
    for (const client of clients) {
      const deadline = (yield* client.current).nextDeadline
      if (deadline !== undefined && deadline > now && deadline < target) target = deadline
    }
    yield* TestClock.adjust(Math.max(1, target - now))
    for (const client of clients) yield* settled(client)
    now = clock.currentTimeMillisUnsafe()
    peak = Math.max(peak, process.memoryUsage().heapUsed - base)
  }
  const t2 = performance.now()

  const log = yield* Effect.promise(() => emulator.log())
  const syncs = log.filter((e) => e.method === "PATCH" && e.status === 200).length
  let licensed = 0
  for (const client of clients) if ((yield* client.current).licensed) licensed++
  yield* Effect.promise(() => emulator.clearLog())
  const retained = heapAfterGc() - base
  return { licences, retained, peak, syncs, licensed, activateMs: t1 - t0, driveMs: t2 - t1 }
}).pipe(Effect.scoped, Effect.provide(TestClock.layer()))

console.log(JSON.stringify(await Effect.runPromise(program)))
