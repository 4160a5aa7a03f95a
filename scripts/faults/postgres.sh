#!/usr/bin/env bash
# PostgreSQL unreachable during load — a PRIVATE cluster (initdb into a temp dir, its own
# port), never the machine's shared one. While it is down requests fail clearly (non-2xx:
# no 200 "success" for a message that was not stored); when it is back the service recovers
# by itself; every acknowledged message is stored and processed.
#   FAULT_SHORT=1 scripts/faults/postgres.sh   (CI: ~12 s of load, down 3 s)
#   scripts/faults/postgres.sh                 (by hand: ~60 s of load, down 15 s)
source "$(dirname "$0")/lib.sh"

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PG_PORT=$(free_port)
PG_DIR="$WORK/pgdata"
mkdir -p "$PG_DIR" "$WORK/pgsock"
chmod 755 "$WORK"
as_pg() { if [[ "$(id -u)" == 0 ]]; then chown -R postgres "$PG_DIR" "$WORK/pgsock"; runuser -u postgres -- "$@"; else "$@"; fi; }
pg_start() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -l "$WORK/pgsock/pg.log" -w -o "-p $PG_PORT -k $WORK/pgsock -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null; }
pg_stop() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -m "${1:-fast}" -w stop >/dev/null; }
stop_cluster() { pg_stop immediate 2>/dev/null || true; }

as_pg "$PG_BIN/initdb" -D "$PG_DIR" --username=postgres --auth=trust >/dev/null
pg_start
trap 'cleanup; cleanup_redis; stop_cluster' EXIT
log "private PostgreSQL on :$PG_PORT"
PG_BASE="postgres://postgres@127.0.0.1:$PG_PORT"

build
fresh_database
APP_PORT=$(free_port)
KEY_PREFIX="fault$$pg"
if [[ "$SHORT" == 1 ]]; then LOAD_FOR=12; DOWN=3; else LOAD_FOR=60; DOWN=15; fi

start_app
start_load --duration "${LOAD_FOR}s" --requests 1000000
sleep $((LOAD_FOR / 3))
log "stopping the private PostgreSQL for ${DOWN} s"
DOWN_AT=$(date +%s)
pg_stop immediate
sleep "$DOWN"
pg_start
UP_AT=$(date +%s)
log "private PostgreSQL back"
wait "$LOAD_PID" || true
cat "$WORK/loadgen.txt" >&2

# The service must answer again without a restart.
ok=0
for i in $(seq 1 30); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$APP_PORT/readyz"; then ok=1; break; fi
  sleep 1
done
[[ "$ok" == 1 ]] || fail "not ready 30 s after PostgreSQL came back"
kill -0 "$APP_PID" 2>/dev/null || fail "the service died while PostgreSQL was down"
check_acknowledged_stored
check_processed_once 45
counts
C_failed=$(awk '$1 != 200' "$WORK/record.txt" | wc -l)
log "requests answered non-200 while the database was away: $C_failed (down ${DOWN} s, $DOWN_AT..$UP_AT)"
[[ "$C_failed" -gt 0 ]] || fail "no request failed while PostgreSQL was down: the outage was not exercised"
[[ "$C_acknowledged" -gt 0 ]] || fail "nothing was acknowledged: the load did not run"
finish
