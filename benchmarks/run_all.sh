#!/usr/bin/env bash
# Runs every benchmark in turn and keeps the output in benchmarks/results-<date>.txt (not committed).
set -uo pipefail
cd "$(dirname "$0")/.."
out="benchmarks/results-$(date +%Y%m%d-%H%M%S).txt"
for script in benchmarks/bench_*.py; do
  echo "=== $script" | tee -a "$out"
  uv run python "$script" 2>&1 | tee -a "$out"
done
echo "results in $out"
