#!/usr/bin/env node
/**
 * `licensure-emulator`: serves the Cryptlex Web API v3 emulator until SIGINT or SIGTERM. The flags, the output
 * and the exit codes are `Serve.ts`'s, shared with `licensure emulator`; `licensure-emulator --help` lists them.
 */
import { serve } from "../Serve.ts"

const interrupted = new Promise<void>((resolve) => {
  process.once("SIGINT", () => resolve())
  process.once("SIGTERM", () => resolve())
})
process.exitCode = await serve("licensure-emulator", process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  interrupted
})
