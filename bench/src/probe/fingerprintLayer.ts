/**
 * Probe: the first `Fingerprint.current` through `NodeFingerprint.layer` in a fresh process, run with
 * `Effect.runSync`; the program is built before the clock starts, so `first` is the Effect runtime's cold start
 * plus the uncached read.
 */
import { Fingerprint } from "@licensure/core/Fingerprint"
import { layer } from "@licensure/fingerprint/NodeFingerprint"
import { Effect } from "effect"

const program = Effect.gen(function* () {
  const fingerprint = yield* Fingerprint
  return yield* fingerprint.current
}).pipe(Effect.provide(layer({ productId: "0d6c8f2e-5b1a-4e7c-9a3d-bench0000001" })))

const t0 = performance.now()
const identity = Effect.runSync(program)
const t1 = performance.now()
if (identity.fingerprint.length !== 64) process.exit(1)
console.log(JSON.stringify({ first: t1 - t0 }))
