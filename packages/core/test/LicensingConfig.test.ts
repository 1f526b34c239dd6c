import { generateKeyPairSync } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { Fingerprint } from "../src/Fingerprint.ts"
import { LicenseApi } from "../src/LicenseApi.ts"
import { LicenseStore } from "../src/LicenseStore.ts"
import { Licensing } from "../src/Licensing.ts"
import { checkConfig, type LicensingConfig, LicensingConfigError } from "../src/LicensingConfig.ts"
import { createLicensing } from "../src/PromiseLicensing.ts"

const spki = (type: "rsa" | "ec", bits = 2048) =>
  (type === "rsa"
    ? generateKeyPairSync("rsa", { modulusLength: bits })
    : generateKeyPairSync("ec", { namedCurve: "P-256" })
  ).publicKey
    .export({ type: "spki", format: "pem" })
    .toString()
const pem = spki("rsa")
const good: LicensingConfig = { productId: "b5c8e1f0-0000-4000-8000-000000000001", publicKeyPem: pem }

const platform = Layer.mergeAll(
  LicenseApi.layer({ host: "http://127.0.0.1:9" }).pipe(Layer.provide(FetchHttpClient.layer)),
  LicenseStore.layerMemory,
  Fingerprint.layerStatic({
    fingerprint: "f".repeat(64),
    components: [],
    vmName: undefined,
    container: false,
    os: "linux",
    osVersion: "6",
    hostname: "h",
    userHash: "u".repeat(64),
    sources: []
  })
)

const messageOf = (config: LicensingConfig) => {
  try {
    createLicensing({ ...config, layer: platform })
  } catch (error) {
    assert.instanceOf(error, LicensingConfigError)
    return (error as LicensingConfigError).message
  }
  return assert.fail("expected createLicensing to refuse the configuration")
}

describe("a wrong option is refused before anything starts, saying what was expected and what came", () => {
  it("an empty product id", () => {
    const message = messageOf({ ...good, productId: "" })
    assert.include(message, "productId")
  })

  it("a retry jitter outside [0, 1], and the bounds themselves accepted", () => {
    const message = messageOf({ ...good, retryJitter: 1.5 })
    assert.include(message, "retryJitter")
    assert.include(message, "1.5")
    assert.include(messageOf({ ...good, retryJitter: -0.1 }), "retryJitter")
    for (const retryJitter of [0, 0.5, 1]) assert.isTrue(checkConfig({ ...good, retryJitter })._tag === "Success")
  })

  it("a public key that is not a PEM", () => {
    const message = messageOf({ ...good, publicKeyPem: "ssh-rsa AAAA" })
    assert.include(message, "publicKeyPem")
    assert.include(message, "SPKI PEM")
    assert.include(message, "ssh-rsa AAAA")
  })

  it("a PEM whose body is not an RSA key: garbage, cut short, another algorithm, under 2048 bits", () => {
    const lines = pem.trim().split("\n")
    const garbage = `${lines[0]}\nnot*base64*at*all\n${lines.at(-1)}\n`
    assert.include(messageOf({ ...good, publicKeyPem: garbage }), "expected Base64")
    const cut = [lines[0], ...lines.slice(1, 3), lines.at(-1)].join("\n")
    assert.include(messageOf({ ...good, publicKeyPem: cut }), "one DER SEQUENCE")
    assert.include(messageOf({ ...good, publicKeyPem: spki("ec") }), "expected an RSA key (rsaEncryption)")
    assert.include(messageOf({ ...good, publicKeyPem: spki("rsa", 1024) }), "at least 2048 bits")
    assert.strictEqual(checkConfig({ ...good, publicKeyPem: spki("rsa", 4096) })._tag, "Success")
  })

  it("a metadata key over 256 characters and a lease below -1", () => {
    assert.include(messageOf({ ...good, metadata: [{ key: "k".repeat(257), value: "v" }] }), "metadata")
    assert.include(messageOf({ ...good, leaseDuration: -5 }), "leaseDuration")
  })

  it("a good configuration passes, and unknown (platform) options are left alone", () => {
    const checked = checkConfig({ ...good, host: "eu" } as LicensingConfig)
    assert.strictEqual(checked._tag, "Success")
    const licensing = createLicensing({ ...good, layer: platform })
    return licensing.close()
  })

  it.effect("the Effect layer fails with the same typed error", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Layer.build(Licensing.layer({ ...good, productId: "" }).pipe(Layer.provide(platform)))
      )
      assert.strictEqual(error._tag, "LicensingConfigError")
      assert.include(error.message, "productId")
    })
  )
})
