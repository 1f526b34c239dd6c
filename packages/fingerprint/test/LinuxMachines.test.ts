import { createHash } from "node:crypto"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { userInfo } from "node:os"
import { join } from "node:path"
import { assert, afterEach, describe, it } from "@effect/vitest"
import { matchComponents } from "@licensure/core/Fingerprint"
import {
  type ContainerKind,
  type NodeFingerprintOptions,
  type NodeMachineIdentity,
  type PrimarySource,
  readMachineIdentity
} from "../src/NodeFingerprint.ts"
import {
  cpuinfo,
  directory,
  dmi,
  dockerCgroupV1,
  dockerHostMountinfo,
  dockerMountinfo,
  expectedFingerprint,
  fakeRoot,
  hostCgroupV2,
  hostMountinfo,
  kubernetesMountinfo,
  lxcMountinfo,
  machineIds,
  podmanMountinfo,
  removeAll,
  type Tree,
  tempDir,
  writeTree
} from "./FakeHost.ts"

afterEach(removeAll)

const productId = "7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b"

/** An ordinary Linux machine; fixtures override or drop (`null`) entries. */
const linux = (over: Readonly<Record<string, string | typeof directory | null>> = {}): Tree => {
  const tree: Record<string, string | typeof directory | null> = {
    "/etc/machine-id": `${machineIds.a}\n`,
    "/proc/sys/kernel/osrelease": "6.8.0-45-generic\n",
    "/sys/devices/system/clocksource/clocksource0/available_clocksource": "tsc hpet acpi_pm \n",
    "/proc/cpuinfo": cpuinfo(false),
    "/proc/self/mountinfo": hostMountinfo,
    "/proc/1/cgroup": hostCgroupV2,
    ...over
  }
  return Object.fromEntries(Object.entries(tree).filter((e): e is [string, string | typeof directory] => e[1] !== null))
}

const kvmClock = { "/sys/devices/system/clocksource/clocksource0/available_clocksource": "kvm-clock tsc acpi_pm \n" }

const sourceNames: Readonly<Record<PrimarySource, string>> = {
  "machine-id": "/etc/machine-id",
  "dbus-machine-id": "/var/lib/dbus/machine-id",
  generated: "generated",
  ioreg: "ioreg:IOPlatformUUID",
  registry: "registry:MachineGuid"
}

const read = (root: string, extra: Partial<NodeFingerprintOptions> = {}): NodeMachineIdentity => {
  const result = readMachineIdentity({
    productId,
    root,
    env: {},
    platform: "linux",
    hostname: "build-agent-01",
    username: "alice",
    // Inside the fake root, so that it goes when the root goes; nothing there is read as a host file.
    dataDir: join(root, "licensure-data"),
    ...extra
  })
  if (result._tag === "Failure") throw new Error(`expected an identity, got ${result.failure.message}`)
  return result.success
}

interface Fixture {
  readonly name: string
  readonly tree: Tree
  readonly env?: Readonly<Record<string, string>>
  /** The raw primary id the fingerprint must be derived from; `generated` reads it from the data directory. */
  readonly primary: string
  readonly primarySource: PrimarySource
  readonly vmName: string | undefined
  readonly container: boolean
  readonly containerKind: ContainerKind | undefined
}

