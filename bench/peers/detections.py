#!/usr/bin/env python3
"""Compares detection sets of taishi, Chainsaw and Hayabusa on one EVTX corpus.

Usage: detections.py TAISHI.jsonl CHAINSAW.jsonl HAYABUSA.jsonl HAYABUSA_RULES_DIR SIGMA_RULES_DIR CORPUS_DIR

A detection is (file relative to CORPUS_DIR, event time truncated to the millisecond, EventID, Sigma rule
id). The time stands in for the record: taishi's `record` is the EVTX record header number, while the
peers print System/EventRecordID, and the two differ in many EVTX-ATTACK-SAMPLES files (exported logs).
Hayabusa's converted rules get new ids; their `related: [{type: derived, id}]` names the SigmaHQ id,
which is used here. Only rules under SIGMA_RULES_DIR take part (Hayabusa's own rules are counted apart).
Prints totals, then per rule the detections only one side has (rule id, title, counts, one example).
"""
import json, os, sys, collections, re
import yaml

taishi_f, chainsaw_f, hayabusa_f, hrules, srules, corpus = sys.argv[1:7]
lint_f = sys.argv[7] if len(sys.argv) > 7 else None  # `chainsaw lint --kind sigma` output, for causes
cs_mapping = sys.argv[8] if len(sys.argv) > 8 else None  # Chainsaw's mapping (its excluded titles)
corpus = os.path.realpath(corpus)

def ms(ts):  # -> 'YYYY-MM-DD HH:MM:SS.mmm'
    m = re.match(r'(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?', ts)
    return f"{m.group(1)} {m.group(2)}.{(m.group(3) or '').ljust(3, '0')[:3]}"

def rel(p):
    return os.path.relpath(os.path.realpath(p), corpus)

sigma_ids, titles, paths = set(), {}, {}
for dp, _, fs in os.walk(srules):
    for f in fs:
        if f.endswith('.yml'):
            try:
                d = yaml.safe_load(open(os.path.join(dp, f), encoding='utf-8'))
            except Exception:
                continue
            if isinstance(d, dict) and 'id' in d:
                sigma_ids.add(d['id']); titles[d['id']] = d.get('title', '')
                paths[d['id']] = os.path.relpath(os.path.join(dp, f), srules)

derived, converted = {}, collections.defaultdict(list)
for dp, _, fs in os.walk(hrules, followlinks=True):
    for f in fs:
        if not f.endswith('.yml'):
            continue
        try:
            d = yaml.safe_load(open(os.path.join(dp, f), encoding='utf-8'))
        except Exception:
            continue
        if not isinstance(d, dict) or 'id' not in d:
            continue
        orig = d['id']
        for r in d.get('related') or []:
            if isinstance(r, dict) and r.get('type') == 'derived':
                orig = r.get('id')
        derived[d['id']] = orig
        converted[orig].append(d['id'])

def hconfig(name):
    ids = set()
    for f in (os.path.join(hrules, 'config', name), os.path.join(hrules, '..', 'config', name)):
        if os.path.exists(f):
            ids |= {l.split()[0] for l in open(f, encoding='utf-8') if l.strip() and not l.startswith('#')}
    return ids
h_excluded, h_noisy = hconfig('exclude_rules.txt'), hconfig('noisy_rules.txt')
cs_lint = {}
if lint_f:
    for l in open(lint_f, encoding='utf-8', errors='replace'):
        m = re.match(r'\[!\] /(.+?\.yml): (.*)', l.strip())
        if m:
            cs_lint[m.group(1)] = m.group(2)
cs_excl = set()
if cs_mapping:
    cs_excl = set((yaml.safe_load(open(cs_mapping, encoding='utf-8')) or {}).get('exclusions') or [])

cs_fields = set()
if cs_mapping:
    for g in (yaml.safe_load(open(cs_mapping, encoding='utf-8')) or {}).get('groups') or []:
        cs_fields |= {f['from'] for f in g.get('fields') or []}

