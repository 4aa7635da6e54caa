#!/usr/bin/env python3
"""Writes orgs.csv and assets.csv for the import benchmark into DIR.

usage: gen_csv.py DIR [ORGS] [ASSETS]
A three-tier tree (1 district, ORGS/100 second-tier bodies, the rest third tier) and ASSETS assets
spread over all orgs: websites, domains, IPv4/IPv6 addresses, CIDR ranges and systems, every fifth
with a two-line software inventory. Deterministic, so runs are comparable.
"""
import csv
import os
import sys

out = sys.argv[1]
orgs = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
assets = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
os.makedirs(out, exist_ok=True)
sectors = ["government", "education", "health", "energy", "finance", "water", "transport", "telecom", "other"]
tier2 = max(1, orgs // 100)

with open(os.path.join(out, "orgs.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["code", "parent", "name", "kind", "sector", "region_code", "critical_infrastructure",
                "principal_name", "principal_phone", "principal_email",
                "security_officer_name", "security_officer_phone", "security_officer_email", "notes"])
    w.writerow(["D0", "", "基准区", "district", "government", "330100", "false",
                "张主任", "0571-80000000", "boss@d0.gov.cn", "李工", "13800000000", "sec@d0.gov.cn", ""])
    for i in range(1, orgs):
        if i <= tier2:
            code, parent, kind = f"T{i}", "D0", "township"
        else:
            code, parent, kind = f"U{i}", f"T{1 + i % tier2}", "institution"
        w.writerow([code, parent, f"单位{i}", kind, sectors[i % len(sectors)], f"330100{i % 1000:03d}",
                    "true" if i % 50 == 0 else "false", f"负责人{i}", f"0571-8{i:07d}", f"p{i}@org{i}.cn",
                    f"安全员{i}", f"139{i:08d}", f"s{i}@org{i}.cn", ""])

codes = ["D0"] + [f"T{i}" if i <= tier2 else f"U{i}" for i in range(1, orgs)]
with open(os.path.join(out, "assets.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["org", "kind", "identity", "name", "tags", "mlps_level", "critical_infrastructure", "notes", "software"])
    for n in range(assets):
        org = codes[n % len(codes)]
        k = n % 5
        if k == 0:
            kind, ident = "website", f"https://host{n}.example{n % 97}.cn/"
        elif k == 1:
            kind, ident = "domain", (f"*.zone{n}.example.cn" if n % 4 == 1 else f"zone{n}.example.cn")
        elif k == 2:
            kind, ident = "ip", (f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}" if n % 7 else f"2001:db8::{n >> 16:x}:{n & 0xffff:x}")
        elif k == 3:
            m = n // 5
            kind, ident = "cidr", f"172.{16 + (m >> 12)}.{(m >> 4) & 255}.{(m & 15) << 4}/28"
        else:
            kind, ident = "system", f"业务系统{n}"
        sw = "Apache|Tomcat|9.0.{}|cpe:2.3:a:apache:tomcat:9.0.{}:*:*:*:*:*:*:*;nginx|nginx|1.2{}".format(n % 90, n % 90, n % 10) if n % 5 == 0 else ""
        level = str(1 + n % 5) if kind in ("system", "website") else ""
        w.writerow([org, kind, ident, f"资产{n}", "bench;" + kind, level, "true" if n % 100 == 0 else "false", "", sw])
