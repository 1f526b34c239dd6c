/**
 * A spinner on stderr while the CLI waits for the server, so that a person at a terminal sees that something is
 * happening during a slow network call. It only draws when stderr is a terminal: piped or redirected, nothing is
 * written, so logs and scripts get the command's plain lines and nothing else. The line is erased when the call
 * ends, whatever the outcome, so that the result is printed on a clean line.
 *
 * @since 0.1.0
 */

export interface ProgressStream {
  readonly isTTY?: boolean | undefined
  readonly write: (text: string) => unknown
}

export interface Progress {
  /** Runs `task` with `label` spinning beside it (on a terminal). */
  readonly around: <A>(label: string, task: () => Promise<A>) => Promise<A>
}

const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
const frameMillis = 80
const eraseLine = "\r\x1b[K"

export const makeProgress = (stream: ProgressStream): Progress => ({
  around: async (label, task) => {
    if (stream.isTTY !== true) return task()
    let frame = 0
    const draw = () => {
      stream.write(`${eraseLine}${frames[frame % frames.length]} ${label}`)
      frame++
    }
    draw()
    const timer = setInterval(draw, frameMillis)
    // The spinner must never be what keeps the process alive.
    timer.unref()
    try {
      return await task()
    } finally {
      clearInterval(timer)
      stream.write(eraseLine)
    }
  }
})
