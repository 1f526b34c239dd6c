/**
 * Probe: the first, uncached `readMachineIdentity` in a fresh process, timed inside the process after all imports
 * (module loading is not the call's cost). `first` computes the fingerprint; `rest` then touches every lazy field
 * (DMI strings, VM and container detection, user hash); `second` is a whole new, uncached read, now warm.
 * With `--warm-crypto`, node:crypto's first-use cost (OpenSSL's digest set-up) is paid before the clock starts.
 */
import { createHash, hash } from "node:crypto"
import { readMachineIdentity } from "@licensure/fingerprint/NodeFingerprint"

// `--warm-crypto`: an app that already used node:crypto (verified its licence token, say) before the first call.
if (process.argv.includes("--warm-crypto")) {
  createHash("sha256").update("warm").digest("hex")
  hash("sha256", "warm", "hex")
}

const options = { productId: "0d6c8f2e-5b1a-4e7c-9a3d-bench0000001" }
const t0 = performance.now()
const result = readMachineIdentity(options)
const t1 = performance.now()
if (result._tag === "Failure") {
  console.error(result.failure.message)
  process.exit(1)
}
const identity = result.success
const touched = [identity.components.length, identity.vmName, identity.container, identity.userHash, identity.osVersion]
const t2 = performance.now()
readMachineIdentity(options)
const t3 = performance.now()
if (touched.length !== 5 || identity.fingerprint.length !== 64) process.exit(1)
console.log(JSON.stringify({ first: t1 - t0, rest: t2 - t1, full: t2 - t0, second: t3 - t2 }))
