#!/usr/bin/env bash
# Runs every test against real PostgreSQL and Redis (started or installed if needed), and
# the browser tests in Debian's headless Chromium (installed if needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-services.sh
scripts/ensure-browser.sh
scripts/drop-test-databases.sh
status=0
cargo test --all-targets -- --test-threads "${TEST_THREADS:-4}" || status=$?
scripts/drop-test-databases.sh
exit "$status"
