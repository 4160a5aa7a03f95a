# Shared by the fault scripts (sourced, not run): a private guanjia on its own port with its
# own database and Redis key prefix, driven by guanjia-loadgen, and the counts that must agree.
# Everything is loopback; every process started here is stopped by `cleanup` via its pid.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SHORT="${FAULT_SHORT:-0}"
PG_BASE="${FAULT_PG_BASE:-postgres://postgres@127.0.0.1:5432}"
BIN_DIR="${FAULT_BIN_DIR:-$ROOT/target/debug}"
WORK="$(mktemp -d /tmp/guanjia-fault.XXXXXX)"
PIDS=()
FAILED=0

log() { printf '[%s %s] %s\n' "$(date -u +%H:%M:%S)" "$(basename "$0" .sh)" "$*" >&2; }

fail() {
  log "FAIL: $*"
  FAILED=1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  # A graceful shutdown gets 10 s; a drill must stay bounded in time.
  local i
  for i in $(seq 1 100); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ "$alive" == 0 ]] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "${DB_NAME:-}" && "${KEEP_DB:-0}" != 1 ]]; then
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  [[ "${KEEP_WORK:-0}" == 1 ]] || rm -rf "$WORK"
}
trap 'cleanup; cleanup_redis' EXIT

build() {
  if [[ -z "${FAULT_BIN_DIR:-}" ]]; then
    log "building guanjia and guanjia-loadgen (debug)"
    cargo build --quiet --bins
  fi
}

# A fresh database on $PG_BASE; sets DB_NAME, DATABASE_URL, PG_ADMIN_URL.
fresh_database() {
  DB_NAME="gj_fault_$(date +%s)_$$"
  PG_ADMIN_URL="$PG_BASE/postgres"
  psql "$PG_ADMIN_URL" -qc "CREATE DATABASE \"$DB_NAME\"" >/dev/null
  export DATABASE_URL="$PG_BASE/$DB_NAME"
}

# Starts `guanjia serve` on $APP_PORT with the environment set by the caller; sets APP_PID.
start_app() {
  local out="$WORK/serve.$(date +%s%N).log"
  # The drills break delivery and storage, not understanding: the lexicon reads alone, so
  # the encoder is free for what runs beside them (scripts/test.sh's train --check).
  GUANJIA_UNDERSTANDING__ENCODER__URL="${FAULT_ENCODER_URL:-}" \
  GUANJIA_SERVER__ADDR="127.0.0.1:$APP_PORT" \
  GUANJIA_SERVER__PUBLIC_URL="http://127.0.0.1:$APP_PORT" \
  GUANJIA_REDIS__KEY_PREFIX="$KEY_PREFIX" \
  RUST_LOG="${RUST_LOG:-warn}" \
    "$BIN_DIR/guanjia" serve >"$out" 2>&1 &
  APP_PID=$!
  PIDS+=("$APP_PID")
  local i
  for i in $(seq 1 300); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$APP_PORT/healthz" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$APP_PID" 2>/dev/null; then
      tail -20 "$out" >&2
      fail "guanjia serve exited at start"
      return 1
    fi
    sleep 0.1
  done
  fail "guanjia serve did not answer /healthz within 30 s"
  return 1
}

# Runs the load generator in the background against the app; sets LOAD_PID. Extra flags
# are passed through.
start_load() {
  "$BIN_DIR/guanjia-loadgen" --target "http://127.0.0.1:$APP_PORT" --record "$WORK/record.txt" \
    --concurrency "${LOAD_CONCURRENCY:-16}" --rate "${LOAD_RATE:-150}" --residents 200 "$@" \
    >"$WORK/loadgen.txt" 2>&1 &
  LOAD_PID=$!
  PIDS+=("$LOAD_PID")
}

sql() { psql "$DATABASE_URL" -qtAc "$1"; }

# Every acknowledged (200) dedup key from the loadgen record, one per line, sorted.
acknowledged_keys() { awk '$1 == 200 { print $2 }' "$WORK/record.txt" | sort -u; }

