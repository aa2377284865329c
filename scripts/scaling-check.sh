#!/usr/bin/env bash
# CI's guard against work that grows faster than the stack: synth the generated ECS stacks of
# 100 and 1,000 services (benches/synth.rs's `generated(n)`, the benchmark's own text) with
# the debug binary and fail when 1,000 services take more than MAX_RATIO times as long as 100.
#
# Speed is a benchmark, not a test (docs/performance.md): this checks no absolute time, only
# how time grows, which does not depend on the machine's speed. Linear work gives a ratio of
# about 10 (9.7 on the project's VM, 2026-12-06); a step planned once per service for every
# service (the quadratic `edge::attachments` a session merged on 2026-12-06: 1,000 services in
# 690 ms instead of 81) gives 50 or more. The best of RUNS runs per size keeps a busy machine's
# noise out.
#
# usage: scripts/scaling-check.sh [INFRAGEN_BINARY]   (default target/debug/infragen)
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${1:-target/debug/infragen}"
max_ratio="${MAX_RATIO:-25}"
runs="${RUNS:-5}"
[ -x "$bin" ] || cargo build --quiet --locked

work=$(mktemp -d "${TMPDIR:-/tmp}/scaling-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The bench target in the dev profile: it reuses the debug build, and `--emit` only writes
# the generated blueprints.
cargo bench --quiet --locked --bench synth --profile dev -- --emit "$work/in" >/dev/null

best_ms() {
  local n="$1" best="" start end ms
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$bin" synth --provider aws --env production --blueprint "$work/in/generated-$n.yaml" \
      --out "$work/out-$n" >/dev/null 2>&1
    end=$(date +%s%N)
    ms=$(((end - start) / 1000000))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  echo "$best"
}

t100=$(best_ms 100)
t1000=$(best_ms 1000)
[ "$t100" -gt 0 ] || t100=1
ratio=$((t1000 / t100))
echo "scaling: 100 services ${t100} ms, 1,000 services ${t1000} ms (best of $runs, $bin): ratio ${ratio} (linear is about 10; limit ${max_ratio})"
if [ "$ratio" -gt "$max_ratio" ]; then
  echo "scaling: 1,000 services take ${ratio}x the time of 100: some step grows faster than the stack (look for per-service work over every service; perf record the 1,000-service synth)" >&2
  exit 1
fi
