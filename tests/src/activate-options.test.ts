import { assert, describe, it } from "@effect/vitest"
import { makeSim } from "@licensure/testing"
import { Effect, Fiber, Stream } from "effect"

describe("activate(key, options)", () => {
  it.effect("per-activation metadata reaches the server and comes back in the token; `state` streams changes", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 }, { metadata: [{ key: "from", value: "config" }] })
      const seen = yield* Effect.forkChild(
        Stream.runCollect(
          Stream.take(
            Stream.filter(sim.licensing.state, (v) => v.state === "active"),
            1
          )
        )
      )
      const view = yield* sim.licensing.activate(sim.license.key, {
        metadata: [{ key: "workstation", value: "build-7" }]
      })
      assert.deepStrictEqual(view.license?.activationMetadata, [{ key: "workstation", value: "build-7" }])
      const license = yield* Effect.promise(() => sim.emulator.getLicense(sim.license.id))
      assert.deepStrictEqual(license.activations[0]?.metadata, [{ key: "workstation", value: "build-7" }])
      const first = yield* Fiber.join(seen)
      assert.strictEqual(first[0]?.state, "active")
    })
  )

  it.effect("without options, the configuration's metadata is sent", () =>
    Effect.gen(function* () {
      const sim = yield* makeSim({ serverSyncInterval: 3600 }, { metadata: [{ key: "from", value: "config" }] })
      const view = yield* sim.licensing.activate(sim.license.key)
      assert.deepStrictEqual(view.license?.activationMetadata, [{ key: "from", value: "config" }])
    })
  )
})
