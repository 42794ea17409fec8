#!/usr/bin/env bash
# Closed-loop ingest: N stations each send MeterValues as fast as answers come
# back (one call in flight each); reports messages/s, latency and the server's
# CPU per message (scraped from its /metrics).
#   bench/closed-loop.sh <chargestar binary> <template db dir> <stations> [db-url] [seconds] [cpu-profile-file]
set -euo pipefail
bin=$1 tmpl=$2 n=$3 db=${4:-} secs=${5:-30} prof=${6:-}
work=$(mktemp -d)
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null; rm -rf "$work"' EXIT
if [ -z "$db" ]; then cp "$tmpl"/cs.db "$work"/cs.db; db="sqlite:$work/cs.db"; fi
port=18084
"$bin" serve --addr 127.0.0.1:$port --db "$db" --log-level warn --debug-addr 127.0.0.1:16064 >"$work"/serve.log 2>&1 &
srv=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.2; done
pgcpu() { local t=0; for p in $(pgrep -x postgres); do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat 2>/dev/null || echo 0))); done; echo $t; }
pg0=$(pgcpu)
"$bin" sim --url ws://127.0.0.1:$port/ocpp --stations "$n" --connectors 1 --mode closed-loop --duration "${secs}s" \
  --concurrency 300 --report-interval 10s --metrics-url http://127.0.0.1:$port/metrics >"$work"/sim.log 2>&1 &
sim=$!
if [ -n "$prof" ]; then sleep $(( secs / 2 + 5 )); curl -s "http://127.0.0.1:16064/debug/pprof/profile?seconds=10" >"$prof"; fi
wait $sim || true
pg1=$(pgcpu)
sed -n '/^== /,$p' "$work"/sim.log
case "$db" in postgres*)
  msgs=$(awk '/^messages:/ {print $2}' "$work"/sim.log)
  awk -v a="$pg0" -v b="$pg1" -v m="$msgs" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "PostgreSQL server processes: %.1f µs CPU per message (whole run, connect and boot included)\n", (b-a)/hz*1e6/m }' ;;
esac
