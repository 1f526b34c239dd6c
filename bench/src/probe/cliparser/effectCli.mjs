// A probe of bench/src/cliparser.bench.ts: one fresh process; its last line is its maxRSS in MiB, as JSON.
import * as NodeModule from "node:module"
NodeModule.enableCompileCache?.()
const withRuntime = process.argv[2] === "runtime"
if (withRuntime) await import(process.env.NODE_LICENSING)
const { Effect, FileSystem, Layer, Path, Stdio, Terminal } = await import("effect")
const { Command, Flag } = await import("effect/cli")
const { ChildProcessSpawner } = await import("effect/process")
const env = Layer.mergeAll(
  FileSystem.layerNoop({}),
  Path.layer,
  Stdio.layerTest({}),
  Layer.succeed(
    Terminal.Terminal,
    Terminal.make({
      columns: Effect.succeed(80),
      rows: Effect.succeed(24),
      size: Effect.die("unused"),
      readInput: Effect.die("unused"),
      readLine: Effect.die("unused"),
      display: () => Effect.void
    })
  ),
  Layer.succeed(
    ChildProcessSpawner.ChildProcessSpawner,
    ChildProcessSpawner.make(() => Effect.die("unused"))
  )
)
let got
const config = {
  productId: Flag.optional(Flag.String("product-id")),
  publicKey: Flag.optional(Flag.String("public-key")),
  host: Flag.optional(Flag.String("host")),
  scope: Flag.optional(Flag.String("scope")),
  dir: Flag.optional(Flag.String("dir")),
  json: Flag.Boolean("json")
}
const status = Command.make("status", config, (c) =>
  Effect.sync(() => {
    got = c
  })
)
const root = Command.make("licensure").pipe(Command.withSubcommands([status]))
await Effect.runPromise(Command.runWith(root, { version: "0.1.0" })(["status", "--json"]).pipe(Effect.provide(env)))
if (got?.json !== true) throw new Error("effect/cli did not parse --json")
console.log(JSON.stringify({ rss: process.resourceUsage().maxRSS / 1024 }))
