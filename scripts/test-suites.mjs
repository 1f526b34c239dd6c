// Runs every vitest suite once, with the JSON reporter beside the default one, and prints the totals as the
// last line in the form CI reads: "N passed, N failed" (", N skipped" when any were skipped).
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, rmSync } from "node:fs"

const out = ".vitest-results.json"
rmSync(out, { force: true })
const run = spawnSync(
  "vitest",
  ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`, ...process.argv.slice(2)],
  { stdio: "inherit", shell: false }
)
let passed = 0
let failed = 0
let skipped = 0
if (existsSync(out)) {
  const r = JSON.parse(readFileSync(out, "utf8"))
  passed = r.numPassedTests
  failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0)
  skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
} else {
  failed = 1
}
const code = run.status ?? 1
if (code !== 0 && failed === 0) failed = 1
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`)
process.exit(code === 0 && failed === 0 && passed > 0 ? 0 : 1)
