/**
 * Notices when another process changes the licence file, so that several processes of one app agree about the
 * licence: `fs.watch` on the store's directory (the file itself is replaced by rename on every save, which a watch
 * on the file would lose), filtered to the record's name, debounced; where `fs.watch` is unavailable or fails (some
 * network and container file systems), a slow `stat` poll instead.
 *
 * It only says "the file changed"; `Licensing.reload` decides whether that is news (this client's own write coming
 * back is not), so the watch needs no memory of what was written. Closing the scope stops it. Nothing here throws
 * into the host: a watch that fails falls back to polling, and a callback that fails is the callback's business.
 *
 * @example
 * yield* StoreWatch.start({ path: NodeFileStore.filePath(options), onChange: () => runFork(licensing.reload) })
 *
 * @since 0.4.0
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/** What to watch (the record file's path), whom to tell, and how often: `start`'s options. */
export interface StoreWatchOptions {
  /** The record file (`NodeFileStore.filePath(options)`). */
  readonly path: string
  /** Called once per burst of changes, after the burst settled. */
  readonly onChange: () => void
  /** How long a burst of file events must be quiet before `onChange`; default {@link DebounceMillis}. */
  readonly debounceMillis?: number | undefined
  /** The `stat` poll's period when `fs.watch` cannot be used; default {@link PollMillis}. */
  readonly pollMillis?: number | undefined
  /** Skip `fs.watch` and poll (for tests of the fallback, and file systems known not to report changes). */
  readonly poll?: boolean | undefined
  /**
   * The file as it was when its reader last read it ({@link mark}, taken before that read): a change between
   * then and the watch's start, which no file event will ever report, is reported once the watch runs. Without
   * it, the watch starts from the file as it is when the watch starts.
   */
  readonly since?: Mark | undefined
}

/** The record file's identity, size and times at one moment (see `StoreWatchOptions.since`). */
export interface Mark {
  readonly signature: string
}

/**
 * The file as it is now, for a watch started later (`since`). A client reads its record at start-up before its
 * watch can start; a mark taken before the client is built lets that watch report another process's write that
 * landed in between.
 */
export const mark = (path: string): Mark => ({ signature: signature(NodePath.resolve(path)) })

/** A running watch, stopped when its scope closes; `mode` says whether fs.watch or the stat poll serves it. */
export interface StoreWatch {
  /** `"watch"` (fs.watch on the directory) or `"poll"` (the stat fallback). */
  readonly mode: () => "watch" | "poll"
}

/**
 * DECISION: 100 ms. One save is a temp file, an fsync and a rename (several events on some platforms); a tenth of a
 * second gathers them into one reload and is far below anything a person or a licence deadline notices.
 */
export const DebounceMillis = 100

/**
 * DECISION: two seconds. The poll only runs where change events are unavailable; a `stat` every two seconds is
 * nothing for the disk, and another process's change still shows up well within a human's patience.
 */
export const PollMillis = 2_000

/** What says "this file is not what it was": identity, size and modification time. */
const signature = (path: string): string => {
  try {
    const s = NodeFs.statSync(path, { bigint: true })
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
  } catch {
    return "absent"
  }
}

/** Starts watching; the watch ends when the scope closes. */
export const start = (options: StoreWatchOptions): Effect.Effect<StoreWatch, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const path = NodePath.resolve(options.path)
      const directory = NodePath.dirname(path)
      const name = NodePath.basename(path)
      const debounce = options.debounceMillis ?? DebounceMillis
      let last = options.since?.signature ?? signature(path)
      let timer: ReturnType<typeof setTimeout> | undefined
      let closed = false
      let watcher: NodeFs.FSWatcher | undefined
      let poller: ReturnType<typeof setInterval> | undefined
      let mode: "watch" | "poll" = "watch"

      /** Reports a change when the file's signature moved since the last report (duplicate events are not news). */
      const settle = () => {
        timer = undefined
        if (closed) return
        const now = signature(path)
        if (now === last) return
        last = now
        try {
          options.onChange()
        } catch {
          // The callback's failure is its own; the watch goes on.
        }
      }
      const touched = () => {
        if (closed) return
        if (timer !== undefined) clearTimeout(timer)
        timer = setTimeout(settle, debounce)
        timer.unref?.()
      }
      const startPolling = () => {
        mode = "poll"
        watcher?.close()
        watcher = undefined
        if (poller !== undefined || closed) return
        poller = setInterval(settle, options.pollMillis ?? PollMillis)
        poller.unref?.()
      }

      if (options.poll === true) startPolling()
      else {
        try {
          // The directory may not exist yet (nothing activated): create it as the store would (0700).
          NodeFs.mkdirSync(directory, { recursive: true, mode: 0o700 })
          watcher = NodeFs.watch(directory, { persistent: false }, (_event, filename) => {
            // No name (some platforms): it may be ours, look.
            if (filename === null || filename === undefined || filename.toString() === name) touched()
          })
          watcher.on("error", startPolling)
        } catch {
          startPolling()
        }
      }
      // A change before the watch ran (after `since`) has sent no event it could see: look once now.
      if (options.since !== undefined && signature(path) !== last) touched()
      return {
        stop: () => {
          closed = true
          if (timer !== undefined) clearTimeout(timer)
          if (poller !== undefined) clearInterval(poller)
          watcher?.close()
        },
        watch: { mode: () => mode } satisfies StoreWatch
      }
    }),
    (running) => Effect.sync(running.stop)
  ).pipe(Effect.map((running) => running.watch))
