#!/usr/bin/env bash
# Connect storm: N stations connect and boot, then every connection is
# dropped at once and all reconnect at once; reports the time until all are
# connected (WebSocket accepted) and booted again, and any station stuck.
#   bench/storm.sh <chargestar binary> <template db dir> <stations> [db-url]
set -euo pipefail
bin=$1 tmpl=$2 n=$3 db=${4:-}
work=$(mktemp -d)
trap 'kill -9 $srv 2>/dev/null; rm -rf "$work"' EXIT
if [ -z "$db" ]; then cp "$tmpl"/cs.db "$work"/cs.db; db="sqlite:$work/cs.db"; fi
port=18088
"$bin" serve --addr 127.0.0.1:$port --db "$db" --log-level warn >"$work"/serve.log 2>&1 &
srv=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.2; done
echo "listen backlog: net.core.somaxconn=$(cat /proc/sys/net/core/somaxconn), tcp_max_syn_backlog=$(cat /proc/sys/net/ipv4/tcp_max_syn_backlog)"
"$bin" sim --url ws://127.0.0.1:$port/ocpp --stations "$n" --connectors 1 --mode storm --concurrency 500 --duration 120s \
  --report-interval 5s --metrics-url http://127.0.0.1:$port/metrics >"$work"/sim.log 2>&1 || true
sed -n '/^== /,$p' "$work"/sim.log