# The counts the brief asks for, as `name value` lines; also exported as C_<name>.
counts() {
  C_sent=$(wc -l <"$WORK/record.txt")
  C_acknowledged=$(acknowledged_keys | wc -l)
  C_refused=$(awk '$1 != 200' "$WORK/record.txt" | wc -l)
  C_stored=$(sql "SELECT count(*) FROM inbound_messages")
  C_processed=$(sql "SELECT count(*) FROM inbound_messages WHERE processed_at IS NOT NULL")
  C_ticketed=$(sql "SELECT count(*) FROM tickets WHERE source_message_id IS NOT NULL")
  C_outbox=$(sql "SELECT count(*) FROM outbox")
  C_delivered=$(sql "SELECT count(*) FROM outbox WHERE status = 'delivered'")
  printf 'sent %s (requests, retries included)\nacknowledged %s (distinct messages answered 200)\nnot-200 %s\nstored %s\nprocessed %s\nticketed %s\noutbox %s\ndelivered %s\n' \
    "$C_sent" "$C_acknowledged" "$C_refused" "$C_stored" "$C_processed" "$C_ticketed" "$C_outbox" "$C_delivered"
}

# Every acknowledged message is in inbound_messages (the promise of a 200).
check_acknowledged_stored() {
  acknowledged_keys >"$WORK/acked.txt"
  sql "SELECT dedup_key FROM inbound_messages" | sort -u >"$WORK/stored.txt"
  local lost
  lost=$(comm -23 "$WORK/acked.txt" "$WORK/stored.txt" | wc -l)
  if [[ "$lost" != 0 ]]; then
    fail "$lost acknowledged messages are not stored, e.g. $(comm -23 "$WORK/acked.txt" "$WORK/stored.txt" | head -3 | tr '\n' ' ')"
  else
    log "every acknowledged message is stored ($(wc -l <"$WORK/acked.txt"))"
  fi
}

# Waits up to $1 seconds for every stored message to be processed, then checks no message
# made two tickets.
check_processed_once() {
  local limit=$1 waited=0 pending
  while :; do
    pending=$(sql "SELECT count(*) FROM inbound_messages WHERE processed_at IS NULL")
    [[ "$pending" == 0 || "$waited" -ge "$limit" ]] && break
    sleep 1
    waited=$((waited + 1))
  done
  if [[ "$pending" != 0 ]]; then
    fail "$pending messages still unprocessed after ${limit} s"
  else
    log "every stored message processed (waited ${waited} s)"
  fi
  local dup
  dup=$(sql "SELECT count(*) FROM (SELECT source_message_id FROM tickets WHERE source_message_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d")
  [[ "$dup" == 0 ]] || fail "$dup messages made more than one ticket"
  dup=$(sql "SELECT count(*) FROM (SELECT dedup_key FROM inbound_messages GROUP BY channel, dedup_key HAVING count(*) > 1) d")
  [[ "$dup" == 0 ]] || fail "$dup messages stored twice"
}

finish() {
  if [[ "$FAILED" != 0 ]]; then
    log "RESULT: FAIL (work files kept in $WORK)"
    KEEP_WORK=1
    exit 1
  fi
  log "RESULT: PASS"
}

# A private redis-server on a free port (never the shared one); sets REDIS_PORT, REDIS_URL.
start_private_redis() {
  REDIS_PORT=${REDIS_PORT:-$(free_port)}
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --daemonize yes --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"
  local i
  for i in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  REDIS_PIDS+=("$(cat "$WORK/redis.pid")")
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
}

