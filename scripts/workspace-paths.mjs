// Where a workspace specifier's source lives: `@licensure/<package>` → packages/<package>/src/index.ts,
// `@licensure/<package>/<Module>` → packages/<package>/src/<Module>.ts. Shared by the Node hook
// (workspace-sources.mjs) and the esbuild plugin below; vitest and tsconfig say the same in their own terms.
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

const packages = new URL("../packages/", import.meta.url)

/** The source file URL for a workspace specifier, or undefined for anything else. */
export const sourceOf = (specifier) => {
  const match = /^@licensure\/([a-z-]+)(?:\/([A-Za-z0-9/]+))?$/.exec(specifier)
  if (match === null) return undefined
  const file = new URL(`${match[1]}/src/${match[2] ?? "index"}.ts`, packages)
  return existsSync(file) ? file : undefined
}

/** An esbuild plugin that bundles the workspace packages from their sources. */
export const workspaceSources = {
  name: "licensure-workspace-sources",
  setup(build) {
    build.onResolve({ filter: /^@licensure\// }, (args) => {
      const file = sourceOf(args.path)
      return file === undefined ? undefined : { path: fileURLToPath(file) }
    })
  }
}
