#!/usr/bin/env bash
# Idle memory per connected station: start `chargestar serve` on a copy of a
# provisioned database, connect N simulated stations that boot and then stay
# idle (no sessions), and compare the server's memory before and after.
#   bench/idle-memory.sh <chargestar binary> <template db dir> <stations> [db-url]
set -euo pipefail
bin=$1 tmpl=$2 n=$3 db=${4:-}
work=$(mktemp -d)
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null; rm -rf "$work"' EXIT
if [ -z "$db" ]; then cp "$tmpl"/cs.db "$work"/cs.db; db="sqlite:$work/cs.db"; fi
port=18081
"$bin" serve --addr 127.0.0.1:$port --db "$db" --log-level warn --ping-interval 60s --debug-addr 127.0.0.1:16061 >"$work"/serve.log 2>&1 &
srv=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.2; done
metric() { curl -s http://127.0.0.1:$port/metrics | awk -v m="$1" '$1==m {printf "%d\n", $2}'; }
sleep 2
anon() { awk '/^RssAnon/ {print $2*1024}' /proc/$srv/status; }
file() { awk '/^RssFile/ {print $2*1024}' /proc/$srv/status; }
anon0=$(anon); file0=$(file)
rss0=$(metric process_resident_memory_bytes); heap0=$(metric go_memstats_heap_inuse_bytes); stack0=$(metric go_memstats_stack_inuse_bytes)
"$bin" sim --url ws://127.0.0.1:$port/ocpp --stations "$n" --connectors 1 --idle 10000h --duration 75s --concurrency 300 --report-interval 15s >"$work"/sim.log 2>&1 &
sim=$!
sleep 50
# Idle steady state: let a garbage collection run (as the runtime's periodic
# one would) and the scavenger return freed pages, then measure.
curl -s -o /dev/null "http://127.0.0.1:16061/debug/pprof/heap?gc=1"
sleep 10
conn=$(metric chargestar_stations_connected)
anon1=$(anon); file1=$(file)
rss1=$(metric process_resident_memory_bytes); heap1=$(metric go_memstats_heap_inuse_bytes); stack1=$(metric go_memstats_stack_inuse_bytes)
gor=$(metric go_goroutines)
curl -s http://127.0.0.1:$port/metrics | grep -E "^go_memstats_(heap_sys|heap_idle|heap_released|heap_inuse|stack_sys|mspan_inuse|gc_sys|other_sys|sys)_bytes" > "$work"/memstats; cat "$work"/memstats
wait $sim || true
echo "stations connected: $conn (goroutines: $gor)"
awk -v n="$conn" -v a0="$anon0" -v a1="$anon1" -v f0="$file0" -v f1="$file1" -v r0="$rss0" -v r1="$rss1" -v h0="$heap0" -v h1="$heap1" -v s0="$stack0" -v s1="$stack1" 'BEGIN {
  printf "server RSS: %.1f MiB -> %.1f MiB = %.1f KiB per station\n", r0/1048576, r1/1048576, (r1-r0)/n/1024
  printf "  of which anonymous memory: %.1f KiB per station; file-backed (the mmap-ed database, page cache): %.1f KiB per station\n", (a1-a0)/n/1024, (f1-f0)/n/1024
  printf "Go heap in use: %.1f KiB per station; goroutine stacks: %.1f KiB per station; heap+stacks: %.1f KiB\n", (h1-h0)/n/1024, (s1-s0)/n/1024, (h1-h0+s1-s0)/n/1024 }'
