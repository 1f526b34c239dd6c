/**
 * Fake host trees for the fingerprint tests: a temporary directory holding the `/etc`, `/sys` and `/proc` files a
 * machine of some kind would show, built from a map of path to content. A `directory` entry puts a directory where
 * a file is expected, which is how the tests make a file unreadable (they run as root, so `chmod 000` would not).
 * Every tree is removed by `removeAll`, which the test files call after each test.
 */
import { createHmac } from "node:crypto"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"

export const directory = Symbol("directory")
export type Tree = Readonly<Record<string, string | typeof directory>>

const made: Array<string> = []

export const tempDir = (prefix = "licensure-fp-"): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

export const writeTree = (root: string, tree: Tree): void => {
  for (const [path, content] of Object.entries(tree)) {
    const full = join(root, path)
    if (content === directory) {
      mkdirSync(full, { recursive: true })
    } else {
      mkdirSync(dirname(full), { recursive: true })
      writeFileSync(full, content)
    }
  }
}

/** A new fake root holding `tree`. */
export const fakeRoot = (tree: Tree): string => {
  const root = tempDir()
  writeTree(root, tree)
  return root
}

export const removeAll = (): void => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/**
 * The fingerprint the specification promises, computed here with `createHmac` independently of the package's own
 * HMAC: HMAC-SHA-256 keyed by the product id over "fingerprint", a NUL byte and the primary id.
 */
export const expectedFingerprint = (productId: string, primaryId: string): string =>
  createHmac("sha256", productId).update(`fingerprint\0${primaryId}`).digest("hex")

// Fixture pieces: what real machines of each kind show in these files (values invented, formats real).

export const machineIds = {
  a: "4c8f0e2a9b7d41c3a5e6f7081928374a",
  b: "9e1d2c3b4a5f46e7b8c9d0e1f2a3b4c5",
  c: "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
} as const

export const dmi = (fields: Readonly<Record<string, string>>): Tree =>
  Object.fromEntries(Object.entries(fields).map(([name, value]) => [`/sys/class/dmi/id/${name}`, `${value}\n`]))

export const cpuinfo = (hypervisor: boolean): string =>
  [
    "processor\t: 0",
    "vendor_id\t: GenuineIntel",
    "model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz",
    `flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand${hypervisor ? " hypervisor" : ""} lahf_lm abm 3dnowprefetch`,
    "bogomips\t: 4200.00",
    "",
    "processor\t: 1",
    "vendor_id\t: GenuineIntel",
    ""
  ].join("\n")

export const hostMountinfo = [
  "22 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw",
  "23 28 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw",
  "28 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro",
  "35 23 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot",
  ""
].join("\n")

/** A bare-metal host that runs Docker: container paths appear only as mount points, never as sources. */
export const dockerHostMountinfo = [
  hostMountinfo.trimEnd(),
  "612 28 0:54 / /var/lib/docker/overlay2/1f2e3d/merged rw,relatime - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/AB:/var/lib/docker/overlay2/l/CD,upperdir=/var/lib/docker/overlay2/1f2e3d/diff,workdir=/var/lib/docker/overlay2/1f2e3d/work",
  "640 28 0:55 / /var/lib/docker/containers/5a4b3c2d1e0f/mounts/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k",
  "700 28 0:60 / /var/lib/kubelet/pods/1234-5678/volumes/kubernetes.io~projected/kube-api-access rw,relatime - tmpfs tmpfs rw",
  ""
].join("\n")

const containerId = "5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b"

/** Inside a Docker container under cgroup v2: overlay root and the runtime's bind-mounted /etc files. */
export const dockerMountinfo = [
  "1083 1002 0:149 / / rw,relatime master:434 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/XJ3Q:/var/lib/docker/overlay2/l/K2LM,upperdir=/var/lib/docker/overlay2/9f8e/diff,workdir=/var/lib/docker/overlay2/9f8e/work",
  "1084 1083 0:152 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw",
  "1089 1083 0:156 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro",
  "1090 1089 0:30 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate,memory_recursiveprot",
  `1093 1083 259:2 /var/lib/docker/containers/${containerId}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/nvme0n1p2 rw`,
  `1094 1083 259:2 /var/lib/docker/containers/${containerId}/hostname /etc/hostname rw,relatime - ext4 /dev/nvme0n1p2 rw`,
  `1095 1083 259:2 /var/lib/docker/containers/${containerId}/hosts /etc/hosts rw,relatime - ext4 /dev/nvme0n1p2 rw`,
  ""
].join("\n")

export const podmanMountinfo = [
  "512 480 0:88 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containers/storage/overlay/l/QW:/var/lib/containers/storage/overlay/l/ER,upperdir=/var/lib/containers/storage/overlay/7c6b/diff,workdir=/var/lib/containers/storage/overlay/7c6b/work",
  "513 512 0:90 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw",
  `520 512 0:77 /containers/storage/overlay-containers/${containerId}/userdata/hostname /etc/hostname rw,nosuid,nodev - tmpfs tmpfs rw,size=1611388k,mode=755`,
  `521 512 0:77 /containers/storage/overlay-containers/${containerId}/userdata/hosts /etc/hosts rw,nosuid,nodev - tmpfs tmpfs rw,size=1611388k,mode=755`,
  ""
].join("\n")

/** A Kubernetes pod on containerd: kubelet's pod directory is the source of /etc/hosts and the termination log. */
export const kubernetesMountinfo = [
  "2150 2101 0:412 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/41/fs,upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/57/fs,workdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/57/work",
  "2151 2150 0:415 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw",
  "2160 2150 259:1 /var/lib/kubelet/pods/8d9e0f1a-2b3c-4d5e-6f70-8192a3b4c5d6/etc-hosts /etc/hosts rw,relatime - ext4 /dev/nvme0n1p1 rw",
  "2161 2150 259:1 /var/lib/kubelet/pods/8d9e0f1a-2b3c-4d5e-6f70-8192a3b4c5d6/containers/app/3c4d5e6f /dev/termination-log rw,relatime - ext4 /dev/nvme0n1p1 rw",
  `2162 2150 259:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/${containerId}/hostname /etc/hostname rw,relatime - ext4 /dev/nvme0n1p1 rw`,
  ""
].join("\n")

export const lxcMountinfo = [
  "830 790 0:58 / / rw,relatime - zfs default/containers/web rw,xattr,posixacl",
  "831 830 0:62 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw",
  "840 831 0:55 /proc/cpuinfo /proc/cpuinfo rw,nosuid,nodev,relatime - fuse.lxcfs lxcfs rw,user_id=0,group_id=0,allow_other",
  "841 831 0:55 /proc/meminfo /proc/meminfo rw,nosuid,nodev,relatime - fuse.lxcfs lxcfs rw,user_id=0,group_id=0,allow_other",
  ""
].join("\n")

export const dockerCgroupV1 = [
  `12:pids:/docker/${containerId}`,
  `11:memory:/docker/${containerId}`,
  `4:cpu,cpuacct:/docker/${containerId}`,
  `1:name=systemd:/docker/${containerId}`,
  ""
].join("\n")

export const hostCgroupV2 = "0::/init.scope\n"
