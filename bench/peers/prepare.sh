#!/usr/bin/env bash
# Builds the inputs of bench/peers/run.sh under $SCRATCH (never inside the repository):
#   evtx/copyN/   every .evtx under shared/data/evtx, copied N times until the set is >= EVTX_MB
#   evtx-small    symlink-free subset: the first PEER_COPIES copies (for the slow peers)
#   jsonl/        the JSON lines of shared/data/jsonl (Windows zips of OTRF Security-Datasets), unzipped,
#                 JSON_COPIES times; jsonl.ndjson is the same lines in one file (rsigma reads one file)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/../shared/data"
SCRATCH="${SCRATCH:-/tmp/taishi-peers}"
EVTX_MB="${EVTX_MB:-1024}"
PEER_COPIES="${PEER_COPIES:-2}"
JSON_COPIES="${JSON_COPIES:-4}"

mkdir -p "$SCRATCH/evtx" "$SCRATCH/evtx-small" "$SCRATCH/jsonl"
copy_once() { # DEST: one copy of every .evtx, numbered so names never collide
    local dest="$1" i=0
    mkdir -p "$dest"
    while IFS= read -r -d '' f; do
        i=$((i + 1)); cp "$f" "$dest/$i-$(basename "$f")"
    done < <(find "$DATA/evtx" -name '*.evtx' -print0 | sort -z)
}
want=$((EVTX_MB * 1024 * 1024)); copy=0
have=$(du -sb "$SCRATCH/evtx" | cut -f1)
while (( have < want )); do
    copy=$((copy + 1))
    [[ -d "$SCRATCH/evtx/copy$copy" ]] || copy_once "$SCRATCH/evtx/copy$copy"
    have=$(du -sb "$SCRATCH/evtx" | cut -f1)
done
for c in $(seq 1 "$PEER_COPIES"); do
    [[ -d "$SCRATCH/evtx-small/copy$c" ]] || copy_once "$SCRATCH/evtx-small/copy$c"
done
if [[ -z "$(ls -A "$SCRATCH/jsonl")" ]]; then
    for c in $(seq 1 "$JSON_COPIES"); do
        mkdir -p "$SCRATCH/jsonl/copy$c"; i=0
        while IFS= read -r -d '' z; do
            i=$((i + 1))
            unzip -p "$z" '*.json' > "$SCRATCH/jsonl/copy$c/$i-$(basename "$z" .zip).json" 2>/dev/null || true
            [[ -s "$SCRATCH/jsonl/copy$c/$i-$(basename "$z" .zip).json" ]] || rm -f "$SCRATCH/jsonl/copy$c/$i-$(basename "$z" .zip).json"
        done < <(find "$DATA/jsonl/security-datasets/atomic/windows" -name '*.zip' -print0 | sort -z)
    done
    cat "$SCRATCH"/jsonl/copy*/*.json > "$SCRATCH/jsonl.ndjson"
fi
echo "EVTX: $(du -sh --apparent-size "$SCRATCH/evtx" | cut -f1) in $(find "$SCRATCH/evtx" -name '*.evtx' | wc -l) files;" \
     "peer subset: $(du -sh --apparent-size "$SCRATCH/evtx-small" | cut -f1) in $(find "$SCRATCH/evtx-small" -name '*.evtx' | wc -l) files;" \
     "JSON lines: $(du -sh "$SCRATCH/jsonl" | cut -f1), $(wc -l < "$SCRATCH/jsonl.ndjson") lines" >&2
