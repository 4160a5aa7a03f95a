#!/usr/bin/env bash
# kill -9 the service during load, restart it, and check: every acknowledged message is
# stored, every stored message is processed (the recovery worker finishes what the killed
# process left, within ~40 s), and none is processed into two tickets.
#   FAULT_SHORT=1 scripts/faults/kill9.sh   (CI: ~10 s of load, one kill)
#   scripts/faults/kill9.sh                 (by hand: ~60 s of load, three kills)
source "$(dirname "$0")/lib.sh"

build
fresh_database
APP_PORT=$(free_port)
KEY_PREFIX="fault$$k9"
if [[ "$SHORT" == 1 ]]; then LOAD_FOR=10; KILLS=1; else LOAD_FOR=60; KILLS=3; fi

start_app
start_load --duration "${LOAD_FOR}s" --requests 1000000
for k in $(seq 1 "$KILLS"); do
  sleep $((LOAD_FOR / (KILLS + 1)))
  log "kill -9 $APP_PID (kill $k of $KILLS)"
  kill -9 "$APP_PID"
  wait "$APP_PID" 2>/dev/null || true
  sleep 1
  start_app
done
wait "$LOAD_PID" || true
cat "$WORK/loadgen.txt" >&2

check_acknowledged_stored
check_processed_once 45
counts
[[ "$C_acknowledged" -gt 0 ]] || fail "nothing was acknowledged: the load did not run"
finish
