#!/usr/bin/env bash
# Open-loop load: N stations each send MeterValues at a fixed rate whatever
# the answers do; latency counts from the intended send time.
#   bench/open-loop.sh <chargestar binary> <template db dir> <stations> <rate per station> [db-url] [seconds]
set -euo pipefail
bin=$1 tmpl=$2 n=$3 rate=$4 db=${5:-} secs=${6:-60}
work=$(mktemp -d)
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null; rm -rf "$work"' EXIT
if [ -z "$db" ]; then cp "$tmpl"/cs.db "$work"/cs.db; db="sqlite:$work/cs.db"; fi
port=18085
"$bin" serve --addr 127.0.0.1:$port --db "$db" --log-level warn >"$work"/serve.log 2>&1 &
srv=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.2; done
"$bin" sim --url ws://127.0.0.1:$port/ocpp --stations "$n" --connectors 1 --mode open-loop --rate "$rate" --duration "${secs}s" \
  --concurrency 300 --report-interval 10s --metrics-url http://127.0.0.1:$port/metrics >"$work"/sim.log 2>&1 || true
sed -n "/^== /,\$p" "$work"/sim.log; kill -9 $srv 2>/dev/null || true