def hints(rid, peer):
    """Rule features that commonly explain a difference (a hint, checked by hand in the doc)."""
    text = open(os.path.join(srules, paths[rid]), encoding='utf-8').read()
    d = yaml.safe_load(text)
    out = []
    if re.search(r"\\\\\\\\|\\\\[*?]|\\[*?]", text.split('detection:', 1)[-1].split('condition:', 1)[0]):
        out.append('escaped \\\\ \\* \\? in values')
    if re.search(r':\s*null\b', text):
        out.append('null')
    if peer == 'chainsaw' and cs_fields:
        fields = set()
        for k, v in d['detection'].items():
            for item in (v if isinstance(v, list) else [v]) if k != 'condition' else []:
                if isinstance(item, dict):
                    fields |= {f.split('|')[0] for f in item}
        missing = sorted(fields - cs_fields)
        if missing:
            out.append('fields absent from chainsaw mapping: ' + ','.join(missing))
    return '; '.join(out)

def cause(peer, rid):
    c = cause0(peer, rid)
    h = hints(rid, peer) if 'loaded' in c else ''
    return c + (' | ' + h if h else '')

def cause0(peer, rid):
    if peer == 'chainsaw':
        if paths.get(rid) in cs_lint:
            return 'chainsaw does not load the rule: ' + cs_lint[paths[rid]][:60]
        if titles.get(rid) in cs_excl:
            return 'rule title on the exclusion list of chainsaw\'s mapping'
        return 'rule loaded by chainsaw'
    hs = converted.get(rid, [])
    if not hs:
        return 'no converted rule in hayabusa-rules'
    if all(h in h_excluded for h in hs):
        return 'converted rule in hayabusa exclude_rules.txt'
    if all(h in h_noisy | h_excluded for h in hs):
        return 'converted rule in hayabusa noisy_rules.txt (off by default)'
    return 'converted rule loaded by hayabusa'

def load(path, conv):
    out = set()
    for line in open(path, encoding='utf-8'):
        line = line.strip()
        if line.startswith('{'):
            k = conv(json.loads(line))
            if k and k[3] in sigma_ids:
                out.add(k)
    return out

taishi = load(taishi_f, lambda d: (rel(d['file']), ms(d['timestamp']), int(d['event_id'] or 0), d['rule_id']))
def cs(d):
    s = d['document']['data']['Event']['System']
    return (rel(d['document']['path']), ms(d['timestamp']), int(s['EventID'] if not isinstance(s['EventID'], dict) else s['EventID']['#text']), d['id'])
chainsaw = load(chainsaw_f, cs)
own = collections.Counter()
def hb(d):
    orig = derived.get(d['RuleID'], d['RuleID'])
    if orig not in sigma_ids:
        own['other'] += 1
        return None
    return (rel(d['EvtxFile']), ms(d['Timestamp']), int(d['EventID']), orig)
hayabusa = load(hayabusa_f, hb)

def summary(name, s):
    print(f"{name}: {len(s)} detections, {len({k[3] for k in s})} rules, {len({k[:3] for k in s})} events")
summary('taishi', taishi); summary('chainsaw', chainsaw); summary('hayabusa (SigmaHQ-derived)', hayabusa)
print(f"hayabusa detections by its own or non-rules/ rules (left out): {own['other']}")

def diff(a_name, a, b_name, b):
    peer = b_name
    print(f"\n== {a_name} vs {b_name}: both {len(a & b)}, only {a_name} {len(a - b)}, only {b_name} {len(b - a)}")
    for label, only in ((f'only {a_name}', a - b), (f'only {b_name}', b - a)):
        by = collections.defaultdict(list)
        for k in only:
            by[k[3]].append(k)
        print(f"-- {label}: {len(only)} detections in {len(by)} rules")
        for rid, ks in sorted(by.items(), key=lambda x: -len(x[1])):
            ks.sort()
            print(f"  {len(ks):5d}  {rid}  {titles.get(rid, '')[:60]}  [{cause(peer, rid)}]  e.g. {ks[0][0]} {ks[0][1]} EID {ks[0][2]}")

diff('taishi', taishi, 'chainsaw', chainsaw)
diff('taishi', taishi, 'hayabusa', hayabusa)
