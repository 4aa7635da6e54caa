#!/usr/bin/env bash
# Import benchmark: generates ORGS orgs and ASSETS assets as CSV under /tmp, imports them with the
# release `taishi import` into a fresh SQLite store and a fresh PostgreSQL database, re-imports once
# (everything unchanged: the idempotent path), and prints wall time and peak RSS of each run.
#
#   bench/import/run.sh                         # 10,000 orgs, 100,000 assets
#   ORGS=1000 ASSETS=10000 bench/import/run.sh
#   PG=postgres://postgres@127.0.0.1:5432 bench/import/run.sh   # server URL without database name
#   BIN=target/release/taishi bench/import/run.sh                # use a built binary
# PostgreSQL runs are skipped (with a message) when the server cannot be reached.
set -euo pipefail

ORGS=${ORGS:-10000}
ASSETS=${ASSETS:-100000}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d /tmp/taishi-bench-import.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if [ -z "${BIN:-}" ]; then
  echo "== building taishi (release)"
  (cd "$ROOT" && cargo build --release -p taishi --quiet)
  BIN="$ROOT/target/release/taishi"
fi

echo "== generating $ORGS orgs / $ASSETS assets into $WORK"
python3 "$HERE/gen_csv.py" "$WORK" "$ORGS" "$ASSETS"
ls -l "$WORK"/*.csv | awk '{printf "   %s %.1f MB\n", $9, $5/1e6}'

run() {
  local label=$1 store=$2
  /usr/bin/time -v "$BIN" import --data-dir "$WORK/data" --store "$store" \
    --orgs "$WORK/orgs.csv" --assets "$WORK/assets.csv" > "$WORK/out" 2> "$WORK/time" || { cat "$WORK/out" "$WORK/time"; exit 1; }
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$WORK/time" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$WORK/time" | awk '{print $NF}')
  printf '%-28s wall %8s  peak RSS %6.1f MiB   %s\n' "$label" "$wall" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$(head -1 "$WORK/out")"
}

echo "== SQLite"
run "sqlite first import" "sqlite://$WORK/data/bench.db"
run "sqlite re-import" "sqlite://$WORK/data/bench.db"
ls -l "$WORK/data/bench.db" | awk '{printf "   database file %.1f MB\n", $5/1e6}'

echo "== PostgreSQL"
DB="taishi_bench_import_$$"
if psql "$PG/postgres" -qAtc "CREATE DATABASE $DB" >/dev/null 2>&1; then
  run "postgres first import" "$PG/$DB"
  run "postgres re-import" "$PG/$DB"
  psql "$PG/postgres" -qAtc "DROP DATABASE $DB" >/dev/null
else
  echo "   skipped: cannot create a database at $PG (set PG=postgres://USER@HOST:PORT)"
fi
