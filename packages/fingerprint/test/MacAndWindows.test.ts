import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, afterEach, describe, it } from "@effect/vitest"
import { matchComponents } from "@licensure/core/Fingerprint"
import {
  type CommandRunner,
  defaultCommandRunner,
  defaultDataDir,
  type NodeFingerprintOptions,
  type NodeMachineIdentity,
  readMachineIdentity
} from "../src/NodeFingerprint.ts"
import { parseIoreg, parseRegQuery, regQueryCommand } from "../src/internal/PlatformSources.ts"
import { expectedFingerprint, removeAll, tempDir } from "./FakeHost.ts"

afterEach(removeAll)

const productId = "3f6c2a0e-9b7d-4c1e-8f2a-5d6b7c8e9f01"

// Recorded shapes of `ioreg -rd1 -c IOPlatformExpertDevice` (identifiers replaced).
const ioregAppleSilicon = `+-o MacBookPro18,3  <class IOPlatformExpertDevice, id 0x100000110, registered, matched, active, busy 0 (12 ms), retain 39>
    {
      "IOPolledInterface" = "AppleARMWatchdogTimerHibernateHandler is not serializable"
      "#address-cells" = <02000000>
      "IOPlatformSerialNumber" = "FVFXC2MHQ05N"
      "compatible" = <"J316sAP","MacBookPro18,3","AppleARM">
      "IOPlatformUUID" = "3A1B7C9D-2E4F-5A6B-8C7D-9E0F1A2B3C4D"
      "model" = <"MacBookPro18,3">
      "manufacturer" = <"Apple Inc.">
      "platform-name" = <"t6000">
      "IOConsoleSecurityInterest" = IOCommand is not serializable
      "model-number" = <4d4b31393300000000000000000000000000000000000000>
    }
`

const ioregVmwareGuest = `+-o VMware7,1  <class IOPlatformExpertDevice, id 0x10000020f, registered, matched, active, busy 0 (31 ms), retain 29>
    {
      "IOPlatformSerialNumber" = "VMUiQ2x9a8tE"
      "IOPlatformUUID" = "564D8A2B-1C3E-4F5A-9B6C-7D8E9FA0B1C2"
      "manufacturer" = <"VMware, Inc.">
      "model" = <"VMware7,1">
      "board-id" = <"440BX Desktop Reference Platform">
    }
`

// Recorded shapes of `reg query HKLM\SOFTWARE\Microsoft\Cryptography /v MachineGuid` (CRLF, as reg.exe prints).
const regOutput =
  "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\r\n    MachineGuid    REG_SZ    6F1D2C3B-4A5E-4F60-8172-93A4B5C6D7E8\r\n\r\n"
const regPolicyError = "ERROR: Registry editing has been disabled by your administrator.\r\n"

interface Call {
  readonly file: string
  readonly args: ReadonlyArray<string>
}

const recorder = (reply: (call: Call) => string) => {
  const calls: Array<Call> = []
  const run: CommandRunner = (file, args) => {
    calls.push({ file, args: [...args] })
    return reply({ file, args })
  }
  return { calls, run }
}

const read = (options: Partial<NodeFingerprintOptions> & Pick<NodeFingerprintOptions, "platform">) => {
  const result = readMachineIdentity({
    productId,
    env: {},
    hostname: "Alices-MacBook-Pro",
    username: "alice",
    osVersion: "test",
    dataDir: join(tempDir(), "data"),
    ...options
  })
  if (result._tag === "Failure") throw new Error(`expected an identity, got ${result.failure.message}`)
  return result.success
}

