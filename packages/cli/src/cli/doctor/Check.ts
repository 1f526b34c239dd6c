/**
 * What one `licensure doctor` check finds: a verdict, one line saying what was seen, the facts behind it for
 * scripts (`detail`, printed under the line when the verdict is not ok), and what the user should do (`advice`).
 *
 * @since 0.1.0
 */

export const Verdicts = ["ok", "warn", "fail", "skip"] as const
export type Verdict = (typeof Verdicts)[number]

export interface CheckResult {
  readonly id: string
  readonly verdict: Verdict
  readonly summary: string
  readonly detail?: Readonly<Record<string, unknown>>
  readonly advice?: string
}

export const check = (
  id: string,
  verdict: Verdict,
  summary: string,
  extra: { readonly detail?: Readonly<Record<string, unknown>>; readonly advice?: string | undefined } = {}
): CheckResult => ({
  id,
  verdict,
  summary,
  ...(extra.detail !== undefined ? { detail: extra.detail } : {}),
  ...(extra.advice !== undefined ? { advice: extra.advice } : {})
})
