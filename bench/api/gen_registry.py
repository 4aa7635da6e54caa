#!/usr/bin/env python3
"""Writes a registry import document (JSON, the format of docs/import-format.md) with ORGS orgs in a
three-tier tree (1 district, 20 townships, villages) and ASSETS assets spread over the villages."""
import json
import sys

orgs_n, assets_n = int(sys.argv[1]), int(sys.argv[2])
townships = 20
orgs = [{"code": "D0", "name": "区 D0", "kind": "district", "sector": "government"}]
for t in range(townships):
    orgs.append({"code": f"T{t}", "parent": "D0", "name": f"乡镇 {t}", "kind": "township", "sector": "government"})
villages = []
for v in range(orgs_n - len(orgs)):
    code = f"V{v}"
    villages.append(code)
    orgs.append({"code": code, "parent": f"T{v % townships}", "name": f"村 {v}", "kind": "village",
                 "sector": ["government", "education", "health", "water"][v % 4]})
kinds = ["website", "domain", "ip", "cidr", "system"]
assets = []
for i in range(assets_n):
    kind = kinds[i % 5]
    if kind == "website":
        ident = f"https://www{i}.v{i % len(villages)}.example.cn/"
    elif kind == "domain":
        ident = f"host{i}.example.cn"
    elif kind == "ip":
        ident = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    elif kind == "cidr":
        ident = f"100.{(i >> 14) & 63}.{(i >> 6) & 255}.{(i & 63) * 4}/30"
    else:
        ident = f"业务系统 {i}"
    assets.append({"org": villages[i % len(villages)], "kind": kind, "identity": ident, "name": f"asset {i}",
                   "tags": [f"batch{i % 7}", kind]})
json.dump({"version": 1, "orgs": orgs, "assets": assets}, sys.stdout, ensure_ascii=False)
