#!/usr/bin/env bash
# Runs every benchmark of docs/benchmarks.md on this machine and prints the
# results: idle memory, closed loop, open loop, connect storm, on SQLite and
# PostgreSQL, for each OCPP version the simulator speaks (the scripts pass
# the version to `chargestar sim` through CHARGESTAR_PROTOCOL). About 20
# minutes per version.
#   bench/run-all.sh [work dir]          (PostgreSQL at 127.0.0.1:5432, user postgres)
#   PROTOCOLS="ocpp2.0.1" bench/run-all.sh   (only some versions)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/chargestar-bench}
mkdir -p "$work"
bin="$work/chargestar"
go build -o "$bin" ./cmd/chargestar
pg="postgres://postgres@127.0.0.1:5432/chargestar_bench?sslmode=disable"
fresh_pg() {
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS chargestar_bench" -c "CREATE DATABASE chargestar_bench" >/dev/null
  bench/template.sh "$bin" "$work/pg" 18000 "$pg" >/dev/null
}
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) on $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB"
bench/template.sh "$bin" "$work/tmpl" 18000 >/dev/null
for proto in ${PROTOCOLS:-ocpp1.6 ocpp2.0.1 ocpp2.1}; do
  export CHARGESTAR_PROTOCOL=$proto
  echo "# ===== $proto ====="
  for n in 10000 18000; do echo "## $proto idle memory, $n stations (SQLite)"; bench/idle-memory.sh "$bin" "$work/tmpl" $n | grep -v '^go_memstats'; done
  for n in 5000 10000; do echo "## $proto closed loop, $n stations, SQLite"; bench/closed-loop.sh "$bin" "$work/tmpl" $n "" 30 | grep -E 'messages|latency|CPU'; done
  echo "## $proto closed loop, 5000 stations, PostgreSQL"; fresh_pg; bench/closed-loop.sh "$bin" "$work/pg" 5000 "$pg" 30 | grep -E 'messages|latency|CPU'
  echo "## $proto open loop, 10000 stations x 1/s, SQLite"; bench/open-loop.sh "$bin" "$work/tmpl" 10000 1 "" 60 | grep -E 'messages|latency|CPU'
  echo "## $proto open loop, 10000 stations x 1/s, PostgreSQL"; fresh_pg; bench/open-loop.sh "$bin" "$work/pg" 10000 1 "$pg" 60 | grep -E 'messages|latency|CPU'
  echo "## $proto connect storm, 18000 stations, SQLite"; bench/storm.sh "$bin" "$work/tmpl" 18000 | grep -E 'storm:|server CPU|backlog'
done
