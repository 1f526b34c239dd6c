/**
 * `licensure doctor` end to end, as real processes: the CLI is a `node …/licensure.ts` child with its
 * configuration in the environment, its store in a temporary directory and a fake machine root; what it talks to
 * is real HTTP on 127.0.0.1 (the emulator process, a plain `node:http` forward proxy, a `node:https` server with a
 * self-signed certificate, a server whose `Date` is off), each on port 0.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeHttp from "node:http"
import * as NodeHttps from "node:https"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as NodeReadline from "node:readline"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as NodeFingerprint from "@licensure/fingerprint/NodeFingerprint"
import * as NodeFileStore from "@licensure/node-runtime/NodeFileStore"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
// The node-runtime suite's certificate builder (node:crypto only): no openssl binary, no checked-in key.
import { selfSignedCertificate } from "../../node-runtime/test/fixtures/SelfSignedCertificate.ts"
import { ExitCode } from "../src/cli/ExitCodes.ts"

const cliBin = fileURLToPath(new URL("../src/bin/licensure.ts", import.meta.url))
const emulatorBin = fileURLToPath(new URL("../../emulator/src/bin/licensure-emulator.ts", import.meta.url))

interface Finished {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

interface CheckJson {
  readonly id: string
  readonly verdict: "ok" | "warn" | "fail" | "skip"
  readonly summary: string
  readonly detail?: Record<string, any>
  readonly advice?: string
}

interface ReportJson {
  readonly server: string
  readonly checks: ReadonlyArray<CheckJson>
  readonly counts: Record<string, number>
  readonly exitCode: number
}

let work: string
let emulator: ChildProcess | undefined
let emulatorUrl: string
let productId: string
let publicKeyPath: string
const servers: Array<NodeHttp.Server> = []

/** Only what the child needs: no proxy variables, no LICENSURE_* from the developer's shell. */
const baseEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? "",
  NODE_OPTIONS: `--import=${fileURLToPath(new URL("../../../scripts/workspace-sources.mjs", import.meta.url))}`,
  HOME: work,
  XDG_DATA_HOME: NodePath.join(work, "xdg")
})

const machine = (name: string, id: string): string => {
  const root = NodePath.join(work, name)
  NodeFs.mkdirSync(NodePath.join(root, "etc"), { recursive: true })
  NodeFs.writeFileSync(NodePath.join(root, "etc", "machine-id"), `${id}\n`)
  return root
}

let machineA: string
let machineB: string

const configured = (extra: Record<string, string> = {}): Record<string, string> => ({
  ...baseEnv(),
  LICENSURE_PRODUCT_ID: productId,
  LICENSURE_PUBLIC_KEY: publicKeyPath,
  LICENSURE_HOST: emulatorUrl,
  LICENSURE_DIR: NodeFs.mkdtempSync(NodePath.join(work, "store-")),
  LICENSURE_FINGERPRINT_ROOT: machineA,
  ...extra
})

const run = (script: string, args: ReadonlyArray<string>, env: Record<string, string>) => {
  const child = spawn(process.execPath, [script, ...args], { cwd: work, env, stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8")
  })
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8")
  })
  const finished = new Promise<Finished>((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })))
  return { child, finished }
}

const cli = (args: ReadonlyArray<string>, env: Record<string, string>) => run(cliBin, args, env).finished

/** `doctor --json`: stdout must be exactly one JSON document. */
const doctorJson = async (env: Record<string, string>): Promise<{ run: Finished; report: ReportJson }> => {
  const result = await cli(["doctor", "--json"], env)
  let report: ReportJson
  try {
    report = JSON.parse(result.stdout) as ReportJson
  } catch (error) {
    throw new Error(`stdout is not one JSON document (${String(error)}): ${result.stdout}\nstderr: ${result.stderr}`)
  }
  assert.strictEqual(report.exitCode, result.code, "the document's exitCode is the process's")
  return { run: result, report }
}

const checkOf = (report: ReportJson, id: string): CheckJson => {
  const found = report.checks.find((c) => c.id === id)
  assert.isDefined(found, `no ${id} check in ${JSON.stringify(report.checks.map((c) => c.id))}`)
  return found!
}

