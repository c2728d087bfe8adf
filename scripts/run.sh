#!/usr/bin/env bash
# make run: the application with demo data on http://localhost:8080 (or
# BASE_URL, or the address ADDR gives).
# Without DATABASE_URL it runs the project's own PostgreSQL cluster in .pgdata
# (kept between runs), migrates it and loads the reference and demo data
# (idempotently). Ctrl-C stops the server, then the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

started_cluster=""
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/localpg.sh start .pgdata)
  export DATABASE_URL
  started_cluster=1
  echo "Using the project's own PostgreSQL cluster in .pgdata"
fi
stop_cluster() {
  [ -n "$started_cluster" ] && scripts/localpg.sh stop .pgdata && echo "PostgreSQL stopped."
  started_cluster=""
}
trap stop_cluster EXIT

bin/tracker migrate up
bin/tracker seed --demo

# The address people use: BASE_URL when it is set (a proxy in front),
# otherwise where ADDR listens, with localhost for "every interface".
addr=${ADDR:-:8080}
host=${addr%:*}
case "$host" in ""|0.0.0.0|"[::]") host=localhost ;; esac
url=${BASE_URL:-http://${host}:${addr##*:}}
cat <<MSG

CCG Order Tracker: ${url}

Demo sign-ins (password: demo-password)
  admin@example.nhs.uk       administrator
  reviewer@example.nhs.uk    NHS Digital reviewer
  finance@example.nhs.uk     NHS Digital finance
  buyer.16c@example.nhs.uk   buyer, NHS Tees Valley CCG (16C)
  buyer.03q@example.nhs.uk   buyer, 03Q

Press Ctrl-C to stop.
MSG

# Not exec: when the server stops, the trap stops the cluster.
bin/tracker serve &
server=$!
trap 'kill -TERM $server 2>/dev/null' INT TERM
wait $server || true
wait $server 2>/dev/null || true
