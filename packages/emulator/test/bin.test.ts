import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { activate, activationBody, call } from "./CryptlexCalls.ts"

const bin = fileURLToPath(new URL("../src/bin/licensure-emulator.ts", import.meta.url))

const run = (args: ReadonlyArray<string>): ChildProcess =>
  spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })

const collect = (stream: NodeJS.ReadableStream | null): (() => string) => {
  let text = ""
  stream?.on("data", (chunk: Buffer) => {
    text += chunk.toString("utf8")
  })
  return () => text
}

const firstLine = async (child: ChildProcess): Promise<string> => {
  const lines = createInterface({ input: child.stdout! })
  const [line] = (await once(lines, "line")) as [string]
  lines.close()
  return line
}

describe("licensure-emulator (the bin, as a real process)", () => {
  it("prints one JSON line with its URL, serves the API, and exits 0 on SIGTERM", async () => {
    const child = run(["--port", "0", "--manual-clock"])
    const stderr = collect(child.stderr)
    try {
      const line = await firstLine(child)
      const { url } = JSON.parse(line) as { url: string }
      assert.deepStrictEqual(Object.keys(JSON.parse(line)), ["url"])
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
      const product = await call(url, "POST", "/__admin/products", {})
      assert.strictEqual(product.status, 201)
      const license = await call(url, "POST", "/__admin/licenses", { productId: product.body.productId })
      const answer = await activate(url, activationBody(license.body.key, product.body.productId))
      assert.strictEqual(answer.status, 201)
      // --manual-clock: the clock stays where it is until told to move.
      const clock = await call(url, "POST", "/__admin/clock", { advanceSeconds: 60 })
      assert.strictEqual(clock.status, 200)
      const exited = once(child, "exit")
      child.kill("SIGTERM")
      const [code, signal] = (await exited) as [number | null, string | null]
      assert.strictEqual(code, 0)
      assert.isNull(signal)
      assert.strictEqual(stderr(), "")
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    }
  })

  it("closes cleanly on SIGINT, with a real clock that refuses to move", async () => {
    const child = run(["--host", "127.0.0.1"])
    try {
      const { url } = JSON.parse(await firstLine(child)) as { url: string }
      assert.strictEqual((await call(url, "POST", "/__admin/clock", { advanceSeconds: 60 })).status, 409)
      const exited = once(child, "exit")
      child.kill("SIGINT")
      assert.strictEqual(((await exited) as [number | null])[0], 0)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    }
  })

  it("prints one clear line on stderr and exits 2 for a wrong flag or value", async () => {
    const attempts = [["--bogus"], ["--port", "not-a-port"], ["--port"], ["--manual-clock=yes"]].map(async (args) => {
      const child = run(args)
      const stdout = collect(child.stdout)
      const stderr = collect(child.stderr)
      const [code] = (await once(child, "exit")) as [number | null]
      return { args, code, stdout: stdout(), stderr: stderr() }
    })
    for (const { args, code, stdout, stderr } of await Promise.all(attempts)) {
      assert.strictEqual(code, 2, args.join(" "))
      assert.strictEqual(stdout, "")
      const lines = stderr.trimEnd().split("\n")
      assert.strictEqual(lines.length, 1, stderr)
      assert.match(lines[0]!, /^licensure-emulator: .+usage: licensure-emulator/)
    }
  })
})
