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
cargo test --lib --bins --tests --no-run
# The shipped heads must be what training on the shipped corpus gives. Training again from
# the vectors the heads file remembers, with the encoder asked again for one line in
# sixteen, checks that in two minutes; embedding the whole corpus again (`train --check`
# alone) took ten, and grows with the corpus. It runs from here on, beside the tests and
# the fault drills, on an encoder of its own (the tests' calls never queue behind it), and
# both at the lowest CPU priority: it takes only what the tests leave idle.
GUANJIA_ENCODER_PORT=8766 GUANJIA_ENCODER_LOG=/tmp/guanjia-encoder-check.log \
  nice -n 19 scripts/ensure-encoder.sh
GUANJIA_UNDERSTANDING__ENCODER__URL=http://127.0.0.1:8766/v1/embeddings \
  nice -n 19 target/debug/guanjia train --check --remembered-vectors \
  > /tmp/guanjia-train-check.log 2>&1 &
check=$!
# Benchmarks are not tests: the build above checks that they compile, `cargo bench` runs
# them. (Run here, in a debug build, they took four minutes of every run.)
cargo test --lib --bins --tests -- --test-threads "${TEST_THREADS:-4}" || status=$?
if [ "$status" = 0 ] && [ "${FAULTS:-1}" != 0 ]; then
  # The binaries the test build made: `cargo build` would build them again without the
  # dev-dependencies' features (two minutes of a run).
  FAULT_SHORT=1 FAULT_BIN_DIR="$PWD/target/debug" scripts/faults/run-all.sh || status=$?
fi
if wait "$check"; then
  tail -n 1 /tmp/guanjia-train-check.log
else
  status=1
  tail -n 40 /tmp/guanjia-train-check.log
fi
scripts/drop-test-databases.sh
exit "$status"
