/**
 * The inspector's static files (`chart.css`, `page.css`, `page.js`, kept as real files beside this one so the
 * formatter and linter see them), looked up in one place. The sources and the tsc build (`dist/inspector/`, where
 * `scripts/build.mjs` copies them) read them from beside this module at run time. The bundled `licensure` bin has
 * no such files beside its chunks: its build (`packages/cli/scripts/bundle.mjs`) replaces this module with one that
 * returns the same texts inlined, so the bin finds them wherever it is installed.
 *
 * @since 0.1.0
 */
import { readFileSync } from "node:fs"

export type AssetName = "chart.css" | "page.css" | "page.js"

/** The text of one asset; throws (ENOENT) when the file is missing. */
export const readAsset = (name: AssetName): string => readFileSync(new URL(`./${name}`, import.meta.url), "utf8")
