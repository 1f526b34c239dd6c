/**
 * Cold start of the machine fingerprint: licensure's first, uncached `readMachineIdentity` against
 * node-machine-id's first `machineIdSync()`, each in fresh Node processes, timed inside the process after imports,
 * alternating, medians over the runs. Also reported: the first read with every lazy field touched (DMI, VM and
 * container detection, user hash), a second uncached read in the same process, and the first `current` through
 * the Effect layer, which adds the Effect runtime's own cold start, and both first calls again in processes that
 * used node:crypto before the clock started (as an app that verified its licence token has). Target: first call
 * >= 10x faster on Linux.
 *
 * `BENCH_RUNS` overrides the number of processes per probe (default 15).
 */
import { join } from "node:path"
import { alternate, benchRoot, printTable, writeResult } from "./Harness.ts"

const runs = Number(process.env.BENCH_RUNS ?? 15)
const probe = (file: string, ...args: Array<string>) => ({ script: join(benchRoot, "src", "probe", file), args })

const stats = alternate(
  {
    licensure: probe("fingerprintFirst.ts"),
    "node-machine-id": probe("nodeMachineIdFirst.ts"),
    "licensure layer": probe("fingerprintLayer.ts"),
    "licensure, crypto warm": probe("fingerprintFirst.ts", "--warm-crypto"),
    "node-machine-id, crypto warm": probe("nodeMachineIdFirst.ts", "--warm-crypto")
  },
  runs
)

const field = (name: string, key: string) => stats[name]?.fields[key] ?? { median: Number.NaN, min: Number.NaN }
const row = (label: string, name: string, key: string) => [label, field(name, key).median, field(name, key).min]
const ours = field("licensure", "first")
const theirs = field("node-machine-id", "first")
const ratio = theirs.median / ours.median
const fullRatio = theirs.median / field("licensure", "full").median
const warmRatio =
  field("node-machine-id, crypto warm", "first").median / field("licensure, crypto warm", "first").median

printTable(
  `Fingerprint, first call in a fresh process (ms; ${runs} processes each, alternating)`,
  ["case", "median", "min"],
  [
    row("licensure readMachineIdentity: first (fingerprint)", "licensure", "first"),
    row("licensure: then every lazy field", "licensure", "rest"),
    row("licensure: first, all fields (sum)", "licensure", "full"),
    row("licensure: second uncached read", "licensure", "second"),
    row("licensure layer: first Effect.runSync(current)", "licensure layer", "first"),
    row("node-machine-id machineIdSync: first", "node-machine-id", "first"),
    row("node-machine-id machineIdSync: second", "node-machine-id", "second"),
    row("crypto warm: licensure first", "licensure, crypto warm", "first"),
    row("crypto warm: node-machine-id first", "node-machine-id, crypto warm", "first")
  ]
)
console.log(`\nfirst call, node-machine-id / licensure (medians): ${ratio.toFixed(1)}x (target >= 10x on Linux)`)
console.log(`with every lazy field computed too: ${fullRatio.toFixed(1)}x`)
console.log(`with node:crypto already initialised in both: ${warmRatio.toFixed(1)}x`)

const path = writeResult(
  "fingerprint",
  {
    label: "first fingerprint call, node-machine-id / licensure (medians)",
    value: ratio,
    unit: "x",
    target: ">= 10x on Linux",
    met: ratio >= 10
  },
  { runs, unit: "ms", ratio, fullRatio, warmRatio, ratioOfMins: theirs.min / ours.min, probes: stats }
)
console.log(`wrote ${path}`)
