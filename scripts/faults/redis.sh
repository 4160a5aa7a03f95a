#!/usr/bin/env bash
# Redis wiped (FLUSHALL) and then restarted empty during load — a PRIVATE redis-server on
# its own port, never the shared one. Afterwards the queues are rebuilt from PostgreSQL
# (every queued ticket in its queue exactly once), no acknowledged message is lost, and
# every message for residents reaches the platform stand-in exactly once (the WeChat
# token cache lives in Redis too).
#   FAULT_SHORT=1 scripts/faults/redis.sh   (CI: ~12 s of load)
#   scripts/faults/redis.sh                 (by hand: ~60 s of load, Redis down 10 s)
source "$(dirname "$0")/lib.sh"

build
fresh_database
start_private_redis
APP_PORT=$(free_port)
KEY_PREFIX="fault$$rd"
export GUANJIA_QUEUE__RECONCILE_EVERY=3s
if [[ "$SHORT" == 1 ]]; then LOAD_FOR=12; DOWN=3; else LOAD_FOR=60; DOWN=10; fi

export GUANJIA_DELIVERY__BACKOFF_BASE=1s GUANJIA_DELIVERY__BACKOFF_MAX=5s
start_platform 0
# Migrations first (serve applies them), then tickets waiting in the queues.
start_app
seed_queued_tickets 40
sleep 4
check_queues

start_load --duration "${LOAD_FOR}s" --requests 1000000
sleep $((LOAD_FOR / 4))
log "FLUSHALL on the private Redis :$REDIS_PORT"
redis-cli -p "$REDIS_PORT" FLUSHALL >/dev/null
sleep $((LOAD_FOR / 4))
log "stopping the private Redis for ${DOWN} s"
stop_private_redis
sleep "$DOWN"
start_private_redis
log "private Redis back, empty"
wait "$LOAD_PID" || true
cat "$WORK/loadgen.txt" >&2

sleep 5
check_queues
check_acknowledged_stored
check_processed_once 45
wait_for_delivery 60
counts
check_delivered_once
[[ "$C_acknowledged" -gt 0 ]] || fail "nothing was acknowledged: the load did not run"
finish
