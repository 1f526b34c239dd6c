/**
 * What must hold in every snapshot the model reaches, stated from the fixtures rather than from the machine's
 * code: which states carry licence facts and which never do, that a settled state agrees with the status its
 * facts were built to have, that no settled state ignores a due sync, and that the machine never rests in
 * `evaluating`. Returns the violations as sentences so a failing test names them all.
 */
import type { LicenseContext } from "@licensure/core/LicenseMachine"
import type { ValidationStatus } from "@licensure/core/Validation"
import { AllVariants, FixedNow } from "./ModelFixtures.ts"

const statusOfVariant = new Map(AllVariants.map((v) => [v.facts.token, v.status]))

const withFacts: ReadonlySet<string> = new Set([
  "active",
  "grace",
  "graceOver",
  "expired",
  "suspended",
  "clockTampered",
  "osUserMismatch",
  "releaseNotAllowed",
  "trialActive",
  "trialExpired",
  "renewDue",
  "reactivating",
  "deactivating"
])

/** States that `evaluating` picks only after `syncDue` was false. */
const afterSyncDue: ReadonlySet<string> = new Set([
  "active",
  "grace",
  "graceOver",
  "expired",
  "suspended",
  "releaseNotAllowed",
  "trialActive",
  "trialExpired"
])

/** The statuses (and licence kind) each settled state allows. */
const allowed: Readonly<Record<string, { statuses: ReadonlyArray<ValidationStatus>; kind?: "activation" | "trial" }>> =
  {
    active: { statuses: ["ok"], kind: "activation" },
    grace: { statuses: ["ok"], kind: "activation" },
    graceOver: { statuses: ["graceOver"], kind: "activation" },
    expired: { statuses: ["expired"], kind: "activation" },
    suspended: { statuses: ["suspended"], kind: "activation" },
    clockTampered: { statuses: ["clockBehindServer", "clockRolledBack"] },
    osUserMismatch: { statuses: ["osUserMismatch"] },
    releaseNotAllowed: { statuses: ["releaseNotAllowed"], kind: "activation" },
    trialActive: { statuses: ["ok"], kind: "trial" },
    trialExpired: { statuses: ["expired", "graceOver"], kind: "trial" }
  }

export const invariantViolations = (state: string, context: LicenseContext): Array<string> => {
  const problems: Array<string> = []
  const say = (what: string) => problems.push(`${state}: ${what}`)
  const facts = context.facts
  if (state === "evaluating") say("the machine came to rest in evaluating")
  if (withFacts.has(state) && facts === undefined) say("expected licence facts, found none")
  if ((state === "unactivated" || state === "revoked") && facts !== undefined) {
    say(`expected no licence facts, found ${facts.token}`)
  }
  if ((state === "unactivated" || state === "revoked") && context.status !== undefined) {
    say(`expected no status, found ${context.status}`)
  }
  if (state === "revoked" && context.clearedBecause?.code !== "REVOKED_LICENSE") {
    say(`expected clearedBecause REVOKED_LICENSE, found ${JSON.stringify(context.clearedBecause)}`)
  }
  if (state === "fingerprintMismatch" && facts !== undefined && context.status !== "fingerprintMismatch") {
    say(`kept facts ${facts.token} with status ${context.status}`)
  }
  const rule = allowed[state]
  if (rule !== undefined && facts !== undefined) {
    const expected = statusOfVariant.get(facts.token)
    if (context.status !== expected)
      say(`facts ${facts.token} should validate as ${expected}, status is ${context.status}`)
    if (context.status === undefined || !rule.statuses.includes(context.status)) {
      say(`status ${context.status} is not one of ${rule.statuses.join(", ")}`)
    }
    if (rule.kind !== undefined && facts.kind !== rule.kind) say(`expected a ${rule.kind} licence, found ${facts.kind}`)
  }
  if (state === "active" && context.syncFailing) say("sync is failing, so this should be grace")
  if (state === "grace" && !context.syncFailing) say("sync is not failing, so this should not be grace")
  if (afterSyncDue.has(state) && !context.syncHalted && context.nextSyncAt !== undefined) {
    if (FixedNow >= context.nextSyncAt) say("settled although a sync is due")
  }
  return problems
}
