/**
 * The one-clock bridge: an XState `clock` whose timers are Effect fibers sleeping on Effect's `Clock`. With it,
 * `TestClock.adjust("365 days")` moves the machine's `after` delays, every retry wait and (through the emulator's
 * injectable `now`) the server's notion of time together, and production uses the real clock through the same
 * code. Long delays are fine: Effect's `sleep` chains waits past `setTimeout`'s 24.8-day limit.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import type * as Scope from "effect/Scope"
import type { ActorOptions, AnyActorLogic } from "xstate"

/** XState's clock interface (not exported by xstate under a name). */
export type XStateClock = NonNullable<ActorOptions<AnyActorLogic>["clock"]>

interface TimerHandle {
  cancelled: boolean
  fiber: Fiber.Fiber<void> | undefined
}

/**
 * Makes an XState clock on the current runtime. Timers are forked into a scoped `FiberSet`, so closing the scope
 * interrupts every pending timer.
 */
export const make: Effect.Effect<
  XStateClock & { readonly now: () => number; readonly monotonicNow: () => number },
  never,
  Scope.Scope
> = Effect.gen(function* () {
  const runFork = yield* FiberSet.makeRuntime<never, void, never>()
  const clock = yield* Clock.Clock
  return {
    now: () => clock.currentTimeMillisUnsafe(),
    /** Milliseconds on the monotonic clock: never set back with the wall clock (TestClock: moved by adjust). */
    monotonicNow: () => Number(clock.monotonicTimeNanosUnsafe() / 1_000_000n),
    setTimeout: (fn: (...args: Array<unknown>) => void, ms: number) => {
      const handle: TimerHandle = { cancelled: false, fiber: undefined }
      handle.fiber = runFork(
        Effect.sleep(Duration.millis(Math.max(0, ms))).pipe(
          Effect.andThen(
            Effect.sync(() => {
              if (!handle.cancelled) fn()
            })
          )
        )
      )
      return handle
    },
    clearTimeout: (id: unknown) => {
      const handle = id as TimerHandle | undefined
      if (handle === undefined) return
      handle.cancelled = true
      // Interrupted in place: forking a fiber only to interrupt another cost one per pending timer on every
      // stop (a client's deadlines are cleared together). `cancelled` already keeps `fn` from running.
      handle.fiber?.interruptUnsafe()
    }
  }
})
