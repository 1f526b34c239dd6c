/**
 * The `licensure` package as it ships: its build bundles the Promise face into dist/index.js (ESM) and
 * dist/index.cjs (CJS); both may import only `node:` built-ins (esbuild's metafile, and a scan of the files), and
 * the declaration bundle imports nothing. Each bundle is copied alone into a temporary directory outside the
 * workspace (no node_modules reachable from there) and run by a real Node process against the emulator over HTTP:
 * activate, status, deactivate, with the views printed as JSON for the assertions.
 */
import { spawn, spawnSync } from "node:child_process"
import {
  copyFileSync,
  type Dirent,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from "node:fs"
import { createServer, type IncomingMessage } from "node:http"
import { type AddressInfo, connect } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import type { Duplex } from "node:stream"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Emulator, startEmulator } from "@licensure/emulator"
import { attw, publintMessages } from "../../../tests/src/PackageLint.ts"
import ts from "typescript"

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..")
const dist = join(pkg, "dist")
let emulator: Emulator
let productId: string
let publicKeyPem: string
const made: Array<string> = []

beforeAll(async () => {
  // The build runs with plain node: without the workspace-sources hook from the test's environment.
  const env = { ...process.env, NODE_OPTIONS: "" }
  const build = spawnSync(process.execPath, [join(pkg, "scripts/bundle.mjs")], { encoding: "utf8", env })
  assert.strictEqual(build.status, 0, `bundle build failed:\n${build.stdout}\n${build.stderr}`)
  emulator = await startEmulator()
  ;({ productId, publicKeyPem } = await emulator.createProduct())
}, 240_000)
afterAll(async () => {
  await emulator?.close()
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})

const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

/**
 * Every module specifier a JS file names in a statement-level import/export, a require() or a dynamic import().
 * Minified code puts statements after `;`, `}` or a newline; effect's schema code generator has import
 * declarations inside string literals (after a quote), which this skips.
 */
const specifiers = (code: string) =>
  [
    ...code.matchAll(/(?:^|[;}\n])\s*(?:import|export)\s*(?:[\w$*{},\s]*?\bfrom\s*)?["']([^"']+)["']/g),
    ...code.matchAll(/(?<![\w$.'"`])(?:require|import)\(\s*["']([^"']+)["']\s*\)/g)
  ].map((m) => m[1]!)

const program = (format: "esm" | "cjs") => `
${format === "esm" ? 'import { createNodeLicensing, LicensingError } from "./licensure.mjs"' : 'const { createNodeLicensing, LicensingError } = require("./licensure.cjs")'}
const [config, key] = JSON.parse(process.argv[2])
const out = {}
const licensing = createNodeLicensing(config)
const activated = await licensing.activate(key)
out.activated = { state: activated.state, licensed: activated.licensed, key: activated.license?.key, status: activated.status }
out.status = await licensing.status()
const deactivated = await licensing.deactivate()
out.deactivated = { state: deactivated.state, licensed: deactivated.licensed, status: deactivated.status }
out.statusAfter = await licensing.status()
try { await licensing.activate("NOT-A-KEY") } catch (e) { out.rejected = { isLicensingError: e instanceof LicensingError, tag: e._tag } }
await licensing.close()
console.log(JSON.stringify(out))
`

const runIn = (dir: string, file: string, args: Array<string>, env: Record<string, string> = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    // No NODE_OPTIONS: the bundle runs as in an app, with no workspace condition and nothing to resolve.
    const child = spawn(process.execPath, [file, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? "", ...env } })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

/**
 * The types declared in the workspace packages that licensure's exports reach through their declarations (a
 * property's type, a parameter's, an alias's parts, an interface's bases) but that licensure does not export by
 * name, each with the type it was reached from. Read with TypeScript 5.9's checker from src/index.ts over the
 * workspace packages' built declarations. Not followed: namespaces (their members are reachable as
 * `FeatureEntitlements.X`), `PromiseLicensing.use` (the Effect escape hatch, typed by @licensure/core), class
 * heritage and tsc's `X_base` consts, and an exported `…Reason` union's member classes (narrowed by `_tag`).
 */
const unexportedSurfaceTypes = (): Array<string> => {
  const entry = join(pkg, "src", "index.ts")
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    strict: true,
    skipLibCheck: true,
    noEmit: true
  })
  const checker = program.getTypeChecker()
  const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)!)!)
  const named = new Set(exported.map((s) => s.name))
  const ours = (file: string) => /\/packages\/[^/]+\/(dist|src)\//.test(file)
  const resolved = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s)
  const isNamespace = (s: ts.Symbol) => (s.flags & (ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule)) !== 0
  const reached = new Map<ts.Symbol, string>()
  const walk = (decl: ts.Node, from: string) => {
    const visit = (n: ts.Node): void => {
      if (ts.isPropertySignature(n) && n.name.getText() === "use") return
      if (ts.isHeritageClause(n) && ts.isClassDeclaration(n.parent)) return
      const name = ts.isTypeReferenceNode(n)
        ? n.typeName
        : ts.isTypeQueryNode(n)
          ? n.exprName
          : ts.isExpressionWithTypeArguments(n)
            ? n.expression
            : undefined
      const symbol = name !== undefined && ts.isIdentifier(name) ? checker.getSymbolAtLocation(name) : undefined
      if (symbol !== undefined) add(resolved(symbol), from)
      ts.forEachChild(n, visit)
    }
    visit(decl)
  }
  const add = (symbol: ts.Symbol, from: string) => {
    const decls = symbol.declarations ?? []
    if (reached.has(symbol) || isNamespace(symbol) || symbol.name.endsWith("_base")) return
    if (!decls.some((d) => ours(d.getSourceFile().fileName)) || decls.some(ts.isTypeParameterDeclaration)) return
    reached.set(symbol, from)
    if (named.has(symbol.name) && symbol.name.endsWith("Reason")) return
    for (const d of decls) walk(d, symbol.name)
  }
  for (const s of exported) {
    const symbol = resolved(s)
    if (isNamespace(symbol)) continue
    reached.set(symbol, "(export)")
    if (symbol.name.endsWith("Reason")) continue
    for (const d of symbol.declarations ?? []) walk(d, s.name)
  }
  return [...reached].filter(([s]) => !named.has(s.name)).map(([s, from]) => `${s.name} (reached from ${from})`)
}

