// A probe of bench/src/cliparser.bench.ts: one fresh process; its last line is its maxRSS in MiB, as JSON.
import * as NodeModule from "node:module"
NodeModule.enableCompileCache?.()
const withRuntime = process.argv[2] === "runtime"
if (withRuntime) await import(process.env.NODE_LICENSING)
const dist = process.env.CLI_DIST
const { parseCommandLine } = await import(`${dist}/cli/CommandLine.js`)
await import(`${dist}/cli/Help.js`)
await import(`${dist}/cli/CliConfig.js`)
const line = parseCommandLine(["status", "--json"])
if (line.json !== true) throw new Error("hand parser did not parse --json")
console.log(JSON.stringify({ rss: process.resourceUsage().maxRSS / 1024 }))
