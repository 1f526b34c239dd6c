// Writes docs/state-chart.mmd and docs/state-chart.scxml from the machine definition (a test checks the committed
// files match).
import { writeFileSync } from "node:fs"
import { toMermaid, toScxml } from "../packages/core/src/Chart.ts"

writeFileSync(new URL("../docs/state-chart.mmd", import.meta.url), `${toMermaid()}\n`)
writeFileSync(new URL("../docs/state-chart.scxml", import.meta.url), `${toScxml()}\n`)
console.log("wrote docs/state-chart.mmd, docs/state-chart.scxml")
