#!/usr/bin/env bash
# Throughput and memory of `taishi hunt` (and, when their binaries are given, Hayabusa, Chainsaw and
# rsigma) over (1) every .evtx under shared/data/evtx replicated to >= 1 GB and (2) the JSON lines of
# shared/data/jsonl (unzipped, replicated), with all SigmaHQ Windows rules.
#
# Usage: bench/hunt/run.sh            (from the repository root; builds taishi in release mode)
# Env:   TAISHI=path/to/taishi        use this binary instead of building
#        SCRATCH=/tmp/taishi-bench    where the replicated inputs go (never inside the repo)
#        EVTX_GB=1                    target size of the replicated EVTX set, in GB
#        JSON_COPIES=4                copies of the unzipped JSON lines
#        THREADS=                     worker threads for taishi (default: all cores)
#        HAYABUSA, CHAINSAW, RSIGMA   peer binaries (skipped with a message when unset or missing)
#        HAYABUSA_RULES, CHAINSAW_MAPPING   the peers' own rule folder / mapping file
# Prints one line per run: tool, input, events, wall s, CPU s, events/s, events per CPU-s, peak RSS MB.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/../shared/data"
SCRATCH="${SCRATCH:-/tmp/taishi-bench}"
EVTX_GB="${EVTX_GB:-1}"
JSON_COPIES="${JSON_COPIES:-4}"
RULES="$DATA/sigma/rules/windows"

if [[ -z "${TAISHI:-}" ]]; then
    (cd "$ROOT" && cargo build --release -p taishi >&2)
    TAISHI="$ROOT/target/release/taishi"
fi

# 1. Inputs: EVTX replicated to >= EVTX_GB, JSON lines unzipped and replicated.
mkdir -p "$SCRATCH/evtx" "$SCRATCH/jsonl"
want=$((EVTX_GB * 1000 * 1000 * 1000))
have=$(du -sb "$SCRATCH/evtx" | cut -f1)
copy=0
while (( have < want )); do
    copy=$((copy + 1))
    dest="$SCRATCH/evtx/copy$copy"
    if [[ ! -d "$dest" ]]; then
        mkdir -p "$dest"
        i=0
        while IFS= read -r -d '' f; do
            i=$((i + 1)); cp "$f" "$dest/$i-$(basename "$f")"
        done < <(find "$DATA/evtx" -name '*.evtx' -print0 | sort -z)
    fi
    have=$(du -sb "$SCRATCH/evtx" | cut -f1)
done
if [[ -z "$(ls -A "$SCRATCH/jsonl")" ]]; then
    for c in $(seq 1 "$JSON_COPIES"); do
        mkdir -p "$SCRATCH/jsonl/copy$c"
        i=0
        while IFS= read -r -d '' z; do
            i=$((i + 1))
            unzip -p "$z" '*.json' > "$SCRATCH/jsonl/copy$c/$i-$(basename "$z" .zip).json" 2>/dev/null || true
        done < <(find "$DATA/jsonl/security-datasets/atomic/windows" -name '*.zip' -print0 | sort -z)
    done
fi
echo "inputs: EVTX $(du -sh "$SCRATCH/evtx" | cut -f1) ($(find "$SCRATCH/evtx" -name '*.evtx' | wc -l) files), JSON lines $(du -sh "$SCRATCH/jsonl" | cut -f1); rules: $RULES" >&2

# 2. Runs. measure TOOL INPUT EVENTS -- command...: runs the command under /usr/bin/time -v.
printf '%-9s %-6s %10s %8s %8s %10s %12s %9s\n' tool input events wall_s cpu_s events/s events/cpu-s rss_MB
measure() {
    local tool="$1" input="$2" events="$3"; shift 3
    local log="$SCRATCH/$tool-$input.time"
    /usr/bin/time -v "$@" > "$SCRATCH/$tool-$input.out" 2> "$log" || { echo "$tool $input: failed, see $log" >&2; return; }
    local wall user sys rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
    user=$(awk -F': ' '/User time/ {print $2}' "$log")
    sys=$(awk -F': ' '/System time/ {print $2}' "$log")
    rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$log")
    if [[ "$events" == from-taishi ]]; then
        events=$(grep -o '[0-9]* events in' "$log" | head -1 | cut -d' ' -f1)
    fi
    awk -v t="$tool" -v i="$input" -v e="$events" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN {
        c = u + s; printf "%-9s %-6s %10d %8.2f %8.2f %10.0f %12.0f %9.1f\n", t, i, e, w, c, e / w, e / c, r / 1024 }'
}

threads=()
[[ -n "${THREADS:-}" ]] && threads=(--threads "$THREADS")
measure taishi evtx from-taishi "$TAISHI" hunt "${threads[@]}" --format jsonl -r "$RULES" "$SCRATCH/evtx"
evtx_events=$(grep -o '[0-9]* events in' "$SCRATCH/taishi-evtx.time" | head -1 | cut -d' ' -f1)
measure taishi jsonl from-taishi "$TAISHI" hunt "${threads[@]}" --format jsonl -r "$RULES" "$SCRATCH/jsonl"
json_events=$(grep -o '[0-9]* events in' "$SCRATCH/taishi-jsonl.time" | head -1 | cut -d' ' -f1)
measure taishi load 1 "$TAISHI" hunt -q --format jsonl -r "$RULES" "$DATA/evtx/EVTX-ATTACK-SAMPLES/Execution/Exec_sysmon_meterpreter_reversetcp_msipackage.evtx"
echo "taishi detections: evtx $(wc -l < "$SCRATCH/taishi-evtx.out"), jsonl $(wc -l < "$SCRATCH/taishi-jsonl.out")" >&2

peer() { # NAME VAR: prints a skip message when the binary is absent
    if [[ -z "${!2:-}" || ! -x "${!2:-}" ]]; then
        echo "$1: skipped (set \$$2 to its binary)" >&2
        return 1
    fi
}
if peer hayabusa HAYABUSA; then
    measure hayabusa evtx "$evtx_events" "$HAYABUSA" dfir-timeline -d "$SCRATCH/evtx" -w -q -K -C -t jsonl -U \
        ${HAYABUSA_RULES:+-r "$HAYABUSA_RULES"} -o "$SCRATCH/hayabusa-evtx.jsonl"
    measure hayabusa jsonl "$json_events" "$HAYABUSA" json-timeline -d "$SCRATCH/jsonl" -J -w -q -K -C -U \
        ${HAYABUSA_RULES:+-r "$HAYABUSA_RULES"} -o "$SCRATCH/hayabusa-jsonl.jsonl"
fi
if peer chainsaw CHAINSAW; then
    measure chainsaw evtx "$evtx_events" "$CHAINSAW" hunt "$SCRATCH/evtx" -s "$RULES" \
        --mapping "${CHAINSAW_MAPPING:?set CHAINSAW_MAPPING to mappings/sigma-event-logs-all.yml}" --jsonl --skip-errors -q
    measure chainsaw jsonl "$json_events" "$CHAINSAW" hunt "$SCRATCH/jsonl" -s "$RULES" \
        --mapping "$CHAINSAW_MAPPING" --jsonl --skip-errors -q
fi
if peer rsigma RSIGMA; then
    # rsigma reads flat JSON; EVTX must be flattened first, so only the JSON lines are compared.
    cat "$SCRATCH"/jsonl/*/*.json > "$SCRATCH/rsigma-input.ndjson"
    measure rsigma jsonl "$json_events" "$RSIGMA" engine eval -r "$RULES" -p sysmon \
        --event-logsource product=windows --logsource-routing -e @"$SCRATCH/rsigma-input.ndjson"
fi
