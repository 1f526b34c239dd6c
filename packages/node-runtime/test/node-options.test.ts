/**
 * The Node options core does not know are checked before anything starts (issue 10): host, scope, and every other
 * Node option's type (directory, http, fingerprint, userAgent, watchStore), each refusal naming the option, what
 * was expected and what came.
 */
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

  it("refuses wrong http options at construction, not at the first request", () => {
    const readTimeout = refusal({ ...base, http: { readTimeout: -5 } })
    assert.include(readTimeout, '["http"]["readTimeout"]')
    assert.include(readTimeout, "positive whole number of milliseconds")
    assert.include(readTimeout, "got -5")
    const proxy = refusal({ ...base, http: { proxy: "sometimes" as never } })
    assert.include(proxy, '"env", "none" or { url, noProxy? }')
    assert.include(proxy, 'got "sometimes"')
    const connect = refusal({ ...base, http: { connectTimeout: "fast" as never } })
    assert.include(connect, '["http"]["connectTimeout"]')
    assert.include(connect, 'got "fast"')
    assert.include(refusal({ ...base, http: { proxy: { url: "socks5://proxy:1080" } } }), "socks5:")
    assert.include(refusal({ ...base, http: { ca: 42 as never } }), "got 42")
  })

  it("refuses a directory, user agent, watchStore or fingerprint option of the wrong type", () => {
    const directory = refusal({ ...base, directory: 3 as never })
    assert.include(directory, '["directory"]')
    assert.include(directory, "got 3")
    const userAgent = refusal({ ...base, userAgent: 7 as never })
    assert.include(userAgent, '["userAgent"]')
    assert.include(userAgent, "got 7")
    const watch = refusal({ ...base, watchStore: "yes" as never })
    assert.include(watch, "Expected boolean")
    assert.include(watch, 'got "yes"')
    assert.include(refusal({ ...base, fingerprint: { root: false as never } }), '["fingerprint"]["root"]')
  })

  it("takes every option of the right type", async () => {
    await createNodeLicensing({
      ...base,
      directory: "/tmp/licensure-options-never-written",
      userAgent: "my-app/1.0",
      watchStore: false,
      http: { connectTimeout: 5_000, readTimeout: 5_000, proxy: { url: "http://127.0.0.1:3128", noProxy: [".corp"] } },
      fingerprint: { hostname: "build-01" }
    }).close()
    await createNodeLicensing({ ...base, http: { proxy: "none", env: { HTTPS_PROXY: undefined } } }).close()
  })

  it.effect("the Effect layer refuses the same wrong options with the same typed error", () =>
    Effect.gen(function* () {
      for (const config of [
        { ...base, http: { readTimeout: -5 } },
        { ...base, watchStore: "yes" as never },
        { ...base, directory: 3 as never }
      ]) {
        const error = yield* Effect.flip(Layer.build(layer(config)))
        assert.strictEqual(error._tag, "LicensingConfigError")
        assert.include(error.message, "invalid licensing configuration")
      }
    })
  )

  it.effect("the Effect layer fails with the same typed error", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Layer.build(layer({ ...base, host: "htp:/bad" })))
      assert.strictEqual(error._tag, "LicensingConfigError")
      assert.include(error.message, "host:")
    })
  )
})
