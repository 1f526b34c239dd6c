/**
 * Probe (run with `--expose-gc`): a fleet through a server outage. One in-process emulator on a TestClock holds one
 * product and N licences (sync interval `ssi` seconds, 7-day grace); N clients, each with its own identity,
 * in-memory store, `Licensing` layer and seeded `Random` (`client-<i>`), activate in the same virtual instant, so
 * they start in lockstep. After `before` hours the emulator drops every request (the connection closes unanswered,
 * as a refused or reset connection does) for `outage` hours; then it serves again for `after` hours.
 *
 * Virtual time moves in whole minutes, to each minute's end, and every client is settled after each step (a retry
 * asleep inside an operation moves the clock to when it wakes, as `settled` does). The requests that reached the
 * emulator during a step are that minute's count: taken from the emulator's request log, which is cleared after
 * every step (so it never grows with the run, and the heap figure is the clients', not the server's log).
 *
 * Heap: `heapUsed` after two full collections, relative to the heap once the emulator holds its product and
 * licences (so per client means what the N clients keep, with the server's licences subtracted), measured after
 * the run.
 *
 * Usage: `node --expose-gc outageFleet.ts <N> <jitter 0..1> <before h> <outage h> <after h> <ssi s>`; prints one
 * JSON line: the per-minute counts of the whole run, the outage's window, and the heap figures.
 */
import { Licensing } from "@licensure/core"
import { createEmulator } from "@licensure/emulator"
import { emulatorLayer, HOUR, Start, settled } from "@licensure/testing"
import { Clock, Context, Effect, Layer, Random } from "effect"
import { TestClock } from "effect/testing"
import * as Fleet from "./Fleet.ts"
import { heapAfterGc } from "./Heap.ts"

const MINUTE = 60_000
const [nArg = "1000", jitterArg = "0.5", beforeArg = "6", outageArg = "6", afterArg = "12", ssiArg = "3600"] =
  process.argv.slice(2)
const n = Number(nArg)
const jitter = Number(jitterArg)
const [before, outage, after, ssi] = [beforeArg, outageArg, afterArg, ssiArg].map(Number) as [
  number,
  number,
  number,
  number
]
if (!(n > 0) || !(jitter >= 0 && jitter <= 1) || !(before >= 0) || !(outage > 0) || !(after > 0) || !(ssi > 0)) {
  console.error(
    `expected <N > 0> <jitter in [0, 1]> <before h ≥ 0> <outage h > 0> <after h > 0> <ssi s > 0>, got ${process.argv
      .slice(2)
      .join(" ")}`
  )
  process.exit(2)
}

const program = Effect.gen(function* () {
  yield* TestClock.setTime(Start)
  const clock = yield* Clock.Clock
  const emulator = createEmulator({ now: () => clock.currentTimeMillisUnsafe() })
  const { product, keys } = yield* Fleet.licences(emulator, n, ssi)
  const base = heapAfterGc()

  const api = emulatorLayer(emulator)
  const clients: Array<Licensing["Service"]> = []
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const context = yield* Layer.build(Fleet.clientLayer(api, product, i, "outage-host", { retryJitter: jitter })).pipe(
      Random.withSeed(`client-${i}`)
    )
    const licensing = Context.get(context, Licensing)
    yield* licensing.activate(keys[i]!)
    clients.push(licensing)
  }
  yield* Effect.promise(() => emulator.clearLog())
  const t1 = performance.now()

  const outageStart = Start + before * HOUR
  const outageEnd = outageStart + outage * HOUR
  const end = outageEnd + after * HOUR
  yield* Effect.promise(() => emulator.addFault({ kind: "drop", from: outageStart, until: outageEnd }))

  /** Requests per minute, index 0 the minute after `Start`, by the emulator's arrival time. */
  const perMinute: Array<number> = new Array(Math.ceil((end - Start) / MINUTE)).fill(0)
  /** Requests after the recovery that were not answered 200, by method, path and status. */
  const unanswered: Record<string, number> = {}
  /** Requests in the window after the recovery, per activation (each client's id). */
  const perActivation = new Map<string, number>()
  const count = (log: ReadonlyArray<{ at: number; method: string; path: string; status: number }>) => {
    for (const entry of log) {
      const minute = Math.floor((entry.at - Start) / MINUTE)
      if (minute >= 0 && minute < perMinute.length) perMinute[minute] = (perMinute[minute] ?? 0) + 1
      if (entry.at < outageEnd || entry.at >= end) continue
      const id = entry.path.split("/")[3] ?? ""
      perActivation.set(id, (perActivation.get(id) ?? 0) + 1)
      if (entry.status !== 200) {
        const kind = `${entry.method} ${entry.path.split("/").slice(0, 3).join("/")} ${entry.status}`
        unanswered[kind] = (unanswered[kind] ?? 0) + 1
      }
    }
  }

  // Each client's next deadline (what its view says). Time moves to the earliest one (at most an hour on), and the
  // clients due by then are settled before it moves again: the clock never runs ahead of a request in flight (a
  // whole minute at once would pass the 30-second request timeout of syncs still being signed in real time, and
  // count retries no client would make).
  const deadlines: Array<number> = []
  for (const client of clients) deadlines.push((yield* client.current).nextDeadline ?? Number.POSITIVE_INFINITY)
  let peakHeap = 0
  let steps = 0
  let now = clock.currentTimeMillisUnsafe()
  let nextHeapSample = now
  while (now < end) {
    let target = Math.min(end, now + HOUR)
    for (const d of deadlines) if (d > now && d < target) target = d
    yield* TestClock.adjust(Math.max(1, target - now))
    steps++
    // Settling one client may move the clock (a retry asleep in an operation): whoever fell due meanwhile too.
    for (let settledAll = false; !settledAll; ) {
      settledAll = true
      const at = clock.currentTimeMillisUnsafe()
      for (let i = 0; i < clients.length; i++) {
        if (deadlines[i]! > at && target < end) continue
        const view = yield* settled(clients[i]!)
        deadlines[i] = view.nextDeadline ?? Number.POSITIVE_INFINITY
        if (deadlines[i]! <= clock.currentTimeMillisUnsafe()) settledAll = false
      }
      if (clock.currentTimeMillisUnsafe() > at) settledAll = false
      if (target >= end) break
    }
    count(yield* Effect.promise(() => emulator.log()))
    yield* Effect.promise(() => emulator.clearLog())
    now = clock.currentTimeMillisUnsafe()
    if (now >= nextHeapSample) {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed - base)
      nextHeapSample = now + HOUR
    }
  }
  const t2 = performance.now()

  /** How many clients made how many requests in the window after the recovery. */
  const requestsPerClient: Record<number, number> = {}
  for (const v of perActivation.values()) requestsPerClient[v] = (requestsPerClient[v] ?? 0) + 1
  let licensed = 0
  for (const client of clients) if ((yield* client.current).licensed) licensed++
  const retained = heapAfterGc() - base
  return {
    clients: n,
    jitter,
    ssi,
    before,
    outage,
    after,
    recoveryMinute: (outageEnd - Start) / MINUTE,
    perMinute,
    unanswered,
    requestsPerClient,
    steps,
    licensed,
    retainedPerClient: retained / n,
    peakPerClient: peakHeap / n,
    activateMs: t1 - t0,
    driveMs: t2 - t1
  }
}).pipe(Effect.scoped, Effect.provide(TestClock.layer()))

console.log(JSON.stringify(await Effect.runPromise(program)))
