#!/usr/bin/env bash
# Builds a template database with N provisioned stations (one connector, one
# RFID tag each) through the public REST API, for the benchmark scripts.
#   bench/template.sh <chargestar binary> <out dir> <stations> [db-url]
# With a postgres:// URL the database is provisioned in place (dir unused).
set -euo pipefail
bin=$1 out=$2 n=$3 db=${4:-}
mkdir -p "$out"
if [ -z "$db" ]; then rm -f "$out"/cs.db*; db="sqlite:$out/cs.db"; fi
port=18089
CHARGESTAR_ADMIN_TOKEN=bench-admin "$bin" serve --addr 127.0.0.1:$port --db "$db" --log-level warn >"$out"/serve.log 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.2; done
"$bin" sim --url ws://127.0.0.1:$port/ocpp --provision --api-token bench-admin --stations "$n" --connectors 1 --duration 1s --concurrency 50 >"$out"/provision.log 2>&1
kill -INT $srv; wait $srv 2>/dev/null || true
trap - EXIT
echo "template: $n stations in $db"