const listen = async <S extends NodeHttp.Server>(server: S): Promise<number> => {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return (server.address() as NodeNet.AddressInfo).port
}

const admin = async (method: string, path: string, body?: unknown): Promise<any> => {
  const response = await fetch(new URL(path, emulatorUrl), {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  })
  assert.isTrue(response.ok, `${method} ${path} answered ${response.status}`)
  const text = await response.text()
  return text === "" ? undefined : JSON.parse(text)
}

const activate = async (env: Record<string, string>) => {
  const license = (await admin("POST", "/__admin/licenses", { productId })) as { key: string }
  const activated = await cli(["activate", license.key], env)
  assert.strictEqual(activated.code, ExitCode.licensed, activated.stderr)
}

/** A forward proxy as small as one can be: absolute-URI requests are forwarded, CONNECT is tunnelled; all logged. */
const forwardProxy = async () => {
  const log: Array<string> = []
  const server = NodeHttp.createServer((request, response) => {
    log.push(`${request.method} ${request.url}`)
    const target = new URL(request.url ?? "")
    const upstream = NodeHttp.request(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: target.pathname + target.search,
        headers: request.headers
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(response)
      }
    )
    upstream.on("error", () => response.writeHead(502).end())
    request.pipe(upstream)
  })
  server.on("connect", (request: NodeHttp.IncomingMessage, client: NodeNet.Socket, head: Buffer) => {
    log.push(`CONNECT ${request.url}`)
    const [host, port] = (request.url ?? "").split(":")
    const upstream = NodeNet.connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on("error", () => client.destroy())
    client.on("error", () => upstream.destroy())
  })
  const port = await listen(server)
  return { url: `http://127.0.0.1:${port}`, log }
}

beforeAll(async () => {
  work = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "licensure-doctor-"))
  machineA = machine("machine-a", "4c1f0e5a9b2d4e7f8a6b3c2d1e0f9a8b")
  machineB = machine("machine-b", "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b")
  const running = run(emulatorBin, ["--port", "0"], baseEnv())
  emulator = running.child
  const firstLine = await new Promise<string>((resolve, reject) => {
    NodeReadline.createInterface({ input: running.child.stdout! }).once("line", resolve)
    running.finished.then((f) => reject(new Error(`the emulator exited: ${f.stderr}`)))
  })
  emulatorUrl = (JSON.parse(firstLine) as { url: string }).url
  const product = (await admin("POST", "/__admin/products", {})) as { productId: string; publicKeyPem: string }
  productId = product.productId
  publicKeyPath = NodePath.join(work, "public-key.pem")
  NodeFs.writeFileSync(publicKeyPath, product.publicKeyPem)
})

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections()
    server.close()
  }
  if (emulator !== undefined && emulator.exitCode === null) {
    const exited = new Promise((resolve) => emulator!.once("close", resolve))
    emulator.kill("SIGTERM")
    await exited
  }
  NodeFs.rmSync(work, { recursive: true, force: true })
})

