/**
 * The XState-to-Effect bridge: runs a machine as an actor inside an Effect scope (started now, stopped when the
 * scope closes), on an XState clock made of Effect fibers, and lets Effect code wait for a snapshot that
 * satisfies a predicate, optionally after sending an event. Nothing here knows about licences.
 *
 * @since 0.3.0
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import {
  type AnyStateMachine,
  type Actor,
  createActor,
  type EventObject,
  type InputFrom,
  type InspectionEvent,
  type SnapshotFrom
} from "xstate"
import type { XStateClock } from "./XStateClock.ts"

export interface ActorBridge<M extends AnyStateMachine> {
  readonly actor: Actor<M>
  /**
   * Sends (when given) and waits until a snapshot satisfies `done`; without a send, answers at once when the
   * current snapshot already does.
   *
   * After a send, only snapshots newer than the one before it count. A command may be sent from inside the
   * actor's own notification (an Effect continuation resumed by a subscriber runs synchronously there): the event
   * then waits in XState's mailbox, and the snapshot being announced (seen also by a subscriber added during the
   * announcement) is the old one, which must not answer the command.
   */
  readonly until: (done: (snapshot: SnapshotFrom<M>) => boolean, send?: () => void) => Effect.Effect<SnapshotFrom<M>>
  /** Starts the actor (once the caller has wired what its first snapshots reach). */
  readonly begin: () => void
}

export interface BridgeOptions<M extends AnyStateMachine> {
  readonly input: InputFrom<M>
  readonly clock: XStateClock
  /**
   * Every snapshot, in order, before any `until` waiter sees it, with the event that produced it (`undefined` only
   * for a snapshot XState announces without an event it relayed, which it does not do today).
   */
  readonly onSnapshot: (snapshot: SnapshotFrom<M>, event: EventObject | undefined) => void
  /** The machine stopped on an error (a bug: the licence machine turns every failure into data). */
  readonly onError: (error: unknown) => void
}

/** Makes `machine`'s actor in the current scope; closing the scope stops it (its timers and invoked work too). */
export const make = <M extends AnyStateMachine>(
  machine: M,
  options: BridgeOptions<M>
): Effect.Effect<ActorBridge<M>, never, Scope.Scope> =>
  Effect.gen(function* () {
    // The event behind each snapshot. XState announces an event to the inspector when it is relayed (before the
    // actor's mailbox takes it) and the snapshot it produced after the subscribers saw it; the mailbox processes in
    // order, one snapshot per event, so the oldest event not yet announced as a snapshot is the one being processed.
    let root: Actor<M> | undefined
    const pending: Array<EventObject> = []
    const inspect = (inspection: InspectionEvent) => {
      if (root === undefined || inspection.actorRef !== root) return
      if (inspection.type === "@xstate.event") {
        // The start's own event is processed before anything sent to the actor ahead of it; a stopped actor
        // drops what it is sent, so that is no snapshot to wait for.
        if (inspection.event.type === "xstate.init") pending.unshift(inspection.event)
        else if ((root.getSnapshot() as { status?: string }).status !== "stopped") pending.push(inspection.event)
      } else if (inspection.type === "@xstate.snapshot") {
        pending.shift()
      }
    }
    const actor = createActor(machine, { clock: options.clock, input: options.input, inspect }) as Actor<M>
    root = actor
    const subscription = actor.subscribe({
      next: (snapshot) => options.onSnapshot(snapshot as SnapshotFrom<M>, pending[0]),
      error: options.onError
    })
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        subscription.unsubscribe()
        actor.stop()
      })
    )

    const until = (done: (snapshot: SnapshotFrom<M>) => boolean, send?: () => void) =>
      Effect.callback<SnapshotFrom<M>>((resume) => {
        let finished = false
        // Set once `subscribe` returns: an actor already done may answer inside the call.
        let sub: { readonly unsubscribe: () => void } | undefined
        const finish = (snapshot: SnapshotFrom<M>) => {
          if (finished) return
          finished = true
          sub?.unsubscribe()
          resume(Effect.succeed(snapshot))
        }
        // DECISION: a waiter whose actor stops (its scope closed: the client was closed mid-call) is interrupted,
        // not left waiting for a snapshot that never comes. An interruption is what the Promise face already turns
        // into a `Closed` error (`PromiseLicensing.toError`), and closing a scope interrupts what it runs.
        const stopped = () => {
          if (finished) return
          finished = true
          sub?.unsubscribe()
          resume(Effect.interrupt)
        }
        const before = actor.getSnapshot() as SnapshotFrom<M>
        sub = actor.subscribe({
          next: (snapshot) => {
            // The stop's own snapshot (announced just before `complete`) holds the last state: no answer.
            if ((snapshot as { status?: string }).status === "stopped") stopped()
            else if ((send === undefined || snapshot !== before) && done(snapshot as SnapshotFrom<M>)) {
              finish(snapshot as SnapshotFrom<M>)
            }
          },
          error: stopped,
          complete: stopped
        })
        if ((before as { status?: string }).status === "stopped") {
          stopped()
        } else if (send === undefined) {
          if (done(before)) finish(before)
        } else {
          send()
        }
        return Effect.sync(() => sub?.unsubscribe())
      })

    return { actor, until, begin: () => void actor.start() }
  })
