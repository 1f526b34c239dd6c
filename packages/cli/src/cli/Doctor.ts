/**
 * `licensure doctor`: the checks that tell why a licence cannot be activated or synced on this machine (the
 * network route, the server's clock, TLS trust, the machine identity, the licence file, rate limits), each with
 * what was seen and what to do. It reads and asks; it changes nothing (no activation, no file moved, no lock
 * broken), so it is safe to run anywhere, as often as wanted, and to paste into a support ticket (`--json`).
 *
 * Exit code: 0 when no check failed (warnings included), `ExitCode.doctorFailed` when one did.
 *
 * DECISION: a seventh check, `server`, reports the one request itself (its status and time, or why it got no
 * answer). Without it, a server that cannot be reached would show up as a failed clock check, which it is not;
 * `clock` and `rate-limit` are `skip` then, and `server` carries the failure and its advice.
 *
 * @since 0.1.0
 */
import type { CliSettings, Env } from "./CliConfig.ts"
import type { CheckResult, Verdict } from "./doctor/Check.ts"
import { machineChecks } from "./doctor/MachineChecks.ts"
import { describeRoute, proxyCheck, proxyRoute } from "./doctor/ProxyCheck.ts"
import { clockCheck, probeServer, rateLimitCheck, serverCheck } from "./doctor/ServerChecks.ts"
import { tlsCheck } from "./doctor/TlsCheck.ts"
import { ExitCode } from "./ExitCodes.ts"
import type { Progress } from "./Progress.ts"

export type { CheckResult, Verdict }

export interface DoctorReport {
  readonly server: string
  readonly checks: ReadonlyArray<CheckResult>
  readonly counts: Readonly<Record<Verdict, number>>
  readonly exitCode: ExitCode
}

export const runDoctor = async (
  settings: CliSettings,
  base: string,
  env: Env,
  progress: Progress
): Promise<DoctorReport> => {
  const server = new URL(base)
  const route = proxyRoute(server, env)
  const [probe, tls, machine] = await progress.around(`checking ${server.host} and this machine`, () =>
    Promise.all([probeServer(base, env), tlsCheck(server, route), machineChecks(settings)])
  )
  const checks: ReadonlyArray<CheckResult> = [
    serverCheck(probe, describeRoute(route)),
    clockCheck(probe),
    proxyCheck(server, env, route, probe._tag === "Answered"),
    tls,
    rateLimitCheck(probe),
    machine.fingerprint,
    machine.store
  ]
  const counts = { ok: 0, warn: 0, fail: 0, skip: 0 }
  for (const c of checks) counts[c.verdict] += 1
  return {
    server: server.origin,
    checks,
    counts,
    exitCode: counts.fail > 0 ? ExitCode.doctorFailed : ExitCode.licensed
  }
}

const label: Readonly<Record<Verdict, string>> = { ok: "ok", warn: "WARN", fail: "FAIL", skip: "skip" }

const detailLines = (detail: Readonly<Record<string, unknown>>): Array<string> =>
  Object.entries(detail)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)

/** One line per check (verdict, id, summary); under a warning or failure its facts, then its advice. */
export const renderDoctor = (report: DoctorReport): string => {
  const width = Math.max(...report.checks.map((c) => c.id.length))
  const lines: Array<string> = []
  for (const c of report.checks) {
    lines.push(`${label[c.verdict].padEnd(4)}  ${c.id.padEnd(width)}  ${c.summary}`)
    const indent = " ".repeat(width + 8)
    if ((c.verdict === "warn" || c.verdict === "fail") && c.detail !== undefined) {
      for (const line of detailLines(c.detail)) lines.push(`${indent}${line}`)
    }
    if (c.advice !== undefined) lines.push(`${indent}advice: ${c.advice}`)
  }
  const { ok, warn, fail, skip } = report.counts
  lines.push("", `${fail} failed, ${warn} warnings, ${ok} ok, ${skip} skipped (server ${report.server})`)
  return lines.join("\n")
}

/** The document `licensure doctor --json` prints. */
export const doctorJson = (report: DoctorReport) => report
