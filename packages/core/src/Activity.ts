/**
 * What a client does besides its machine's own transitions: the invoked operation (an activation, a sync, …) and
 * the store's write queue, each either working in real time (I/O, WebCrypto) or napping on the clock inside a
 * retry until a known time. `Licensing.idle` and `Licensing.quiet` are read off it, so a simulation can move
 * virtual time only with `TestClock.adjust` and then wait, instead of spinning the event loop and guessing.
 *
 * @since 0.3.0
 */
import * as Effect from "effect/Effect"
import type { NapObserver } from "./RetryPolicy.ts"

/** One kind of work: how many units run, and until when the running one naps (epoch ms), if it does. */
class Lane {
  running = 0
  napUntil: number | undefined = undefined
  private readonly changed: () => void
  constructor(changed: () => void) {
    this.changed = changed
  }

  readonly observer: NapObserver = {
    napping: (until) => {
      this.napUntil = until
      this.changed()
    },
    working: () => {
      if (this.napUntil === undefined) return
      this.napUntil = undefined
      this.changed()
    }
  }

  start() {
    this.running++
    this.changed()
  }

  end() {
    this.running--
    if (this.running === 0) this.napUntil = undefined
    this.changed()
  }

  /** `undefined` when idle; the nap's end when napping past `now`; `"working"` otherwise. */
  at(now: number): number | "working" | undefined {
    if (this.running === 0) return undefined
    return this.napUntil !== undefined && this.napUntil >= now ? this.napUntil : "working"
  }
}

export class Activity {
  private readonly listeners = new Set<() => void>()
  private readonly changed = () => {
    for (const listener of [...this.listeners]) listener()
  }
  readonly operations = new Lane(this.changed)
  readonly writes = new Lane(this.changed)

  /** Counts `effect` as a running operation until it ends, however it ends (interruption included). */
  operation<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.suspend(() => {
      this.operations.start()
      return Effect.ensuring(
        effect,
        Effect.sync(() => this.operations.end())
      )
    })
  }

  /** A write joins the queue: counted from now until it has run. */
  queued(): void {
    this.writes.start()
  }

  /** A queued write has run (landed or failed). */
  written(): void {
    this.writes.end()
  }

  /** Nothing runs: no operation, no write queued. */
  get idle(): boolean {
    return this.operations.running === 0 && this.writes.running === 0
  }

  /**
   * When every running unit naps on the clock: the earliest time one wakes. `undefined` when something works in
   * real time, or nothing runs at all.
   */
  wakesAt(now: number): number | undefined {
    const lanes = [this.operations.at(now), this.writes.at(now)]
    if (lanes.includes("working")) return undefined
    const naps = lanes.filter((t): t is number => typeof t === "number")
    return naps.length === 0 ? undefined : Math.min(...naps)
  }

  /** Calls `listener` on every change; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }
}
