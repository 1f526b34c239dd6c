/**
 * Closing a client while its start-up load (the store read, the token checks, begun as soon as the client's
 * operations exist) is in flight: with the Promise face's `close()` right after `createNodeLicensing` (watching
 * the store or not), and with the Effect layer's scope closed at many points of the start-up, before the first
 * check. Whether that leaves nothing behind is a question about a process, so a real Node process does it
 * (`startup-close.child.mjs`, with the real file store in a temp dir and the emulator over real HTTP for the
 * activation that leaves the record, aged before each scenario so that a start-up has a write to make): it must
 * end by itself, exit 0, print no unhandled rejection, and write nothing to the store once a close has finished.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"

interface Outcome {
  readonly activated: string
  readonly outcomes: Record<string, Record<string, number>>
  readonly unhandled: ReadonlyArray<string>
  readonly writesAfterClose: Record<string, number>
}

const child = fileURLToPath(new URL("./startup-close.child.mjs", import.meta.url))

describe("closing a client during its start-up load", () => {
  it("leaves no unhandled rejection, nothing running and no store write: the process ends by itself", async () => {
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string; killed: boolean }>(
      (resolve) => {
        const process_ = spawn(process.execPath, [child], { cwd: fileURLToPath(new URL("..", import.meta.url)) })
        let stdout = ""
        let stderr = ""
        process_.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString()
        })
        process_.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString()
        })
        // The bound: a child that did its work but is still running after this is one kept alive.
        let killed = false
        const guard = setTimeout(() => {
          killed = true
          process_.kill("SIGKILL")
        }, 45_000)
        process_.on("close", (code) => {
          clearTimeout(guard)
          resolve({ code, stdout, stderr, killed })
        })
      }
    )
    assert.isFalse(run.killed, `the child was kept alive after closing its clients; stderr: ${run.stderr}`)
    assert.strictEqual(run.code, 0, run.stderr)
    assert.notMatch(run.stderr, /unhandled/i)
    const outcome = JSON.parse(run.stdout) as Outcome
    assert.strictEqual(outcome.activated, "active")
    assert.deepStrictEqual(outcome.unhandled, [])
    // A client let start up writes its clock mark (so a write would be seen), and none closed during its start-up
    // wrote after its close finished.
    assert.deepStrictEqual(outcome.outcomes["control"], { wrote: 1 })
    assert.deepStrictEqual(outcome.writesAfterClose, {}, "a client closed during its start-up wrote after the close")
    // Each way of closing was taken: a call pending on close() ends with a typed Closed error, and every build
    // of the layer ended closed.
    assert.deepStrictEqual(outcome.outcomes["promise close() at once"], { "rejected Closed": 1 })
    assert.deepStrictEqual(outcome.outcomes["promise close() at once, watching"], { "rejected Closed": 1 })
    assert.deepStrictEqual(outcome.outcomes["effect scope closed during start-up"], { closed: 60 })
  })
})
