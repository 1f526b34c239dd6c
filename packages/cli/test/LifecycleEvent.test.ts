import type { FailureInfo, LicenseCause, LicenseDetails, LicenseView } from "@licensure/core"
import { assert, describe, it } from "@effect/vitest"
import * as LifecycleEvent from "../src/LifecycleEvent.ts"

const DAY = 86_400_000
const now = Date.parse("2027-03-01T00:00:00Z")

/** A view with only what the wording reads: the state, the last error and the token's deadlines. */
const view = (
  state: LicenseView["state"],
  /** `null`: no activation. */
  license: Partial<LicenseDetails> | null = {},
  lastError?: FailureInfo
): LicenseView =>
  ({
    state,
    lastError,
    license: license === null ? undefined : { suspended: false, ...license }
  }) as unknown as LicenseView

const standing: LicenseCause = { type: "timer", event: "xstate.after.wake", timer: "standing" }
const syncWake: LicenseCause = { type: "timer", event: "WAKE", timer: "syncWake" }
const outage: FailureInfo = {
  operation: "sync",
  kind: "ServerFailure",
  code: undefined,
  message: "HTTP 503: down for maintenance",
  transient: true
}

describe("LifecycleEvent.describe", () => {
  it("names commands and the client's start", () => {
    assert.strictEqual(
      LifecycleEvent.describe({ type: "start", event: "xstate.init" }, view("loading"), undefined, now),
      "client started"
    )
    assert.strictEqual(
      LifecycleEvent.describe(
        { type: "command", event: "SYNC", command: "SYNC" },
        view("renewDue"),
        view("active"),
        now
      ),
      "sync requested"
    )
    assert.strictEqual(
      LifecycleEvent.describe(
        { type: "command", event: "CHECK", command: "CHECK" },
        view("active"),
        view("active"),
        now
      ),
      "check requested (offline)"
    )
  })

  it("calls a timer into renewDue the sync timer, a retry when the last sync failed for a transient reason", () => {
    assert.strictEqual(LifecycleEvent.describe(standing, view("renewDue"), view("active"), now), "sync timer")
    assert.strictEqual(
      LifecycleEvent.describe(standing, view("renewDue"), view("grace", {}, outage), now),
      "sync timer (retry)"
    )
  })

  it("names the deadline a timer met", () => {
    const inGrace = view("grace", { graceExpiresAt: now - 1, expiresAt: now + 100 * DAY })
    assert.strictEqual(LifecycleEvent.describe(standing, view("graceOver"), inGrace, now), "deadline: grace ended")
    const active = view("active", { expiresAt: now })
    assert.strictEqual(LifecycleEvent.describe(standing, view("expired"), active, now), "deadline: licence expired")
    assert.strictEqual(
      LifecycleEvent.describe(standing, view("trialExpired"), view("trialActive"), now),
      "deadline: trial ended"
    )
    const leased = view("active", { leaseExpiresAt: now - 5, expiresAt: now + DAY })
    assert.strictEqual(LifecycleEvent.describe(standing, view("renewDue"), leased, now), "sync timer")
    assert.strictEqual(
      LifecycleEvent.describe(syncWake, view("graceOver"), inGrace, now),
      "deadline during a sync: grace ended"
    )
    // The hourly wake-up that changes nothing is a re-check, not a deadline.
    assert.strictEqual(
      LifecycleEvent.describe(
        standing,
        view("active", { expiresAt: now + DAY }),
        view("active", { expiresAt: now + DAY }),
        now
      ),
      "timer: re-check"
    )
  })

  it("says what an operation's outcome was, with the server's code or the failure's kind and message", () => {
    const failed: LicenseCause = {
      type: "operation",
      event: "xstate.done.actor.sync",
      operation: "sync",
      outcome: "failed",
      failure: outage
    }
    assert.strictEqual(
      LifecycleEvent.describe(failed, view("grace", {}, outage), view("renewDue"), now),
      "sync failed: ServerFailure: HTTP 503: down for maintenance"
    )
    const revoked: FailureInfo = {
      ...outage,
      kind: "ServerRefused",
      code: "REVOKED_LICENSE",
      message: "revoked",
      transient: false
    }
    assert.strictEqual(
      LifecycleEvent.describe({ ...failed, failure: revoked }, view("revoked", null, revoked), view("renewDue"), now),
      "sync failed: REVOKED_LICENSE: revoked"
    )
    const done: LicenseCause = { type: "operation", event: "xstate.done.actor.sync", operation: "sync", outcome: "ok" }
    assert.strictEqual(LifecycleEvent.describe(done, view("active"), view("renewDue"), now), "sync done")
    assert.strictEqual(
      LifecycleEvent.describe(done, view("suspended", { suspended: true }), view("renewDue"), now),
      "sync done: suspended on the server"
    )
    const loaded: LicenseCause = {
      type: "operation",
      event: "xstate.done.actor.load",
      operation: "load",
      outcome: "ok"
    }
    assert.strictEqual(
      LifecycleEvent.describe(loaded, view("active"), view("loading", null), now),
      "licence file loaded"
    )
    assert.strictEqual(
      LifecycleEvent.describe(loaded, view("unactivated", null), view("loading", null), now),
      "no licence file"
    )
  })

  it("says another process changed, removed or spoiled the licence file", () => {
    assert.strictEqual(
      LifecycleEvent.describe(
        { type: "reload", event: "RELOAD", found: "record" },
        view("suspended"),
        view("active"),
        now
      ),
      "another process changed the licence file"
    )
    assert.strictEqual(
      LifecycleEvent.describe(
        { type: "reload", event: "RELOAD", found: "nothing" },
        view("unactivated", null),
        view("active"),
        now
      ),
      "another process removed the licence file"
    )
    const corrupt: FailureInfo = {
      operation: "load",
      kind: "StoreFailure",
      message: "not a licensure record",
      transient: false
    }
    assert.strictEqual(
      LifecycleEvent.describe(
        { type: "reload", event: "RELOAD", found: "unusable", failure: corrupt },
        view("active"),
        view("active"),
        now
      ),
      "another process left the licence file unusable: StoreFailure: not a licensure record"
    )
  })

  it("words store results and leaves an unknown event as its type; no cause, no words", () => {
    assert.strictEqual(
      LifecycleEvent.describe(
        { type: "store", event: "STORE_RESULT", error: "EACCES" },
        view("active"),
        view("active"),
        now
      ),
      "saving the licence file failed: EACCES"
    )
    assert.strictEqual(
      LifecycleEvent.describe({ type: "other", event: "NEW_THING" }, view("active"), undefined, now),
      "NEW_THING"
    )
    assert.isUndefined(LifecycleEvent.describe(undefined, view("active"), undefined, now))
  })
})