describe("licensure bundle", () => {
  it("its tarball: publint and attw (strict) find nothing; installed alone it is under 5 MB, no scripts, no native code, and the README's quick start runs in it", async () => {
    const out = tempDir("licensure-pack-")
    const pack = spawnSync("pnpm", ["pack", "--ignore-scripts", "--pack-destination", out], {
      cwd: pkg,
      encoding: "utf8"
    })
    assert.strictEqual(pack.status, 0, `pnpm pack failed:\n${pack.stdout}\n${pack.stderr}`)
    const tarball = join(out, readdirSync(out).find((f) => f.endsWith(".tgz")) ?? "no tarball")
    assert.deepStrictEqual(await publintMessages(tarball), [])
    const report = attw(tarball, ["."], "strict")
    assert.deepStrictEqual(report.problems, [])
    assert.strictEqual(report.exitCode, 0)

    // Installed alone with npm into an app outside the workspace (issue 8): at most 5 MB of node_modules, no
    // install script and no native code anywhere in it, and the installed entry runs.
    const app = tempDir("licensure-alone-")
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "alone", private: true, version: "1.0.0" }))
    const env = { ...process.env, NODE_OPTIONS: "" }
    const install = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", tarball], {
      cwd: app,
      encoding: "utf8",
      env,
      timeout: 180_000
    })
    assert.strictEqual(install.status, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`)
    const modules = join(app, "node_modules")
    const files = (readdirSync(modules, { recursive: true, withFileTypes: true }) as Array<Dirent>).filter((e) =>
      e.isFile()
    )
    const bytes = files.reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0)
    assert.isAtMost(bytes, 5 * 1024 * 1024, `node_modules holds ${bytes} bytes`)
    const manifests = files.filter((e) => e.name === "package.json")
    assert.isAtLeast(manifests.length, 1)
    for (const manifest of manifests) {
      const scripts = JSON.parse(readFileSync(join(manifest.parentPath, manifest.name), "utf8")).scripts ?? {}
      for (const hook of ["preinstall", "install", "postinstall"]) {
        assert.notProperty(scripts, hook, `${join(manifest.parentPath, manifest.name)} has an install script`)
      }
    }
    const native = files.filter((e) => e.name.endsWith(".node") || e.name === "binding.gyp")
    assert.deepStrictEqual(
      native.map((e) => e.name),
      [],
      "native code"
    )
    const ran = spawnSync(
      process.execPath,
      ["-e", 'import("licensure").then((m) => console.log(typeof m.createNodeLicensing))'],
      {
        cwd: app,
        encoding: "utf8",
        env
      }
    )
    assert.strictEqual(ran.stdout.trim(), "function", ran.stderr)

    // The README's quick start, pasted into that app as a TypeScript file (Node strips the types) with the
    // placeholders filled in: the product's id and key, and a `host` line for the emulator (the snippet talks to
    // api.cryptlex.com by default). `startTheApp` is the app's own function.
    const readme = readFileSync(join(pkg, "..", "..", "README.md"), "utf8")
    const use = readme.slice(readme.indexOf("## Use it"))
    const snippet = /```ts\n([\s\S]*?)```/.exec(use)?.[1]
    assert.isString(snippet, "the README's Use it section has a ts block")
    const pasted = snippet!
      .replace('"<product GUID>"', JSON.stringify(productId))
      .replace(
        `"<the product's RSA public key, SPKI PEM>"`,
        `${JSON.stringify(publicKeyPem)},\n  host: ${JSON.stringify(emulator.url)}`
      )
    assert.notInclude(pasted, "<", "every placeholder filled")
    writeFileSync(
      join(app, "quickstart.mts"),
      `const startTheApp = () => console.log("the app started")\n${pasted}\nawait new Promise((r) => setTimeout(r, 50))\nprocess.exit(0)\n`
    )
    const { key } = await emulator.createLicense({ productId })
    const quick = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, ["quickstart.mts"], {
        cwd: app,
        env: { ...env, LICENSE_KEY: key, HOME: app, XDG_DATA_HOME: join(app, "data") }
      })
      let out = ""
      child.stdout.on("data", (d) => (out += d))
      child.stderr.on("data", (d) => (out += d))
      child.on("close", (code) => resolve({ code, out }))
    })
    assert.strictEqual(quick.code, 0, quick.out)
    assert.include(quick.out, "the app started", quick.out)
    assert.match(quick.out, /^active LA_OK$/m, quick.out)
  }, 240_000)

  it("imports nothing but node: built-ins, and its d.ts imports nothing", () => {
    const meta = JSON.parse(readFileSync(join(pkg, ".bundle-meta.json"), "utf8")) as {
      outputs: Record<string, { imports: Array<{ path: string; kind: string; external?: boolean }> }>
    }
    const imports = Object.values(meta.outputs).flatMap((o) => o.imports)
    assert.isAbove(imports.length, 0)
    for (const i of imports) {
      // undici, the optional peer for proxies, only ever as a lazy import().
      const optional = i.path === "undici" && i.kind === "dynamic-import"
      assert.isTrue(i.external === true && (optional || /^node:[a-z0-9_/]+$/.test(i.path)), `bundle imports ${i.path}`)
    }
    for (const file of ["index.js", "index.cjs"]) {
      const found = specifiers(readFileSync(join(dist, file), "utf8"))
      assert.isAbove(found.length, 0, file)
      const foreign = found.filter((s) => s !== "undici" && !/^node:[a-z0-9_/]+$/.test(s))
      assert.deepStrictEqual(foreign, [], `${file} names modules other than node: built-ins`)
    }
    const dts = readFileSync(join(dist, "index.d.ts"), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/\/\/.*$/gm, "")
    assert.deepStrictEqual(specifiers(dts), [], "index.d.ts imports another module")
    assert.notMatch(dts, /import\(\s*["']/)
    assert.match(dts, /declare const createNodeLicensing/)
    const pkgJson = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"))
    assert.isUndefined(pkgJson.dependencies)
    // Only undici, optional, for apps behind a proxy.
    assert.deepStrictEqual(pkgJson.peerDependencies, { undici: "^8.13.1" })
    assert.deepStrictEqual(pkgJson.peerDependenciesMeta, { undici: { optional: true } })
  })

  it("its lines are short: an uncaught error thrown from the bundle prints the throwing line, not 165 KB", () => {
    // A real uncaught throw from inside the bundle (a config with no product id): Node prints its line on stderr.
    const app = tempDir("licensure-throw-")
    copyFileSync(join(dist, "index.cjs"), join(app, "licensure.cjs"))
    const thrown = spawnSync(process.execPath, ["-e", 'require("./licensure.cjs").createNodeLicensing({})'], {
      cwd: app,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "" }
    })
    assert.strictEqual(thrown.status, 1)
    assert.include(thrown.stderr, "LicensingConfigError")
    assert.isAtMost(thrown.stderr.length, 8_000, `an uncaught error printed ${thrown.stderr.length} characters`)
    for (const file of ["index.js", "index.cjs"]) {
      const lines = readFileSync(join(dist, file), "utf8").split("\n")
      const longest = Math.max(...lines.map((l) => l.length))
      // esbuild breaks lines only between tokens: a long string literal stays whole (about 2 KB is the longest).
      assert.isAtMost(longest, 4_000, `${file}: its longest line has ${longest} characters`)
    }
  })

  it("exports by name every workspace type its public signatures reach (a user can write each one down)", () => {
    assert.deepStrictEqual(unexportedSurfaceTypes(), [])
  })

  for (const format of ["esm", "cjs"] as const) {
    it(`${format}: a plain node process outside the workspace activates, checks and deactivates`, async () => {
      const { id, key } = await emulator.createLicense({ productId })
      const app = tempDir(`licensure-app-${format}-`)
      const bundle = format === "esm" ? "licensure.mjs" : "licensure.cjs"
      copyFileSync(join(dist, format === "esm" ? "index.js" : "index.cjs"), join(app, bundle))
      const main = format === "esm" ? "main.mjs" : "main.cjs"
      const source = program(format)
      writeFileSync(
        join(app, main),
        format === "esm" ? source : `;(async () => {${source}})().catch((e) => { console.error(e); process.exit(1) })`
      )
      const root = join(app, "root")
      mkdirSync(join(root, "etc"), { recursive: true })
      writeFileSync(join(root, "etc", "machine-id"), "4c8f0e2a9b7d41c3a5e6f7081928374a\n")
      const config = {
        productId,
        publicKeyPem,
        host: emulator.url,
        directory: join(app, "store"),
        fingerprint: { root, platform: "linux", env: {}, hostname: "workstation", username: "tester" },
        http: { proxy: "none" }
      }
      const run = await runIn(app, main, [JSON.stringify([config, key])])
      assert.strictEqual(run.code, 0, run.stderr)
      const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!)
      assert.deepStrictEqual(out.activated, {
        state: "active",
        licensed: true,
        key,
        status: { name: "LA_OK", code: 0 }
      })
      assert.deepStrictEqual(out.status, { name: "LA_OK", code: 0 })
      assert.strictEqual(out.deactivated.licensed, false)
      assert.notStrictEqual(out.statusAfter.code, 0)
      assert.deepStrictEqual(out.rejected, { isLicensingError: true, tag: "LicensingError" })
      const server = await emulator.getLicense(id)
      assert.strictEqual(server.totalActivations, 0)
      assert.strictEqual(server.totalDeactivations, 1)
    })
  }

  for (const format of ["esm", "cjs"] as const) {
    it(`${format}: explicit proxy, CA or timeout options without undici installed: LicensingConfigError at construction, saying how to install it`, async () => {
      const app = tempDir(`licensure-app-undici-${format}-`)
      const bundle = format === "esm" ? "licensure.mjs" : "licensure.cjs"
      copyFileSync(join(dist, format === "esm" ? "index.js" : "index.cjs"), join(app, bundle))
      const main = format === "esm" ? "main.mjs" : "main.cjs"
      writeFileSync(
        join(app, main),
        `const { createNodeLicensing, LicensingConfigError } = ${format === "esm" ? `await import("./${bundle}")` : `require("./${bundle}")`}
const config = JSON.parse(process.argv[2])
const out = []
for (const http of [{ proxy: { url: "http://127.0.0.1:9" } }, { readTimeout: 5000 }, { ca: "-----BEGIN CERTIFICATE-----" }]) {
  try { createNodeLicensing({ ...config, http }); out.push({ constructed: true }) }
  catch (e) { out.push({ configError: e instanceof LicensingConfigError, tag: e._tag, message: e.message }) }
}
console.log(JSON.stringify(out))
`
      )
      const config = { productId, publicKeyPem, host: emulator.url, scope: "memory" }
      const run = await runIn(app, main, [JSON.stringify(config)])
      assert.strictEqual(run.code, 0, run.stderr)
      const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Array<Record<string, unknown>>
      assert.lengthOf(out, 3)
      for (const refused of out) {
        assert.strictEqual(refused.tag, "LicensingConfigError", JSON.stringify(refused))
        assert.isTrue(refused.configError)
        assert.include(refused.message, "need the undici package, which is not installed")
        assert.include(refused.message, "npm install undici@8")
        assert.include(refused.message, "NODE_USE_ENV_PROXY=1")
      }
    })
  }

  it("NODE_USE_ENV_PROXY=1 without undici: Node's own fetch takes the proxy from the environment, and the activation goes through it", async () => {
    const { key } = await emulator.createLicense({ productId })
    // A tunnelling proxy on 127.0.0.1 that notes each CONNECT (Node's env proxy tunnels http as well as https).
    const tunnels: Array<string> = []
    const proxy = createServer((_request, response) => response.writeHead(405).end())
    proxy.on("connect", (request: IncomingMessage, socket: Duplex) => {
      tunnels.push(request.url ?? "")
      const [host, port] = (request.url ?? "").split(":")
      const upstream = connect(Number(port), host, () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n")
        upstream.pipe(socket)
        socket.pipe(upstream)
      })
      upstream.on("error", () => socket.destroy())
      socket.on("error", () => upstream.destroy())
    })
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve))
    try {
      const app = tempDir("licensure-app-node-proxy-")
      copyFileSync(join(dist, "index.js"), join(app, "licensure.mjs"))
      writeFileSync(
        join(app, "main.mjs"),
        `import { createNodeLicensing } from "./licensure.mjs"
const [config, key] = JSON.parse(process.argv[2])
const licensing = createNodeLicensing(config)
try { const view = await licensing.activate(key); console.log(JSON.stringify({ state: view.state })) }
catch (e) { console.log(JSON.stringify({ kind: e.kind, message: e.message })) }
await licensing.close()
`
      )
      const config = {
        productId,
        publicKeyPem,
        host: emulator.url,
        scope: "memory",
        fingerprint: { platform: "linux", env: {}, hostname: "workstation", username: "tester" }
      }
      const { port } = proxy.address() as AddressInfo
      const run = await runIn(app, "main.mjs", [JSON.stringify([config, key])], {
        HTTP_PROXY: `http://127.0.0.1:${port}`,
        NODE_USE_ENV_PROXY: "1"
      })
      assert.strictEqual(run.code, 0, run.stderr)
      assert.deepStrictEqual(JSON.parse(run.stdout.trim().split("\n").at(-1)!), { state: "active" })
      assert.include(tunnels, new URL(emulator.url).host, "the request went through the proxy")
    } finally {
      proxy.closeAllConnections()
      await new Promise((resolve) => proxy.close(resolve))
    }
  }, 30_000)

  it("behind a proxy from the environment without undici installed: the request fails at once, not after retries, saying why", async () => {
    const { key } = await emulator.createLicense({ productId })
    const app = tempDir("licensure-app-proxy-")
    copyFileSync(join(dist, "index.js"), join(app, "licensure.mjs"))
    writeFileSync(
      join(app, "main.mjs"),
      `import { createNodeLicensing } from "./licensure.mjs"
const [config, key] = JSON.parse(process.argv[2])
const licensing = createNodeLicensing(config)
const started = performance.now()
try { await licensing.activate(key); console.log(JSON.stringify({ activated: true })) }
catch (e) { console.log(JSON.stringify({ tag: e._tag, kind: e.kind, message: e.message, millis: performance.now() - started })) }
await licensing.close()
`
    )
    // The default retry policy (four retries, backoff from one second): a transient failure takes seconds.
    const config = {
      productId,
      publicKeyPem,
      host: emulator.url,
      scope: "memory",
      fingerprint: { platform: "linux", env: {}, hostname: "workstation", username: "tester" }
    }
    const run = await runIn(app, "main.mjs", [JSON.stringify([config, key])], { HTTP_PROXY: "http://127.0.0.1:9" })
    assert.strictEqual(run.code, 0, run.stderr)
    const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!)
    assert.strictEqual(out.tag, "LicensingError")
    assert.strictEqual(out.kind, "NetworkFailure")
    assert.include(out.message, "the proxy in HTTP_PROXY needs the undici package")
    assert.include(out.message, "npm install undici@8")
    assert.include(out.message, "NODE_USE_ENV_PROXY=1")
    assert.isBelow(out.millis, 900, "answered at once, without backing off to retry")
  }, 30_000)
})
