/**
 * The reliability suite's counts: cases tried, wrongly accepted, crashed, hung and data lost, per area. Each test
 * adds its own cases and asserts its own zeros; `report` prints one line per area (the suite's visible result).
 */
export interface Counts {
  tried: number
  wronglyAccepted: number
  crashed: number
  hung: number
  dataLost: number
}

const areas = new Map<string, Counts>()

export const tally = (area: string): Counts => {
  let counts = areas.get(area)
  if (counts === undefined) {
    counts = { tried: 0, wronglyAccepted: 0, crashed: 0, hung: 0, dataLost: 0 }
    areas.set(area, counts)
  }
  return counts
}

export const report = (): string =>
  [...areas.entries()]
    .map(
      ([area, c]) =>
        `reliability ${area}: ${c.tried} tried, ${c.wronglyAccepted} wrongly accepted, ${c.crashed} crashed, ` +
        `${c.hung} hung, ${c.dataLost} data lost`
    )
    .join("\n")

/** Races `promise` against a wall-clock bound (real I/O in these tests); `undefined` means it hung. */
export const within = async <A>(millis: number, promise: Promise<A>): Promise<{ value: A } | undefined> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const bound = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), millis)
  })
  try {
    return await Promise.race([promise.then((value) => ({ value })), bound])
  } finally {
    clearTimeout(timer)
  }
}
