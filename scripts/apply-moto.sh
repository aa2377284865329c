#!/usr/bin/env bash
# Developer-run: `terraform apply` the bootstrap and infra modules of shipped AWS blueprints
# against moto (a mock AWS API on 127.0.0.1), then report per resource type what was created,
# what the API rejected (with its message) and what moto does not implement.
#
# usage: scripts/apply-moto.sh [STACK:ENV ...]
#   STACK: a shipped blueprint's name (blueprints/STACK.yaml) or a path to a blueprint file,
#   e.g. templates/init.yaml:production
#   default: every AWS blueprint's production environment, plus qurable-ecs:staging
#   env: INFRAGEN (binary, default target/debug/infragen), MOTO_PORT (default 5077),
#        RESOURCE_TIMEOUT (per-resource create/update/delete timeout, default 3m),
#        APPLY_TIMEOUT (seconds per `terraform apply`, default 900),
#        MOTO_SETUP (a command run after each reset, before synth, with MOTO_ENDPOINT set:
#        creates what a blueprint reads, e.g. scripts/moto-existing-vpc.py),
#        MOTO_SHARED=1 (one account for every STACK:ENV: moto is reset before the first only,
#        so environments applied one after the other meet as in one real account — names,
#        security groups in a shared VPC; MOTO_SETUP still runs before each),
#        DAY2 (changed blueprint files, separated by spaces: after the first STACK:ENV is
#        applied, each is synthesized in turn for the same environment into the same module
#        copies — same state, the previous change's — then planned and applied; the output
#        lists what each plan creates, updates, replaces and destroys, per module)
#
# The second plan: after each apply (each day-2 apply too), `terraform plan
# -detailed-exitcode` of the same copy and state — what CI shows on the next pull request
# with the blueprint unchanged. It must say "No changes"; otherwise the script prints, per
# module, each resource the plan would still touch with only the attributes that differ
# (before -> after, from `terraform show -json`; "(forces replacement)" where it does), the
# resources the apply did not create counted apart, and diffs known to come from moto
# (apply-moto.py MOTO_REPLAN_QUIRKS) marked as such. The summary ends with one line per
# module (apply-moto.py replan; logs/*.replan.{txt,json,out}).
#
# Needs terraform and a filesystem provider mirror holding hashicorp/aws (same search as
# scripts/tf-validate.sh); installs moto[server] with pip when missing. Each module is applied
# from a copy prepared like tf-validate (aws pinned to the mirror, providers the mirror lacks
# replaced by placeholders) plus zz_moto_override.tf.json (endpoints, fake credentials, local
# state, per-resource timeouts). moto is reset between stacks and always stopped on exit.
# Two substitutions are made for moto only, and printed: a listener's certificate ARN (the
# blueprint's exists in its own account) becomes one moto issues, and an RDS backup window
# that touches the maintenance window ends a minute earlier (moto counts a shared boundary
# as overlap; AWS does not). moto bugs in what the output uses are patched in moto's own
# process, and printed (apply-moto.py patch_moto): every RDS instance gets a resource id of
# its own (moto gives all one, so the provider cannot read a read replica back), a
# replication group gets its NumCacheClusters members and they exist as cache clusters (the
# provider reads the first one), PutBucketLogging reads the target bucket's policy as
# IAM does, an EKS cluster keeps the accessConfig and upgradePolicy it was created with (a
# day-2 plan replaced it, or crashed the provider), ModifySecurityGroupRules takes a
# rule of every protocol without ports, GetQueueAttributes returns an SQS queue's
# RedriveAllowPolicy (moto keeps it but leaves it out, and the provider waits for it), and
# what made the second plan differ on moto's side only (an instance's interface without a
# public IP has no association, the instance lists its interface's groups, a rule keeps the
# description of its referenced group, a node group keeps remoteAccess/updateConfig/
# nodeRepairConfig as asked, a launch template's own tags stay out of its data, parameters
# set are Source user, an RDS instance keeps Performance Insights and Enhanced Monitoring, an
# ECS service keeps its grace period, managed tags and AZ rebalancing, and Application Auto
# Scaling keeps tags — ListTagsForResource was not implemented, so no plan could refresh —
# and SQS answers a RedrivePolicy compact, as AWS does).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bin="${INFRAGEN:-target/debug/infragen}"
port="${MOTO_PORT:-5077}"
resource_timeout="${RESOURCE_TIMEOUT:-3m}"
apply_timeout="${APPLY_TIMEOUT:-900}"
endpoint="http://127.0.0.1:$port"

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for blueprint in blueprints/*.yaml; do
    grep -qE '^  aws:' "$blueprint" && targets+=("$(basename "$blueprint" .yaml):production")
  done
  targets+=("qurable-ecs:staging")
fi

command -v terraform >/dev/null || { echo "apply-moto: terraform is not on PATH" >&2; exit 2; }
# shellcheck source=scripts/terraform-mirror.sh
. scripts/terraform-mirror.sh
mirror=$(find_mirror)
[ -n "$mirror" ] || { echo "apply-moto: no provider mirror holding hashicorp/aws" >&2; exit 2; }
if ! python3 -c 'import moto.server, flask' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check 'moto[server]'
fi
[ -x "$bin" ] || cargo build --quiet

work=$(mktemp -d "${TMPDIR:-/tmp}/apply-moto.XXXXXX")
moto_pid=""
cleanup() {
  if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
}
# On INT/TERM stop moto *and* the run: a handler that returns lets bash carry on with the
# next apply, against a moto that is no longer there.
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# moto's server with its bugs in what the output uses patched (apply-moto.py patch_moto).
MOTO_IAM_LOAD_MANAGED_POLICIES=true python3 scripts/apply-moto.py serve 127.0.0.1 "$port" \
  >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 50); do
  curl -fsS "$endpoint/moto-api/" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$endpoint/moto-api/" >/dev/null || { cat "$work/moto.log"; echo "apply-moto: moto did not start" >&2; exit 1; }
echo "moto $(python3 -c 'import moto; print(moto.__version__)') on $endpoint (log: $work/moto.log)"
grep '^moto patch' "$work/moto.log" | sed 's/^/  /' || true

mkdir -p "$work/logs"
use_mirror "$mirror" "$work"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true

# The provider's schema (endpoint names, which resource types take `timeouts`), read once.
mkdir -p "$work/schema"
printf '{"terraform":{"required_providers":{"aws":{"source":"hashicorp/aws"}}}}' >"$work/schema/main.tf.json"
terraform -chdir="$work/schema" init -backend=false -input=false >/dev/null
terraform -chdir="$work/schema" providers schema -json >"$work/schema.json"

# The second plan: right after an apply, `terraform plan -detailed-exitcode` of the same copy
# and state. An unchanged blueprint must plan "No changes" (a CI plan on every pull request
# shows otherwise a perpetual diff); the differing attributes are printed
# (apply-moto.py replan) and counted in the summary.
replans=()
replan() {
  local copy="$1" name="$2" label="$3" rc
  set +e
  timeout --signal=INT --kill-after=30 "$apply_timeout" terraform -chdir="$copy" plan -input=false \
    -no-color -detailed-exitcode -parallelism=20 -out="$copy/replan.plan" >"$work/logs/$name.replan.txt" 2>&1
  rc=$?
  set -e
  if [ "$rc" -eq 1 ] || [ "$rc" -gt 2 ]; then
    echo "   $label re-plan: error (exit $rc): $(grep -m1 '^Error' "$work/logs/$name.replan.txt")"
    replans+=("$label: error")
    return
  fi
  terraform -chdir="$copy" show -json "$copy/replan.plan" >"$work/logs/$name.replan.json"
  python3 scripts/apply-moto.py replan "$work/logs/$name.replan.json" "$label" | tee "$work/logs/$name.replan.out" || true
  replans+=("$(head -1 "$work/logs/$name.replan.out" | sed 's/^ *//')")
}

