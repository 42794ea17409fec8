#!/usr/bin/env bash
# The main benchmarks once per OCPP version, side by side (about 10 minutes
# per version): idle memory at 18,000 stations, closed loop at 5,000
# stations on SQLite and PostgreSQL, open loop 10,000 × 1/s on SQLite, and
# the connect storm at 18,000. bench/run-all.sh runs the full set.
#   bench/versions.sh [work dir]          (PostgreSQL at 127.0.0.1:5432, user postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/chargestar-bench}
mkdir -p "$work"
bin="$work/chargestar"
go build -o "$bin" ./cmd/chargestar
pg="postgres://postgres@127.0.0.1:5432/chargestar_bench?sslmode=disable"
fresh_pg() {
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS chargestar_bench" -c "CREATE DATABASE chargestar_bench" >/dev/null 2>&1
  CHARGESTAR_PROTOCOL=ocpp1.6 bench/template.sh "$bin" "$work/pg" 18000 "$pg" >/dev/null
}
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) on $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB"
CHARGESTAR_PROTOCOL=ocpp1.6 bench/template.sh "$bin" "$work/tmpl" 18000 >/dev/null
for proto in ${PROTOCOLS:-ocpp1.6 ocpp2.0.1 ocpp2.1}; do
  export CHARGESTAR_PROTOCOL=$proto
  echo "## $proto idle memory, 18000 stations (SQLite)"; bench/idle-memory.sh "$bin" "$work/tmpl" 18000 | grep -E 'server RSS|anonymous|heap' || echo "(failed)"
  echo "## $proto closed loop, 5000 stations, SQLite"; bench/closed-loop.sh "$bin" "$work/tmpl" 5000 "" 30 | grep -E 'messages|latency|CPU' || echo "(failed)"
  echo "## $proto closed loop, 5000 stations, PostgreSQL"; fresh_pg; bench/closed-loop.sh "$bin" "$work/pg" 5000 "$pg" 30 | grep -E 'messages|latency|CPU' || echo "(failed)"
  echo "## $proto open loop, 10000 stations x 1/s, SQLite"; bench/open-loop.sh "$bin" "$work/tmpl" 10000 1 "" 60 | grep -E 'messages|latency|CPU' || echo "(failed)"
  echo "## $proto connect storm, 18000 stations, SQLite"; bench/storm.sh "$bin" "$work/tmpl" 18000 | grep -E 'storm:|server CPU' || echo "(failed)"
done
