#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine. It provisions what the tests need
# (PostgreSQL with TLS, pgbouncer in transaction mode, headless Chromium, Node.js with the
# pinned Markdown renderers, the built Next.js example, cargo-nextest) and fails loudly when
# it cannot: no test is ever skipped for lack of a dependency.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> provisioning PostgreSQL and pgbouncer"
scripts/provision-postgres.sh
echo "==> provisioning headless Chromium"
scripts/provision-browser.sh
echo "==> provisioning Node.js and the Markdown renderers (npm ci, tests/renderers)"
scripts/provision-node.sh
echo "==> building the Next.js example (npm ci, next build)"
scripts/provision-nextjs.sh

echo "==> installing supabase-js's auth client for the token cross-check (tests/supabase)"
# Needs Node.js 20 or newer (WebCrypto on globalThis) and npm; pinned by its package-lock.json.
npm ci --prefix tests/supabase --ignore-scripts --no-audit --no-fund

if ! cargo nextest --version >/dev/null 2>&1; then
  echo "==> installing cargo-nextest"
  cargo install cargo-nextest --locked
fi

echo "==> test suite (direct PostgreSQL on 127.0.0.1:5432)"
cargo nextest run --all-targets --no-fail-fast

echo "==> persistence tests again, through pgbouncer in transaction mode (127.0.0.1:6432)"
GC_TEST_CONNECT_URL_TEMPLATE='postgres://postgres@127.0.0.1:6432/{db}' \
  cargo nextest run --test store --no-fail-fast