logs=()
for target in "${targets[@]}"; do
  stack="${target%%:*}"
  # A stack is a shipped blueprint's name, or a path to any blueprint file.
  if [ -f "$stack" ]; then file="$stack"; stack=$(basename "$stack" .yaml); else file="blueprints/$stack.yaml"; fi
  env="${target#*:}"
  out="$work/out/$stack-$env"
  echo "== $stack ($env)"
  if [ "${MOTO_SHARED:-}" != 1 ] || [ "$target" = "${targets[0]}" ]; then
    curl -fsS -X POST "$endpoint/moto-api/reset" >/dev/null
  fi
  # A blueprint that reads what already exists (`network.existing`) needs it in moto first:
  # MOTO_SETUP runs after the reset, with MOTO_ENDPOINT set, and may rewrite the blueprint
  # file with the ids moto gave (scripts/moto-existing-vpc.py).
  if [ -n "${MOTO_SETUP:-}" ]; then MOTO_ENDPOINT="$endpoint" bash -c "$MOTO_SETUP"; fi
  "$bin" synth --provider aws --env "$env" --blueprint "$file" --out "$out" >/dev/null
  region=$(grep -m1 -oE '"region": "[a-z0-9-]+"' "$out/terraform/infra/providers.tf.json" | cut -d'"' -f4)
  certificate=$(python3 scripts/apply-moto.py certificate "$endpoint" "$region")
  for module in bootstrap infra; do
    [ -d "$out/terraform/$module" ] || continue
    copy="$work/copy/$stack-$env/$module"
    mkdir -p "$copy"
    cp "$out/terraform/$module"/*.tf.json "$copy"/
    python3 scripts/tf-validate-prepare.py "$mirror" "$copy" >"$work/logs/$stack-$env-$module.prepare"
    # Around what moto has no API for (EKS add-ons and access entries, ...): see MOTO_GAPS.
    python3 scripts/apply-moto.py gaps "$copy" >>"$work/logs/$stack-$env-$module.prepare"
    cp "$copy/moto-skipped.txt" "$work/logs/$stack-$env-$module.skipped"
    python3 scripts/apply-moto.py override "$work/schema.json" "$copy" "$endpoint" "$resource_timeout" \
      "$certificate" >>"$work/logs/$stack-$env-$module.prepare"
    terraform -chdir="$copy" init -input=false -no-color >"$work/logs/$stack-$env-$module.init" 2>&1 \
      || { cat "$work/logs/$stack-$env-$module.init"; exit 1; }
    grep -h '^  moto' "$work/logs/$stack-$env-$module.prepare" | sed 's/^/ /' || true
    log="$work/logs/$stack-$env-$module.json"
    start=$(date +%s)
    set +e
    timeout --signal=INT --kill-after=30 "$apply_timeout" \
      terraform -chdir="$copy" apply -auto-approve -input=false -json -parallelism=20 >"$log" 2>&1
    rc=$?
    set -e
    echo "   $module: exit $rc in $(($(date +%s) - start)) s"
    [ "$rc" -eq 124 ] && echo "   $module: apply hit the overall timeout (${apply_timeout}s)"
    logs+=("$log")
    # On ECS `infra` stops at the services until the blueprint's secrets have values (their
    # first deployment would stall otherwise): put placeholders, as an operator would, and
    # apply again.
    if [ "$module" = infra ] && [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] \
      && grep -q 'Resource precondition failed' "$log" \
      && grep -q SecretsManagerSecretValue "$out/preconditions.json" 2>/dev/null; then
      python3 scripts/apply-moto.py fill-secrets "$endpoint" "$region" "$out/preconditions.json"
      retry="${log%.json}.retry.json"
      start=$(date +%s)
      set +e
      timeout --signal=INT --kill-after=30 "$apply_timeout" \
        terraform -chdir="$copy" apply -auto-approve -input=false -json -parallelism=20 >"$retry" 2>&1
      rc=$?
      set -e
      echo "   $module (after the secret values): exit $rc in $(($(date +%s) - start)) s"
      logs+=("$retry")
    fi
    if [ "$rc" -ne 124 ]; then replan "$copy" "$stack-$env-$module" "$stack-$env $module"; fi
  done
done

# Day 2: the first target, changed, planned and applied on top of its own state; several
# changes (DAY2="a.yaml b.yaml") are applied one after the other, each on the state the
# previous one left.
step=0
for change in ${DAY2:-}; do
  step=$((step + 1))
  target="${targets[0]}"
  stack="${target%%:*}"
  [ -f "$stack" ] && stack=$(basename "$stack" .yaml)
  env="${target#*:}"
  out="$work/out/$stack-$env-day2-$step"
  echo "== $stack ($env) changed to $change"
  "$bin" synth --provider aws --env "$env" --blueprint "$change" --out "$out" >/dev/null
  # The certificate moto issued for the first apply stays (a new one would change the
  # listener in every step).
  for module in bootstrap infra; do
    [ -d "$out/terraform/$module" ] || continue
    copy="$work/copy/$stack-$env/$module"
    name="$stack-$env-$module.day2-$step"
    mkdir -p "$copy"
    # The state (terraform.tfstate) and .terraform/ stay; the configuration is the new one.
    rm -f "$copy"/*.tf.json
    cp "$out/terraform/$module"/*.tf.json "$copy"/
    python3 scripts/tf-validate-prepare.py "$mirror" "$copy" >"$work/logs/$name.prepare"
    python3 scripts/apply-moto.py gaps "$copy" >>"$work/logs/$name.prepare"
    python3 scripts/apply-moto.py override "$work/schema.json" "$copy" "$endpoint" "$resource_timeout" \
      "$certificate" >>"$work/logs/$name.prepare"
    terraform -chdir="$copy" init -input=false -no-color >"$work/logs/$name.init" 2>&1 \
      || { cat "$work/logs/$name.init"; exit 1; }
    set +e
    timeout --signal=INT --kill-after=30 "$apply_timeout" \
      terraform -chdir="$copy" plan -input=false -no-color -out="$copy/day2.plan" >"$work/logs/$name.plan.txt" 2>&1
    terraform -chdir="$copy" show -json "$copy/day2.plan" >"$work/logs/$name.plan.json" 2>/dev/null
    set -e
    echo "   $module plan: $(grep -E '^Plan:|No changes|^Error' "$work/logs/$name.plan.txt" | head -1)"
    python3 - "$work/logs/$name.plan.json" <<'PY'
import json, sys
try:
    plan = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
for rc in plan.get("resource_changes", []):
    actions = rc["change"]["actions"]
    if actions not in (["no-op"], ["read"]):
        why = ", ".join(".".join(map(str, p)) for p in rc["change"].get("replace_paths") or [])
        print(f"     {'/'.join(actions):>15} {rc['address']}" + (f"  (forced by {why})" if why else ""))
PY
    log="$work/logs/$name.json"
    start=$(date +%s)
    set +e
    timeout --signal=INT --kill-after=30 "$apply_timeout" \
      terraform -chdir="$copy" apply -auto-approve -input=false -json -parallelism=20 >"$log" 2>&1
    rc=$?
    set -e
    echo "   $module day-2 apply: exit $rc in $(($(date +%s) - start)) s"
    logs+=("$log")
    if [ "$rc" -ne 124 ]; then replan "$copy" "$name" "$stack-$env $module day-2 $step"; fi
  done
done

echo
echo "== summary (logs in $work/logs)"
set +e
python3 "$root/scripts/apply-moto.py" report "$work/moto.log" "${logs[@]}" | tee "$work/summary.txt"
status=${PIPESTATUS[0]}
set -e
echo
echo "== re-plan after apply (same blueprint, same state: expected \"no changes\")"
for line in "${replans[@]}"; do echo "$line"; done | tee -a "$work/summary.txt"
exit "$status"
