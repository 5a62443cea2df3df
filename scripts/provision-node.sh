#!/usr/bin/env bash
# Installs Node.js and npm from Debian when absent, then the Markdown renderers the render
# contract tests use (tests/renderers), exactly as pinned by its package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "node and npm are missing and installing them needs root (apt-get install nodejs npm)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi
command -v node >/dev/null 2>&1 || { echo "node could not be installed" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "npm could not be installed" >&2; exit 1; }
# marked and parse5's entities need Node.js 20.19 or newer (Debian bookworm's own nodejs is 18).
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
  || { echo "Node.js $(node --version) is too old for tests/renderers: 20.19 or newer is needed" >&2; exit 1; }
npm ci --prefix tests/renderers --ignore-scripts --no-audit --no-fund
