/**
 * What the machine runs on, for the activation request's `vmName` and `container` fields: a hypervisor named from
 * DMI strings (the vendor and product names firmware reports, readable without root), the clock sources a guest
 * kernel registers, Xen's `/sys/hypervisor`, and the CPU's `hypervisor` flag; a container from the markers
 * runtimes leave (environment, `/run/.containerenv`, `/.dockerenv`) and from the mount table, which still names the
 * runtime's paths under cgroup v2, where `/proc/self/cgroup` reads only `0::/`. Only files are read, in order of
 * cost, and detection stops at the first conclusive answer.
 *
 * @internal
 */
import type { HostFiles } from "./HostFiles.ts"

/** Which runtime a container belongs to; `unknown` when only generic evidence (an overlay root) was found. */
export type ContainerKind = "docker" | "podman" | "kubernetes" | "lxc" | "unknown"

export interface DmiStrings {
  readonly sysVendor?: string | undefined
  readonly productName?: string | undefined
  readonly boardVendor?: string | undefined
  readonly boardName?: string | undefined
}

export interface ContainerInfo {
  readonly container: boolean
  readonly kind: ContainerKind | undefined
}

interface Rule {
  readonly name: string
  /** Tested against sys_vendor and board_vendor. */
  readonly vendor?: RegExp
  /** Tested against product_name and board_name. */
  readonly product?: RegExp
  /** Both must match: "Microsoft Corporation" alone is also a Surface laptop. */
  readonly both?: true
}

// Anchored patterns on purpose: loose substring tests ("virtual", "vmware" anywhere) are how other libraries
// flagged ordinary desktops as VMs. Cloud vendors come first because their guests also carry hypervisor strings.
const rules: ReadonlyArray<Rule> = [
  { name: "Amazon EC2", vendor: /^amazon ec2$/i },
  { name: "Google Compute Engine", vendor: /^google$/i, product: /^google compute engine$/i },
  { name: "DigitalOcean", vendor: /^digitalocean$/i, product: /^droplet$/i },
  { name: "Alibaba Cloud", vendor: /^alibaba cloud$/i, product: /^alibaba cloud ecs$/i },
  { name: "OpenStack", vendor: /^openstack foundation$/i, product: /^openstack (nova|compute)$/i },
  { name: "Hetzner", vendor: /^hetzner$/i },
  { name: "Hyper-V", vendor: /^microsoft corporation$/i, product: /^virtual machine$/i, both: true },
  { name: "VMware", vendor: /^vmware/i, product: /^vmware/i },
  { name: "VirtualBox", vendor: /^innotek gmbh$/i, product: /^virtualbox$/i },
  { name: "Parallels", vendor: /^parallels/i, product: /^parallels/i },
  { name: "Xen", vendor: /^xen$/i, product: /^hvm domu$/i },
  { name: "KVM", product: /^kvm$/i },
  { name: "Apple Virtualization", product: /^(apple virtualization|virtualmac)/i },
  { name: "bhyve", vendor: /^bhyve$/i, product: /^bhyve$/i },
  { name: "Bochs", vendor: /^bochs$/i, product: /^bochs$/i },
  { name: "QEMU", vendor: /^qemu$/i, product: /^qemu/i }
]

const test = (pattern: RegExp | undefined, ...values: ReadonlyArray<string | undefined>): boolean =>
  pattern !== undefined && values.some((v) => v !== undefined && pattern.test(v.trim()))

/** The hypervisor the firmware strings name, if any. */
export const hypervisorFromStrings = (dmi: DmiStrings): string | undefined => {
  for (const rule of rules) {
    const vendor = test(rule.vendor, dmi.sysVendor, dmi.boardVendor)
    const product = test(rule.product, dmi.productName, dmi.boardName)
    if (rule.both ? vendor && product : vendor || product) return rule.name
  }
  return undefined
}

const hypervisorFromClocksources = (text: string): string | undefined => {
  const sources = text.trim().split(/\s+/)
  if (sources.includes("kvm-clock")) return "KVM"
  if (sources.some((s) => s.startsWith("hyperv_clocksource"))) return "Hyper-V"
  if (sources.includes("xen")) return "Xen"
  return undefined
}

/** WSL's kernel release names Microsoft: "5.15.153.1-microsoft-standard-WSL2", "4.4.0-19041-Microsoft". */
export const isWsl = (osRelease: string | undefined): boolean =>
  osRelease !== undefined && /microsoft|wsl/i.test(osRelease)

/** The hypervisor a Linux guest runs under, or `undefined` on bare metal. */
export const detectHypervisor = (
  files: HostFiles,
  dmi: DmiStrings,
  osRelease: string | undefined
): string | undefined => {
  if (isWsl(osRelease)) return "WSL"
  const named = hypervisorFromStrings(dmi)
  if (named !== undefined && named !== "QEMU") return named
  const clocks = files.read("/sys/devices/system/clocksource/clocksource0/available_clocksource")
  const clocked = clocks === undefined ? undefined : hypervisorFromClocksources(clocks)
  // QEMU's firmware strings are the same with and without KVM acceleration; only a KVM guest gets kvm-clock.
  if (named === "QEMU") return clocked === "KVM" ? "KVM" : "QEMU"
  if (clocked !== undefined) return clocked
  const xen = files.read("/sys/hypervisor/type")?.trim()
  if (xen) return xen === "xen" ? "Xen" : xen
  // Only the first processor's block is needed; the whole file grows with the core count.
  const cpuinfo = files.readHead("/proc/cpuinfo", 16_384)
  // DECISION: a hypervisor that no string names is reported as "unknown" rather than left out, so that a
  // vendor who refuses VMs still sees one.
  if (cpuinfo !== undefined && /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo)) return "unknown"
  return undefined
}

