/**
 * What an app pays for at start-up: importing the runtime (its root, or `NodeLicensing` as `licensure status`
 * does) in a fresh Node process loads none of the modules an offline check never calls. jose's root (which
 * re-exports every JWE/JWK/JWKS module) and its JWT layer, `node:tls` (wanted only with extra CAs), core's root, and the release,
 * user-login and meter modules (loaded by `NodeCalls` on first call) all stay unloaded. Feature entitlements are on
 * the check path since issue 11: the stored record's entitlements token is verified again on load, so an offline
 * `features` answers from it; that module is expected here. The child
 * records every module it loads with a module hook and lists the built-ins from `process.moduleLoadList`.
 */
import { spawnSync } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { assert, describe, it } from "@effect/vitest"

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..")

const loadedBy = (specifier: string) => {
  const program = `
import { registerHooks } from "node:module"
const urls = []
registerHooks({ load(url, context, next) { urls.push(url); return next(url, context) } })
const before = new Set(process.moduleLoadList)
const m = await import(${JSON.stringify(specifier)})
if (typeof m.createNodeLicensing !== "function") throw new Error("no createNodeLicensing in " + Object.keys(m))
const builtins = process.moduleLoadList.filter((x) => !before.has(x)).map((x) => x.replace(/^NativeModule /, ""))
console.log(JSON.stringify({ urls, builtins }))
`
  const run = spawnSync(
    process.execPath,
    ["--import", pathToFileURL(join(root, "scripts/workspace-sources.mjs")).href, "--input-type=module", "-e", program],
    { cwd: join(root, "packages/node-runtime"), encoding: "utf8", env: { PATH: process.env.PATH ?? "" } }
  )
  assert.strictEqual(run.status, 0, `the import failed:\n${run.stderr}`)
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { urls: Array<string>; builtins: Array<string> }
}

const unwanted = [
  { name: "jose's root", test: (url: string) => /\/jose\/dist\/webapi\/index\.js$/.test(url) },
  { name: "core's root", test: (url: string) => /\/packages\/core\/src\/index\.ts$/.test(url) },
  // The compact JWS verify is needed; jose's JWT layer and its JWS signer are not.
  { name: "jose's JWT or JWS signing", test: (url: string) => /\/jose\/dist\/webapi\/(jwt\/|jws\/.*sign)/.test(url) },
  {
    name: "releases, user login or meters",
    test: (url: string) => /\/packages\/core\/src\/(Releases|UserLogin|ActivationMeters)\.ts$/.test(url)
  }
]

describe("start-up imports", () => {
  for (const specifier of ["@licensure/node-runtime", "@licensure/node-runtime/NodeLicensing"]) {
    it(`importing ${specifier} loads only what an offline check uses`, () => {
      const { urls, builtins } = loadedBy(specifier)
      // The check itself needs these: the proof that the hook saw the real graph.
      assert.isTrue(
        urls.some((u) => u.endsWith("/packages/core/src/ActivationToken.ts")),
        "ActivationToken was not loaded"
      )
      assert.isTrue(
        urls.some((u) => /\/jose\/dist\/webapi\/jws\/compact\/verify\.js$/.test(u)),
        "jose's verify was not loaded"
      )
      assert.isTrue(
        urls.some((u) => u.endsWith("/packages/core/src/FeatureEntitlements.ts")),
        "FeatureEntitlements (the stored set is verified on load) was not loaded"
      )
      for (const { name, test } of unwanted) {
        assert.deepStrictEqual(urls.filter(test), [], `${name} loaded at start-up`)
      }
      assert.notInclude(builtins, "tls", "node:tls loaded at start-up")
      // The fingerprint runs commands only on macOS and Windows, and takes child_process then.
      assert.notInclude(builtins, "child_process", "node:child_process loaded at start-up")
    }, 60_000)
  }
})
