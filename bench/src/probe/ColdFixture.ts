/**
 * What the cold-validate figures share (bench `check` and the `coldValidate.ts` probe): a licence valid for a year
 * on an in-process emulator (daily sync, 7-day grace), a static machine identity, and a client layer over the
 * durable `NodeFileStore` in `directory`; the caller activates through it once so that the file is on disk.
 */
import { Fingerprint, Licensing, type LicenseStore } from "@licensure/core"
import type { LicenseOptions } from "@licensure/emulator"
import * as NodeFileStore from "@licensure/node-runtime/NodeFileStore"
import { type createEmulator, emulatorLayer, identity } from "@licensure/testing"
import { Layer } from "effect"

export const coldFixture = async (
  emulator: ReturnType<typeof createEmulator>,
  directory: string,
  host: string,
  licence: Partial<Omit<LicenseOptions, "productId">> = {}
) => {
  const machine = identity("7c".repeat(32), host)
  const product = await emulator.createProduct()
  const license = await emulator.createLicense({
    productId: product.productId,
    expiresAt: Date.now() + 365 * 86_400_000,
    serverSyncInterval: 86_400,
    serverSyncGracePeriod: 7 * 86_400,
    ...licence
  })
  const config = { productId: product.productId, publicKeyPem: product.publicKeyPem }
  const storeOptions = { productId: product.productId, fingerprint: machine.fingerprint, directory }
  const platform = (store: Layer.Layer<LicenseStore>) =>
    Layer.mergeAll(emulatorLayer(emulator), store, Fingerprint.layerStatic(machine))
  const fileClient = Licensing.layer(config).pipe(Layer.provideMerge(platform(NodeFileStore.layer(storeOptions))))
  return { machine, product, license, config, storeOptions, platform, fileClient }
}