stop_private_redis() {
  local pid
  pid=$(cat "$WORK/redis.pid")
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

REDIS_PIDS=()
cleanup_redis() {
  local pid
  for pid in "${REDIS_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
}

# `n` queued tickets spread over the four departments, as the dialogue would have filed them.
seed_queued_tickets() {
  local n=$1
  sql "INSERT INTO residents (id, channel, external_id, locale) VALUES ('00000000-0000-4000-8000-000000000001', 'webhook:demo', 'fault-seed', 'zh-Hans')"
  sql "INSERT INTO tickets (id, number, resident_id, kind, category, urgency, department, status, summary, description, created_at, updated_at)
       SELECT gen_random_uuid(), 'F' || lpad(i::text, 6, '0'), '00000000-0000-4000-8000-000000000001', 'repair', 'equipment', 'normal',
              (ARRAY['engineering','environment','security','customer_service'])[1 + i % 4], 'queued', '故障演练 ' || i, '故障演练', now(), now()
       FROM generate_series(1, $n) i"
}

# Every queued ticket is in its department's queue, and the queues hold nothing else.
check_queues() {
  local missing=0 total=0 d id queued
  queued=$(sql "SELECT count(*) FROM tickets WHERE status IN ('queued', 'reopened')")
  while IFS='|' read -r id d; do
    if [[ -z "$(redis-cli -p "$REDIS_PORT" ZSCORE "{$KEY_PREFIX:q:$d}" "$id")" ]]; then
      missing=$((missing + 1))
    fi
  done < <(sql "SELECT id, department FROM tickets WHERE status IN ('queued', 'reopened')")
  for d in engineering environment security customer_service; do
    total=$((total + $(redis-cli -p "$REDIS_PORT" ZCARD "{$KEY_PREFIX:q:$d}")))
  done
  log "queued tickets $queued, in Redis queues $total, missing $missing"
  [[ "$missing" == 0 ]] || fail "$missing queued tickets are not in their queue"
  [[ "$total" == "$queued" ]] || fail "the queues hold $total entries for $queued queued tickets"
}

# The platform stand-in (scripts/faults/receiver.py) on a free port, answering 500 for the
# first $1 seconds; points the app's WeChat API and webhook callback at it. Sets
# PLATFORM_PORT. Call before start_app.
start_platform() {
  PLATFORM_PORT=$(free_port)
  echo $(( $(date +%s) + $1 )) >"$WORK/down_until"
  touch "$WORK/accepted.txt" "$WORK/calls.txt"
  python3 "$ROOT/scripts/faults/receiver.py" --port "$PLATFORM_PORT" --down-until "$WORK/down_until" \
    --accepted "$WORK/accepted.txt" --calls "$WORK/calls.txt" &
  PIDS+=("$!")
  export GUANJIA_WECHAT__ACCOUNTS__DEMO__API_BASE="http://127.0.0.1:$PLATFORM_PORT"
  export GUANJIA_WEBHOOK__CHANNELS__DEMO__CALLBACK_URL="http://127.0.0.1:$PLATFORM_PORT/callback"
}

# Waits up to $1 seconds for no outbox row to be pending; sets pending and waited.
wait_for_delivery() {
  local limit=$1
  waited=0
  while :; do
    pending=$(sql "SELECT count(*) FROM outbox WHERE status = 'pending'")
    [[ "$pending" == 0 || "$waited" -ge "$limit" ]] && break
    sleep 1; waited=$((waited + 1))
  done
  log "outbox drained after ${waited} s (pending $pending)"
}

# Every resident-bound outbox row was delivered, exactly once: the ids the platform
# stand-in accepted are the delivered rows, none accepted twice, none pending or given up.
# Sets accepted, accepted_distinct, calls_failed, resident_delivered.
check_delivered_once() {
  calls_failed=$(wc -l <"$WORK/calls.txt")
  accepted=$(wc -l <"$WORK/accepted.txt")
  accepted_distinct=$(sort -u "$WORK/accepted.txt" | wc -l)
  # Staff alerts (emergencies in the load mix) go to the staff channel, not the platform.
  sql "SELECT id FROM outbox WHERE status = 'delivered' AND recipient_kind = 'resident'" | sort >"$WORK/delivered.txt"
  resident_delivered=$(wc -l <"$WORK/delivered.txt")
  sort -u "$WORK/accepted.txt" >"$WORK/accepted_ids.txt"
  echo "platform calls $calls_failed (including refused ones)"
  echo "platform accepted $accepted, distinct ids $accepted_distinct"
  local failed_rows
  failed_rows=$(sql "SELECT count(*) FROM outbox WHERE status = 'failed'")
  [[ "$pending" == 0 ]] || fail "$pending outbox rows still pending after $waited s"
  [[ "$failed_rows" == 0 ]] || fail "$failed_rows outbox rows given up on"
  [[ "$accepted" == "$accepted_distinct" ]] || fail "$((accepted - accepted_distinct)) messages delivered twice"
  [[ "$accepted_distinct" == "$resident_delivered" ]] || fail "platform accepted $accepted_distinct ids, outbox says $resident_delivered delivered to residents"
  if ! diff -q "$WORK/delivered.txt" "$WORK/accepted_ids.txt" >/dev/null; then
    fail "delivered outbox ids differ from the ids the platform accepted"
  fi
}
