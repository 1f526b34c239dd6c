// Runs the workspace from its sources: `node --import ./scripts/workspace-sources.mjs <file.ts>` resolves the
// `@licensure/*` packages to their src/*.ts (see workspace-paths.mjs), so nothing needs a build inside the
// repository. Published packages carry only dist/, and their `exports` point there.
import { registerHooks } from "node:module"
import { sourceOf } from "./workspace-paths.mjs"

registerHooks({
  resolve(specifier, context, nextResolve) {
    const source = sourceOf(specifier)
    return source === undefined ? nextResolve(specifier, context) : { url: source.href, shortCircuit: true }
  }
})
