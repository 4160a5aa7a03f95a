#!/usr/bin/env bash
# Runs every fault drill in turn and fails if any failed. FAULT_SHORT=1 for the CI length.
set -uo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
status=0
for drill in kill9 redis postgres platform; do
  if "$dir/$drill.sh"; then
    echo "== $drill: PASS"
  else
    echo "== $drill: FAIL"
    status=1
  fi
done
exit $status
