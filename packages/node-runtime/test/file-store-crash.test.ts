import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as NodeFileStore from "../src/NodeFileStore.ts"
import { type LineProcess, startLineProcess } from "./fixtures/LineProcess.ts"
import { fingerprint, productId, recordFor } from "./fixtures/records.ts"

const writerScript = NodePath.join(import.meta.dirname, "fixtures", "crash-writer.ts")
const rounds = 200

const counterOf = (line: string) => Number(line.split(" ")[1])

describe("NodeFileStore crash safety", () => {
  it("keeps a whole record, the last acknowledged or the one after, across 200 SIGKILLs mid-save", {
    timeout: 180_000
  }, async () => {
    const directory = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "licensure-crash-"))
    const started: Array<LineProcess> = []
    try {
      const path = NodeFileStore.filePath({ productId, directory: NodePath.join(directory, "store") })
      // Node's compile cache keeps the type-stripped modules, so that after the first round a writer starts in
      // about 50 ms instead of 150.
      const cache = NodePath.join(directory, "compile-cache")
      const store = NodeFileStore.make({ productId, fingerprint, directory: NodePath.dirname(path) })
      const startWriter = () => {
        const writer = startLineProcess(writerScript, [path, fingerprint, productId], { NODE_COMPILE_CACHE: cache })
        started.push(writer)
        return writer
      }

      let fileCounter = 0
      let totalAcks = 0
      let savedButUnacknowledged = 0
      let killedWithTempFileLeft = 0
      // Later rounds' processes start (and load their modules) while this round's runs, so that a round costs
      // about the kill delay rather than a Node start-up.
      const queue = [startWriter(), startWriter()]
      for (let round = 0; round < rounds; round++) {
        const writer = queue.shift()!
        if (round + queue.length + 1 < rounds) queue.push(startWriter())
        await writer.waitFor((line) => line === "loaded")
        writer.child.stdin!.write("go\n")
        const ready = await writer.waitFor((line) => line.startsWith("ready "))
        assert.strictEqual(counterOf(ready), fileCounter, `round ${round}: the writer must start from the file`)

        // From the first save on, the writer is saving back to back: a kill 5–40 ms later lands at a random point
        // of some save (encrypting, waiting for the lock, writing, flushing, renaming, or between saves).
        await writer.waitFor((line) => line.startsWith("ack "))
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(Math.random() * 36)))
        writer.child.kill("SIGKILL")
        const exit = await writer.exited
        assert.strictEqual(exit.signal, "SIGKILL", `round ${round}: the writer ended otherwise: ${writer.stderr()}`)

        const acks = writer.lines.filter((line) => line.startsWith("ack ")).map(counterOf)
        totalAcks += acks.length
        const lastAcknowledged = acks[acks.length - 1]
        const leftovers = NodeFs.readdirSync(NodePath.dirname(path)).filter((name) => name.includes(".tmp-"))
        if (leftovers.length > 0) killedWithTempFileLeft++

        const loaded = await Effect.runPromise(store.load)
        assert.isTrue(Option.isSome(loaded), `round ${round}: the file is gone after acknowledged saves`)
        const record = Option.getOrThrow(loaded)
        const counter = record.lastSeenAt
        assert.isTrue(
          counter === lastAcknowledged || counter === lastAcknowledged + 1,
          `round ${round}: file holds ${counter}, last acknowledged ${lastAcknowledged}`
        )
        // Whole: every field agrees with the counter, exactly as one save wrote it.
        assert.deepStrictEqual(record, recordFor("crash", counter))
        if (counter === lastAcknowledged + 1) savedButUnacknowledged++
        fileCounter = counter
      }

      // Every save of every round is accounted for: the counter only ever moved forward, one save at a time.
      assert.isAtLeast(fileCounter, totalAcks)
      // Only the store's own files remain beside it (the temp files killed writers left are swept by the next save).
      const names = NodeFs.readdirSync(NodePath.dirname(path))
      assert.isTrue(
        names.every((name) => name.startsWith(NodePath.basename(path))),
        `unexpected files: ${names.join(", ")}`
      )
      assert.isFalse(
        names.some((name) => name.includes(".corrupt-")),
        "no file was ever quarantined"
      )
      console.info(
        `crash test: ${totalAcks} acknowledged saves; ${savedButUnacknowledged} rounds killed between rename and ` +
          `ack; ${killedWithTempFileLeft} rounds killed with a temp file left`
      )
    } finally {
      for (const writer of started) writer.child.kill("SIGKILL")
      await Promise.all(started.map((writer) => writer.exited))
      NodeFs.rmSync(directory, { recursive: true, force: true })
    }
  })
})
