#!/usr/bin/env bash
# Full posture-check suite against N lab sites on loopback: sites/s and peak RSS.
# Usage: bench/probe/run.sh [sites=1000] [concurrency=64]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000}
C=${2:-64}
ulimit -n 65536 2>/dev/null || true
cargo build --release -q -p taishi-probe --example bench_probe
BIN=${CARGO_TARGET_DIR:-target}/release/examples/bench_probe
for n in 250 500 "$N"; do
  /usr/bin/time -f "peak_rss_kib=%M" "$BIN" "$n" "$C" 2>&1 | tr '\n' ' '
  echo
done
