/**
 * A small licensed app: the whole integration a Node or Electron app needs, in one file to copy.
 *
 * It reads its configuration from the environment, opens the licensing client, activates with `LICENSE_KEY` when
 * this machine has no activation yet, prints the licence, and then keeps a "premium" feature switched on exactly
 * while the licence says so: the client syncs with the server in the background and every change (a suspension, a
 * lapsed grace period, a renewal) reaches the subscriber below. Ctrl-C closes the client and exits.
 *
 *   LICENSURE_PRODUCT_ID=…  LICENSURE_PUBLIC_KEY=./public-key.pem  LICENSE_KEY=…  node examples/basic-app/main.ts
 *
 * In your own app, import from the package instead of the relative path (its one licensure dependency: it
 * re-exports the types and errors of core that an app names):
 *   import { createNodeLicensing, type LicenseView } from "@licensure/node-runtime"
 */
import { readFileSync } from "node:fs"
import { createNodeLicensing, type LicenseView } from "../../packages/node-runtime/src/index.ts"

const required = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") {
    console.error(`basic-app: set ${name} (see examples/basic-app/README.md)`)
    process.exit(2)
  }
  return value
}

const productId = required("LICENSURE_PRODUCT_ID")
const publicKeyPem = readFileSync(required("LICENSURE_PUBLIC_KEY"), "utf8")

const licensing = createNodeLicensing({
  productId,
  publicKeyPem,
  appVersion: "1.0.0",
  // Unset means Cryptlex's own API; the emulator (or an on-premise server) is a URL.
  host: process.env.LICENSURE_HOST || "default",
  // Unset means the platform's usual per-user data directory.
  directory: process.env.LICENSURE_DIR || undefined
})

/** The feature the licence pays for. Real apps enable menus, exports, sync… */
const premium = {
  enabled: false,
  set(on: boolean) {
    if (on === this.enabled) return
    this.enabled = on
    console.log(on ? "premium features: enabled" : "premium features: disabled")
  }
}

const describe = (view: LicenseView) => {
  const expiry = view.license?.expiresAt
  return `${view.state} (${view.status.name})${expiry === undefined ? "" : `, expires ${new Date(expiry).toISOString()}`}`
}

// Ctrl-C closes the client (its timers and sockets), and the process then ends on its own. The handler goes in
// first, so that an interrupt during start-up closes cleanly too.
let stopping = false
let unsubscribe = () => {}
const stop = async () => {
  stopping = true
  unsubscribe()
  await licensing.close()
  console.log("bye")
}
process.once("SIGINT", stop)
process.once("SIGTERM", stop)

const main = async () => {
  // `check` waits for the stored activation to load and re-validates it offline: no network at start-up.
  let view = await licensing.check()
  if (view.license === undefined) {
    const key = process.env.LICENSE_KEY
    if (key === undefined || key === "") {
      console.log("not activated: set LICENSE_KEY to activate this machine")
    } else {
      try {
        view = await licensing.activate(key)
      } catch (error) {
        // A LicensingError: `code` is the server's (INVALID_LICENSE_KEY, ACTIVATION_LIMIT_REACHED…).
        if (stopping) return
        console.error(`activation failed: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  }
  if (stopping) return
  console.log(`licence: ${describe(view)}`)

  // Every change from now on, starting with the current view; `licensed` is LexActivator's LA_OK.
  unsubscribe = licensing.subscribe((next) => {
    if (next.state !== view.state) console.log(`licence: ${describe(next)}`)
    view = next
    premium.set(next.licensed)
  })
}

main().catch((error: unknown) => {
  // Closing the client mid-start-up cuts the calls in flight short: expected, and nothing to report.
  if (stopping) return
  console.error(`basic-app: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
  void licensing.close()
})
