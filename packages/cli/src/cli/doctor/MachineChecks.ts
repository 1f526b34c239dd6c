/**
 * The checks of this machine: `fingerprint` (the identity the client computes now, against the one the stored
 * activation was made with) and `store` (the licence file: where, permissions, lock, and whether it opens and its
 * token verifies). The file is found and opened exactly as `licensure status` opens it (the same path, the key
 * derived from the same fingerprint, the same record schema), but through `StoreInspection`, which never moves
 * an unusable file aside or breaks a lock.
 *
 * @since 0.1.0
 */
import * as ActivationToken from "@licensure/core/ActivationToken"
import { type MachineIdentity, matchComponents } from "@licensure/core/Fingerprint"
import type { StoredRecord } from "@licensure/core/LicenseStore"
import * as NodeFingerprint from "@licensure/fingerprint/NodeFingerprint"
import * as StoreInspection from "@licensure/node-runtime/StoreInspection"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type { CliSettings } from "../CliConfig.ts"
import { type CheckResult, check, type Verdict } from "./Check.ts"

const short = (hex: string) => (hex.length > 16 ? `${hex.slice(0, 12)}…` : hex)

const reactivate =
  "if this is a new or cloned machine, activate it (licensure activate <key>) and release the old machine's seat; if it is the same machine, its identity source changed (a regenerated /etc/machine-id, a new container image): restore it, or activate again"

interface Issue {
  readonly verdict: Verdict
  readonly text: string
  readonly advice?: string
}

const worst = (issues: ReadonlyArray<Issue>): Verdict =>
  issues.some((i) => i.verdict === "fail") ? "fail" : issues.some((i) => i.verdict === "warn") ? "warn" : "ok"

const fromIssues = (id: string, issues: ReadonlyArray<Issue>, detail: Record<string, unknown>): CheckResult => {
  const advice = issues.flatMap((i) => (i.advice === undefined ? [] : [i.advice]))
  return check(id, worst(issues), issues.map((i) => i.text).join("; "), {
    detail,
    advice: advice.length === 0 ? undefined : advice.join("; ")
  })
}

const describeIdentity = (identity: NodeFingerprint.NodeMachineIdentity) => ({
  fingerprint: identity.fingerprint,
  primarySource: identity.primarySource,
  sources: identity.sources,
  unreadable: identity.unreadable,
  components: identity.components.map((c) => ({ name: c.name, strength: c.strength, hash: short(c.hash) })),
  vmName: identity.vmName,
  container: identity.container,
  containerKind: identity.containerKind,
  os: identity.os,
  osVersion: identity.osVersion
})

const verifyRecord = (record: StoredRecord, settings: CliSettings): Promise<string | undefined> => {
  const verified: Effect.Effect<unknown, ActivationToken.TokenError> =
    record.kind === "trial"
      ? ActivationToken.verifyTrial(record.token, settings.publicKeyPem, {
          productId: settings.productId,
          fingerprint: record.fingerprint
        })
      : ActivationToken.verify(record.token, settings.publicKeyPem, {
          productId: settings.productId,
          key: record.key,
          fingerprint: record.fingerprint
        })
  return Effect.runPromise(
    verified.pipe(
      Effect.as(undefined),
      Effect.catch((error) => Effect.succeed(`${error.reason}: ${error.message}`))
    )
  )
}

export const machineChecks = async (
  settings: CliSettings
): Promise<{ readonly fingerprint: CheckResult; readonly store: CheckResult }> => {
  const read = NodeFingerprint.readMachineIdentity({
    productId: settings.productId,
    ...(settings.fingerprintRoot !== undefined ? { root: settings.fingerprintRoot } : {})
  })
  const identity = Result.isSuccess(read) ? read.success : undefined
  // The key the client opens the store with (NodeLicensing.platformLayer): the fingerprint, or, when it cannot be
  // read, the product id alone.
  const storeKey = identity?.fingerprint ?? `unknown:${settings.productId}`
  if (settings.scope === "memory") {
    return {
      fingerprint: fingerprintOnly(read),
      store: check("store", "skip", "the scope is memory: nothing is stored on disk")
    }
  }
  const found = StoreInspection.inspect({
    productId: settings.productId,
    fingerprint: storeKey,
    scope: settings.scope,
    ...(settings.directory !== undefined ? { directory: settings.directory } : {})
  })
  const record = found.verdict?._tag === "Record" ? found.verdict.record : undefined
  const tokenProblem = record === undefined ? undefined : await verifyRecord(record, settings)
  return { fingerprint: fingerprintCheck(read, found, record), store: storeCheck(found, record, tokenProblem) }
}

const fingerprintOnly = (read: ReturnType<typeof NodeFingerprint.readMachineIdentity>): CheckResult =>
  Result.isSuccess(read)
    ? check("fingerprint", "ok", `this machine is ${short(read.success.fingerprint)} (${read.success.primarySource})`, {
        detail: describeIdentity(read.success)
      })
    : check("fingerprint", "fail", `the machine identity cannot be read: ${read.failure.message}`, {
        advice: "make the machine id readable (/etc/machine-id on Linux), or give the app a writable data directory"
      })

