/**
 * Issue 13 asked for the CLI on Effect's own CLI module "unless a measured reason says otherwise"; this is the
 * measurement. Fresh processes, compile cache on (as the `licensure` bin runs), alternating order, medians: the
 * import and one parse of `status --json` by the hand-written parser (`packages/cli/src/cli/CommandLine.ts`, Help,
 * CliConfig, from dist) and by `effect/cli` (a root command with a `status` subcommand and the same flags, run with
 * `Command.runWith`), each alone and on top of the runtime an offline `licensure status` loads anyway
 * (`@licensure/node-runtime/NodeLicensing`). Figures are deltas over bare `node`; the budget is issue 8's
 * <= 150 ms and <= 80 MiB for the whole `licensure status`.
 *
 * `BENCH_RUNS` overrides the number of rounds (default 15).
 */
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { benchRoot, median, printTable, writeResult } from "./Harness.ts"

const runs = Number(process.env.BENCH_RUNS ?? 15)
const root = join(benchRoot, "..")
const probes = join(benchRoot, "src", "probe", "cliparser")
spawnSync(process.execPath, [join(root, "scripts/build.mjs"), "cli"], { stdio: "inherit" })
const env = {
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? "",
  CLI_DIST: join(root, "packages/cli/dist"),
  NODE_LICENSING: join(root, "packages/node-runtime/dist/NodeLicensing.js")
}
const cases: Readonly<Record<string, ReadonlyArray<string>>> = {
  "node -e 0": ["-e", "console.log(JSON.stringify({rss:process.resourceUsage().maxRSS/1024}))"],
  "hand-written parser": [join(probes, "hand.mjs")],
  "effect/cli parser": [join(probes, "effectCli.mjs")],
  "node-runtime alone": [join(probes, "runtime.mjs")],
  "node-runtime + hand-written parser": [join(probes, "hand.mjs"), "runtime"],
  "node-runtime + effect/cli parser": [join(probes, "effectCli.mjs"), "runtime"]
}
const names = Object.keys(cases)
const wall: Record<string, Array<number>> = Object.fromEntries(names.map((n) => [n, []]))
const rss: Record<string, Array<number>> = Object.fromEntries(names.map((n) => [n, []]))
for (let round = 0; round < runs; round++) {
  for (const name of round % 2 === 0 ? names : [...names].reverse()) {
    const t0 = performance.now()
    const run = spawnSync(process.execPath, cases[name]!, { encoding: "utf8", env })
    const ms = performance.now() - t0
    const last = run.stdout.trim().split("\n").at(-1) ?? ""
    if (run.status !== 0 || !last.startsWith("{")) throw new Error(`${name} failed (${run.status}): ${run.stderr}`)
    wall[name]!.push(ms)
    rss[name]!.push((JSON.parse(last) as { rss: number }).rss)
  }
}
const base = median(wall["node -e 0"]!)
const over = (name: string) => median(wall[name]!) - base
const added = {
  handMs: over("node-runtime + hand-written parser") - over("node-runtime alone"),
  effectCliMs: over("node-runtime + effect/cli parser") - over("node-runtime alone"),
  handRssMiB: median(rss["node-runtime + hand-written parser"]!) - median(rss["node-runtime alone"]!),
  effectCliRssMiB: median(rss["node-runtime + effect/cli parser"]!) - median(rss["node-runtime alone"]!)
}
printTable(
  `CLI parser start-up, fresh processes (${runs} rounds, alternating; compile cache on)`,
  ["case", "median ms", "over node -e 0", "median RSS MiB"],
  names.map((n) => [n, median(wall[n]!), over(n), median(rss[n]!)])
)
printTable(
  "Added to what `licensure status` loads anyway",
  ["parser", "ms", "MiB"],
  [
    ["hand-written", added.handMs, added.handRssMiB],
    ["effect/cli", added.effectCliMs, added.effectCliRssMiB]
  ]
)
const path = writeResult(
  "cliparser",
  {
    label: "effect/cli's start-up cost on top of the runtime `licensure status` loads, ms (medians)",
    value: added.effectCliMs,
    unit: "ms",
    target: "fits issue 8's <= 150 ms / <= 80 MiB status budget",
    met: over("node-runtime + effect/cli parser") <= 150 && median(rss["node-runtime + effect/cli parser"]!) <= 80
  },
  {
    runs,
    unit: { wall: "ms", rss: "MiB" },
    baselineMs: base,
    added,
    wall: Object.fromEntries(names.map((n) => [n, { median: median(wall[n]!), overNode: over(n) }])),
    rss: Object.fromEntries(names.map((n) => [n, median(rss[n]!)]))
  }
)
console.log(`wrote ${path}`)
