#!/usr/bin/env bash
# Runs every test against real PostgreSQL and Redis (started or installed if needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-services.sh
# Test databases from earlier runs.
psql -h 127.0.0.1 -U postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'gj_test_%'" postgres \
  | while read -r db; do [ -n "$db" ] && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS \"$db\"" postgres; done
cargo test --all-targets -- --test-threads "${TEST_THREADS:-4}"
# Fault drills, short form (each under a minute; loopback, private Redis/PostgreSQL where
# they break things). FAULTS=0 skips them.
if [ "${FAULTS:-1}" != 0 ]; then
  FAULT_SHORT=1 scripts/faults/run-all.sh
fi
