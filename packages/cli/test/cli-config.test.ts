/**
 * The CLI's command line and configuration, in process: what each mistake is called, and which source wins when
 * flags, variables and the config file (a real file in a temporary directory) disagree.
 */
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { resolveConfig } from "../src/cli/CliConfig.ts"
import { parseCommandLine } from "../src/cli/CommandLine.ts"
import { UsageError } from "../src/cli/UsageError.ts"

let dir: string
let pemA: string
let pemB: string

const rsaPem = () =>
  NodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" })

beforeAll(() => {
  dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "licensure-cli-config-"))
  pemA = rsaPem().toString()
  pemB = rsaPem().toString()
  NodeFs.writeFileSync(NodePath.join(dir, "a.pem"), pemA)
  NodeFs.writeFileSync(NodePath.join(dir, "b.pem"), pemB)
})

afterAll(() => {
  NodeFs.rmSync(dir, { recursive: true, force: true })
})

/** The UsageError message `f` fails with; fails the test when `f` succeeds or throws anything else. */
const usageError = (f: () => unknown): string => {
  try {
    f()
  } catch (error) {
    assert.instanceOf(error, UsageError)
    return (error as UsageError).message
  }
  assert.fail("expected a UsageError")
}

const project = (config: unknown): string => {
  const cwd = NodeFs.mkdtempSync(NodePath.join(dir, "project-"))
  NodeFs.writeFileSync(
    NodePath.join(cwd, "licensure.json"),
    typeof config === "string" ? config : JSON.stringify(config)
  )
  return cwd
}

