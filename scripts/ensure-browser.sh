#!/usr/bin/env bash
# Makes sure headless Chromium and its WebDriver are installed for the console's browser
# tests: Debian's `chromium` and `chromium-driver` packages, nothing downloaded otherwise.
# Safe to run again.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  echo "chromium and chromedriver are installed"
  exit 0
fi
echo "installing chromium and chromium-driver from Debian's packages"
as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
  chromium chromium-driver fonts-noto-cjk >/dev/null
/usr/bin/chromedriver --version
