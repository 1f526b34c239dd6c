/**
 * What issue 8 asks of every published package: `publint` and `@arethetypeswrong/cli` report nothing. Both run
 * on the packed tarball, as a registry would serve it: publint through its API (every level, suggestions too,
 * strict), attw through its CLI (its JSON report written to a file: piped, the CLI's exit cuts it short).
 *
 * attw's profile is the package's: `node16` for the packages whose modules are subpath exports (`./*`), which
 * TypeScript's old `node10` resolution cannot see at all (no `exports` support), `esm-only` for the CLI (it
 * publishes no CommonJS), `strict` for `licensure` (one entry, ESM and CJS, every resolution mode).
 */
import { spawnSync } from "node:child_process"
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { publint } from "publint"
import { formatMessage } from "publint/utils"

const attwBin = join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules", ".bin", "attw")

/** Every message publint has for the tarball, as `level: text`. */
export const publintMessages = async (tarball: string): Promise<ReadonlyArray<string>> => {
  const bytes = readFileSync(tarball)
  const result = await publint({
    pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer },
    level: "suggestion",
    strict: true
  })
  return result.messages.map((m) => `${m.type}: ${formatMessage(m, result.pkg) ?? m.code}`)
}

export interface AttwReport {
  /** attw's exit code: 0 when the profile finds no problem. */
  readonly exitCode: number | null
  /** The problems the profile counts, as `kind entrypoint (resolution)`. */
  readonly problems: ReadonlyArray<string>
  /** How many entry points were analysed. */
  readonly entrypoints: number
}

/** Runs attw on the tarball over the given entry points (`.`, `./Module`, …) with the given profile. */
export const attw = (
  tarball: string,
  entrypoints: ReadonlyArray<string>,
  profile: "strict" | "node16" | "esm-only"
): AttwReport => {
  const dir = mkdtempSync(join(tmpdir(), "licensure-attw-"))
  try {
    const out = join(dir, "report.json")
    const fd = openSync(out, "w")
    const run = spawnSync(
      attwBin,
      [tarball, "--format", "json", "--profile", profile, "--entrypoints", ...entrypoints],
      {
        stdio: ["ignore", fd, "pipe"],
        encoding: "utf8",
        timeout: 120_000
      }
    )
    closeSync(fd)
    const text = readFileSync(out, "utf8")
    if (text.trim() === "") throw new Error(`attw wrote no report (exit ${run.status}): ${run.stderr}`)
    const report = JSON.parse(text) as {
      analysis?: {
        problems?: ReadonlyArray<{ kind: string; entrypoint?: string; resolutionKind?: string }>
        entrypoints?: Record<string, unknown>
      }
    }
    // The profile decides what counts: node16 ignores node10, esm-only also node16 from CJS.
    const ignored = new Set(profile === "node16" ? ["node10"] : profile === "esm-only" ? ["node10", "node16-cjs"] : [])
    const problems = (report.analysis?.problems ?? [])
      .filter((p) => p.resolutionKind === undefined || !ignored.has(p.resolutionKind))
      .map((p) => `${p.kind} ${p.entrypoint ?? ""} (${p.resolutionKind ?? "any"})`)
    return {
      exitCode: run.status,
      problems,
      entrypoints: Object.keys(report.analysis?.entrypoints ?? {}).length
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
