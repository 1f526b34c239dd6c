import { defineConfig } from "vitest/config"

// Inside the workspace everything runs from sources: the `@licensure/source` export condition (listed first in
// each package's `exports`) points at src/*.ts, and child processes the tests spawn get it through NODE_OPTIONS.
// Published tarballs carry only dist/, where the ordinary `import`/`require` conditions point.
const conditions = ["@licensure/source", "module", "node", "development|production"]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["@licensure/source"] } },
  test: {
    include: [
      "packages/*/test/**/*.test.ts",
      "tests/src/**/*.test.ts",
      "tests/reliability/**/*.test.ts",
      "tests/consumer/**/*.test.ts"
    ],
    env: { NODE_OPTIONS: "--conditions=@licensure/source" },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2
  }
})
