#!/usr/bin/env bash
# taishi vs Hayabusa, Chainsaw and rsigma: throughput, CPU, peak memory and rule-load time, measured in
# the same rounds on the same files (see docs/hunt-comparison.md for the results and their reading).
#
# Usage: bench/peers/run.sh            (from anywhere; inputs are built by bench/peers/prepare.sh)
# Env:   TAISHI=path                   taishi binary (default: target/release/taishi, built if absent)
#        PEERS=/work/peers             where hayabusa/, chainsaw/ and rsigma-bin/ were built
#        SCRATCH=/tmp/taishi-peers     inputs and outputs (never inside the repository)
#        ROUNDS=3                      repetitions; each round runs every tool once, in the same order
#        ONLY="taishi chainsaw ..."    subset of runs (names as in the first column)
# Rules: taishi, Chainsaw and rsigma read raw SigmaHQ rules/windows; Hayabusa cannot use raw SigmaHQ
# rules (it enables 2 of them, see shared/reference/sigma.md §6) and runs its own converted
# hayabusa-rules (Sigma + its own, 4,648 files).
# Inputs: evtx = every .evtx under shared/data/evtx copied to >= 1 GiB (taishi only: the peers would
# need ~5 CPU-minutes each per pass on this shared 2-core machine); evtx200 = two copies (~200 MB), the
# set all three EVTX tools scan; jsonl = the OTRF Security-Datasets Windows JSON lines, 4 copies, 1.2 GB.
# Prints one row per run: events, wall s, CPU s (user+sys), events/s, events per CPU-s, peak RSS MB.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/../shared/data"
PEERS="${PEERS:-/work/peers}"
SCRATCH="${SCRATCH:-/tmp/taishi-peers}"
ROUNDS="${ROUNDS:-3}"
ONLY="${ONLY:-taishi-evtx taishi-evtx200 chainsaw-evtx200 hayabusa-evtx200 taishi-jsonl rsigma-jsonl taishi-load chainsaw-load hayabusa-load rsigma-load}"
RULES="$DATA/sigma/rules/windows"
HAYABUSA="$PEERS/hayabusa/target/release/hayabusa"
CHAINSAW="$PEERS/chainsaw/target/release/chainsaw"
CHAINSAW_MAPPING="$PEERS/chainsaw/mappings/sigma-event-logs-all.yml"
RSIGMA="$PEERS/rsigma-bin/bin/rsigma"
ONE_EVTX="$DATA/evtx/EVTX-ATTACK-SAMPLES/Execution/exec_sysmon_1_ftp.evtx"

if [[ -z "${TAISHI:-}" ]]; then
    [[ -x "$ROOT/target/release/taishi" ]] || (cd "$ROOT" && cargo build --release -p taishi >&2)
    TAISHI="$ROOT/target/release/taishi"
fi
"$(dirname "$0")/prepare.sh"
out="$SCRATCH/out"; mkdir -p "$out"
head -1 "$SCRATCH/jsonl.ndjson" > "$SCRATCH/one.ndjson"

# measure NAME EVENTS -- command...: runs under /usr/bin/time -v, prints one row.
measure() {
    local name="$1" events="$2"; shift 2
    local log="$out/$name.time"
    if ! /usr/bin/time -v "$@" > "$out/$name.out" 2> "$log"; then
        echo "$name: failed, see $log" >&2; return
    fi
    local wall user sys rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
    user=$(awk -F': ' '/User time/ {print $2}' "$log")
    sys=$(awk -F': ' '/System time/ {print $2}' "$log")
    rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$log")
    if [[ "$events" == from-taishi ]]; then
        events=$(grep -o '[0-9]* events in' "$log" | head -1 | cut -d' ' -f1)
        echo "$events" > "$out/$name.events"
    fi
    local load="-"
    [[ "$name" == taishi-* ]] && load=$(grep -o 'documents in [0-9.]* s' "$log" | head -1 | awk '{print $3}')
    awk -v n="$name" -v r="$round" -v e="$events" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" -v l="$load" 'BEGIN {
        c = u + s; printf "%-17s %5s %9d %8.2f %8.2f %10.0f %12.0f %8.1f %7s\n", n, r, e, w, c, e / w, e / c, m / 1024, l }'
}
want() { [[ " $ONLY " == *" $1 "* ]]; }
events_of() { cat "$out/$1.events" 2>/dev/null || echo 0; }

