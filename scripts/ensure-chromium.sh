#!/usr/bin/env bash
# The browser of the console's end-to-end test: Debian's chromium, installed once (idempotent).
# Never a downloaded browser build. Run by the jest global setup and by .ci/run.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
as_root=()
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root=(sudo -n); else
    echo "chromium is missing and this is not root: run 'apt-get install -y chromium' once" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 ||
  { "${as_root[@]}" apt-get update >/dev/null && "${as_root[@]}" apt-get install -y --no-install-recommends chromium >/dev/null; }
test -x /usr/bin/chromium
