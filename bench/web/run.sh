#!/usr/bin/env bash
# The dashboard at scale: seeds a store with ORGS orgs, FINDINGS findings and NOTICES notices (the
# seeding of the score benchmark, crates/taishi-loop/examples/score_bench.rs), starts `taishi serve`
# (release) on it, logs in as an administrator of the root and measures, with curl, time to first byte
# and total page weight (the HTML plus every static asset it links) of `/` and `/screen`, RUNS times
# each. On SQLite and on PostgreSQL (a database `taishi_bench` created and dropped on the server of
# TAISHI_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test).
#
#   bench/web/run.sh                       # 10,000 orgs, 1,000,000 findings, 50,000 notices
#   ORGS=1000 FINDINGS=100000 bench/web/run.sh
#   SKIP_BUILD=1 bench/web/run.sh          # use the release binaries already built
#   ONLY=sqlite bench/web/run.sh           # or ONLY=postgres
#   KEEP=/tmp/dir bench/web/run.sh         # seed once into DIR and reuse it on later runs
set -euo pipefail

ORGS=${ORGS:-10000}
FINDINGS=${FINDINGS:-1000000}
NOTICES=${NOTICES:-50000}
RUNS=${RUNS:-5}
PORT=${PORT:-18472}
ONLY=${ONLY:-}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${KEEP:-$(mktemp -d /tmp/taishi-bench-web.XXXXXX)}
mkdir -p "$WORK"
ADDR="127.0.0.1:$PORT"
PG=${TAISHI_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
PGDB="${PG%/*}/taishi_bench"
PASSWORD="bench-password-$$-long-enough"

if [ -z "${SKIP_BUILD:-}" ]; then
  echo "== building taishi and the seeding example (release)"
  (cd "$ROOT" && cargo build --release -p taishi --quiet &&
     cargo build --release -p taishi-loop --example score_bench --quiet)
fi
BIN="$ROOT/target/release/taishi"
SEED="$ROOT/target/release/examples/score_bench"

SERVER=
stop() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=; fi; }
trap stop EXIT

# ttfb and bytes of one URL with the session cookie.
get() { curl -s -o /dev/null -b "$WORK/cookies.txt" -w '%{http_code} %{time_starttransfer} %{size_download}' "http://$ADDR$1"; }

measure() { # label path
  local label=$1 path=$2 html assets=0 line code t size
  # The page's static assets (CSS, script, icon), fetched once: a browser caches them.
  html=$(curl -s -b "$WORK/cookies.txt" "http://$ADDR$path")
  for a in $(printf '%s' "$html" | grep -o '/static/[^"?]*' | sort -u); do
    assets=$((assets + $(curl -s -o /dev/null -w '%{size_download}' "http://$ADDR$a")))
  done
  local times=()
  for _ in $(seq 1 "$RUNS"); do
    line=$(get "$path")
    read -r code t size <<<"$line"
    [ "$code" = 200 ] || { echo "$label $path: HTTP $code" >&2; exit 1; }
    times+=("$t")
  done
  printf '%-9s %-8s ttfb s: %s | html %s B + static %s B = %s B\n' "$label" "$path" "${times[*]}" \
    "$size" "$assets" $((size + assets))
}

run() { # label store-url
  local label=$1 url=$2 data="$WORK/data-$1"
  mkdir -p "$data"
  if [ ! -e "$WORK/seeded-$label" ]; then
    echo "== $label: seeding $ORGS orgs, $FINDINGS findings, $NOTICES notices"
    /usr/bin/time -f "$label seed: wall %e s, peak RSS %M KiB" "$SEED" load "$url" "$ORGS" "$FINDINGS" "$NOTICES"
    touch "$WORK/seeded-$label"
  fi
  if [ ! -e "$WORK/user-$label" ]; then
    echo "$PASSWORD" | "$BIN" admin --data-dir "$data" --store "$url" create-user --name bench --role admin --org O0 >/dev/null
    echo "$PASSWORD" > "$WORK/user-$label"
  fi
  PASSWORD=$(cat "$WORK/user-$label")
  RUST_LOG=warn "$BIN" serve --data-dir "$data" --store "$url" --listen "$ADDR" >"$WORK/serve-$label.out" 2>"$WORK/serve-$label.err" &
  SERVER=$!
  for _ in $(seq 1 150); do grep -q "serving at" "$WORK/serve-$label.out" 2>/dev/null && break; sleep 0.2; done
  grep -q "serving at" "$WORK/serve-$label.out" || { cat "$WORK/serve-$label.err"; exit 1; }
  curl -sf -c "$WORK/cookies.txt" -H 'content-type: application/json' \
    -d "{\"name\":\"bench\",\"password\":\"$PASSWORD\"}" "http://$ADDR/api/v1/auth/login" >/dev/null
  # One warm-up request each (first use of the pools and the page cache), then the measured runs.
  get / >/dev/null; get /screen >/dev/null
  measure "$label" /
  measure "$label" /screen
  local total
  total=$(curl -s -b "$WORK/cookies.txt" "http://$ADDR/api/v1/findings?limit=1" | grep -o '"total":[0-9]*')
  echo "$label findings in the admin's view: ${total#\"total\":}"
  stop
}

if [ "$ONLY" != postgres ]; then
  run sqlite "sqlite://$WORK/data-sqlite/taishi.db"
fi
if [ "$ONLY" != sqlite ]; then
  if psql "$PG" -qc 'select 1' >/dev/null 2>&1; then
    if [ ! -e "$WORK/seeded-postgres" ]; then
      psql "$PG" -qc 'DROP DATABASE IF EXISTS taishi_bench' >/dev/null
      psql "$PG" -qc 'CREATE DATABASE taishi_bench' >/dev/null
    fi
    run postgres "$PGDB"
    [ -n "${KEEP:-}" ] || psql "$PG" -qc 'DROP DATABASE taishi_bench' >/dev/null
  else
    echo "PostgreSQL at $PG unreachable; skipped"
  fi
fi
[ -n "${KEEP:-}" ] || rm -rf "$WORK"
