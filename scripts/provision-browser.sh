#!/usr/bin/env bash
# Installs Debian's Chromium for the browser CORS tests, when it is absent. Runs apt-get as
# root, or through sudo when that is available.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "chromium is missing and installing it needs root or sudo (apt-get install chromium)" >&2; exit 1; fi
}
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null 2>&1 || { echo "chromium could not be installed" >&2; exit 1; }
