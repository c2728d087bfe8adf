#!/usr/bin/env bash
# make bench: the benchmarks of issues 7 and 10 on the national data.
# Starts a throwaway PostgreSQL cluster on tmpfs (as make test does, with
# pg_stat_statements loaded), builds the national data at ×1 and a ×10
# synthetic copy into two databases (tracker seed --national --scale N, then
# --demo for the sign-ins and returns), then runs
#  - the load benchmark (cmd/loadbench): the real `tracker serve` on a
#    loopback port, each page at 16 and 64 connections against the signed-in
#    /healthz, twelve concurrent exports, SIGTERM; figures in bin/loadbench.txt;
#  - the Go benchmark of exports in internal/billing; figures in
#    bin/benchmarks.txt.
# docs/benchmarks.md says how to read them. Extra arguments go to go test
# (such as -benchtime=3x); LOADBENCH_ARGS go to loadbench (such as
# "-duration 5s" or "-only /reconciliation").
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
server=$(PG_FSYNC=off PG_STAT_STATEMENTS=on scripts/localpg.sh start "$dir")
go build -trimpath -o "$dir/tracker" ./cmd/tracker
go build -trimpath -o "$dir/loadbench" ./cmd/loadbench

declare -A url
for scale in 1 10; do
  db=bench_x$scale
  psql -X -q -v ON_ERROR_STOP=1 -d "$server" -c "CREATE DATABASE $db"
  url[$scale]=${server/\/postgres\?//$db?}
  echo "== national data ×$scale"
  DATABASE_URL=${url[$scale]} "$dir/tracker" migrate up >/dev/null
  start=$(date +%s%N)
  # --demo: the sign-ins and this month's and last month's returns, for the
  # load benchmark (with --national it adds no services of its own).
  DATABASE_URL=${url[$scale]} "$dir/tracker" seed --national --scale "$scale" --demo | tail -n 3
  echo "seeded in $(( ($(date +%s%N) - start) / 1000000 )) ms"
  # Fresh statistics, as autovacuum would have them on a real database.
  psql -X -q -d "${url[$scale]}" -c "VACUUM ANALYZE"
done

mkdir -p bin
echo "== load benchmark of tracker serve (bin/loadbench.txt)"
# shellcheck disable=SC2086 # LOADBENCH_ARGS is a list of flags
"$dir/loadbench" -tracker "$dir/tracker" -db "×1=${url[1]}" -db "×10=${url[10]}" \
  -out bin/loadbench.txt -logdir "$dir" ${LOADBENCH_ARGS:-}

out=bin/benchmarks.txt
{
  echo "# make bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "# $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM"
  echo "# $(go version); $(psql --version)"
} | tee "$out"
BENCH_DATABASE_URL=${url[1]} BENCH_DATABASE_URL_X10=${url[10]} \
  go test -run '^$' -bench 'BenchmarkMonth|BenchmarkReconciliation' -benchmem -count 1 -timeout 30m "$@" ./internal/billing/ ./internal/server/ | tee -a "$out"
echo "Figures written to $out"
