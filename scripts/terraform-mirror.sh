# Shared by tf-validate.sh and apply-moto.sh (sourced, not run): Terraform through the
# machine's filesystem provider mirror, never the network.
#
#   find_mirror          prints the mirror's root (the folder above registry.terraform.io;
#                        TF_MIRROR overrides the search); prints nothing when there is none
#   use_mirror MIRROR WORK
#                        writes WORK/cli.tfrc (the mirror, one plugin cache for every module:
#                        each init links the provider instead of copying ~700 MB) and exports
#                        the Terraform settings for unattended runs

find_mirror() {
  if [ -n "${TF_MIRROR:-}" ]; then
    echo "$TF_MIRROR"
    return
  fi
  local provider
  provider=$(find / -name 'terraform-provider-aws_*' -path '*registry.terraform.io*' \
    -not -path '*/.terraform/*' -not -path '/proc/*' 2>/dev/null | head -1 || true)
  [ -n "$provider" ] && echo "${provider%%/registry.terraform.io/*}"
  return 0
}

use_mirror() {
  local mirror=$1 work=$2
  mkdir -p "$work/plugin-cache"
  cat >"$work/cli.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/*/*"]
  }
}
plugin_cache_dir = "$work/plugin-cache"
TFRC
  export TF_CLI_CONFIG_FILE="$work/cli.tfrc" TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
}
