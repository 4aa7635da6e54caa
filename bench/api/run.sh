#!/usr/bin/env bash
# API read latency under load: seeds ORGS orgs / ASSETS assets into a fresh SQLite store (with
# `taishi import` when the binary has it, otherwise through the REST API), starts `taishi serve` in
# release mode, and drives it from a second process (wrk, paced to about RATE requests/s) on the org
# tree and on asset searches. Prints p50/p90/p99 per scenario. `taishi serve` also starts its probe
# scheduler over the imported assets, so the figures include that background work; a warm-up of WARMUP
# seconds (default 30) lets the start-up (registry load, first schedule) pass before measuring.
#
#   bench/api/run.sh                      # 10,000 orgs, 100,000 assets, 500 req/s, 30 s per scenario
#   ORGS=1000 ASSETS=10000 DURATION=10 bench/api/run.sh
#   SKIP_BUILD=1 bench/api/run.sh         # use the release binary already built
#   BIN=/path/to/taishi bench/api/run.sh  # use this binary (implies SKIP_BUILD)
#   STORE=postgres://postgres@127.0.0.1:5432/bench bench/api/run.sh   # an empty PostgreSQL database
set -euo pipefail

ORGS=${ORGS:-10000}
ASSETS=${ASSETS:-100000}
RATE=${RATE:-500}
DURATION=${DURATION:-30}
CONNECTIONS=${CONNECTIONS:-10}
WARMUP=${WARMUP:-30}
# wrk paces each connection with a fixed pause after each answer; LAT_MS is the answer time it allows
# for, so the rate lands near RATE instead of below it.
LAT_MS=${LAT_MS:-3}
PORT=${PORT:-18471}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d /tmp/taishi-bench-api.XXXXXX)
DATA="$WORK/data"
STORE=${STORE:-sqlite://$DATA/taishi.db}
ADDR="127.0.0.1:$PORT"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }

if [ -z "${SKIP_BUILD:-}" ] && [ -z "${BIN:-}" ]; then
  echo "== building taishi (release)"
  (cd "$ROOT" && cargo build --release -p taishi --quiet)
fi
BIN=${BIN:-"$ROOT/target/release/taishi"}

echo "== generating $ORGS orgs / $ASSETS assets"
python3 "$HERE/gen_registry.py" "$ORGS" "$ASSETS" > "$WORK/registry.json"

imported=no
if "$BIN" import --help >/dev/null 2>&1; then
  echo "== importing with taishi import"
  /usr/bin/time -f "import: %e s wall, %M KiB peak RSS" "$BIN" import --data-dir "$DATA" --store "$STORE" "$WORK/registry.json"
  imported=yes
fi

echo "== starting taishi serve on $ADDR"
RUST_LOG=warn "$BIN" serve --data-dir "$DATA" --store "$STORE" --listen "$ADDR" > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "serving at" "$WORK/serve.out" 2>/dev/null && break; sleep 0.2; done
grep -q "serving at" "$WORK/serve.out" || { cat "$WORK/serve.err"; exit 1; }
ROOT_ORG=$(grep -o 'for org "[^"]*"' "$WORK/serve.out" | sed 's/for org "\(.*\)"/\1/')
TOKEN=$("$BIN" admin --data-dir "$DATA" --store "$STORE" create-token --name "bench-$$" --role admin --org "${ROOT_ORG:-D0}" 2>/dev/null)

if [ "$imported" = no ]; then
  echo "== seeding through the API (no taishi import yet)"
  /usr/bin/time -f "API seeding: %e s wall" python3 "$HERE/seed_api.py" "$ADDR" "$TOKEN" "$WORK/registry.json"
fi

api() { curl -sf -H "Authorization: Bearer $TOKEN" "http://$ADDR$1"; }
TOWNSHIPS=$(api "/api/v1/orgs/tree?depth=1" | python3 -c 'import json,sys; t=json.load(sys.stdin); n=t["children"] or [t]; print(" ".join(str(c["id"]) for c in n))')
total_orgs=$(api "/api/v1/orgs/tree?depth=3" | python3 -c 'import json,sys
def n(t): return 1 + sum(n(c) for c in t["children"])
print(n(json.load(sys.stdin)))')
echo "== registry as served: $total_orgs orgs in the admin's tree"

# Per-connection pause that keeps CONNECTIONS connections near RATE requests/s in total.
DELAY_MS=$(( CONNECTIONS * 1000 / RATE - LAT_MS ))
[ "$DELAY_MS" -ge 0 ] || DELAY_MS=0
scenario() {
  local name=$1; shift
  printf '%s\n' "$@" > "$WORK/paths.txt"
  local out
  out=$(PATHS="$WORK/paths.txt" TOKEN="$TOKEN" DELAY_MS="$DELAY_MS" \
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s -s "$HERE/load.lua" "http://$ADDR" | grep RESULT)
  printf '%-34s %s load=%s\n' "$name" "${out#RESULT }" "$(cut -d' ' -f1 /proc/loadavg)"
}

tree_root=("/api/v1/orgs/tree?depth=1")
tree_town=(); search_q=(); search_within=(); search_kind_tag=()
for t in $TOWNSHIPS; do
  tree_town+=("/api/v1/orgs/tree?root=$t&depth=1")
  search_within+=("/api/v1/assets?within=$t&kind=website&limit=50")
done
for i in $(seq 1 200); do
  n=$(( (i * 7919) % ASSETS ))
  search_q+=("/api/v1/assets?q=host$n.example&limit=50")
  search_kind_tag+=("/api/v1/assets?kind=domain&tag=batch$(( i % 7 ))&limit=50&after=$(( n ))")
done

echo "== warm-up: ${WARMUP}s of mixed requests (not reported)"
printf '%s\n' "${tree_root[@]}" "${search_q[@]:0:20}" "${search_within[@]}" > "$WORK/paths.txt"
PATHS="$WORK/paths.txt" TOKEN="$TOKEN" DELAY_MS="$DELAY_MS" \
  wrk -t2 -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 5s -s "$HERE/load.lua" "http://$ADDR" > /dev/null
echo "== load: ~$RATE req/s, $CONNECTIONS connections, ${DURATION}s each (latency in ms)"
scenario "org tree, root, depth 1"          "${tree_root[@]}"
scenario "org tree, township (~500 kids)"   "${tree_town[@]}"
scenario "assets: text search q="           "${search_q[@]}"
scenario "assets: within township+kind"     "${search_within[@]}"
scenario "assets: kind+tag, keyset page"    "${search_kind_tag[@]}"
echo "== server RSS after load: $(ps -o rss= -p $SERVER) KiB; work dir $WORK"
