#!/usr/bin/env bash
# make bench: the reconciliation benchmark of issue 7 on the national data.
# Starts a throwaway PostgreSQL cluster on tmpfs (as make test does), builds
# the national data at ×1 and a ×10 synthetic copy into two databases
# (tracker seed --national --scale N), then runs the Go benchmark, which
# compares computing a month and exporting it as CSV and XLSX with psql's
# COPY of the same rows. The figures go to stdout and bin/benchmarks.txt;
# docs/benchmarks.md says how to read them. Extra arguments go to go test
# (such as -benchtime=3x).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v psql >/dev/null 2>&1 || { echo "The benchmark's baseline is psql's COPY: install psql (on Debian or Ubuntu: sudo apt-get install postgresql-client)." >&2; exit 1; }

base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
dir=$(mktemp -d "$base/ccgtracker-bench.XXXXXX")
cleanup() {
  scripts/localpg.sh stop "$dir" || true
  rm -rf "$dir"
}
trap cleanup EXIT

# A throwaway cluster need not survive a crash: skip fsync.
server=$(PG_FSYNC=off scripts/localpg.sh start "$dir")
go build -trimpath -o "$dir/tracker" ./cmd/tracker

declare -A url
for scale in 1 10; do
  db=bench_x$scale
  psql -X -q -v ON_ERROR_STOP=1 -d "$server" -c "CREATE DATABASE $db"
  url[$scale]=${server/\/postgres\?//$db?}
  echo "== national data ×$scale"
  DATABASE_URL=${url[$scale]} "$dir/tracker" migrate up >/dev/null
  start=$(date +%s%N)
  DATABASE_URL=${url[$scale]} "$dir/tracker" seed --national --scale "$scale" | tail -n 1
  echo "seeded in $(( ($(date +%s%N) - start) / 1000000 )) ms"
  # Fresh statistics, as autovacuum would have them on a real database.
  psql -X -q -d "${url[$scale]}" -c "VACUUM ANALYZE"
done

mkdir -p bin
out=bin/benchmarks.txt
{
  echo "# make bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "# $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM"
  echo "# $(go version); $(psql --version)"
} | tee "$out"
BENCH_DATABASE_URL=${url[1]} BENCH_DATABASE_URL_X10=${url[10]} \
  go test -run '^$' -bench 'BenchmarkMonth|BenchmarkReconciliation' -benchmem -count 1 -timeout 30m "$@" ./internal/billing/ ./internal/server/ | tee -a "$out"
echo "Figures written to $out"
