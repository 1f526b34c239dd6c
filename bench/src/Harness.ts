/**
 * Shared machinery for the benchmarks in this folder. A cold-start figure is only honest in a fresh process, so
 * `alternate` spawns each probe script many times, in alternating order (forward, then reversed) so that drift in
 * the machine's load falls on every probe alike; each probe times itself with `performance.now()` and prints one
 * JSON line. Results are medians and minimums over the runs, printed as a table and written to
 * `bench/results/<name>.json`, the file `run.ts` summarises. Benchmarks report; they never fail a build on time.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export const benchRoot = join(dirname(fileURLToPath(import.meta.url)), "..")
export const resultsDir = join(benchRoot, "results")

export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export const min = (xs: ReadonlyArray<number>): number => (xs.length === 0 ? Number.NaN : Math.min(...xs))

export type Sample = Readonly<Record<string, number>>

/** Runs `node <script> ...args` once and returns the numbers its last output line reports, plus the wall time. */
export const runProbe = (script: string, args: ReadonlyArray<string> = []): Sample => {
  const t0 = performance.now()
  const run = spawnSync(process.execPath, [script, ...args], { encoding: "utf8" })
  const wall = performance.now() - t0
  const last = run.stdout.trim().split("\n").at(-1) ?? ""
  if (run.status !== 0 || !last.startsWith("{")) {
    throw new Error(`probe ${script} failed (exit ${run.status}): ${run.stderr.trim() || run.stdout.trim()}`)
  }
  return { ...(JSON.parse(last) as Sample), wall }
}

export interface ProbeStats {
  readonly runs: number
  /** Per reported field: median and minimum over the runs, in the probe's unit (milliseconds here). */
  readonly fields: Readonly<Record<string, { readonly median: number; readonly min: number }>>
}

/**
 * Spawns every probe `runs` times, alternating the order between rounds, after one discarded warm-up round (it
 * fills the page cache, so the first measured process does not pay for reading Node from disk).
 */
export const alternate = (
  probes: Readonly<Record<string, { readonly script: string; readonly args?: ReadonlyArray<string> }>>,
  runs: number
): Record<string, ProbeStats> => {
  const names = Object.keys(probes)
  const samples: Record<string, Array<Sample>> = Object.fromEntries(names.map((n) => [n, []]))
  for (const name of names) runProbe(probes[name]!.script, probes[name]!.args)
  for (let round = 0; round < runs; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse()
    for (const name of order) samples[name]!.push(runProbe(probes[name]!.script, probes[name]!.args))
  }
  return Object.fromEntries(
    names.map((name) => {
      const fields: Record<string, { median: number; min: number }> = {}
      for (const key of Object.keys(samples[name]![0] ?? {})) {
        const values = samples[name]!.map((s) => s[key]!).filter((v) => typeof v === "number")
        fields[key] = { median: median(values), min: min(values) }
      }
      return [name, { runs, fields }]
    })
  )
}

/** Prints rows as an aligned table; numbers get three decimals. */
export const printTable = (
  title: string,
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<unknown>>
) => {
  const cells = [header, ...rows].map((r) =>
    r.map((c) => (typeof c === "number" ? (Number.isFinite(c) ? c.toFixed(3) : String(c)) : String(c)))
  )
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)))
  const line = (r: ReadonlyArray<string>) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
  console.log(`\n${title}`)
  console.log(line(cells[0]!))
  console.log(widths.map((w) => "-".repeat(w)).join("  "))
  for (const r of cells.slice(1)) console.log(line(r))
}

/** The headline a bench reports to `run.ts`: one figure, and whether it met its target. */
export interface Headline {
  readonly label: string
  readonly value: number
  readonly unit: string
  readonly target?: string
  readonly met?: boolean
}

export const writeResult = (name: string, headline: Headline, data: unknown): string => {
  mkdirSync(resultsDir, { recursive: true })
  const path = join(resultsDir, `${name}.json`)
  const machine = { node: process.version, platform: process.platform, arch: process.arch }
  writeFileSync(path, `${JSON.stringify({ name, date: new Date().toISOString(), machine, headline, data }, null, 2)}\n`)
  return path
}
