import { assert, describe, it } from "@effect/vitest"
import { causeOf } from "../src/LicenseCause.ts"
import type { FailureInfo } from "../src/LicenseModel.ts"

const serverDown: FailureInfo = {
  operation: "sync",
  kind: "ServerFailure",
  message: "HTTP 503",
  transient: true
}

describe("LicenseCause.causeOf", () => {
  it("names the client's start and each command", () => {
    assert.deepStrictEqual(causeOf({ type: "xstate.init" }), { type: "start", event: "xstate.init" })
    for (const command of ["ACTIVATE", "ACTIVATE_TRIAL", "DEACTIVATE", "SYNC", "CHECK"] as const) {
      assert.deepStrictEqual(causeOf({ type: command }), { type: "command", event: command, command })
    }
  })

  it("tells a settled state's wake-up from a deadline that came during a sync", () => {
    const standing = "xstate.after.wake.license.ready.activated.standing"
    assert.deepStrictEqual(causeOf({ type: standing }), { type: "timer", event: standing, timer: "standing" })
    assert.deepStrictEqual(causeOf({ type: "WAKE" }), { type: "timer", event: "WAKE", timer: "syncWake" })
  })

  it("carries an operation's outcome and, when it failed, its failure", () => {
    assert.deepStrictEqual(causeOf({ type: "xstate.done.actor.sync", output: { type: "ok", facts: {} } }), {
      type: "operation",
      event: "xstate.done.actor.sync",
      operation: "sync",
      outcome: "ok"
    })
    assert.deepStrictEqual(
      causeOf({ type: "xstate.done.actor.sync", output: { type: "failed", failure: serverDown, at: 0 } }),
      { type: "operation", event: "xstate.done.actor.sync", operation: "sync", outcome: "failed", failure: serverDown }
    )
    // A load that found nothing is no failure; one that found an unusable file is.
    assert.strictEqual(causeOf({ type: "xstate.done.actor.load", output: { type: "empty" } }).type, "operation")
    const unusable = { ...serverDown, operation: "load" as const, kind: "StoreFailure" as const, transient: false }
    assert.deepInclude(causeOf({ type: "xstate.done.actor.load", output: { type: "empty", failure: unusable } }), {
      outcome: "failed",
      failure: unusable
    })
    assert.deepInclude(causeOf({ type: "xstate.error.actor.deactivate", error: new Error("boom") }), {
      operation: "deactivate",
      outcome: "failed"
    })
  })

  it("says what another process's change left", () => {
    assert.deepInclude(causeOf({ type: "RELOAD", result: { type: "loaded", facts: {} } }), { found: "record" })
    assert.deepInclude(causeOf({ type: "RELOAD", result: { type: "empty" } }), { found: "nothing" })
    assert.deepInclude(causeOf({ type: "RELOAD", result: { type: "empty", failure: serverDown } }), {
      found: "unusable",
      failure: serverDown
    })
  })

  it("keeps a store result's error and names an unknown event by its type", () => {
    assert.deepStrictEqual(causeOf({ type: "STORE_RESULT", error: "EACCES: open" }), {
      type: "store",
      event: "STORE_RESULT",
      error: "EACCES: open"
    })
    assert.deepStrictEqual(causeOf({ type: "xstate.done.actor.somethingNew" }), {
      type: "other",
      event: "xstate.done.actor.somethingNew"
    })
    assert.deepStrictEqual(causeOf({ type: "NEW_COMMAND" }), { type: "other", event: "NEW_COMMAND" })
  })
})
