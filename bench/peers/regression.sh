#!/usr/bin/env bash
# SigmaHQ regression pass rate of `taishi hunt`, end to end (EVTX reader + CLI), the way the peers'
# figures in shared/reference/sigma.md §6 were taken: all rules of rules/, rules-emerging-threats/ and
# rules-threat-hunting/ loaded once, every regression_data/**/*.evtx scanned (and, separately, the
# evtx_dump-style .json copies); a test passes when its rule id fires on its own file at least
# `match_count` times (or once when no count is given). Prints the rate and every failure.
# Env: TAISHI (default target/release/taishi), SCRATCH (default /tmp/taishi-peers)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SIGMA="$ROOT/../shared/data/sigma"
TAISHI="${TAISHI:-$ROOT/target/release/taishi}"
SCRATCH="${SCRATCH:-/tmp/taishi-peers}"
mkdir -p "$SCRATCH/regression/evtx" "$SCRATCH/regression/json"
# taishi walks folders for .evtx and .json alike, so each kind gets its own folder of symlinks
find "$SIGMA/regression_data" -name '*.evtx' | while read -r f; do
    ln -sf "$f" "$SCRATCH/regression/evtx/$(basename "$(dirname "$f")")--$(basename "$f")"; done
find "$SIGMA/regression_data" -name '*.json' | while read -r f; do
    ln -sf "$f" "$SCRATCH/regression/json/$(basename "$(dirname "$f")")--$(basename "$f")"; done
# Env: PEERS=/work/peers: when its binaries exist, Chainsaw (raw rules, its mapping) and Hayabusa (its
# converted hayabusa-rules; a hit counts for the SigmaHQ id named in `related: derived`) are scored the same way.
PEERS="${PEERS:-/work/peers}"
runs=()
for kind in evtx json; do
    "$TAISHI" hunt -q --format jsonl -r "$SIGMA/rules" -r "$SIGMA/rules-emerging-threats" \
        -r "$SIGMA/rules-threat-hunting" "$SCRATCH/regression/$kind" > "$SCRATCH/regression/taishi-$kind.jsonl"
    runs+=("taishi:$kind")
done
if [[ -x "$PEERS/chainsaw/target/release/chainsaw" ]]; then
    "$PEERS/chainsaw/target/release/chainsaw" hunt "$SIGMA/regression_data" --extension evtx -s "$SIGMA/rules" \
        -s "$SIGMA/rules-emerging-threats" -s "$SIGMA/rules-threat-hunting" \
        --mapping "$PEERS/chainsaw/mappings/sigma-event-logs-all.yml" --jsonl --skip-errors -q \
        > "$SCRATCH/regression/chainsaw-evtx.jsonl" 2> /dev/null
    runs+=("chainsaw:evtx")
fi
if [[ -x "$PEERS/hayabusa/target/release/hayabusa" ]]; then
    (cd "$PEERS/hayabusa" && ./target/release/hayabusa dfir-timeline -d "$SIGMA/regression_data" -w -q -K -C \
        -t jsonl -U -p verbose -o "$SCRATCH/regression/hayabusa-evtx.jsonl" > /dev/null 2>&1)
    runs+=("hayabusa:evtx")
fi
python3 - "$SIGMA" "$SCRATCH/regression" "$PEERS/hayabusa/rules" "${runs[@]}" <<'PY'
import collections, json, os, sys, yaml
sigma, outdir, hrules, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
derived = {}
if os.path.isdir(hrules):
    for dp, _, fs in os.walk(hrules, followlinks=True):
        for f in fs:
            if f.endswith('.yml'):
                try:
                    d = yaml.safe_load(open(os.path.join(dp, f), encoding='utf-8'))
                except Exception:
                    continue
                if isinstance(d, dict) and 'id' in d:
                    for r in d.get('related') or []:
                        if isinstance(r, dict) and r.get('type') == 'derived':
                            derived[d['id']] = r.get('id')
def key(path):  # symlink names are already "<test dir>--<file>"
    b = os.path.basename(path)
    return b if '--' in b else f"{os.path.basename(os.path.dirname(path))}--{b}"
tests = []
for dp, _, fs in os.walk(os.path.join(sigma, 'regression_data')):
    if 'info.yml' in fs:
        info = yaml.safe_load(open(os.path.join(dp, 'info.yml'), encoding='utf-8'))
        for t in info.get('regression_tests_info') or []:
            stem = os.path.splitext(os.path.basename(t['path']))[0]
            tests.append((os.path.basename(dp), stem, info['rule_metadata'][0]['id'],
                          info['rule_metadata'][0]['title'], t.get('match_count') or 1))
for run in runs:
    tool, kind = run.split(':')
    hits = collections.Counter()
    for line in open(os.path.join(outdir, f'{tool}-{kind}.jsonl'), encoding='utf-8'):
        if not line.startswith('{'):
            continue
        d = json.loads(line)
        if tool == 'taishi':
            hits[(key(d['file']), d['rule_id'])] += 1
        elif tool == 'chainsaw':
            hits[(key(d['document']['path']), d['id'])] += 1
        else:
            hits[(key(d['EvtxFile']), derived.get(d['RuleID'], d['RuleID']))] += 1
    fails = [f"  FAIL {rid} {title}: {hits[(f'{dn}--{stem}.{kind}', rid)]} of {need} ({dn})"
             for dn, stem, rid, title, need in tests if hits[(f'{dn}--{stem}.{kind}', rid)] < need]
    print(f"{tool}, {kind} copies: {len(tests) - len(fails)}/{len(tests)} = {100 * (len(tests) - len(fails)) / len(tests):.1f}%")
    print('\n'.join(sorted(fails)))
PY
