#!/usr/bin/env bash
# Cross-check taishi's TLS verdicts against Debian's testssl (package testssl.sh) on the lab's
# TLS sites. Starts `taishi lab`, runs both tools per site, prints the raw verdicts side by side.
# Usage: bench/probe/testssl_crosscheck.sh [path/to/taishi]   (needs: apt-get install testssl.sh jq)
set -euo pipefail
BIN=${1:-target/debug/taishi}
OUT=$(mktemp -d)
"$BIN" lab --ca-out "$OUT/ca.pem" > "$OUT/lab.txt" &
LAB=$!
trap 'kill $LAB' EXIT
sleep 2
for site in good-https cert-expired cert-self-signed cert-wrong-host cert-expiring tls-legacy tls10-only tls-weak-cipher; do
  url=$(awk -v s="$site" '$1==s {print $2}' "$OUT/lab.txt")
  testssl --quiet --warnings off --color 0 --nodns none --add-ca "$OUT/ca.pem" -p -S -s -4 \
    --jsonfile "$OUT/$site.testssl.json" "$url" > /dev/null 2>&1 || true
  "$BIN" probe --format json --ca "$OUT/ca.pem" "$url" > "$OUT/$site.taishi.json"
  echo "== $site $url"
  echo -n "  taishi : "; jq -c '.checks[] | select(.check_id=="tls") | {grade: .observation.grade.grade, protocols: .observation.protocols, weak: .observation.weak, trusted: .observation.certificate.trusted, days_left: .observation.certificate.days_left, error}' "$OUT/$site.taishi.json"
  echo "  testssl: $(jq -c '[.[] | select(.id|test("^(SSLv3|TLS1|TLS1_1|TLS1_2|TLS1_3|cert_chain_of_trust|cert_expirationStatus|cert_commonName|cert_trust|RC4|cipherlist_3DES_IDEA|cipherlist_NULL|cipherlist_EXPORT|cipherlist_aNULL|cipherlist_LOW)$")) | {(.id): .finding}] | add' "$OUT/$site.testssl.json")"
done
