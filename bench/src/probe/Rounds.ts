/**
 * In-process rounds for the benchmarks that compare our code with a floor measured in the same process and the
 * same minute. Every case runs a batch of `n` operations per round; after `warm` discarded rounds, `reps` rounds
 * follow, alternating the order of the cases (forward, then reversed) so that drift in the machine's load falls on
 * every case alike. Each round gives one per-operation time per case; the figures are medians (and minimums) over
 * the rounds, and a ratio is a ratio of medians. This is the method of `shared/reference/floors.md`.
 */
import { median, min } from "../Harness.ts"

/** Runs `n` operations of one case; may be synchronous. */
export type Case = (n: number) => Promise<void> | void

export interface RoundsOptions {
  /** Measured rounds per case (default 15). */
  readonly reps?: number
  /** Operations per case per round. */
  readonly n: number
  /** Discarded rounds first, for the JIT and the page cache (default 1). */
  readonly warm?: number
}

export interface CaseStats {
  /** Per-operation time of every measured round, in nanoseconds. */
  readonly samples: ReadonlyArray<number>
  readonly median: number
  readonly min: number
}

export const rounds = async (
  cases: Readonly<Record<string, Case>>,
  options: RoundsOptions
): Promise<Record<string, CaseStats>> => {
  const { n, reps = 15, warm = 1 } = options
  const names = Object.keys(cases)
  const samples: Record<string, Array<number>> = Object.fromEntries(names.map((name) => [name, []]))
  for (let w = 0; w < warm; w++) for (const name of names) await cases[name]!(n)
  for (let r = 0; r < reps; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse()
    for (const name of order) {
      const t0 = performance.now()
      await cases[name]!(n)
      samples[name]!.push(((performance.now() - t0) * 1e6) / n)
    }
  }
  return Object.fromEntries(
    names.map((name) => [name, { samples: samples[name]!, median: median(samples[name]!), min: min(samples[name]!) }])
  )
}

/** The first case's median over the second's: how many times the floor our code costs. */
export const ratioOf = (ours: CaseStats | undefined, floor: CaseStats | undefined): number =>
  ours === undefined || floor === undefined ? Number.NaN : ours.median / floor.median
