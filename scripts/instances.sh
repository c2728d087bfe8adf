#!/usr/bin/env bash
# make instances: issue 12's standing test 3, the deployment of several
# instances behind a real load balancer. Starts a throwaway PostgreSQL
# cluster on tmpfs (as make test does), migrates it and seeds the demo data,
# then cmd/instancetest starts three `tracker serve` instances on loopback
# ports with Debian's HAProxy in front, runs a bounded load through it,
# stops River's leader with SIGTERM and starts it again, and checks that no
# request failed but the stopped instance's own in-flight ones, that every
# session works on every instance and that the nightly job ran once. It
# takes about a minute (most of it waiting for the night's minute) and
# exits non-zero when a check fails. The logs and haproxy.cfg are kept in
# bin/instances/ for reading afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v haproxy >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's haproxy for the load balancer..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null)
  else
    echo "make instances needs HAProxy: install it (on Debian or Ubuntu: sudo apt-get install haproxy)." >&2
    exit 1
  fi
fi

base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
dir=$(mktemp -d "$base/ccgtracker-instances.XXXXXX")
logs=bin/instances
cleanup() {
  # instancetest stops the instances and HAProxy itself, also on failure;
  # this is for an interrupt while it runs, and for the cluster.
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  scripts/localpg.sh stop "$dir" || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

server=$(PG_FSYNC=off scripts/localpg.sh start "$dir")
go build -trimpath -o "$dir/tracker" ./cmd/tracker
go build -trimpath -o "$dir/instancetest" ./cmd/instancetest
DATABASE_URL=$server "$dir/tracker" migrate up >/dev/null
DATABASE_URL=$server "$dir/tracker" seed --demo | tail -n 3

rm -rf "$logs" && mkdir -p "$logs"
"$dir/instancetest" -tracker "$dir/tracker" -db "$server" -haproxy "$(command -v haproxy)" -dir "$logs" "$@" &
pid=$!
wait "$pid"
