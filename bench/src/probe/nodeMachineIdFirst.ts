/**
 * Probe: node-machine-id's first `machineIdSync()` in a fresh process, timed the same way as ours (after imports).
 * On Linux it runs `( cat /var/lib/dbus/machine-id /etc/machine-id || hostname ) | head -n 1` through a shell.
 */
import { createHash, hash } from "node:crypto"
import nodeMachineId from "node-machine-id"

// `--warm-crypto`: as in fingerprintFirst.ts, node:crypto has been used before the first call.
if (process.argv.includes("--warm-crypto")) {
  createHash("sha256").update("warm").digest("hex")
  hash("sha256", "warm", "hex")
}

const t0 = performance.now()
const id = nodeMachineId.machineIdSync()
const t1 = performance.now()
nodeMachineId.machineIdSync()
const t2 = performance.now()
if (id.length !== 64) process.exit(1)
console.log(JSON.stringify({ first: t1 - t0, second: t2 - t1 }))
