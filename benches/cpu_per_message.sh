#!/bin/bash
# CPU spent per message by each party of a load run: the guanjia server, its PostgreSQL
# backends (those connected to its database), and the load generator. CPU time per message
# hardly depends on what else runs on the machine, so it gives the capacity of 2 cores
# even when throughput is measured on a busy machine.
#   usage: benches/cpu_per_message.sh <server pid> <database> -- <loadgen args...>
set -euo pipefail
pid=$1 db=$2; shift 3
tck=$(getconf CLK_TCK)
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
backends() { psql -h 127.0.0.1 -U postgres -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$db'"; }
declare -A before
for b in $(backends); do before[$b]=$(ticks "$b"); done
s0=$(ticks "$pid")
out=$( { /usr/bin/time -f "LOADGEN_CPU %U %S" target/release/guanjia-loadgen "$@"; } 2>&1 )
s1=$(ticks "$pid")
pg=0
for b in $(backends); do pg=$((pg + $(ticks "$b") - ${before[$b]:-0})); done
echo "$out"
n=$(echo "$out" | awk '/^requests/ {print $2}')
lg=$(echo "$out" | awk '/^LOADGEN_CPU/ {print $2 + $3}')
awk -v n="$n" -v s=$((s1 - s0)) -v pg="$pg" -v lg="$lg" -v t="$tck" 'BEGIN {
  printf "cpu per message (us): server %.0f  postgres backends %.0f  loadgen %.0f  total %.0f\n",
    s/t*1e6/n, pg/t*1e6/n, lg*1e6/n, (s/t + pg/t + lg)*1e6/n
  printf "capacity of 2 cores at that cost: %.0f msg/s\n", 2e6 / ((s/t + pg/t + lg)*1e6/n)
}'
grep VmHWM "/proc/$pid/status"
uptime