describe("parseCommandLine", () => {
  it("takes flags before or after the command, as --flag value or --flag=value", () => {
    const parsed = parseCommandLine(["--product-id=p1", "activate", "KEY-1", "--host", "eu", "--json"])
    assert.strictEqual(parsed.command, "activate")
    assert.deepStrictEqual(parsed.positionals, ["KEY-1"])
    assert.deepStrictEqual(parsed.config, { productId: "p1", host: "eu" })
    assert.isTrue(parsed.json)
    assert.strictEqual(parseCommandLine(["watch", "--inspect-port", "8080"]).inspectPort, 8080)
    assert.isTrue(parseCommandLine(["watch", "--inspect-port", "8080"]).inspect)
    assert.strictEqual(parseCommandLine(["chart", "--out", "x.mmd"]).out, "x.mmd")
  })

  it("answers --help anywhere with help, whatever else is wrong", () => {
    assert.strictEqual(parseCommandLine(["status", "--bogus", "--help"]).command, "help")
    assert.strictEqual(parseCommandLine(["help"]).command, "help")
  })

  it("names each mistake: unknown command or flag, missing value, flag of another command, arity", () => {
    assert.match(
      usageError(() => parseCommandLine([])),
      /^missing command \(expected one of activate, trial,/
    )
    assert.match(
      usageError(() => parseCommandLine(["activat"])),
      /^unknown command "activat"/
    )
    assert.strictEqual(
      usageError(() => parseCommandLine(["status", "--bogus"])),
      'unknown flag "--bogus"'
    )
    assert.strictEqual(
      usageError(() => parseCommandLine(["status", "--dir"])),
      "--dir expects a value, got nothing"
    )
    assert.strictEqual(
      usageError(() => parseCommandLine(["status", "--dir="])),
      "--dir expects a value, got nothing"
    )
    assert.strictEqual(
      usageError(() => parseCommandLine(["status", "--json=yes"])),
      '--json takes no value, got "yes"'
    )
    assert.match(
      usageError(() => parseCommandLine(["status", "--inspect-port", "1"])),
      /^--inspect-port is not an option of `status`/
    )
    assert.match(
      usageError(() => parseCommandLine(["activate"])),
      /^activate expects a licence key/
    )
    assert.match(
      usageError(() => parseCommandLine(["status", "extra"])),
      /^`status` takes no arguments, got also "extra"/
    )
    assert.match(
      usageError(() => parseCommandLine(["watch", "--inspect-port", "70000"])),
      /--inspect-port expects an integer/
    )
    assert.match(
      usageError(() => parseCommandLine(["--json", "emulator"])),
      /licensure emulator --help/
    )
    assert.strictEqual(
      usageError(() => parseCommandLine(["status", "--scope", "user", "--scope", "system"])),
      "--scope given twice"
    )
  })

  it("takes a key that starts with a dash after --", () => {
    assert.deepStrictEqual(parseCommandLine(["activate", "--", "-ODD-KEY"]).positionals, ["-ODD-KEY"])
  })
})

describe("resolveConfig", () => {
  it("prefers flags over environment variables over the config file, field by field", () => {
    const cwd = project({
      productId: "from-file",
      host: "eu",
      scope: "system",
      dir: "store",
      publicKeyPath: "../b.pem"
    })
    const onlyFile = resolveConfig({}, {}, cwd)
    assert.strictEqual(onlyFile.productId, "from-file")
    assert.strictEqual(onlyFile.host, "eu")
    assert.strictEqual(onlyFile.scope, "system")
    // Paths in the file are relative to the file.
    assert.strictEqual(onlyFile.directory, NodePath.join(cwd, "store"))
    assert.strictEqual(onlyFile.publicKeyPem, pemB)

    const env = { LICENSURE_PRODUCT_ID: "from-env", LICENSURE_HOST: "http://127.0.0.1:1", LICENSURE_DIR: "envdir" }
    const withEnv = resolveConfig({}, env, cwd)
    assert.strictEqual(withEnv.productId, "from-env")
    assert.strictEqual(withEnv.host, "http://127.0.0.1:1")
    assert.strictEqual(withEnv.scope, "system")
    assert.strictEqual(withEnv.directory, NodePath.join(cwd, "envdir"))

    const withFlags = resolveConfig({ productId: "from-flag", publicKeyPath: NodePath.join(dir, "a.pem") }, env, cwd)
    assert.strictEqual(withFlags.productId, "from-flag")
    assert.strictEqual(withFlags.host, "http://127.0.0.1:1")
    assert.strictEqual(withFlags.publicKeyPem, pemA)
  })

  it("reads the config file named by --config or LICENSURE_CONFIG, and fails when it is missing", () => {
    const cwd = project({ productId: "default-file", publicKeyPem: pemA })
    const other = NodePath.join(dir, "other.json")
    NodeFs.writeFileSync(other, JSON.stringify({ productId: "named-file", publicKeyPath: "b.pem" }))
    assert.strictEqual(resolveConfig({ config: other }, {}, cwd).productId, "named-file")
    assert.strictEqual(resolveConfig({}, { LICENSURE_CONFIG: other }, cwd).productId, "named-file")
    assert.strictEqual(resolveConfig({}, { LICENSURE_CONFIG: other }, cwd).publicKeyPem, pemB)
    assert.match(
      usageError(() => resolveConfig({ config: "nope.json" }, {}, cwd)),
      /^cannot read the config file .*nope\.json \(from --config\): ENOENT$/
    )
  })

  it("treats an empty variable as unset", () => {
    const cwd = project({ productId: "from-file", publicKeyPem: pemA })
    assert.strictEqual(resolveConfig({}, { LICENSURE_PRODUCT_ID: "" }, cwd).productId, "from-file")
  })

  it("names the source, the expectation and what came for every bad value", () => {
    const cwd = project({ publicKeyPem: pemA })
    assert.strictEqual(
      usageError(() => resolveConfig({}, {}, dir)),
      "missing product id: give --product-id, LICENSURE_PRODUCT_ID, or productId in licensure.json"
    )
    assert.match(
      usageError(() => resolveConfig({ productId: "p" }, {}, dir)),
      /^missing public key: give --public-key/
    )
    assert.strictEqual(
      usageError(() => resolveConfig({ productId: "p" }, { LICENSURE_SCOPE: "everyone" }, cwd)),
      'LICENSURE_SCOPE: expected user, system or memory, got "everyone"'
    )
    assert.strictEqual(
      usageError(() => resolveConfig({ productId: "p", host: "not a url" }, {}, cwd)),
      '--host: expected default, eu or an http(s) URL, got "not a url"'
    )
    assert.strictEqual(
      usageError(() => resolveConfig({ productId: "p", publicKeyPath: "x.pem", publicKeyPem: pemA }, {}, cwd)),
      "give either --public-key or --public-key-pem, not both"
    )
    assert.match(
      usageError(() => resolveConfig({ productId: "p", publicKeyPath: "missing.pem" }, {}, cwd)),
      /^cannot read the public key file .*missing\.pem \(from --public-key\): ENOENT$/
    )
    assert.match(
      usageError(() => resolveConfig({ productId: "p", publicKeyPem: "hello" }, {}, cwd)),
      /^--public-key-pem: expected an RSA public key in PEM form .*got text starting "hello"/
    )
    const ec = NodeCrypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({
      type: "spki",
      format: "pem"
    })
    assert.strictEqual(
      usageError(() => resolveConfig({ productId: "p", publicKeyPem: ec.toString() }, {}, cwd)),
      "--public-key-pem: expected an RSA public key (Cryptlex signs with RS256), got a ec key"
    )
  })

  it("refuses a config file that is not JSON, not an object, or has unknown or mistyped fields", () => {
    assert.match(
      usageError(() => resolveConfig({}, {}, project("{nope"))),
      /licensure\.json is not JSON: /
    )
    assert.match(
      usageError(() => resolveConfig({}, {}, project([1]))),
      /must hold a JSON object, got an array$/
    )
    assert.match(
      usageError(() => resolveConfig({}, {}, project({ productID: "x" }))),
      /has an unknown field "productID" \(expected productId, publicKeyPath,/
    )
    assert.match(
      usageError(() => resolveConfig({}, {}, project({ productId: 42 }))),
      /licensure\.json: productId must be a non-empty string, got number$/
    )
  })

  it("accepts an RSA key in PKCS#1 form and hands the client SPKI", () => {
    const pkcs1 = NodeCrypto.createPublicKey(pemA).export({ type: "pkcs1", format: "pem" }).toString()
    assert.match(pkcs1, /BEGIN RSA PUBLIC KEY/)
    assert.strictEqual(resolveConfig({ productId: "p", publicKeyPem: pkcs1 }, {}, dir).publicKeyPem, pemA)
  })

  it("reads the fingerprint root from LICENSURE_FINGERPRINT_ROOT", () => {
    const settings = resolveConfig({ productId: "p", publicKeyPem: pemA }, { LICENSURE_FINGERPRINT_ROOT: "root" }, dir)
    assert.strictEqual(settings.fingerprintRoot, NodePath.join(dir, "root"))
    assert.isUndefined(resolveConfig({ productId: "p", publicKeyPem: pemA }, {}, dir).fingerprintRoot)
  })
})