/** Maps a runtime's self-reported name (`container` env var, `/run/systemd/container`) to a kind. */
const kindFromName = (name: string): ContainerKind | "none" => {
  const n = name.trim().toLowerCase()
  if (n === "" || n === "wsl") return "none"
  if (n === "docker") return "docker"
  if (n === "podman") return "podman"
  if (n.startsWith("lxc")) return "lxc"
  return "unknown"
}

// Runtimes bind-mount these files into the container from their own state directories, so the mount's source
// path names the runtime. On the host the same directories appear only as mount points, never as sources.
const boundFiles = new Set(["/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/dev/termination-log"])

/** Reads the container runtime from `/proc/self/mountinfo` (format: proc(5)). */
export const kindFromMountinfo = (text: string): ContainerKind | undefined => {
  let found: ContainerKind | undefined
  let overlayRoot: ContainerKind | undefined
  for (const line of text.split("\n")) {
    const separator = line.indexOf(" - ")
    if (separator < 0) continue
    const fields = line.slice(0, separator).split(" ")
    const source = fields[3] ?? ""
    const mountPoint = fields[4] ?? ""
    const [fsType = "", , superOptions = ""] = line.slice(separator + 3).split(" ")
    if (source.includes("/kubepods") || (boundFiles.has(mountPoint) && source.includes("/kubelet/pods/"))) {
      return "kubernetes"
    }
    if (boundFiles.has(mountPoint)) {
      if (source.includes("/docker/containers/")) found ??= "docker"
      else if (source.includes("/containers/storage/") || source.includes("/var/lib/containers/")) found ??= "podman"
      else if (source.includes("/io.containerd.")) found ??= "unknown"
    } else if (fsType.startsWith("cgroup") && source !== "/") {
      const kind = kindFromCgroupPath(source)
      if (kind !== undefined) found ??= kind
    } else if (fsType === "fuse.lxcfs" && mountPoint.startsWith("/proc/")) {
      found ??= "lxc"
    } else if (mountPoint === "/" && /^(overlay|fuse-overlayfs|aufs)$/.test(fsType)) {
      if (superOptions.includes("/var/lib/docker/")) overlayRoot = "docker"
      else if (superOptions.includes("/containers/storage/")) overlayRoot = "podman"
      // DECISION: an overlay root with nothing naming the runtime counts as a container of unknown kind. Live
      // systems booted from overlays are rarer than containers whose runtime hides its paths.
      else overlayRoot = "unknown"
    }
  }
  return found ?? overlayRoot
}

const kindFromCgroupPath = (path: string): ContainerKind | undefined => {
  if (path.includes("/kubepods")) return "kubernetes"
  if (path.includes("libpod")) return "podman"
  if (/\/docker[/-]/.test(path)) return "docker"
  if (path.includes("/lxc/") || path.includes("lxc.payload")) return "lxc"
  return undefined
}

/** Reads cgroup v1 paths (`/proc/1/cgroup`): `12:memory:/docker/<id>`, `…:/kubepods/…`, `…:/lxc/<name>`. */
export const kindFromCgroup = (text: string): ContainerKind | undefined => {
  let found: ContainerKind | undefined
  for (const line of text.split("\n")) {
    const path = line.slice(line.indexOf(":", line.indexOf(":") + 1) + 1)
    const kind = kindFromCgroupPath(path)
    if (kind === "kubernetes") return kind
    found ??= kind
  }
  return found
}

const inside = (kind: ContainerKind): ContainerInfo => ({ container: true, kind })
const outside: ContainerInfo = { container: false, kind: undefined }

/** Whether this process runs in a container, cheapest evidence first (systemd's `detect_container` order). */
export const detectContainer = (files: HostFiles, env: Readonly<Record<string, string | undefined>>): ContainerInfo => {
  if (env.KUBERNETES_SERVICE_HOST) return inside("kubernetes")
  const declared = env.container === undefined ? "none" : kindFromName(env.container)
  if (declared !== "none") return inside(declared)
  if (files.exists("/run/.containerenv")) return inside("podman")
  if (files.exists("/.dockerenv")) return inside("docker")
  const systemd = files.read("/run/systemd/container")
  const named = systemd === undefined ? "none" : kindFromName(systemd)
  if (named !== "none") return inside(named)
  const mountinfo = files.read("/proc/self/mountinfo")
  const mounted = mountinfo === undefined ? undefined : kindFromMountinfo(mountinfo)
  if (mounted !== undefined) return inside(mounted)
  const cgroup = files.read("/proc/1/cgroup")
  const grouped = cgroup === undefined ? undefined : kindFromCgroup(cgroup)
  return grouped === undefined ? outside : inside(grouped)
}
