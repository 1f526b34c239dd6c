/**
 * What the fleet probes (`fleetHeap.ts`, `outageFleet.ts`) share: one product with N licences on an in-process
 * emulator, and one client's layer (its own machine identity, an in-memory store, the emulator as its API).
 */
import { Fingerprint, LicenseStore, Licensing, type LicensingConfig } from "@licensure/core"
import type { Emulator } from "@licensure/emulator"
import { type emulatorLayer, identity } from "@licensure/testing"
import { Effect, Layer } from "effect"

/** A product and `n` licences of it, each syncing every `ssi` seconds with a 7-day grace: the product and keys. */
export const licences = (emulator: Emulator, n: number, ssi: number) =>
  Effect.gen(function* () {
    const product = yield* Effect.promise(() => emulator.createProduct())
    const keys: Array<string> = []
    for (let i = 0; i < n; i++) {
      const license = yield* Effect.promise(() =>
        emulator.createLicense({
          productId: product.productId,
          serverSyncInterval: ssi,
          serverSyncGracePeriod: 7 * 86_400
        })
      )
      keys.push(license.key)
    }
    return { product, keys }
  })

/** Client `i` of the fleet: machine `host-<i>`, an in-memory store, the emulator's API, `config` added. */
export const clientLayer = (
  api: ReturnType<typeof emulatorLayer>,
  product: { readonly productId: string; readonly publicKeyPem: string },
  i: number,
  host: string,
  config: Partial<LicensingConfig> = {}
) => {
  const machine = identity(i.toString(16).padStart(64, "0"), `${host}-${i}`)
  const platform = Layer.mergeAll(api, LicenseStore.layerMemory, Fingerprint.layerStatic(machine))
  return Licensing.layer({ productId: product.productId, publicKeyPem: product.publicKeyPem, ...config }).pipe(
    Layer.provideMerge(platform)
  )
}
