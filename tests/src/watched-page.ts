/**
 * The browser tests' page: a new Chromium page that records every request it makes and every console error or
 * uncaught exception, so that a test can assert that nothing left 127.0.0.1 and nothing went wrong in the page.
 */
import type { Browser, Page } from "playwright-core"

export interface WatchedPage {
  readonly page: Page
  /** Every URL the page requested, in order. */
  readonly requested: Array<string>
  /** Console errors and uncaught exceptions, as their messages. */
  readonly problems: Array<string>
}

export const openWatchedPage = async (
  browser: Browser,
  options: { readonly acceptDownloads?: boolean } = {}
): Promise<WatchedPage> => {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 }, ...options })
  const requested: Array<string> = []
  const problems: Array<string> = []
  page.on("request", (r) => requested.push(r.url()))
  page.on("pageerror", (e) => problems.push(e.message))
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text())
  })
  return { page, requested, problems }
}
