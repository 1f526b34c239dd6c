/**
 * The emulator's notion of "now", in epoch milliseconds: the host's `now` function (so a simulation can bind
 * it to the client's TestClock), or a manual clock that only the admin clock endpoint moves, or real time.
 */
export interface EmulatorClock {
  readonly now: () => number
  /** True for a manual clock: only then may the admin API set it. */
  readonly manual: boolean
  readonly set: (epochMs: number) => void
}

export const makeClock = (options: {
  readonly now?: () => number
  readonly manualClock?: { readonly startAt: number }
}) => {
  if (options.manualClock !== undefined) {
    let current = options.manualClock.startAt
    return {
      now: () => current,
      manual: true,
      set: (epochMs: number) => {
        current = epochMs
      }
    } satisfies EmulatorClock
  }
  const now = options.now ?? Date.now
  return {
    now,
    manual: false,
    set: () => {
      throw new TypeError("The emulator's clock is not manual")
    }
  } satisfies EmulatorClock
}
