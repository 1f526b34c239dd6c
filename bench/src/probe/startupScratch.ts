/**
 * Sets up what `bundle.bench.ts` times (the bundle copied alone, one activated store per face, a CLI store), in a
 * directory that stays, and prints the commands, so one case can be profiled (`--cpu-prof`) by hand.
 * Usage: node --import ./scripts/workspace-sources.mjs bench/src/probe/startupScratch.ts DIR
 */
import { spawnSync } from "node:child_process"
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { startEmulator } from "@licensure/emulator"
import { benchRoot } from "../Harness.ts"

const root = join(benchRoot, "..")
const tmp = process.argv[2] ?? "/tmp/licensure-startup"
mkdirSync(tmp, { recursive: true })
copyFileSync(join(root, "packages/licensure/dist/index.js"), join(tmp, "licensure.mjs"))
const emulator = await startEmulator()
const { productId, publicKeyPem } = await emulator.createProduct()
const fpRoot = join(tmp, "root")
mkdirSync(join(fpRoot, "etc"), { recursive: true })
writeFileSync(join(fpRoot, "etc", "machine-id"), "4c8f0e2a9b7d41c3a5e6f7081928374a\n")
const config = (dir: string, host: string) => ({
  productId,
  publicKeyPem,
  host,
  directory: join(tmp, dir),
  fingerprint: { root: fpRoot, platform: "linux", env: {}, hostname: "bench", username: "bench" },
  http: { proxy: "none" }
})
const probe = (file: string, from: string) =>
  writeFileSync(
    join(tmp, file),
    `import { createNodeLicensing } from ${JSON.stringify(from)}
const [config, key] = JSON.parse(process.argv[2])
const l = createNodeLicensing(config)
const v = key ? await l.activate(key) : await l.check()
await l.close()
if (v.state !== "active") { console.error("not active: " + v.state); process.exit(1) }
`
  )
probe("promise.mjs", "./licensure.mjs")
probe("effect.mjs", join(root, "packages/node-runtime/dist/index.js"))
const run = async (args: Array<string>, env?: Record<string, string>) => {
  const { spawn } = await import("node:child_process")
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: tmp, env: env ?? process.env, stdio: "inherit" })
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${args[0]}: ${code}`))))
  })
}
for (const [file, dir] of [
  ["promise.mjs", "store-promise"],
  ["effect.mjs", "store-effect"]
] as const) {
  const { key } = await emulator.createLicense({ productId })
  await run([file, JSON.stringify([config(dir, emulator.url), key])])
}
const cliEnv = {
  LICENSURE_PRODUCT_ID: productId,
  LICENSURE_PUBLIC_KEY_PEM: publicKeyPem,
  LICENSURE_DIR: join(tmp, "store-cli"),
  LICENSURE_FINGERPRINT_ROOT: fpRoot
}
const cli = join(root, "packages/cli/dist/bin/licensure.js")
await run([cli, "activate", (await emulator.createLicense({ productId })).key], {
  ...(process.env as Record<string, string>),
  ...cliEnv,
  LICENSURE_HOST: emulator.url
})
await emulator.close()
const offline = "http://127.0.0.1:9"
const envLine = Object.entries({ ...cliEnv, LICENSURE_HOST: offline })
  .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
  .join(" ")
writeFileSync(join(tmp, "cli.env"), `${envLine}\n`)
console.log(`cd ${tmp}
node promise.mjs '${JSON.stringify([config("store-promise", offline)])}'
node effect.mjs '${JSON.stringify([config("store-effect", offline)])}'
env ${envLine} node ${cli} status --json`)
spawnSync("true")
