#!/usr/bin/env node
/**
 * `licensure`: activate, check and watch a Cryptlex licence from the command line, draw the lifecycle, run a local
 * emulator or the demo. `licensure --help` lists the commands, the configuration sources and the exit codes; the
 * work is done by `cli/Cli.ts`, this file only binds it to the process.
 *
 * The process is left to end on its own once the command has closed everything it opened, so that a forgotten
 * timer shows up as a hang in the tests rather than being hidden by `process.exit`. A safety net still ends it,
 * with a warning, if something stays alive well after the command is done.
 */
import * as NodeModule from "node:module"

// DECISION: the CLI turns on Node's on-disk compile cache (Node 22.1+; the directory is Node's default under the
// OS temp dir, or NODE_COMPILE_CACHE) before loading its modules, as npm and tsc do: an offline `licensure status`
// spends most of its start-up compiling effect, jose and xstate, and the cache cut that run from about 0.27 s to
// 0.21 s here (bench `bundle` measures it). A library never does this for its host; only this binary. Where the
// cache cannot be used (read-only temp, older Node), Node reports a status and the CLI runs uncached.
NodeModule.enableCompileCache?.()
const { run } = await import("../cli/Cli.ts")

const interrupted = () =>
  new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve())
    process.once("SIGTERM", () => resolve())
  })

const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  interrupted
})
process.exitCode = code
setTimeout(() => {
  process.stderr.write("licensure: something kept the process alive after the command finished; exiting\n")
  process.exit(code)
}, 5_000).unref()
