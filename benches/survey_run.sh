#!/usr/bin/env bash
# The survey dispatch benchmark (BENCHMARKS.md) in one go: a fresh database, the receiver,
# the server, the seed of 10,000 resolved tickets, then polls until every survey is asked
# and every outbox row delivered, and prints the times after the seed committed.
#
#   benches/survey_run.sh [binary] [database]   (defaults: target/release/guanjia, gj_perf_survey)
#
# Ports 19191 (receiver) and 18184 (server) must be free. The database is dropped first if
# it exists, so give it a name of its own.
set -euo pipefail
BIN=${1:-target/release/guanjia}
DB=${2:-gj_perf_survey}
PSQL=(psql -h 127.0.0.1 -U postgres -X -q -t -A)
OUT=$(mktemp -d)

cleanup() {
    [[ -n ${SERVER:-} ]] && kill "$SERVER" 2>/dev/null || true
    [[ -n ${RECEIVER:-} ]] && kill "$RECEIVER" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT

"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
python3 benches/receiver.py 19191 >"$OUT/receiver.log" 2>&1 &
RECEIVER=$!
DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB \
GUANJIA_SERVER__ADDR=127.0.0.1:18184 GUANJIA_REDIS__KEY_PREFIX=gjperf_survey \
GUANJIA_SURVEY__DELAY=1s GUANJIA_SCHEDULE__TICK=100ms \
GUANJIA_WEBHOOK__CHANNELS__DEMO__CALLBACK_URL=http://127.0.0.1:19191/callback \
    "$BIN" serve >"$OUT/server.log" 2>&1 &
SERVER=$!
# Migrations done once the server answers.
for _ in $(seq 100); do
    curl -sf http://127.0.0.1:18184/healthz >/dev/null 2>&1 && break
    sleep 0.2
done
sleep 1

TCK=$(getconf CLK_TCK)
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
backends() { "${PSQL[@]}" -c "SELECT pid FROM pg_stat_activity WHERE datname = '$DB' AND pid <> pg_backend_pid()"; }
pg_ticks() { local t=0; for p in $(backends); do t=$((t + $(ticks "$p"))); done; echo $t; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
S0=$(ticks $SERVER); R0=$(ticks $RECEIVER); P0=$(pg_ticks)
"${PSQL[@]}" -d "$DB" -f benches/survey_seed.sql >/dev/null
SEEDED=$(date +%s.%N)

pending=1
while (( pending > 0 )); do
    sleep 1
    read -r asked delivered pending <<<"$("${PSQL[@]}" -F' ' -d "$DB" -c \
        "SELECT (SELECT count(*) FROM surveys),
                (SELECT count(*) FROM outbox WHERE status = 'delivered'),
                (SELECT count(*) FROM tickets WHERE status = 'resolved'
                   AND NOT EXISTS (SELECT 1 FROM surveys s WHERE s.ticket_id = tickets.id))
                + (SELECT count(*) FROM outbox WHERE status <> 'delivered')")"
    echo "$(date +%T) asked=$asked delivered=$delivered not_done=$pending load=$(cut -d' ' -f1 /proc/loadavg)"
done
S1=$(ticks $SERVER); R1=$(ticks $RECEIVER); P1=$(pg_ticks)
sleep 1.5 # one more receiver report

"${PSQL[@]}" -F' ' -d "$DB" -c \
    "SELECT 'asked', count(*), round(extract(epoch FROM max(asked_at))::numeric - $SEEDED, 2)
     FROM surveys
     UNION ALL
     SELECT 'delivered', count(*), round(extract(epoch FROM max(delivered_at))::numeric - $SEEDED, 2)
     FROM outbox WHERE status = 'delivered'
     UNION ALL
     SELECT 'not_first_attempt', count(*), NULL FROM outbox WHERE attempts <> 1
     UNION ALL
     SELECT 'failed', count(*), NULL FROM outbox WHERE status = 'failed'
     UNION ALL
     SELECT 'tickets_with_two_surveys', count(*), NULL
     FROM (SELECT ticket_id FROM surveys GROUP BY ticket_id HAVING count(*) > 1) x" |
    while read -r what n secs; do
        if [[ -n $secs ]]; then
            printf '%-26s %6s  %7s s  %6.0f /s\n' "$what" "$n" "$secs" "$(echo "$n / $secs" | bc -l)"
        else
            printf '%-26s %6s\n' "$what" "$n"
        fi
    done
echo "receiver: $(tail -1 "$OUT/receiver.log")"
echo "server peak RSS: $(grep VmHWM /proc/$SERVER/status | tr -s ' ')"
# CPU from just before the seed to the end (the seed's own backend is not counted; the
# pool's backends that existed at the end are, from their start if they were new).
echo "CPU seconds: server $(echo "($S1 - $S0) / $TCK" | bc -l | cut -c1-5)," \
     "receiver $(echo "($R1 - $R0) / $TCK" | bc -l | cut -c1-5)," \
     "PostgreSQL backends $(echo "($P1 - $P0) / $TCK" | bc -l | cut -c1-5)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "logs in $OUT"
