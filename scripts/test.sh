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
# Benchmarks are not tests: clippy checks that they build, `cargo bench` runs them. (Run
# here, in a debug build, they took four minutes of every run and measured nothing.)
cargo test --lib --bins --tests -- --test-threads "${TEST_THREADS:-4}" || status=$?
if [ "$status" = 0 ]; then
  # The shipped heads must be what training on the shipped corpus gives. Embedding the
  # corpus takes minutes; it runs beside the fault drills, which mostly wait and read with
  # the lexicon alone, so the encoder is the check's. (Beside the tests as well, on a second
  # encoder, it slowed them threefold and the whole run took longer: measured 2026-12-03.)
  cargo build --quiet --bins
  target/debug/guanjia train --check > /tmp/guanjia-train-check.log 2>&1 &
  check=$!
  if [ "${FAULTS:-1}" != 0 ]; then
    FAULT_SHORT=1 scripts/faults/run-all.sh || status=$?
  fi
  if wait "$check"; then
    tail -n 1 /tmp/guanjia-train-check.log
  else
    status=1
    tail -n 40 /tmp/guanjia-train-check.log
  fi
fi
scripts/drop-test-databases.sh
exit "$status"
