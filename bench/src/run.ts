/**
 * `pnpm bench`: runs every `bench/src/*.bench.ts` in its own Node process (cold-start benchmarks spawn further
 * processes themselves), lets each print its table and write `bench/results/<name>.json`, then prints one summary
 * line per benchmark from those files. Names given as arguments select benchmarks (`pnpm bench fingerprint`).
 * The exit code reports crashes only: a missed target is printed, never a failed build.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { benchRoot, type Headline, printTable, resultsDir } from "./Harness.ts"

const srcDir = join(benchRoot, "src")
const wanted = process.argv.slice(2)
const names = readdirSync(srcDir)
  .filter((f) => f.endsWith(".bench.ts"))
  .map((f) => f.slice(0, -".bench.ts".length))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort()

if (names.length === 0) {
  console.error(
    `no benchmark matches ${wanted.join(", ")}; have: ${readdirSync(srcDir)
      .filter((f) => f.endsWith(".bench.ts"))
      .join(", ")}`
  )
  process.exit(1)
}

const summary: Array<Array<unknown>> = []
let crashed = 0
for (const name of names) {
  console.log(`\n=== ${name} ===`)
  // The bench runs under the same flags as this runner (`--import ./scripts/workspace-sources.mjs`: the sources).
  const run = spawnSync(process.execPath, [...process.execArgv, join(srcDir, `${name}.bench.ts`)], { stdio: "inherit" })
  const file = join(resultsDir, `${name}.json`)
  if (run.status !== 0 || !existsSync(file)) {
    crashed++
    summary.push([name, "crashed", "", "", "", ""])
    continue
  }
  const { headline } = JSON.parse(readFileSync(file, "utf8")) as { headline: Headline }
  const met = headline.met === undefined ? "" : headline.met ? "yes" : "NO"
  summary.push([name, headline.label, headline.value, headline.unit, headline.target ?? "", met])
}
printTable("Summary", ["bench", "headline", "value", "unit", "target", "met"], summary)
process.exit(crashed === 0 ? 0 : 1)
