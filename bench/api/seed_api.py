#!/usr/bin/env python3
"""Seeds a running taishi through its REST API from a registry document (used when `taishi import` is
not available): orgs parents first, then assets. Usage: seed_api.py HOST:PORT TOKEN FILE"""
import http.client
import json
import sys

addr, token, path = sys.argv[1], sys.argv[2], sys.argv[3]
doc = json.load(open(path))
conn = http.client.HTTPConnection(addr)
hdr = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def call(method, url, body=None):
    conn.request(method, url, body=json.dumps(body) if body is not None else None, headers=hdr)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        sys.exit(f"{method} {url} -> {r.status}: {data[:300]!r}")
    return json.loads(data) if data else None


me = call("GET", "/api/v1/auth/whoami")
ids = {}
for o in doc["orgs"]:
    parent = ids[o["parent"]] if o.get("parent") else me["org_id"]
    body = {k: v for k, v in o.items() if k != "parent"}
    body["parent_id"] = parent
    ids[o["code"]] = call("POST", "/api/v1/orgs", body)["id"]
for a in doc["assets"]:
    body = {k: v for k, v in a.items() if k != "org"}
    body["org_id"] = ids[a["org"]]
    call("POST", "/api/v1/assets", body)
print(f"seeded {len(ids)} orgs and {len(doc['assets'])} assets through the API", file=sys.stderr)