echo "taishi $("$TAISHI" --version 2>/dev/null || echo '?') ($TAISHI, built $(date -u -r "$TAISHI" '+%F %T UTC'); HEAD $(git -C "$ROOT" log -1 --format=%h)); machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
printf '%-17s %5s %9s %8s %8s %10s %12s %8s %7s\n' run round events wall_s cpu_s events/s events/cpu-s rss_MB load_s
for round in $(seq 1 "$ROUNDS"); do
    want taishi-evtx && measure taishi-evtx from-taishi "$TAISHI" hunt --format jsonl -r "$RULES" "$SCRATCH/evtx"
    # the peers' event counts are taishi's for the same folder (every EVTX record is one event for all)
    want taishi-evtx200 && measure taishi-evtx200 from-taishi "$TAISHI" hunt --format jsonl -r "$RULES" "$SCRATCH/evtx-small"
    n200=$(events_of taishi-evtx200)
    want chainsaw-evtx200 && [[ -x "$CHAINSAW" ]] && measure chainsaw-evtx200 "$n200" \
        "$CHAINSAW" hunt "$SCRATCH/evtx-small" -s "$RULES" --mapping "$CHAINSAW_MAPPING" --jsonl --skip-errors -q
    want hayabusa-evtx200 && [[ -x "$HAYABUSA" ]] && measure hayabusa-evtx200 "$n200" \
        bash -c 'cd "$1" && exec ./target/release/hayabusa dfir-timeline -d "$2" -w -q -K -C -t jsonl -U -o "$3"' _ \
        "$PEERS/hayabusa" "$SCRATCH/evtx-small" "$out/hayabusa-evtx200.jsonl"
    want taishi-jsonl && measure taishi-jsonl from-taishi "$TAISHI" hunt --format jsonl -r "$RULES" "$SCRATCH/jsonl.ndjson"
    nj=$(events_of taishi-jsonl)
    want rsigma-jsonl && [[ -x "$RSIGMA" ]] && measure rsigma-jsonl "$nj" \
        "$RSIGMA" engine eval -r "$RULES" -p sysmon --event-logsource product=windows --logsource-routing -e @"$SCRATCH/jsonl.ndjson"
    # rule loading: the whole run over one small file (taishi also reports its own load time, last column)
    want taishi-load && measure taishi-load from-taishi "$TAISHI" hunt --format jsonl -r "$RULES" "$ONE_EVTX"
    nl=$(events_of taishi-load)
    want chainsaw-load && [[ -x "$CHAINSAW" ]] && measure chainsaw-load "${nl:-1}" \
        "$CHAINSAW" hunt "$ONE_EVTX" -s "$RULES" --mapping "$CHAINSAW_MAPPING" --jsonl --skip-errors -q
    want hayabusa-load && [[ -x "$HAYABUSA" ]] && measure hayabusa-load "${nl:-1}" \
        bash -c 'cd "$1" && exec ./target/release/hayabusa dfir-timeline -f "$2" -w -q -K -C -t jsonl -U -o "$3"' _ \
        "$PEERS/hayabusa" "$ONE_EVTX" "$out/hayabusa-load.jsonl"
    want rsigma-load && [[ -x "$RSIGMA" ]] && measure rsigma-load 1 \
        "$RSIGMA" engine eval -r "$RULES" -p sysmon --event-logsource product=windows --logsource-routing -e @"$SCRATCH/one.ndjson"
done