const fingerprintCheck = (
  read: ReturnType<typeof NodeFingerprint.readMachineIdentity>,
  found: StoreInspection.StoreInspection,
  record: StoredRecord | undefined
): CheckResult => {
  if (Result.isFailure(read)) return fingerprintOnly(read)
  const identity = read.success
  const here = `this machine is ${short(identity.fingerprint)} (${identity.primarySource}${identity.vmName !== undefined ? `, VM ${identity.vmName}` : ""}${identity.container ? `, container ${identity.containerKind ?? ""}`.trimEnd() : ""})`
  const detail: Record<string, unknown> = describeIdentity(identity)
  if (found.verdict?._tag === "Rejected" && found.verdict.reason === "foreign") {
    return check("fingerprint", "fail", `${here}; the stored licence file was written under another machine identity`, {
      detail: { ...detail, storePath: found.path },
      advice: `${reactivate} (status reports it as not activated until then)`
    })
  }
  if (record === undefined) {
    return check("fingerprint", "ok", `${here}; no stored activation to compare with`, { detail })
  }
  const stored: Pick<MachineIdentity, "components"> = record
  const match = matchComponents(stored.components, identity.components)
  const drifted = record.components
    .filter((c) => !identity.components.some((d) => d.name === c.name && d.hash === c.hash))
    .map((c) => `${c.name} (${c.strength})`)
  const withStored = { ...detail, storedFingerprint: record.fingerprint, match, drifted }
  if (record.fingerprint !== identity.fingerprint && match !== "sameMachine") {
    return check(
      "fingerprint",
      "fail",
      `${here}, but the stored ${record.kind} was made for ${short(record.fingerprint)}: another machine`,
      { detail: withStored, advice: `${reactivate} (until then the licence reads LA_E_MACHINE_FINGERPRINT, exit 22)` }
    )
  }
  if (match === "exact")
    return check("fingerprint", "ok", `${here}; matches the stored ${record.kind}`, { detail: withStored })
  return check(
    "fingerprint",
    "warn",
    `${here}; the same machine as the stored ${record.kind}, but ${drifted.join(", ") || "a component"} changed`,
    {
      detail: withStored,
      advice:
        "nothing to do: weak components may drift (a new host name, a hardware change); the activation keeps its fingerprint and licensure sync records the new components"
    }
  )
}

const storeCheck = (
  found: StoreInspection.StoreInspection,
  record: StoredRecord | undefined,
  tokenProblem: string | undefined
): CheckResult => {
  const detail: Record<string, unknown> = {
    path: found.path,
    exists: found.mode !== undefined,
    mode: found.mode === undefined ? undefined : found.mode.toString(8).padStart(3, "0"),
    size: found.size,
    lockPath: found.lockPath,
    lock: found.lock,
    markPath: found.markPath,
    markExists: found.markExists,
    record:
      record === undefined
        ? found.verdict?._tag === "Rejected"
          ? { rejected: found.verdict.reason, message: found.verdict.message }
          : undefined
        : {
            kind: record.kind,
            lastSyncedAt: new Date(record.lastSyncedAt).toISOString(),
            lastSeenAt: new Date(record.lastSeenAt).toISOString(),
            tokenVerifies: tokenProblem === undefined
          }
  }
  if (found.readError !== undefined) {
    return check("store", "fail", `${found.path} cannot be read: ${found.readError}`, {
      detail,
      advice: "the licence file must be readable and writable by the user the app runs as: fix its owner or permissions"
    })
  }
  const issues: Array<Issue> = []
  if (found.mode === undefined) {
    issues.push({
      verdict: "ok",
      text: `no licence file at ${found.path} (nothing activated here for this product and scope)`
    })
  } else {
    const mode = found.mode.toString(8).padStart(3, "0")
    issues.push({ verdict: "ok", text: `${found.path} (mode ${mode}, ${found.size} bytes)` })
    if (process.platform !== "win32" && (found.mode & 0o077) !== 0) {
      issues.push({
        verdict: "warn",
        text: `readable by ${(found.mode & 0o070) !== 0 ? "its group" : ""}${(found.mode & 0o070) !== 0 && (found.mode & 0o007) !== 0 ? " and " : ""}${(found.mode & 0o007) !== 0 ? "others" : ""}`,
        advice: `chmod 600 ${found.path} (the store writes 0600; something changed it)`
      })
    }
  }
  if (found.lock._tag === "Held") {
    const holder = found.lock.holder ?? "an unreadable lock file"
    const age = Math.round(found.lock.ageMillis / 1000)
    issues.push(
      found.lock.stale
        ? {
            verdict: "warn",
            text: `a stale lock (${holder}, ${age} s old${found.lock.holderAlive === false ? ", that process is gone" : ""})`,
            advice: `the next save breaks it by itself; if saves keep failing, remove ${found.lockPath}`
          }
        : { verdict: "ok", text: `locked now by ${holder} (a save in progress)` }
    )
  }
  const verdict = found.verdict
  if (verdict?._tag === "Rejected") {
    issues.push(
      verdict.reason === "foreign"
        ? { verdict: "warn", text: "it does not open with this machine's key (see the fingerprint check)" }
        : {
            verdict: "fail",
            text: `it cannot be used (${verdict.reason}): ${verdict.message}`,
            advice:
              "the next licensure status or sync moves it aside; licensure activate <key> recovers the licence from the server"
          }
    )
  } else if (record !== undefined) {
    issues.push(
      tokenProblem === undefined
        ? { verdict: "ok", text: `decrypts; its ${record.kind} token verifies` }
        : {
            verdict: "fail",
            text: `decrypts, but its token does not verify: ${tokenProblem}`,
            advice:
              "check that --public-key and --product-id are this product's; if they are, the file was tampered with: activate again"
          }
    )
  }
  return fromIssues("store", issues, detail)
}
