#!/usr/bin/env bash
# make test: every test against a throwaway PostgreSQL cluster on tmpfs
# (template databases clone fast there), with Debian's Chromium for the
# browser tests. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the browser tests..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
  else
    echo "The browser tests need Chromium: install it (on Debian or Ubuntu: sudo apt-get install chromium)." >&2
    exit 1
  fi
fi

base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
dir=$(mktemp -d "$base/ccgtracker-test.XXXXXX")
cleanup() {
  scripts/localpg.sh stop "$dir" || true
  rm -rf "$dir"
}
trap cleanup EXIT

# A throwaway cluster need not survive a crash: skip fsync.
TEST_DATABASE_URL=$(PG_FSYNC=off scripts/localpg.sh start "$dir")
export TEST_DATABASE_URL
export CHROMIUM_PATH=${CHROMIUM_PATH:-$(command -v chromium)}

go test -race -count=1 -timeout 20m "$@" ./...
