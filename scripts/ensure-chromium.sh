#!/usr/bin/env bash
# The browser of the console's end-to-end test: Debian's chromium, installed once (idempotent).
# Never a downloaded browser build. Run by the jest global setup and by .ci/run.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium is missing and this is not root: run 'apt-get install -y chromium' once" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; }
test -x /usr/bin/chromium
