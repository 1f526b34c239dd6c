import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

// Inside the workspace everything runs from sources: `@licensure/<package>[/<Module>]` is aliased to
// packages/<package>/src/(index|<Module>).ts here, and child processes the tests spawn get the same mapping from
// scripts/workspace-sources.mjs through NODE_OPTIONS. Published tarballs carry only dist/, where `exports` point.
const packages = fileURLToPath(new URL("./packages/", import.meta.url))
const hooks = fileURLToPath(new URL("./scripts/workspace-sources.mjs", import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@licensure\/([a-z-]+)$/, replacement: `${packages}$1/src/index.ts` },
      { find: /^@licensure\/([a-z-]+)\/([A-Za-z0-9/]+)$/, replacement: `${packages}$1/src/$2.ts` }
    ]
  },
  test: {
    include: [
      "packages/*/test/**/*.test.ts",
      "tests/src/**/*.test.ts",
      "tests/reliability/**/*.test.ts",
      "tests/consumer/**/*.test.ts"
    ],
    env: { NODE_OPTIONS: `--import=${hooks}` },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2
  }
})
