#!/usr/bin/env bash
# The platform API down (HTTP 500) for a while during load, then back: every outbox message
# is delivered exactly once when it recovers — the distinct ids the receiver accepted match
# the delivered outbox rows, and none was accepted twice.
#   FAULT_SHORT=1 scripts/faults/platform.sh   (CI: down 15 s)
#   scripts/faults/platform.sh                 (by hand: down 3 minutes)
# Outbox rows come from the load (deferred replies) and from 200 replies seeded the way the
# dialogue writes them, so the check never rests on a handful of rows.
source "$(dirname "$0")/lib.sh"

build
fresh_database
APP_PORT=$(free_port)
KEY_PREFIX="fault$$pf"
if [[ "$SHORT" == 1 ]]; then LOAD_FOR=8; DOWN=15; SEEDED=200; else LOAD_FOR=30; DOWN=180; SEEDED=1000; fi

start_platform "$DOWN"
# Backoff capped low so the drill ends soon after the platform heals; attempts enough to
# outlast the outage.
export GUANJIA_DELIVERY__BACKOFF_BASE=1s GUANJIA_DELIVERY__BACKOFF_MAX=5s GUANJIA_DELIVERY__MAX_ATTEMPTS=100

start_app
log "platform down until $(cat "$WORK/down_until") (${DOWN} s)"
sql "INSERT INTO residents (id, channel, external_id, locale)
     SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, CASE WHEN i % 2 = 0 THEN 'wechat:demo' ELSE 'webhook:demo' END, 'o_outbox_' || i, 'zh-Hans'
     FROM generate_series(1, 20) i"
sql "INSERT INTO outbox (id, recipient_kind, resident_id, kind, text, dedup_key, next_attempt_at, created_at)
     SELECT gen_random_uuid(), 'resident', ('00000000-0000-4000-8000-' || lpad((1 + i % 20)::text, 12, '0'))::uuid, 'reply', '故障演练回复 ' || i, 'fault-' || i, now(), now()
     FROM generate_series(1, $SEEDED) i"
start_load --duration "${LOAD_FOR}s" --requests 1000000
wait "$LOAD_PID" || true
cat "$WORK/loadgen.txt" >&2

wait_for_delivery $((DOWN + 90))
check_acknowledged_stored
counts
check_delivered_once
[[ "$resident_delivered" -ge "$SEEDED" ]] || fail "only $resident_delivered delivered of $SEEDED seeded"
[[ "$calls_failed" -gt "$accepted" ]] || fail "no call was refused: the outage was not exercised"
finish
