// A probe of bench/src/cliparser.bench.ts: one fresh process; its last line is its maxRSS in MiB, as JSON.
import * as NodeModule from "node:module"
NodeModule.enableCompileCache?.()
await import(process.env.NODE_LICENSING)
console.log(JSON.stringify({ rss: process.resourceUsage().maxRSS / 1024 }))
