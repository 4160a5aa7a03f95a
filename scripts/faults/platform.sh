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
PLATFORM_PORT=$(free_port)
KEY_PREFIX="fault$$pf"
if [[ "$SHORT" == 1 ]]; then LOAD_FOR=8; DOWN=15; SEEDED=200; else LOAD_FOR=30; DOWN=180; SEEDED=1000; fi

echo $(( $(date +%s) + DOWN )) >"$WORK/down_until"
python3 "$(dirname "$0")/receiver.py" --port "$PLATFORM_PORT" --down-until "$WORK/down_until" \
  --accepted "$WORK/accepted.txt" --calls "$WORK/calls.txt" &
PIDS+=("$!")
touch "$WORK/accepted.txt" "$WORK/calls.txt"
export GUANJIA_WECHAT__ACCOUNTS__DEMO__API_BASE="http://127.0.0.1:$PLATFORM_PORT"
export GUANJIA_WEBHOOK__CHANNELS__DEMO__CALLBACK_URL="http://127.0.0.1:$PLATFORM_PORT/callback"
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

# Wait for the outage to end, then for every row to be delivered (or given up on).
limit=$((DOWN + 90)); waited=0
while :; do
  pending=$(sql "SELECT count(*) FROM outbox WHERE status = 'pending'")
  [[ "$pending" == 0 || "$waited" -ge "$limit" ]] && break
  sleep 1; waited=$((waited + 1))
done
log "outbox drained after ${waited} s (pending $pending)"
calls_failed=$(wc -l <"$WORK/calls.txt")
accepted=$(wc -l <"$WORK/accepted.txt")
accepted_distinct=$(sort -u "$WORK/accepted.txt" | wc -l)
# Staff alerts (emergencies in the load mix) go to the staff channel, not this platform.
sql "SELECT id FROM outbox WHERE status = 'delivered' AND recipient_kind = 'resident'" | sort >"$WORK/delivered.txt"
resident_delivered=$(wc -l <"$WORK/delivered.txt")
sort -u "$WORK/accepted.txt" >"$WORK/accepted_ids.txt"
check_acknowledged_stored
counts
echo "platform calls $calls_failed (including refused ones during the outage)"
echo "platform accepted $accepted, distinct ids $accepted_distinct"
failed_rows=$(sql "SELECT count(*) FROM outbox WHERE status = 'failed'")
[[ "$pending" == 0 ]] || fail "$pending outbox rows still pending $waited s after the start"
[[ "$failed_rows" == 0 ]] || fail "$failed_rows outbox rows given up on"
[[ "$accepted" == "$accepted_distinct" ]] || fail "$((accepted - accepted_distinct)) messages delivered twice"
[[ "$accepted_distinct" == "$resident_delivered" ]] || fail "receiver accepted $accepted_distinct ids, outbox says $resident_delivered delivered to residents"
if ! diff -q "$WORK/delivered.txt" "$WORK/accepted_ids.txt" >/dev/null; then
  fail "delivered outbox ids differ from the ids the platform accepted"
fi
[[ "$resident_delivered" -ge "$SEEDED" ]] || fail "only $resident_delivered delivered of $SEEDED seeded"
[[ "$calls_failed" -gt "$accepted" ]] || fail "no call was refused: the outage was not exercised"
finish
