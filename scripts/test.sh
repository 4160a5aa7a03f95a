#!/usr/bin/env bash
# Runs every test against real PostgreSQL and Redis (started or installed if needed), the
# browser tests in Debian's headless Chromium (installed if needed), then the short fault
# drills (loopback only; private Redis/PostgreSQL where they break things; FAULTS=0 skips).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-services.sh
scripts/ensure-encoder.sh
scripts/ensure-browser.sh
scripts/drop-test-databases.sh
# No module may import another that imports it back (see the script for the rules).
python3 scripts/check-cycles.py
status=0
cargo test --all-targets -- --test-threads "${TEST_THREADS:-4}" || status=$?
if [ "$status" = 0 ]; then
  # The shipped heads must be what training on the shipped corpus gives.
  cargo run --quiet -- train --check || status=$?
fi
if [ "$status" = 0 ] && [ "${FAULTS:-1}" != 0 ]; then
  FAULT_SHORT=1 scripts/faults/run-all.sh || status=$?
fi
scripts/drop-test-databases.sh
exit "$status"
