/**
 * `StoreWatch` on a real directory: changes to the record file are reported once per burst, other files in the
 * directory are not the record's news, the stat poll stands in where `fs.watch` is not used, and a closed watch
 * reports nothing more. Waits are for the callback itself (bounded, so a regression fails instead of hanging).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, assert, describe, it } from "@effect/vitest"
import * as StoreWatch from "@licensure/node-runtime/StoreWatch"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"

const made: Array<string> = []
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const watched = async (
  options: Partial<StoreWatch.StoreWatchOptions> = {},
  /** Runs on the record's path before the watch starts; what it returns is added to the watch's options. */
  before: (path: string) => Partial<StoreWatch.StoreWatchOptions> = () => ({})
) => {
  const directory = mkdtempSync(join(tmpdir(), "licensure-watch-"))
  made.push(directory)
  const path = join(directory, "product.user.lic")
  const early = before(path)
  const calls: Array<number> = []
  const waiters: Array<() => void> = []
  const scope = Effect.runSync(Scope.make())
  const watch = await Effect.runPromise(
    Scope.provide(
      StoreWatch.start({
        path,
        debounceMillis: 20,
        ...options,
        ...early,
        onChange: () => {
          calls.push(calls.length + 1)
          for (const wake of waiters.splice(0)) wake()
        }
      }),
      scope
    )
  )
  /** Resolves once `onChange` has been called `n` times in all. */
  const calledTimes = (n: number, millis = 5_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`onChange called ${calls.length} times, expected ${n}`)), millis)
      const look = () => {
        if (calls.length >= n) {
          clearTimeout(timer)
          resolve()
        } else waiters.push(look)
      }
      look()
    })
  const close = () => Effect.runPromise(Scope.close(scope, Exit.void))
  return { directory, path, calls, watch, calledTimes, close }
}

describe("StoreWatch", () => {
  it("reports a change of the record file once per burst, and nothing for the other files beside it", async () => {
    const w = await watched({ debounceMillis: 300 })
    try {
      assert.strictEqual(w.watch.mode(), "watch")
      writeFileSync(join(w.directory, "other.lic"), "not ours")
      writeFileSync(join(w.directory, "product.user.lic.lock"), "lock")
      writeFileSync(w.path, "one")
      await w.calledTimes(1)
      // Writes a few milliseconds apart (each one's events arrive before the next): one burst, well inside 300 ms.
      for (let i = 0; i < 5; i++) {
        writeFileSync(w.path, `burst ${i} ${"x".repeat(i)}`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      await w.calledTimes(2)
      // One more change after the burst settled is the third call: the burst was one.
      writeFileSync(w.path, "after the burst, a last change")
      await w.calledTimes(3)
      assert.deepStrictEqual(w.calls, [1, 2, 3])
    } finally {
      await w.close()
    }
  })

  it("reports a change made after its mark and before it started, which no file event will show, once", async () => {
    // A client read the record (the mark is taken before that read), then another process replaced the file, then
    // the watch started: nothing will ever tell fs.watch about that write.
    const w = await watched({}, (path) => {
      writeFileSync(path, "what the client read at start-up")
      const since = StoreWatch.mark(path)
      writeFileSync(path, "another process's record, written before the watch ran")
      return { since }
    })
    try {
      await w.calledTimes(1)
      // And no more for it: the next call is the next change's.
      writeFileSync(w.path, "a later change")
      await w.calledTimes(2)
      assert.deepStrictEqual(w.calls, [1, 2])
    } finally {
      await w.close()
    }
  })

  it("reports nothing for its mark when the file did not change before it started", async () => {
    const w = await watched({}, (path) => {
      writeFileSync(path, "the record, unchanged")
      return { since: StoreWatch.mark(path) }
    })
    try {
      writeFileSync(w.path, "the first change after the start")
      await w.calledTimes(1)
      // One call for one change: the unchanged mark added none.
      writeFileSync(w.path, "the second change after the start, longer")
      await w.calledTimes(2)
      assert.deepStrictEqual(w.calls, [1, 2])
    } finally {
      await w.close()
    }
  })

  it("polls the file's stat where fs.watch is not used", async () => {
    const w = await watched({ poll: true, pollMillis: 25 })
    try {
      assert.strictEqual(w.watch.mode(), "poll")
      writeFileSync(w.path, "written by another process")
      await w.calledTimes(1)
      rmSync(w.path)
      await w.calledTimes(2)
    } finally {
      await w.close()
    }
  })

  it("reports nothing once closed", async () => {
    const w = await watched({ poll: true, pollMillis: 10 })
    writeFileSync(w.path, "first")
    await w.calledTimes(1)
    await w.close()
    writeFileSync(w.path, "after close, longer")
    // A live watch would see this within a poll period; one more change proves the closed one stays quiet.
    const control = await watched({ poll: true, pollMillis: 10 })
    try {
      writeFileSync(control.path, "control")
      await control.calledTimes(1)
      writeFileSync(w.path, "after close, longer still")
      writeFileSync(control.path, "control again")
      await control.calledTimes(2)
      assert.deepStrictEqual(w.calls, [1])
    } finally {
      await control.close()
    }
  })
})