describe("macOS", () => {
  it("runs /usr/sbin/ioreg by absolute path and derives the fingerprint from IOPlatformUUID alone", () => {
    const { calls, run } = recorder(() => ioregAppleSilicon)
    const identity = read({ platform: "darwin", runCommand: run })
    assert.deepStrictEqual(calls, [{ file: "/usr/sbin/ioreg", args: ["-rd1", "-c", "IOPlatformExpertDevice"] }])
    assert.strictEqual(identity.os, "macos")
    assert.strictEqual(identity.primarySource, "ioreg")
    assert.strictEqual(identity.fingerprint, expectedFingerprint(productId, "3a1b7c9d-2e4f-5a6b-8c7d-9e0f1a2b3c4d"))
    assert.deepStrictEqual(identity.sources, [
      "ioreg:IOPlatformUUID",
      "ioreg:IOPlatformSerialNumber",
      "ioreg:model",
      "hostname"
    ])
    assert.deepStrictEqual(
      identity.components.map((c) => [c.name, c.strength]),
      [
        ["platformUuid", "primary"],
        ["serialNumber", "hardware"],
        ["model", "hardware"],
        ["hostname", "weak"]
      ]
    )
    assert.isUndefined(identity.vmName)
    assert.isFalse(identity.container)
    assert.notInclude(JSON.stringify(identity), "FVFXC2MHQ05N")
  })

  it("runs ioreg once per read, whatever fields are touched", () => {
    const { calls, run } = recorder(() => ioregAppleSilicon)
    const identity = read({ platform: "darwin", runCommand: run })
    void [identity.components, identity.vmName, identity.sources, identity.unreadable, identity.fingerprint]
    assert.strictEqual(calls.length, 1)
  })

  it("names the hypervisor of a macOS guest from its model", () => {
    const identity = read({ platform: "darwin", runCommand: () => ioregVmwareGuest })
    assert.strictEqual(identity.vmName, "VMware")
    assert.strictEqual(identity.fingerprint, expectedFingerprint(productId, "564d8a2b-1c3e-4f5a-9b6c-7d8e9fa0b1c2"))
  })

  it("keeps the fingerprint when only the host name changes", () => {
    const a = read({ platform: "darwin", runCommand: () => ioregAppleSilicon })
    const b = read({ platform: "darwin", runCommand: () => ioregAppleSilicon, hostname: "alices-new-name" })
    assert.strictEqual(b.fingerprint, a.fingerprint)
    assert.strictEqual(matchComponents(a.components, b.components), "sameMachine")
  })

  it("falls back to a persisted generated id when ioreg fails, and lists it", () => {
    const dataDir = join(tempDir(), "Library", "Application Support", "licensure")
    const failing: CommandRunner = () => {
      throw new Error("spawnSync /usr/sbin/ioreg ENOENT")
    }
    const identity = read({ platform: "darwin", runCommand: failing, dataDir })
    assert.strictEqual(identity.primarySource, "generated")
    assert.deepStrictEqual(identity.unreadable, ["/usr/sbin/ioreg"])
    const id = readFileSync(join(dataDir, "machine-id"), "utf8").trim()
    assert.strictEqual(identity.fingerprint, expectedFingerprint(productId, id))
    assert.strictEqual(read({ platform: "darwin", runCommand: failing, dataDir }).fingerprint, identity.fingerprint)
  })

  it("parses quoted and data-blob properties and ignores the rest", () => {
    const props = parseIoreg(ioregAppleSilicon)
    assert.strictEqual(props.IOPlatformUUID, "3A1B7C9D-2E4F-5A6B-8C7D-9E0F1A2B3C4D")
    assert.strictEqual(props.model, "MacBookPro18,3")
    assert.strictEqual(props.manufacturer, "Apple Inc.")
    assert.isUndefined(props.compatible)
    assert.isUndefined(props["#address-cells"])
  })
})

