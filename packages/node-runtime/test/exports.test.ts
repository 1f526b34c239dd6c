/**
 * `@licensure/node-runtime` is an Effect app's one licensure dependency: its root re-exports the `Licensing`
 * service its layer provides and core's errors, the very classes (a `yield* Licensing` or an `instanceof
 * LicensingError` must match what the runtime uses), beside the runtime's own modules. The types it re-exports are
 * checked from a packed, npm-installed app by tests/consumer/consumer.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Licensing as CoreLicensing } from "@licensure/core/Licensing"
import { LicensingConfigError as CoreConfigError } from "@licensure/core/LicensingConfig"
import { LicensingError as CoreLicensingError } from "@licensure/core/LicensingError"
import * as Runtime from "@licensure/node-runtime"

describe("node-runtime's root", () => {
  it("re-exports core's Licensing service and errors, the same classes, beside createNodeLicensing and the layer", () => {
    assert.strictEqual(Runtime.Licensing, CoreLicensing)
    assert.strictEqual(Runtime.LicensingError, CoreLicensingError)
    assert.strictEqual(Runtime.LicensingConfigError, CoreConfigError)
    assert.strictEqual(typeof Runtime.createNodeLicensing, "function")
    assert.strictEqual(typeof Runtime.NodeLicensing.layer, "function")
  })
})
