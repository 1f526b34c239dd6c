import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
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

  it.effect("a waiter is interrupted when the scope closes and stops the actor; so is one that comes after", () =>
    Effect.gen(function* () {
      const clock = yield* XStateClock.make
      const scope = yield* Scope.make()
      const bridge = yield* ActorBridge.make(machine, {
        clock,
        input: undefined,
        onSnapshot: () => {},
        onError: () => {}
      }).pipe(Scope.provide(scope))
      bridge.begin()
      const waiting = yield* Effect.forkChild(bridge.until((s) => s.value === "c"))
      yield* Effect.yieldNow
      yield* Scope.close(scope, Exit.void)
      // A real bound: the TestClock does not move here, and a waiter left behind would wait forever.
      const ended = yield* Effect.raceFirst(
        Fiber.await(waiting),
        Effect.promise(() => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1_000)))
      )
      assert.isDefined(ended, "the waiter ended when the actor stopped")
      assert.isTrue(Exit.isFailure(ended!) && Cause.hasInterruptsOnly(ended!.cause), "interrupted")
      // The stopped actor's last state is `a`: a waiter for it must not take that snapshot as an answer.
      const late = yield* Effect.exit(bridge.until((s) => s.value === "a"))
      assert.isTrue(Exit.isFailure(late) && Cause.hasInterruptsOnly(late.cause), "a later waiter is interrupted")
    })
  )
})
