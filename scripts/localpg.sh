#!/usr/bin/env bash
# localpg.sh: a PostgreSQL cluster of the project's own, for `make run` and
# `make test`, started from the installed PostgreSQL binaries. It listens only
# on a Unix socket inside its folder, so it never clashes with another server.
#
#   scripts/localpg.sh start DIR   init (first time) and start; prints DATABASE_URL
#   scripts/localpg.sh stop DIR    stop cleanly (fast shutdown)
#
# PG_FSYNC=off skips fsync (throwaway clusters). PG_STAT_STATEMENTS=on loads
# pg_stat_statements, for make bench's queries per request; it is off by
# default so make run and make test start the cluster exactly as before.
#
# As root it runs PostgreSQL as the `postgres` OS user, which initdb requires.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data="$dir/data"
sock="$dir/run"

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) ; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

if ! bin=$(find_bin); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "PostgreSQL is not installed; installing Debian's postgresql package..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) >&2
    bin=$(find_bin)
  else
    echo "PostgreSQL is not installed: install it (on Debian or Ubuntu: sudo apt-get install postgresql), or set DATABASE_URL to a database you have." >&2
    exit 1
  fi
fi

# As root, the cluster belongs to the postgres user (initdb refuses root).
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      echo "The postgres user cannot reach $dir (a parent folder is closed to it): clone the project somewhere it can reach, such as /srv or /home, or set DATABASE_URL." >&2
      exit 1
    fi
  fi
  as_owner mkdir -p "$sock"
  chmod 755 "$sock"
  if [ ! -f "$data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  extra=""
  if [ "${PG_STAT_STATEMENTS:-off}" = on ]; then
    # Only statements, not BEGIN/COMMIT: the count is of queries a page makes.
    extra="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=off -c pg_stat_statements.max=10000"
  fi
  if ! as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    # setsid: the cluster ignores the terminal's Ctrl-C; whoever started it stops it.
    as_owner setsid "$bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 \
      -o "-c listen_addresses='' -c unix_socket_directories='$sock' -c max_connections=200 -c fsync=${PG_FSYNC:-on} $extra" \
      start >/dev/null || { tail -n 20 "$dir/postgres.log" >&2; exit 1; }
  fi
  echo "postgres:///postgres?host=$sock&user=postgres"
  ;;
stop)
  if [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