const fixtures: ReadonlyArray<Fixture> = [
  {
    name: "bare metal",
    tree: linux({
      ...dmi({
        sys_vendor: "Dell Inc.",
        product_name: "PowerEdge R740",
        board_vendor: "Dell Inc.",
        board_name: "0WGD1",
        product_uuid: "4c4c4544-0042-3510-8056-b4c04f4e4d32"
      })
    }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: undefined,
    container: false,
    containerKind: undefined
  },
  {
    name: "KVM guest (QEMU firmware strings, kvm-clock)",
    tree: linux({
      ...dmi({ sys_vendor: "QEMU", product_name: "Standard PC (Q35 + ICH9, 2009)", board_vendor: "", board_name: "" }),
      ...kvmClock,
      "/proc/cpuinfo": cpuinfo(true)
    }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: "KVM",
    container: false,
    containerKind: undefined
  },
  {
    name: "QEMU without KVM acceleration",
    tree: linux({ ...dmi({ sys_vendor: "QEMU", product_name: "Standard PC (i440FX + PIIX, 1996)" }) }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: "QEMU",
    container: false,
    containerKind: undefined
  },
  {
    name: "VMware",
    tree: linux({
      ...dmi({
        sys_vendor: "VMware, Inc.",
        product_name: "VMware Virtual Platform",
        board_vendor: "Intel Corporation",
        board_name: "440BX Desktop Reference Platform"
      }),
      "/proc/cpuinfo": cpuinfo(true)
    }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: "VMware",
    container: false,
    containerKind: undefined
  },
  {
    name: "VirtualBox",
    tree: linux({
      ...dmi({
        sys_vendor: "innotek GmbH",
        product_name: "VirtualBox",
        board_vendor: "Oracle Corporation",
        board_name: "VirtualBox"
      }),
      "/proc/cpuinfo": cpuinfo(true)
    }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: "VirtualBox",
    container: false,
    containerKind: undefined
  },
  {
    name: "Hyper-V",
    tree: linux({
      ...dmi({
        sys_vendor: "Microsoft Corporation",
        product_name: "Virtual Machine",
        board_vendor: "Microsoft Corporation",
        board_name: "Virtual Machine"
      }),
      "/sys/devices/system/clocksource/clocksource0/available_clocksource": "hyperv_clocksource_tsc_page acpi_pm \n",
      "/proc/cpuinfo": cpuinfo(true)
    }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: "Hyper-V",
    container: false,
    containerKind: undefined
  },
  {
    name: "a Surface laptop is Microsoft hardware, not Hyper-V",
    tree: linux({ ...dmi({ sys_vendor: "Microsoft Corporation", product_name: "Surface Laptop 4" }) }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: undefined,
    container: false,
    containerKind: undefined
  },
  {
    name: "Xen HVM",
    tree: linux({ ...dmi({ sys_vendor: "Xen", product_name: "HVM domU" }), "/proc/cpuinfo": cpuinfo(true) }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: "Xen",
    container: false,
    containerKind: undefined
  },
  {
    name: "Xen PV (no DMI at all)",
    tree: linux({ "/sys/hypervisor/type": "xen\n", "/proc/cpuinfo": cpuinfo(true) }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: "Xen",
    container: false,
    containerKind: undefined
  },
  {
    name: "Parallels",
    tree: linux({
      ...dmi({ sys_vendor: "Parallels Software International Inc.", product_name: "Parallels Virtual Platform" })
    }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: "Parallels",
    container: false,
    containerKind: undefined
  },
  {
    name: "Amazon EC2 (Nitro)",
    tree: linux({
      ...dmi({ sys_vendor: "Amazon EC2", product_name: "m5.large", board_vendor: "Amazon EC2" }),
      ...kvmClock,
      "/proc/cpuinfo": cpuinfo(true)
    }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: "Amazon EC2",
    container: false,
    containerKind: undefined
  },
  {
    name: "Google Compute Engine",
    tree: linux({ ...dmi({ sys_vendor: "Google", product_name: "Google Compute Engine" }), ...kvmClock }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: "Google Compute Engine",
    container: false,
    containerKind: undefined
  },
  {
    name: "DigitalOcean droplet",
    tree: linux({ ...dmi({ sys_vendor: "DigitalOcean", product_name: "Droplet" }), ...kvmClock }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: "DigitalOcean",
    container: false,
    containerKind: undefined
  },
  {
    name: "OpenStack Nova",
    tree: linux({ ...dmi({ sys_vendor: "OpenStack Foundation", product_name: "OpenStack Nova" }), ...kvmClock }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: "OpenStack",
    container: false,
    containerKind: undefined
  },
  {
    name: "a hypervisor nothing names (only the cpuinfo flag)",
    tree: linux({ "/proc/cpuinfo": cpuinfo(true) }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: "unknown",
    container: false,
    containerKind: undefined
  },
  {
    name: "WSL2",
    tree: linux({
      "/proc/sys/kernel/osrelease": "5.15.153.1-microsoft-standard-WSL2\n",
      "/proc/cpuinfo": cpuinfo(true),
      "/sys/devices/system/clocksource/clocksource0/available_clocksource": "hyperv_clocksource_tsc_page tsc \n"
    }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: "WSL",
    container: false,
    containerKind: undefined
  },
  {
    name: "Docker under cgroup v1 (no machine-id, /.dockerenv)",
    tree: linux({
      "/etc/machine-id": null,
      "/.dockerenv": "",
      "/proc/self/mountinfo": dockerMountinfo,
      "/proc/1/cgroup": dockerCgroupV1,
      ...kvmClock
    }),
    primary: "generated",
    primarySource: "generated",
    vmName: "KVM",
    container: true,
    containerKind: "docker"
  },
  {
    name: "Docker under cgroup v1, known only from /proc/1/cgroup",
    tree: linux({ "/etc/machine-id": null, "/proc/1/cgroup": dockerCgroupV1 }),
    primary: "generated",
    primarySource: "generated",
    vmName: undefined,
    container: true,
    containerKind: "docker"
  },
  {
    name: "Docker under cgroup v2 (cgroup reads 0::/, known from mountinfo)",
    tree: linux({ "/etc/machine-id": null, "/proc/self/mountinfo": dockerMountinfo, "/proc/1/cgroup": "0::/\n" }),
    primary: "generated",
    primarySource: "generated",
    vmName: undefined,
    container: true,
    containerKind: "docker"
  },
  {
    name: "Docker image that ships a machine-id",
    tree: linux({ "/etc/machine-id": `${machineIds.b}\n`, "/.dockerenv": "" }),
    primary: machineIds.b,
    primarySource: "machine-id",
    vmName: undefined,
    container: true,
    containerKind: "docker"
  },
  {
    name: "Podman (/run/.containerenv)",
    tree: linux({ "/etc/machine-id": null, "/run/.containerenv": 'engine="podman-4.9.3"\n' }),
    env: { container: "podman" },
    primary: "generated",
    primarySource: "generated",
    vmName: undefined,
    container: true,
    containerKind: "podman"
  },
  {
    name: "Podman known only from mountinfo",
    tree: linux({ "/etc/machine-id": null, "/proc/self/mountinfo": podmanMountinfo, "/proc/1/cgroup": "0::/\n" }),
    primary: "generated",
    primarySource: "generated",
    vmName: undefined,
    container: true,
    containerKind: "podman"
  },
  {
    name: "Kubernetes pod (KUBERNETES_SERVICE_HOST)",
    tree: linux({ "/etc/machine-id": null, "/proc/self/mountinfo": kubernetesMountinfo, ...kvmClock }),
    env: { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" },
    primary: "generated",
    primarySource: "generated",
    vmName: "KVM",
    container: true,
    containerKind: "kubernetes"
  },
  {
    name: "Kubernetes pod known only from mountinfo",
    tree: linux({ "/etc/machine-id": null, "/proc/self/mountinfo": kubernetesMountinfo, "/proc/1/cgroup": "0::/\n" }),
    primary: "generated",
    primarySource: "generated",
    vmName: undefined,
    container: true,
    containerKind: "kubernetes"
  },
  {
    name: "LXC (lxcfs mounts)",
    tree: linux({ "/proc/self/mountinfo": lxcMountinfo }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: undefined,
    container: true,
    containerKind: "lxc"
  },
  {
    name: "LXC (container=lxc from init)",
    tree: linux({ "/run/systemd/container": "lxc\n" }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: undefined,
    container: true,
    containerKind: "lxc"
  },
  {
    name: "a bare-metal Docker host is not a container",
    tree: linux({ "/proc/self/mountinfo": dockerHostMountinfo, "/proc/1/cgroup": "0::/init.scope\n" }),
    primary: machineIds.a,
    primarySource: "machine-id",
    vmName: undefined,
    container: false,
    containerKind: undefined
  },
  {
    name: "missing machine-id, D-Bus copy present",
    tree: linux({ "/etc/machine-id": null, "/var/lib/dbus/machine-id": `${machineIds.c}\n` }),
    primary: machineIds.c,
    primarySource: "dbus-machine-id",
    vmName: undefined,
    container: false,
    containerKind: undefined
  },
  {
    name: "missing machine-id, nothing else",
    tree: linux({ "/etc/machine-id": null }),
    primary: "generated",
    primarySource: "generated",
    vmName: undefined,
    container: false,
    containerKind: undefined
  },
  {
    name: "empty machine-id (an image prepared for cloning)",
    tree: linux({ "/etc/machine-id": "" }),
    primary: "generated",
    primarySource: "generated",
    vmName: undefined,
    container: false,
    containerKind: undefined
  },
  {
    name: "machine-id still 'uninitialized' (first boot), D-Bus copy present",
    tree: linux({ "/etc/machine-id": "uninitialized\n", "/var/lib/dbus/machine-id": `${machineIds.c}\n` }),
    primary: machineIds.c,
    primarySource: "dbus-machine-id",
    vmName: undefined,
    container: false,
    containerKind: undefined
  }
]

describe("Linux machines", () => {
  for (const fixture of fixtures) {
    it(`${fixture.name}: fingerprint from ${fixture.primarySource}, vmName ${fixture.vmName}, container ${fixture.container}`, () => {
      const root = fakeRoot(fixture.tree)
      const identity = read(root, { env: fixture.env ?? {} })
      const primary =
        fixture.primary === "generated" ? readFileSync(identity.generatedIdPath!, "utf8").trim() : fixture.primary

      assert.strictEqual(identity.primarySource, fixture.primarySource)
      assert.strictEqual(identity.fingerprint, expectedFingerprint(productId, primary))
      assert.match(identity.fingerprint, /^[0-9a-f]{64}$/)
      assert.notInclude(JSON.stringify(identity), primary, "the raw id never appears in the identity")
      assert.strictEqual(identity.vmName, fixture.vmName)
      assert.strictEqual(identity.container, fixture.container)
      assert.strictEqual(identity.containerKind, fixture.containerKind)
      assert.strictEqual(identity.os, "linux")
      assert.strictEqual(identity.sources[0], sourceNames[fixture.primarySource])
      assert.deepStrictEqual(identity.unreadable, [])

      // Stability: a new host name, a kernel update and a firmware update leave the fingerprint alone; the
      // components tell the drift from another machine.
      const renamed = read(root, { env: fixture.env ?? {}, hostname: "build-agent-02" })
      assert.strictEqual(renamed.fingerprint, identity.fingerprint)
      assert.strictEqual(matchComponents(identity.components, renamed.components), "sameMachine")
      writeTree(root, {
        "/proc/sys/kernel/osrelease": "6.11.0-9-generic\n",
        "/sys/class/dmi/id/product_name": "Updated Firmware Name\n"
      })
      const updated = read(root, { env: fixture.env ?? {} })
      assert.strictEqual(updated.fingerprint, identity.fingerprint)
      assert.strictEqual(updated.osVersion, "6.11.0-9-generic")
      assert.strictEqual(matchComponents(identity.components, updated.components), "sameMachine")
      assert.strictEqual(
        matchComponents(updated.components, read(root, { env: fixture.env ?? {} }).components),
        "exact"
      )
    })
  }
})

describe("Linux sources", () => {
  it("reports the sources it read, primary first, and hashes each component separately", () => {
    const root = fakeRoot(
      linux({
        ...dmi({
          sys_vendor: "LENOVO",
          product_name: "20XW0055GE",
          board_vendor: "LENOVO",
          board_name: "20XW0055GE",
          product_uuid: "2b9e4a1c-55d2-11b2-a85c-b3d2f1e0c9a8"
        })
      })
    )
    const identity = read(root)
    assert.deepStrictEqual(identity.sources, [
      "/etc/machine-id",
      "dmi:sys_vendor",
      "dmi:product_name",
      "dmi:board_vendor",
      "dmi:board_name",
      "dmi:product_uuid",
      "hostname"
    ])
    assert.deepStrictEqual(
      identity.components.map((c) => [c.name, c.strength]),
      [
        ["machineId", "primary"],
        ["dmi:sys_vendor", "hardware"],
        ["dmi:product_name", "hardware"],
        ["dmi:board_vendor", "hardware"],
        ["dmi:board_name", "hardware"],
        ["dmi:product_uuid", "hardware"],
        ["hostname", "weak"]
      ]
    )
    // sys_vendor and board_vendor hold the same string, yet their hashes differ: each is labelled by its name.
    const hashes = identity.components.map((c) => c.hash)
    assert.strictEqual(new Set(hashes).size, hashes.length)
    assert.notInclude(hashes, identity.fingerprint)
  })

  it("skips DMI files it cannot read, lists them, and keeps the fingerprint", () => {
    const readable = read(fakeRoot(linux({ ...dmi({ sys_vendor: "ASUSTeK COMPUTER INC.", product_name: "PN50" }) })))
    const root = fakeRoot(
      linux({
        ...dmi({ sys_vendor: "ASUSTeK COMPUTER INC.", product_name: "PN50" }),
        "/sys/class/dmi/id/product_uuid": directory,
        "/sys/class/dmi/id/board_name": directory
      })
    )
    const identity = read(root)
    assert.strictEqual(identity.fingerprint, readable.fingerprint)
    assert.deepStrictEqual(identity.unreadable, ["/sys/class/dmi/id/board_name", "/sys/class/dmi/id/product_uuid"])
    assert.deepStrictEqual(
      identity.components.map((c) => c.name),
      ["machineId", "dmi:sys_vendor", "dmi:product_name", "hostname"]
    )
    assert.strictEqual(matchComponents(readable.components, identity.components), "exact")
  })

  it("falls back to D-Bus's copy when /etc/machine-id cannot be read, and says so", () => {
    const root = fakeRoot(linux({ "/etc/machine-id": directory, "/var/lib/dbus/machine-id": `${machineIds.b}\n` }))
    const identity = read(root)
    assert.strictEqual(identity.primarySource, "dbus-machine-id")
    assert.strictEqual(identity.fingerprint, expectedFingerprint(productId, machineIds.b))
    assert.deepStrictEqual(identity.unreadable, ["/etc/machine-id"])
  })

  it("reads an upper-case machine id as the same machine", () => {
    const lower = read(fakeRoot(linux()))
    const upper = read(fakeRoot(linux({ "/etc/machine-id": `  ${machineIds.a.toUpperCase()}\n` })))
    assert.strictEqual(upper.fingerprint, lower.fingerprint)
  })

  it("works on an empty root (a FROM scratch container): a generated id, no container evidence, no error", () => {
    const root = tempDir()
    const identity = read(root)
    assert.strictEqual(identity.primarySource, "generated")
    assert.deepStrictEqual(identity.sources, ["generated", "hostname"])
    assert.isUndefined(identity.vmName)
    assert.isFalse(identity.container)
  })

  it("gives another product a different fingerprint for the same machine", () => {
    const root = fakeRoot(linux())
    const a = read(root)
    const b = read(root, { productId: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d" })
    assert.notStrictEqual(a.fingerprint, b.fingerprint)
    assert.strictEqual(b.fingerprint, expectedFingerprint("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", machineIds.a))
    assert.strictEqual(matchComponents(a.components, b.components), "different")
  })

  it("tells another machine apart", () => {
    const a = read(fakeRoot(linux()))
    const b = read(fakeRoot(linux({ "/etc/machine-id": `${machineIds.b}\n` })))
    assert.notStrictEqual(a.fingerprint, b.fingerprint)
    assert.strictEqual(matchComponents(a.components, b.components), "different")
  })

  it("keeps the generated id: the second read, and a new process, find the same one", () => {
    const root = fakeRoot(linux({ "/etc/machine-id": null }))
    const dataDir = join(tempDir(), "nested", "licensure")
    const first = read(root, { dataDir })
    const second = read(root, { dataDir })
    assert.strictEqual(first.generatedIdPath, join(dataDir, "machine-id"))
    assert.strictEqual(second.fingerprint, first.fingerprint)
    assert.match(readFileSync(join(dataDir, "machine-id"), "utf8"), /^[0-9a-f]{32}\n$/)
    const elsewhere = read(root, { dataDir: join(tempDir(), "other") })
    assert.notStrictEqual(elsewhere.fingerprint, first.fingerprint)
  })

  it("takes a generated-id file an administrator wrote, and regenerates an empty one", () => {
    const root = fakeRoot(linux({ "/etc/machine-id": null }))
    const dataDir = tempDir()
    writeFileSync(join(dataDir, "machine-id"), "fleet-node-0042\n")
    assert.strictEqual(read(root, { dataDir }).fingerprint, expectedFingerprint(productId, "fleet-node-0042"))
    writeFileSync(join(dataDir, "machine-id"), "")
    const regenerated = read(root, { dataDir })
    const id = readFileSync(join(dataDir, "machine-id"), "utf8").trim()
    assert.match(id, /^[0-9a-f]{32}$/)
    assert.strictEqual(regenerated.fingerprint, expectedFingerprint(productId, id))
  })

  it("fails with a typed error naming the directory when no id exists and none can be stored", () => {
    const root = fakeRoot(linux({ "/etc/machine-id": null }))
    const blocker = join(tempDir(), "a-file")
    writeFileSync(blocker, "")
    const result = readMachineIdentity({ productId, root, env: {}, platform: "linux", dataDir: join(blocker, "sub") })
    assert.strictEqual(result._tag, "Failure")
    if (result._tag === "Failure") {
      assert.strictEqual(result.failure._tag, "FingerprintError")
      assert.include(result.failure.message, join(blocker, "sub", "machine-id"))
      assert.include(result.failure.message, "expected a writable dataDir")
    }
    rmSync(blocker)
  })

  it("rejects a missing or empty product id with a typed error saying what came", () => {
    for (const [productId, shown] of [
      ["", '""'],
      ["   ", '"   "'],
      [undefined, "undefined"],
      [42, "number"]
    ] as const) {
      const result = readMachineIdentity({ productId: productId as string })
      assert.strictEqual(result._tag, "Failure")
      if (result._tag === "Failure") {
        assert.strictEqual(result.failure.message, `expected productId to be a non-empty string, got ${shown}`)
      }
    }
  })

  it("sends the SHA-256 of the user name as userHash, by default the OS user's", () => {
    const root = fakeRoot(linux())
    const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")
    assert.strictEqual(read(root).userHash, sha256("alice"))
    assert.strictEqual(read(root, { username: "Bob" }).userHash, sha256("Bob"))
    const own = readMachineIdentity({ productId, root, env: {}, platform: "linux" })
    assert.strictEqual(own._tag === "Success" && own.success.userHash, sha256(userInfo().username))
  })

  it("reports the host name and kernel release it was given or found", () => {
    const identity = read(fakeRoot(linux()))
    assert.strictEqual(identity.hostname, "build-agent-01")
    assert.strictEqual(identity.osVersion, "6.8.0-45-generic")
    assert.strictEqual(read(fakeRoot(linux()), { osVersion: "Ubuntu 24.04" }).osVersion, "Ubuntu 24.04")
  })

  // The server refuses a hostname outside 1–1024 characters (reference-client.md row 12).
  it("never reports an empty or over-long host name: blank is the fallback, and no hostname component", () => {
    for (const hostname of ["", "   "]) {
      const identity = read(fakeRoot(linux()), { hostname })
      assert.strictEqual(identity.hostname, "localhost")
      assert.notInclude(identity.sources, "hostname", "a stand-in name is no component of the machine")
    }
    const long = read(fakeRoot(linux()), { hostname: "h".repeat(1500) })
    assert.strictEqual(long.hostname, "h".repeat(1024))
    // A cut never leaves half a surrogate pair.
    const emoji = read(fakeRoot(linux()), { hostname: `${"h".repeat(1023)}\u{1F600}` })
    assert.strictEqual(emoji.hostname, "h".repeat(1023))
  })
})
