/** The Node options core does not know are checked before anything starts (issue 10): host, scope. */
import { generateKeyPairSync } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { LicensingConfigError } from "@licensure/core"
import { Effect, Layer } from "effect"
import { createNodeLicensing, layer, type NodeLicensingConfig } from "../src/NodeLicensing.ts"

const publicKeyPem = generateKeyPairSync("rsa", { modulusLength: 2048 })
  .publicKey.export({ type: "spki", format: "pem" })
  .toString()
const base: NodeLicensingConfig = { productId: "b5c8e1f0-0000-4000-8000-000000000001", publicKeyPem, scope: "memory" }

const refusal = (config: NodeLicensingConfig): string => {
  try {
    createNodeLicensing(config)
  } catch (error) {
    assert.instanceOf(error, LicensingConfigError)
    return (error as LicensingConfigError).message
  }
  return assert.fail("expected the configuration to be refused")
}

describe("Node options", () => {
  it("refuses a host that is not a URL, not http(s), or has no host, naming what came", () => {
    assert.include(refusal({ ...base, host: "htp:/bad" }), '"htp:/bad"')
    assert.include(refusal({ ...base, host: "ftp://licensing.example.com" }), "http(s) URL")
    assert.include(refusal({ ...base, host: "api.cryptlex.com" }), "host:")
  })

  it("refuses an unknown scope", () => {
    assert.include(refusal({ ...base, scope: "everyone" as never }), 'scope: expected "user", "system" or "memory"')
  })

  it("takes the named hosts and real URLs", async () => {
    for (const host of ["default", "eu", "https://licensing.example.com/api", "http://127.0.0.1:8080"]) {
      await createNodeLicensing({ ...base, host }).close()
    }
  })

  it.effect("the Effect layer fails with the same typed error", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Layer.build(layer({ ...base, host: "htp:/bad" })))
      assert.strictEqual(error._tag, "LicensingConfigError")
      assert.include(error.message, "host:")
    })
  )
})
