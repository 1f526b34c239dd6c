import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as NodeFileStore from "../src/NodeFileStore.ts"
import { type LineProcess, startLineProcess } from "./fixtures/LineProcess.ts"
import { fingerprint, productId, recordFor } from "./fixtures/records.ts"

const writerScript = NodePath.join(import.meta.dirname, "fixtures", "concurrent-writer.ts")
const writers = ["w1", "w2", "w3", "w4"]
const savesEach = 125 // 500 saves in all

describe("NodeFileStore under concurrent writers", () => {
  it("four processes saving at once always leave one writer's whole record, and the last save wins", {
    timeout: 120_000
  }, async () => {
    const directory = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "licensure-concurrency-"))
    const started: Array<LineProcess> = []
    try {
      // The reader looks at the record file alone: the high-water mark would lift lastSeenAt past what a writer saved.
      const store = NodeFileStore.make({ productId, fingerprint, directory, markDirectory: false })
      for (const writer of writers) {
        started.push(startLineProcess(writerScript, [directory, writer, String(savesEach)]))
      }
      await Promise.all(started.map((writer) => writer.waitFor((line) => line === "loaded")))
      for (const writer of started) writer.child.stdin!.write("go\n")

      let running = true
      const finished = Promise.all(started.map((writer) => writer.exited)).finally(() => {
        running = false
      })
      // Read the file while the writers race: every read must be whole, and each writer's counter only moves on.
      const highestSeen = new Map<string, number>()
      let reads = 0
      const readWhole = async () => {
        const loaded = await Effect.runPromise(store.load)
        if (Option.isNone(loaded)) return
        const record = loaded.value
        const writer = record.key?.replace(/^KEY-/, "") ?? ""
        assert.include(writers, writer, `a record from no known writer: ${record.key}`)
        assert.deepStrictEqual(record, recordFor(writer, record.lastSeenAt))
        assert.isAtLeast(record.lastSeenAt, highestSeen.get(writer) ?? 0, `${writer}'s counter went backwards`)
        highestSeen.set(writer, record.lastSeenAt)
        reads++
      }
      while (running) {
        await readWhole()
        await new Promise((resolve) => setImmediate(resolve))
      }
      const exits = await finished
      for (const [index, exit] of exits.entries()) {
        assert.strictEqual(exit.code, 0, `writer ${writers[index]} failed: ${started[index].stderr()}`)
        assert.include(started[index].lines, "done")
      }
      assert.isAbove(reads, 10, "the reader should have raced the writers many times")
      console.info(`concurrency test: ${reads} whole reads while the writers raced`)

      // After the race: the file is exactly the final record of one writer (its highest counter), nothing mixed.
      const final = Option.getOrThrow(await Effect.runPromise(store.load))
      const lastWriter = final.key?.replace(/^KEY-/, "") ?? ""
      assert.include(writers, lastWriter)
      assert.deepStrictEqual(final, recordFor(lastWriter, savesEach))

      // And a save after them all is what a load returns: the last write wins, whole.
      await Effect.runPromise(store.save(recordFor("after", 1)))
      assert.deepStrictEqual(Option.getOrThrow(await Effect.runPromise(store.load)), recordFor("after", 1))

      const names = NodeFs.readdirSync(directory)
      assert.isFalse(
        names.some((name) => name.includes(".corrupt-") || name.endsWith(".lock")),
        `leftovers: ${names.join(", ")}`
      )
    } finally {
      for (const writer of started) writer.child.kill("SIGKILL")
      await Promise.all(started.map((writer) => writer.exited))
      NodeFs.rmSync(directory, { recursive: true, force: true })
    }
  })
})
