#!/bin/bash
# The hot-path load benchmark, end to end: a fresh database, a release server, a 10 s
# warm-up (so the tables have some history and are analysed, as in production), then the
# measured run through benches/cpu_per_message.sh, then the counts that must agree.
#   usage: benches/hot_path.sh <database name> <duration> [VAR=value ...] -- [loadgen args]
#   e.g.   benches/hot_path.sh gj_perf_a 60s -- --concurrency 64
#          benches/hot_path.sh gj_perf_b 20s GUANJIA_INGEST__MAX_BATCH=1 -- --concurrency 64 --rate 1000
# Needs `cargo build --release --bins`. Leaves the database behind for inspection.
# GUANJIA_BIN=<path> runs another server binary (a kept baseline build, for paired runs);
# HOT_PATH_PERF=<file> records the server with `perf record -g` during the measured run.
set -euo pipefail
name=$1 dur=$2; shift 2
envs=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
[ $# -gt 0 ] && shift
cd "$(dirname "$0")/.."
port=${HOT_PATH_PORT:-18190}
target="http://127.0.0.1:$port"
common=(--residents 2000 --duplicates 0.05 --mix "${HOT_PATH_MIX:-70,20,10}" --requests 1000000)
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
export DATABASE_URL="postgres://postgres@localhost/$name?host=/var/run/postgresql" \
       GUANJIA_SERVER__ADDR=127.0.0.1:$port GUANJIA_REDIS__KEY_PREFIX="gjperf_$name" RUST_LOG=warn
env ${envs[@]+"${envs[@]}"} "${GUANJIA_BIN:-target/release/guanjia}" serve > "/tmp/hot_path_$name.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "$target/readyz" > /dev/null && break; sleep 0.2; done
target/release/guanjia-loadgen --target "$target" --duration 10s --concurrency 32 "${common[@]}" > /dev/null
psql -h 127.0.0.1 -U postgres -d "$name" -qc ANALYZE
if [ -n "${HOT_PATH_PERF:-}" ]; then
  perf record -g -o "$HOT_PATH_PERF" -p "$server" 2> /dev/null &
  perf_pid=$!
fi
benches/cpu_per_message.sh "$server" "$name" -- --target "$target" --duration "$dur" "${common[@]}" "$@"
if [ -n "${HOT_PATH_PERF:-}" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
curl -s "$target/metrics" | grep -E "^guanjia_ingest_batch_size_(sum|count)|^guanjia_ingest_batch_fallbacks_total|^guanjia_encoder" || true
psql -h 127.0.0.1 -U postgres -d "$name" -Atc \
  "SELECT 'stored ' || count(*) || ', processed ' || count(processed_at) FROM inbound_messages" \
  -c "SELECT 'tickets ' || count(*) FROM tickets" \
  -c "SELECT 'resident row updates ' || n_tup_upd || ' (heap-only ' || n_tup_hot_upd || ')' FROM pg_stat_user_tables WHERE relname = 'residents'"
