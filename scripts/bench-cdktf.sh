#!/usr/bin/env bash
# infragen against CDK for Terraform on THIS machine, on the same stacks, in the same minutes
# (issue 19's goals are ratios to cdktf). Not part of CI or `cargo test`: it needs Node 20+
# and npm, and takes a few minutes.
#
# usage: scripts/bench-cdktf.sh [--rounds N] [--runs K] [--typed] [--quick]
#   --rounds N  rounds of alternation (default 10); each round runs every stack through
#               infragen K times (default 10) and through cdktf once
#   --typed     also time a cdktf program using @cdktf/provider-aws's typed classes for the
#               resource types listed in benches/cdktf/typed.js (installs the optional
#               dependency, ~400 MB)
#   --quick     seed 004 and 100 services only (skips 1,000 services, ~4 s per cdktf run)
#
# Steps: npm ci in benches/cdktf (cdktf and constructs pinned by its package-lock.json); the
# release binary and the generated blueprints from `cargo bench --bench synth -- --emit`
# (the same text as the benchmark's generated(n)); one infragen synth per stack, whose
# Terraform JSON benches/cdktf/synth.js rebuilds as cdktf constructs; a check that cdktf's
# output declares the same resources, data sources and outputs with the same bodies
# (benches/cdktf/check.js); then the alternating runs (benches/cdktf/bench.py).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=10 runs=10 typed="" quick=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --typed) typed="--typed"; shift ;;
    --quick) quick=1; shift ;;
    *) echo "usage: scripts/bench-cdktf.sh [--rounds N] [--runs K] [--typed] [--quick]" >&2; exit 2 ;;
  esac
done

command -v node >/dev/null || { echo "bench-cdktf: node (20+) is needed" >&2; exit 1; }
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' ||
  { echo "bench-cdktf: node 20+ is needed, found $(node --version)" >&2; exit 1; }

(
  cd benches/cdktf
  if [ -n "$typed" ]; then
    [ -d node_modules/@cdktf/provider-aws ] || npm ci --no-audit --no-fund
  else
    [ -d node_modules/cdktf ] || npm ci --omit=optional --no-audit --no-fund
  fi
)

work="$(mktemp -d "${TMPDIR:-/tmp}/infragen-cdktf.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# One build for both: the bench target builds the release binary it measures, and --emit
# writes the generated blueprints.
cargo bench --bench synth -- --emit "$work/blueprints" >/dev/null
bin="$work/infragen"
# A copy, as installed (see benches/synth.rs: the linker's own output starts slower).
cp target/release/infragen "$bin"

cases=("seed 004 (qurable-ecs, production)=blueprints/qurable-ecs.yaml"
       "generated, 100 services=$work/blueprints/generated-100.yaml")
[ -n "$quick" ] || cases+=("generated, 1,000 services=$work/blueprints/generated-1000.yaml")

i=0
for case in "${cases[@]}"; do
  label="${case%%=*}" blueprint="${case#*=}"
  "$bin" synth --provider aws --env production --blueprint "$blueprint" \
    --out "$work/$i/infragen" >/dev/null 2>&1
  node benches/cdktf/synth.js "$work/$i/infragen" "$work/$i/cdktf" >/dev/null
  printf '%s: cdktf output ' "$label"
  node benches/cdktf/check.js "$work/$i/infragen" "$work/$i/cdktf"
  if [ -n "$typed" ]; then
    node benches/cdktf/synth.js "$work/$i/infragen" "$work/$i/cdktf-typed" --typed >/dev/null
    printf '%s: cdktf output with typed bindings ' "$label"
    node benches/cdktf/check.js "$work/$i/infragen" "$work/$i/cdktf-typed"
  fi
  i=$((i + 1))
done

python3 benches/cdktf/bench.py "$work" "$bin" "$rounds" "$runs" $typed "${cases[@]}"
