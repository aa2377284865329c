#!/usr/bin/env bash
# Terraform itself in the loop: `terraform init -backend=false` + `terraform validate` on every
# Terraform root module of every shipped AWS blueprint × environment, through the machine's
# filesystem provider mirror (no network). The bundled schemas catch shape errors; this runs
# the real provider's own validation (ConflictsWith, ExactlyOneOf, value validators, …).
#
# usage: scripts/tf-validate.sh [INFRAGEN_BINARY] [BLUEPRINT...]
#   default binary: target/debug/infragen (built by `cargo build` when missing)
#   default blueprints: blueprints/*.yaml and the starter templates/init.yaml (a blueprint as a
#   new user writes it); those without `providers.aws` are skipped
#
# Each module is validated in a copy (scripts/tf-validate-prepare.py: aws pinned to the mirrored
# version by an override file, aws-6.x-only arguments stripped from one explicit list, resources
# of providers the mirror lacks replaced by placeholders). When Terraform or the mirror is
# missing, this says so loudly and exits 0 with SKIPPED — never a silent pass.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${1:-target/debug/infragen}"
shift || true
if [ "$#" -gt 0 ]; then blueprints=("$@"); else blueprints=(blueprints/*.yaml templates/init.yaml); fi

skip() {
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!! tf-validate SKIPPED: $1"
  echo "!! The generated Terraform was NOT checked by terraform validate."
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  exit 0
}

command -v terraform >/dev/null 2>&1 || skip "terraform is not on PATH"
command -v python3 >/dev/null 2>&1 || skip "python3 is not on PATH"
# shellcheck source=scripts/terraform-mirror.sh
. scripts/terraform-mirror.sh
mirror=$(find_mirror)
[ -n "$mirror" ] || skip "no filesystem mirror holding hashicorp/aws was found"
[ -d "$mirror/registry.terraform.io/hashicorp/aws" ] || skip "$mirror holds no hashicorp/aws"
echo "terraform: $(terraform version | head -1); mirror: $mirror"

if [ ! -x "$bin" ]; then cargo build --quiet; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tf-validate.XXXXXX")
trap 'rm -rf "$work"' EXIT
use_mirror "$mirror" "$work"

checked=0
failed=()
for blueprint in "${blueprints[@]}"; do
  stack=$(basename "$blueprint" .yaml)
  out="$work/out/$stack"
  # Every environment; a blueprint without `environments:` (a test fixture) has one stack.
  envs=(--env all)
  grep -q '^environments:' "$blueprint" || envs=(--env production)
  # A blueprint whose environments belong to one provider each names its pairs in a
  # `# targets: aws:production digitalocean:do-production …` header (tests/it/support.rs):
  # only its AWS environments are AWS stacks.
  targets=$(sed -n 's/^# targets://p' "$blueprint" | head -1)
  if [ -n "$targets" ]; then
    envs=()
    for t in $targets; do
      case "$t" in aws:*) envs+=(--env "${t#aws:}") ;; esac
    done
    if [ ${#envs[@]} -eq 0 ]; then
      echo "-- $stack: its targets name no AWS environment"
      continue
    fi
  fi
  if ! "$bin" synth --provider aws "${envs[@]}" --blueprint "$blueprint" --out "$out" \
    >"$work/synth.log" 2>&1; then
    if grep -q 'needs `providers.aws' "$work/synth.log"; then
      echo "-- $stack: no providers.aws, not an AWS blueprint"
      continue
    fi
    cat "$work/synth.log"
    failed+=("$stack (synth)")
    continue
  fi
  while IFS= read -r versions; do
    module=$(dirname "$versions")
    label="$stack/${module#"$out"/}"
    copy="$work/copy/$label"
    mkdir -p "$copy"
    cp "$module"/*.tf.json "$copy"/
    echo "== $label"
    python3 scripts/tf-validate-prepare.py "$mirror" "$copy"
    if ! terraform -chdir="$copy" init -backend=false -input=false -no-color >"$work/init.log" 2>&1; then
      cat "$work/init.log"
      failed+=("$label (init)")
      continue
    fi
    if terraform -chdir="$copy" validate -no-color; then
      checked=$((checked + 1))
    else
      failed+=("$label (validate)")
    fi
  done < <(find "$out" -path '*/terraform/*/versions.tf.json' | sort)
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "tf-validate: ${#failed[@]} module(s) FAILED:"
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
[ "$checked" -gt 0 ] || { echo "tf-validate: no module was checked"; exit 1; }
echo "tf-validate: $checked module(s) valid"
