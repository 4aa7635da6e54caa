#!/usr/bin/env bash
# Detection differences between taishi, Chainsaw and Hayabusa on EVTX-ATTACK-SAMPLES and
# hayabusa-sample-evtx (docs/hunt-comparison.md §2). taishi and Chainsaw run all of SigmaHQ rules/,
# Hayabusa its own converted hayabusa-rules. Writes $SCRATCH/det/diff-<corpus>.txt and prints the totals.
# Env: TAISHI (default target/release/taishi), PEERS (/work/peers), SCRATCH (/tmp/taishi-peers)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/../shared/data"
TAISHI="${TAISHI:-$ROOT/target/release/taishi}"
PEERS="${PEERS:-/work/peers}"
SCRATCH="${SCRATCH:-/tmp/taishi-peers}"
CHAINSAW="$PEERS/chainsaw/target/release/chainsaw"
MAPPING="$PEERS/chainsaw/mappings/sigma-event-logs-all.yml"
out="$SCRATCH/det"; mkdir -p "$out"
"$CHAINSAW" lint "$DATA/sigma/rules" --kind sigma > "$out/chainsaw-lint.txt" 2>&1 || true
for corpus in EVTX-ATTACK-SAMPLES hayabusa-sample-evtx; do
    dir="$DATA/evtx/$corpus"
    "$TAISHI" hunt -q --format jsonl -r "$DATA/sigma/rules" -o "$out/taishi-$corpus.jsonl" "$dir"
    "$CHAINSAW" hunt "$dir" -s "$DATA/sigma/rules" --mapping "$MAPPING" --jsonl --skip-errors -q \
        > "$out/chainsaw-$corpus.jsonl" 2> /dev/null
    (cd "$PEERS/hayabusa" && ./target/release/hayabusa dfir-timeline -d "$dir" -w -q -K -C -t jsonl -U \
        -p verbose -o "$out/hayabusa-$corpus.jsonl" > /dev/null 2>&1)
    python3 "$(dirname "$0")/detections.py" "$out/taishi-$corpus.jsonl" "$out/chainsaw-$corpus.jsonl" \
        "$out/hayabusa-$corpus.jsonl" "$PEERS/hayabusa/rules" "$DATA/sigma/rules" "$dir" \
        "$out/chainsaw-lint.txt" "$MAPPING" > "$out/diff-$corpus.txt"
    echo "## $corpus (details: $out/diff-$corpus.txt)"
    grep -E '^(taishi|chainsaw|hayabusa)|^==|^-- ' "$out/diff-$corpus.txt"
done
