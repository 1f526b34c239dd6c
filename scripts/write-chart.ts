// Writes docs/state-chart.mmd from the machine definition (a test checks the committed file matches).
import { writeFileSync } from "node:fs"
import { toMermaid } from "../packages/core/src/Chart.ts"

writeFileSync(new URL("../docs/state-chart.mmd", import.meta.url), `${toMermaid()}\n`)
console.log("wrote docs/state-chart.mmd")
