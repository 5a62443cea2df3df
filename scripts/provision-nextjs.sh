#!/usr/bin/env bash
# Builds the Next.js example (examples/nextjs) for the browser tests: `npm ci` installs the
# exact versions of its package-lock.json from the npm registry, then `next build`, with
# Next.js telemetry off. Node.js itself comes from scripts/provision-node.sh (run first).
# Fails loudly: the browser tests need the build and never skip.
set -euo pipefail
cd "$(dirname "$0")/../examples/nextjs"
export NEXT_TELEMETRY_DISABLED=1

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Node.js 20.9 or newer with npm is required to build examples/nextjs" >&2
  exit 1
fi
if ! node -e 'const [major, minor] = process.versions.node.split(".").map(Number);
               process.exit(major > 20 || (major === 20 && minor >= 9) ? 0 : 1)'; then
  echo "Node.js $(node --version) is too old: examples/nextjs (Next.js 16) needs 20.9 or newer" >&2
  exit 1
fi

npm ci --no-audit --no-fund
npm run build
if [ ! -f .next/BUILD_ID ]; then
  echo "next build left no .next/BUILD_ID in examples/nextjs" >&2
  exit 1
fi
