#!/usr/bin/env bash
# Recompute all scores for 10,000 orgs with 1,000,000 findings and 50,000 notices, on SQLite and
# PostgreSQL: wall time and peak RSS of the scoring process (loading is timed separately).
#   bench/loop/run.sh [ORGS FINDINGS NOTICES]
# PostgreSQL from TAISHI_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/test); a fresh
# database schema "loop_bench" is created there and dropped afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
ORGS=${1:-10000}; FINDINGS=${2:-1000000}; NOTICES=${3:-50000}; PERIOD=2026-11
cargo build -q --release -p taishi-loop --example score_bench
BIN=target/release/examples/score_bench
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
measure() { # label url
  /usr/bin/time -f "$1 score: wall %e s, peak RSS %M KiB" "$BIN" score "$2" "$PERIOD"
}
echo "== SQLite ($ORGS orgs, $FINDINGS findings, $NOTICES notices)"
DB="sqlite://$TMP/bench.db"
/usr/bin/time -f "sqlite load: wall %e s, peak RSS %M KiB" "$BIN" load "$DB" "$ORGS" "$FINDINGS" "$NOTICES"
measure sqlite "$DB"
measure sqlite-again "$DB"
ls -la "$TMP"/bench.db | awk '{print "sqlite file size: " $5 " bytes"}'

PG=${TAISHI_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
if psql "$PG" -qc 'select 1' >/dev/null 2>&1; then
  echo "== PostgreSQL"
  psql "$PG" -qc 'DROP SCHEMA IF EXISTS loop_bench CASCADE; CREATE SCHEMA loop_bench' >/dev/null
  PGB="${PG}$( [[ $PG == *\?* ]] && echo '&' || echo '?' )options=-csearch_path%3Dloop_bench"
  /usr/bin/time -f "postgres load: wall %e s, peak RSS %M KiB" "$BIN" load "$PGB" "$ORGS" "$FINDINGS" "$NOTICES"
  measure postgres "$PGB"
  psql "$PG" -qc 'DROP SCHEMA loop_bench CASCADE' >/dev/null
else
  echo "PostgreSQL at $PG unreachable; skipped"
fi