describe("Windows", () => {
  const env = { windir: "C:\\Windows", USERNAME: "alice" }

  it("reads MachineGuid from the 64-bit view with System32 reg.exe in a 64-bit process", () => {
    const { calls, run } = recorder(() => regOutput)
    const identity = read({ platform: "win32", arch: "x64", env, runCommand: run })
    assert.deepStrictEqual(calls, [
      {
        file: "C:\\Windows\\System32\\reg.exe",
        args: ["query", "HKLM\\SOFTWARE\\Microsoft\\Cryptography", "/v", "MachineGuid", "/reg:64"]
      }
    ])
    assert.strictEqual(identity.os, "windows")
    assert.strictEqual(identity.primarySource, "registry")
    assert.strictEqual(identity.fingerprint, expectedFingerprint(productId, "6f1d2c3b-4a5e-4f60-8172-93a4b5c6d7e8"))
    assert.deepStrictEqual(identity.sources, ["registry:MachineGuid", "hostname"])
    assert.isUndefined(identity.vmName)
    assert.isFalse(identity.container)
  })

  it("goes through Sysnative in a 32-bit process on 64-bit Windows, so WOW6432Node is never read", () => {
    const command = regQueryCommand({ WINDIR: "D:\\WIN", PROCESSOR_ARCHITEW6432: "AMD64" }, "ia32")
    assert.strictEqual(command.file, "D:\\WIN\\Sysnative\\reg.exe")
    assert.strictEqual(command.args.at(-1), "/reg:64")
    const { calls, run } = recorder(() => regOutput)
    read({ platform: "win32", arch: "ia32", env: { ...env, PROCESSOR_ARCHITEW6432: "AMD64" }, runCommand: run })
    assert.strictEqual(calls[0]?.file, "C:\\Windows\\Sysnative\\reg.exe")
  })

  it("uses plain System32 reg.exe without /reg:64 on 32-bit Windows, which has one view", () => {
    const command = regQueryCommand({ SystemRoot: "C:\\WINNT" }, "ia32")
    assert.strictEqual(command.file, "C:\\WINNT\\System32\\reg.exe")
    assert.notInclude(command.args, "/reg:64")
  })

  it("falls back to a persisted generated id when policy blocks reg.exe", () => {
    const dataDir = join(tempDir(), "AppData", "Roaming", "licensure")
    const blocked: CommandRunner = () => {
      throw Object.assign(new Error("Command failed: reg.exe query"), { status: 1, stdout: regPolicyError })
    }
    const identity = read({ platform: "win32", arch: "x64", env, runCommand: blocked, dataDir })
    assert.strictEqual(identity.primarySource, "generated")
    assert.deepStrictEqual(identity.unreadable, ["C:\\Windows\\System32\\reg.exe"])
    assert.strictEqual(
      read({ platform: "win32", arch: "x64", env, runCommand: blocked, dataDir }).fingerprint,
      identity.fingerprint
    )
  })

  it("treats output without a MachineGuid line as no id", () => {
    assert.isUndefined(parseRegQuery(regPolicyError))
    assert.isUndefined(parseRegQuery("ERROR: The system was unable to find the specified registry key or value.\r\n"))
    assert.strictEqual(parseRegQuery(regOutput), "6f1d2c3b-4a5e-4f60-8172-93a4b5c6d7e8")
    const identity: NodeMachineIdentity = read({
      platform: "win32",
      arch: "x64",
      env,
      runCommand: () => regPolicyError
    })
    assert.strictEqual(identity.primarySource, "generated")
  })

  it("hashes the user name it is given for userHash", () => {
    const identity = read({ platform: "win32", arch: "x64", env, runCommand: () => regOutput, username: "ALICE" })
    assert.strictEqual(identity.userHash, createHash("sha256").update("ALICE").digest("hex"))
  })
})

describe("the default command runner", () => {
  it("runs the real command (here a missing /usr/sbin/ioreg): its failure is an unreadable source, the id generated", () => {
    // No runCommand: the default runner takes node:child_process on first use and runs the absolute path; on
    // this Linux machine there is no ioreg, so the run fails and the identity falls back, saying why.
    const identity = read({ platform: "darwin", arch: "arm64" })
    assert.strictEqual(identity.primarySource, "generated")
    assert.deepStrictEqual(identity.unreadable, ["/usr/sbin/ioreg"])
  })

  it("runs a command without a shell and answers its output", () => {
    assert.strictEqual(defaultCommandRunner("/bin/echo", ["a b", "$HOME"]), "a b $HOME\n")
    assert.throws(() => defaultCommandRunner("/bin/false", []))
  })
})

describe("default data directory", () => {
  it("follows each platform's convention", () => {
    assert.strictEqual(defaultDataDir("linux", { HOME: "/home/alice" }), "/home/alice/.local/share/licensure")
    assert.strictEqual(
      defaultDataDir("linux", { HOME: "/home/alice", XDG_DATA_HOME: "/data/alice" }),
      "/data/alice/licensure"
    )
    // A relative XDG_DATA_HOME is invalid by the XDG spec and ignored.
    assert.strictEqual(
      defaultDataDir("linux", { HOME: "/home/alice", XDG_DATA_HOME: "data" }),
      "/home/alice/.local/share/licensure"
    )
    assert.strictEqual(
      defaultDataDir("darwin", { HOME: "/Users/alice" }),
      "/Users/alice/Library/Application Support/licensure"
    )
    assert.strictEqual(
      defaultDataDir("win32", { APPDATA: "C:\\Users\\alice\\AppData\\Roaming" }),
      "C:\\Users\\alice\\AppData\\Roaming\\licensure"
    )
    assert.strictEqual(
      defaultDataDir("win32", { userprofile: "C:\\Users\\bob" }),
      "C:\\Users\\bob\\AppData\\Roaming\\licensure"
    )
  })

  it("is where the generated id goes when no dataDir is given", () => {
    const home = tempDir()
    const result = readMachineIdentity({ productId, root: tempDir(), env: { HOME: home }, platform: "linux" })
    assert.strictEqual(result._tag, "Success")
    if (result._tag === "Success") {
      assert.strictEqual(result.success.generatedIdPath, join(home, ".local", "share", "licensure", "machine-id"))
    }
  })
})
