import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { TestClock } from "effect/testing"
import { createMachine } from "xstate"
import * as ActorBridge from "../src/ActorBridge.ts"
import * as XStateClock from "../src/XStateClock.ts"

/** a --GO--> b --NEXT--> c, and a delayed wake-up in c back to a. */
const machine = createMachine({
  id: "bridge",
  initial: "a",
  states: {
    a: { on: { GO: "b" } },
    b: { on: { NEXT: "c" } },
    c: { after: { 1000: "a" } }
  }
})

describe("ActorBridge", () => {
  it.effect("hands each snapshot the event that produced it, also for events sent from a notification", () =>
    Effect.gen(function* () {
      const clock = yield* XStateClock.make
      const seen: Array<[string, string | undefined]> = []
      let bridge: ActorBridge.ActorBridge<typeof machine> | undefined
      bridge = yield* ActorBridge.make(machine, {
        clock,
        input: undefined,
        onSnapshot: (snapshot, event) => {
          seen.push([String(snapshot.value), event?.type])
          // Sent while XState is still announcing b: it waits in the mailbox, and b's event stays GO.
          if (snapshot.value === "b") bridge!.actor.send({ type: "NEXT" })
        },
        onError: () => {}
      })
      // Sent before the start: processed after the start's own event.
      bridge.actor.send({ type: "GO" })
      bridge.begin()
      bridge.actor.send({ type: "IGNORED" })
      yield* bridge.until((s) => s.value === "c")
      assert.deepStrictEqual(seen, [
        ["a", "xstate.init"],
        ["b", "GO"],
        ["c", "NEXT"],
        ["c", "IGNORED"]
      ])
      // A timer's event, delivered by XState's scheduler on the Effect clock.
      yield* TestClock.adjust(1000)
      yield* bridge.until((s) => s.value === "a")
      assert.deepStrictEqual(seen[seen.length - 1], ["a", "xstate.after.1000.bridge.c"])
    })
  )
})
