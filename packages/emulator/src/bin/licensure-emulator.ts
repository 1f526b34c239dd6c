#!/usr/bin/env node
/**
 * `licensure-emulator`: serves the Cryptlex Web API v3 emulator until SIGINT or SIGTERM.
 *
 *   licensure-emulator [--port N] [--host H] [--manual-clock]
 *
 * When ready it prints exactly one JSON line, `{"url":"http://127.0.0.1:PORT"}`, on stdout, so that a parent
 * process can read where to connect. A flag it does not know prints one line on stderr and exits with 2.
 */
import type { Emulator } from "../Emulator.ts"

const usage = "usage: licensure-emulator [--port N] [--host H] [--manual-clock]"

const fail = (message: string): never => {
  process.stderr.write(`licensure-emulator: ${message} (${usage})\n`)
  process.exit(2)
}

const parse = (args: ReadonlyArray<string>) => {
  let port = 0
  let host = "127.0.0.1"
  let manualClock = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split("=", 2) : [arg, undefined]
    const value = () => inline ?? args[++i] ?? fail(`${flag} expects a value, got nothing`)
    switch (flag) {
      case "--port": {
        const raw = value()
        const parsed = Number(raw)
        if (!/^\d+$/.test(raw) || parsed > 65_535) fail(`--port expects an integer from 0 to 65535, got ${raw}`)
        port = parsed
        break
      }
      case "--host":
        host = value()
        break
      case "--manual-clock":
        if (inline !== undefined) fail(`--manual-clock takes no value, got ${inline}`)
        manualClock = true
        break
      default:
        fail(`unknown argument ${JSON.stringify(arg)}`)
    }
  }
  return { port, host, manualClock }
}

const options = parse(process.argv.slice(2))
// Loaded only once the arguments are known good, so that a wrong flag is reported without the load time.
const { startEmulator } = await import("../Emulator.ts")
const emulator: Emulator = await startEmulator({
  port: options.port,
  host: options.host,
  ...(options.manualClock ? { manualClock: { startAt: Date.now() } } : {})
}).catch((error: unknown) => {
  process.stderr.write(`licensure-emulator: cannot listen on ${options.host}:${options.port}: ${String(error)}\n`)
  process.exit(1)
})
let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  emulator.close().then(
    () => process.exit(0),
    () => process.exit(1)
  )
}
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
// The ready line comes after the handlers: a parent that signals as soon as it reads it gets the clean exit.
process.stdout.write(`${JSON.stringify({ url: emulator.url })}\n`)