describe("licensure doctor (real processes, real HTTP on 127.0.0.1)", () => {
  it("finds nothing wrong against the emulator after an activation: exit 0, one JSON document on stdout", async () => {
    const env = configured()
    await activate(env)
    await admin("DELETE", "/__admin/log")

    const { run: result, report } = await doctorJson(env)
    assert.strictEqual(result.code, ExitCode.licensed, result.stderr)
    assert.strictEqual(report.server, emulatorUrl)
    assert.deepStrictEqual(
      report.checks.map((c) => c.id),
      ["server", "clock", "proxy", "tls", "rate-limit", "fingerprint", "store"]
    )
    for (const c of report.checks) {
      assert.include(["ok", "warn", "fail", "skip"], c.verdict)
      assert.isString(c.summary)
      if (c.id === "tls") assert.strictEqual(c.verdict, "skip", "an http URL has no TLS to check")
      else assert.strictEqual(c.verdict, "ok", `${c.id}: ${c.summary}`)
    }
    assert.deepStrictEqual(report.counts, { ok: 6, warn: 0, fail: 0, skip: 1 })
    assert.isAtMost(Math.abs(checkOf(report, "clock").detail!.offsetSeconds), 2)
    assert.strictEqual(checkOf(report, "fingerprint").detail!.match, "exact")
    assert.strictEqual(checkOf(report, "store").detail!.mode, "600")
    assert.strictEqual(checkOf(report, "store").detail!.record.tokenVerifies, true)
    // The doctor asked once, and changed nothing on the server.
    const log = (await admin("GET", "/__admin/log")) as Array<{ method: string; path: string }>
    assert.deepStrictEqual(
      log.map((e) => `${e.method} ${e.path}`),
      ["GET /v3/activations"]
    )

    const human = await cli(["doctor"], env)
    assert.strictEqual(human.code, ExitCode.licensed, human.stderr)
    const lines = human.stdout.trimEnd().split("\n")
    for (const id of ["server", "clock", "proxy", "tls", "rate-limit", "fingerprint", "store"]) {
      assert.isTrue(
        lines.some((l) => new RegExp(`^(ok|skip)\\s+${id}\\s`).test(l)),
        `${id} line in:\n${human.stdout}`
      )
    }
    assert.match(lines.at(-1)!, /^0 failed, 0 warnings, 6 ok, 1 skipped/)
  })

  it("reports the proxy from HTTP_PROXY and sends its request through it; NO_PROXY sends it direct", async () => {
    const proxy = await forwardProxy()
    const env = configured({ HTTP_PROXY: proxy.url })
    const { run: result, report } = await doctorJson(env)
    assert.strictEqual(result.code, ExitCode.licensed, result.stderr)
    const check = checkOf(report, "proxy")
    assert.strictEqual(check.verdict, "ok", check.summary)
    assert.deepStrictEqual(check.detail!.route, { via: `${proxy.url}/`, variable: "HTTP_PROXY" })
    assert.deepStrictEqual(check.detail!.variables, { HTTP_PROXY: proxy.url })
    assert.include(checkOf(report, "server").summary, `via the proxy ${proxy.url}/`)
    const host = new URL(emulatorUrl).host
    assert.isTrue(
      proxy.log.some((line) => line === `GET ${emulatorUrl}/v3/activations` || line === `CONNECT ${host}`),
      `the proxy saw: ${JSON.stringify(proxy.log)}`
    )

    const seen = proxy.log.length
    const bypassed = await doctorJson({ ...env, NO_PROXY: "127.0.0.1" })
    assert.strictEqual(bypassed.run.code, ExitCode.licensed, bypassed.run.stderr)
    assert.deepStrictEqual(checkOf(bypassed.report, "proxy").detail!.route, {
      direct: `NO_PROXY excludes ${host}`
    })
    assert.strictEqual(proxy.log.length, seen, "excluded by NO_PROXY: the proxy saw nothing more")
  })

  it("fails tls on a self-signed certificate with advice, and passes once NODE_EXTRA_CA_CERTS trusts it", async () => {
    const certificate = selfSignedCertificate("doctor self-signed")
    let connections = 0
    const server = NodeHttps.createServer({ cert: certificate.cert, key: certificate.key }, (_request, response) => {
      response.writeHead(404, { "content-type": "application/json" }).end('{"message":"not here"}')
    })
    server.on("connection", () => {
      connections += 1
    })
    const port = await listen(server)
    const env = configured({ LICENSURE_HOST: `https://127.0.0.1:${port}` })

    const { run: result, report } = await doctorJson(env)
    assert.strictEqual(result.code, ExitCode.doctorFailed, result.stderr)
    const tls = checkOf(report, "tls")
    assert.strictEqual(tls.verdict, "fail", tls.summary)
    assert.strictEqual(tls.detail!.error, "DEPTH_ZERO_SELF_SIGNED_CERT")
    assert.strictEqual(tls.detail!.verified, false)
    assert.strictEqual(tls.detail!.publicCa, false)
    assert.match(tls.detail!.chain[0].subject, /CN=doctor self-signed/)
    assert.isString(tls.detail!.chain[0].validTo)
    assert.include(tls.advice, "NODE_EXTRA_CA_CERTS")
    assert.include(tls.advice, "--use-system-ca")
    assert.strictEqual(checkOf(report, "server").verdict, "fail", "the client's own request is refused too")
    assert.strictEqual(checkOf(report, "clock").verdict, "skip")
    assert.isAtLeast(connections, 2, "the doctor's request and its handshake both reached the https server")

    const human = await cli(["doctor"], env)
    assert.strictEqual(human.code, ExitCode.doctorFailed)
    assert.match(human.stdout, /^FAIL\s+tls\s+the certificate of 127\.0\.0\.1:\d+ does not verify/m)
    assert.match(human.stdout, /^\s+advice: the server presents a self-signed certificate/m)

    const caFile = NodePath.join(work, "self-signed.pem")
    NodeFs.writeFileSync(caFile, certificate.cert)
    const trusted = await doctorJson({ ...env, NODE_EXTRA_CA_CERTS: caFile })
    // Trusted now; the test certificate lives one day, which the check rightly calls out.
    const tlsTrusted = checkOf(trusted.report, "tls")
    assert.strictEqual(tlsTrusted.detail!.verified, true, tlsTrusted.summary)
    assert.strictEqual(tlsTrusted.verdict, "warn", tlsTrusted.summary)
    assert.match(
      tlsTrusted.summary,
      /^the certificate verifies \(issued by CN=doctor self-signed\) but expires in \d+ hours$/
    )
    assert.strictEqual(checkOf(trusted.report, "server").verdict, "ok", checkOf(trusted.report, "server").summary)
    assert.strictEqual(trusted.run.code, ExitCode.licensed, trusted.run.stderr)
  })

  it("checks TLS through the proxy's CONNECT tunnel when HTTPS_PROXY routes the server through it", async () => {
    const certificate = selfSignedCertificate("behind the proxy")
    const server = NodeHttps.createServer({ cert: certificate.cert, key: certificate.key }, (_request, response) => {
      response.writeHead(404).end()
    })
    const port = await listen(server)
    const proxy = await forwardProxy()
    const { run: result, report } = await doctorJson(
      configured({ LICENSURE_HOST: `https://127.0.0.1:${port}`, HTTPS_PROXY: proxy.url })
    )
    assert.strictEqual(result.code, ExitCode.doctorFailed, result.stderr)
    const tls = checkOf(report, "tls")
    assert.strictEqual(tls.verdict, "fail", tls.summary)
    assert.strictEqual(tls.detail!.via, `${proxy.url}/`)
    assert.strictEqual(tls.detail!.error, "DEPTH_ZERO_SELF_SIGNED_CERT")
    assert.match(tls.detail!.chain[0].subject, /CN=behind the proxy/)
    assert.deepStrictEqual(checkOf(report, "proxy").detail!.route, { via: `${proxy.url}/`, variable: "HTTPS_PROXY" })
    // Both the client's request and the doctor's own handshake were tunnelled.
    assert.deepStrictEqual(proxy.log, [`CONNECT 127.0.0.1:${port}`, `CONNECT 127.0.0.1:${port}`])
  })

  it("reports the rate-limit headers it sees, and warns when the server is limiting", async () => {
    let limited = false
    const server = NodeHttp.createServer((_request, response) => {
      const headers = {
        "x-rate-limit-limit": "50",
        "x-rate-limit-remaining": limited ? "0" : "49",
        "x-rate-limit-reset": "4"
      }
      if (limited) response.writeHead(429, { ...headers, "retry-after": "4" }).end('{"message":"Too many requests"}')
      else response.writeHead(405, headers).end()
    })
    const env = configured({ LICENSURE_HOST: `http://127.0.0.1:${await listen(server)}` })
    const within = await doctorJson(env)
    const ok = checkOf(within.report, "rate-limit")
    assert.strictEqual(ok.verdict, "ok", ok.summary)
    assert.deepStrictEqual(ok.detail!.headers, {
      "x-rate-limit-limit": "50",
      "x-rate-limit-remaining": "49",
      "x-rate-limit-reset": "4"
    })
    limited = true
    const over = await doctorJson(env)
    const warned = checkOf(over.report, "rate-limit")
    assert.strictEqual(warned.verdict, "warn", warned.summary)
    assert.strictEqual(warned.detail!.status, 429)
    assert.strictEqual(warned.detail!.headers["retry-after"], "4")
    assert.strictEqual(over.run.code, ExitCode.licensed, "a warning alone exits 0")
  })

  it("warns on a licence file others can read and on a stale lock, failing on one that does not decrypt", async () => {
    const env = configured()
    await activate(env)
    const file = NodeFileStore.filePath({ productId, directory: env.LICENSURE_DIR! })
    NodeFs.chmodSync(file, 0o644)
    // A lock left by a process that is gone (pid 2^22 + 1 is above Linux's default pid_max).
    NodeFs.writeFileSync(
      `${file}.lock`,
      JSON.stringify({ pid: 4_194_305, host: NodeOs.hostname(), at: Date.now() - 1_000, nonce: "left-behind" })
    )
    const { run: result, report } = await doctorJson(env)
    assert.strictEqual(result.code, ExitCode.licensed, result.stderr)
    const store = checkOf(report, "store")
    assert.strictEqual(store.verdict, "warn", store.summary)
    assert.include(store.summary, "readable by its group and others")
    assert.include(store.summary, "a stale lock (pid 4194305")
    assert.strictEqual(store.detail!.lock.stale, true)
    assert.strictEqual(store.detail!.lock.holderAlive, false)
    assert.include(store.advice, `chmod 600 ${file}`)
    assert.isTrue(NodeFs.existsSync(`${file}.lock`), "the doctor did not break the lock")

    const bytes = NodeFs.readFileSync(file)
    bytes[bytes.length - 1]! ^= 0xff
    NodeFs.writeFileSync(file, bytes)
    const damaged = await doctorJson(env)
    assert.strictEqual(damaged.run.code, ExitCode.doctorFailed)
    const broken = checkOf(damaged.report, "store")
    assert.strictEqual(broken.verdict, "fail", broken.summary)
    assert.strictEqual(broken.detail!.record.rejected, "corrupt")
    assert.deepStrictEqual(NodeFs.readFileSync(file), bytes, "left in place for the next status to move aside")
  })

  it("warns when the server answers with a redirect (never followed) or a 5xx", async () => {
    let status = 301
    const server = NodeHttp.createServer((_request, response) => {
      response.writeHead(status, status === 301 ? { location: "https://licence.example/v3/activations" } : {}).end()
    })
    const env = configured({ LICENSURE_HOST: `http://127.0.0.1:${await listen(server)}` })
    const moved = checkOf((await doctorJson(env)).report, "server")
    assert.strictEqual(moved.verdict, "warn", moved.summary)
    assert.include(moved.summary, "a redirect to https://licence.example/v3/activations")
    assert.include(moved.advice, "never follows redirects")
    status = 503
    const failing = checkOf((await doctorJson(env)).report, "server")
    assert.strictEqual(failing.verdict, "warn", failing.summary)
    assert.include(failing.summary, "answered 503")
  })

  it("warns on a server clock minutes off and fails on one hours off, reporting the offset in seconds", async () => {
    let offsetMillis = 0
    const server = NodeHttp.createServer((_request, response) => {
      response.setHeader("Date", new Date(Date.now() + offsetMillis).toUTCString())
      response.writeHead(405, { allow: "POST" }).end()
    })
    const port = await listen(server)
    const env = configured({ LICENSURE_HOST: `http://127.0.0.1:${port}` })

    offsetMillis = -3 * 60 * 60 * 1000
    const hours = await doctorJson(env)
    assert.strictEqual(hours.run.code, ExitCode.doctorFailed, hours.run.stderr)
    const failed = checkOf(hours.report, "clock")
    assert.strictEqual(failed.verdict, "fail", failed.summary)
    assert.approximately(failed.detail!.offsetSeconds, -10_800, 2)
    assert.strictEqual(failed.detail!.failBeyondSeconds, 3800)
    assert.match(failed.summary, /this machine's clock is 1080\d s ahead of the server's|10799 s ahead/)
    assert.include(failed.advice, "NTP")

    offsetMillis = 5 * 60 * 1000
    const minutes = await doctorJson(env)
    assert.strictEqual(minutes.run.code, ExitCode.licensed, "a warning alone exits 0")
    const warned = checkOf(minutes.report, "clock")
    assert.strictEqual(warned.verdict, "warn", warned.summary)
    assert.approximately(warned.detail!.offsetSeconds, 300, 2)

    offsetMillis = 0
    const right = await doctorJson(env)
    assert.strictEqual(checkOf(right.report, "clock").verdict, "ok")
  })

  it("fails the fingerprint check when the stored activation belongs to another machine, and moves nothing", async () => {
    // The licence file of machine B, looked at from machine A: it does not open with A's key.
    const envB = configured({ LICENSURE_FINGERPRINT_ROOT: machineB })
    await activate(envB)
    const file = NodeFileStore.filePath({ productId, directory: envB.LICENSURE_DIR! })
    const before = NodeFs.readFileSync(file)
    const copied = await doctorJson({ ...envB, LICENSURE_FINGERPRINT_ROOT: machineA })
    assert.strictEqual(copied.run.code, ExitCode.doctorFailed, copied.run.stderr)
    const foreign = checkOf(copied.report, "fingerprint")
    assert.strictEqual(foreign.verdict, "fail", foreign.summary)
    assert.include(foreign.summary, "written under another machine identity")
    assert.include(foreign.advice, "licensure activate")
    assert.deepStrictEqual(NodeFs.readFileSync(file), before, "the doctor left the file as it was")
    assert.deepStrictEqual(
      NodeFs.readdirSync(NodePath.dirname(file)).filter((name) => name.includes(".corrupt-")),
      [],
      "nothing was moved aside"
    )

    // B's activation record, sealed with A's key: it opens on A, and names B's fingerprint.
    const identity = (root: string) => {
      const read = NodeFingerprint.readMachineIdentity({ productId, root })
      assert.strictEqual(read._tag, "Success")
      return (read as { success: NodeFingerprint.NodeMachineIdentity }).success
    }
    const record = Option.getOrThrow(
      await Effect.runPromise(
        NodeFileStore.make({ productId, fingerprint: identity(machineB).fingerprint, directory: envB.LICENSURE_DIR! })
          .load
      )
    )
    const directoryA = NodeFs.mkdtempSync(NodePath.join(work, "store-"))
    await Effect.runPromise(
      NodeFileStore.make({ productId, fingerprint: identity(machineA).fingerprint, directory: directoryA }).save(record)
    )
    const moved = await doctorJson({ ...envB, LICENSURE_FINGERPRINT_ROOT: machineA, LICENSURE_DIR: directoryA })
    assert.strictEqual(moved.run.code, ExitCode.doctorFailed, moved.run.stderr)
    const mismatch = checkOf(moved.report, "fingerprint")
    assert.strictEqual(mismatch.verdict, "fail", mismatch.summary)
    assert.strictEqual(mismatch.detail!.match, "different")
    assert.strictEqual(mismatch.detail!.storedFingerprint, identity(machineB).fingerprint)
    assert.strictEqual(mismatch.detail!.fingerprint, identity(machineA).fingerprint)
    assert.include(mismatch.advice, "LA_E_MACHINE_FINGERPRINT")
    assert.strictEqual(checkOf(moved.report, "store").verdict, "ok", "the file itself is sound")

    // And on B itself, where it was made, the fingerprint matches.
    const home = await doctorJson(envB)
    assert.strictEqual(checkOf(home.report, "fingerprint").verdict, "ok", checkOf(home.report, "fingerprint").summary)
    assert.strictEqual(home.run.code, ExitCode.licensed, home.run.stderr)
  })

  it("is listed with its own help and example", async () => {
    const help = await cli(["doctor", "--help"], baseEnv())
    assert.strictEqual(help.code, 0, help.stderr)
    assert.match(help.stdout, /^usage: licensure doctor \[--json\]/)
    assert.include(help.stdout, "examples:\n  licensure doctor\n")
    const overview = await cli(["--help"], baseEnv())
    assert.match(overview.stdout, /^ {2}doctor {11}/m)
    assert.match(overview.stdout, /^ {2}40 {2}doctor: at least one check failed/m)
  })
})
