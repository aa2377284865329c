#!/usr/bin/env python3
"""Vendor a subset of the shared provider schemas into providers/schemas/.

usage: python3 scripts/vendor-schemas.py [SHARED_SCHEMAS_DIR]
       (default: ../shared/schemas relative to the repository root)

The Rust checker (crates/check/src/) embeds these files, so `cargo test` never reads
anything outside the repository. Output is compact JSON with sorted keys so
that regenerating from the same input gives byte-identical files.
"""
import json
import os
import re
import sys

# AWS resource and data-source names are kept when they equal one of these
# prefixes or continue it with "_" (a prefix ending in "_" matches anything
# after it). Matching on whole name segments keeps `aws_route` from dragging in
# every `aws_route53*` type and `aws_vpc` from pulling in `aws_vpclattice_*`.
AWS_PREFIXES = [
    "aws_vpc",
    "aws_subnet",
    "aws_internet_gateway",
    "aws_egress_only_internet_gateway",
    "aws_eip",
    "aws_nat_gateway",
    "aws_route",
    "aws_route_table",
    "aws_main_route_table_association",
    "aws_db_",
    "aws_rds_",
    "aws_elasticache_",
    "aws_default_security_group",
    "aws_default_network_acl",
    "aws_network_acl",
    "aws_security_group",
    "aws_flow_log",
    "aws_cloudwatch_",
    "aws_iam_",
    "aws_kms_",
    "aws_s3_bucket",
    "aws_eks_",
    "aws_launch_template",
    "aws_mq_",
    "aws_dynamodb_table",
    "aws_ecr_",
    "aws_lb",
    "aws_alb",
    "aws_wafv2_",
    "aws_acm_",
    "aws_route53_record",
    "aws_route53_zone",
    "aws_secretsmanager_",
    "aws_ecs_",
    "aws_appautoscaling_",
    "aws_sns_",
    "aws_caller_identity",
    "aws_region",
    "aws_partition",
    "aws_availability_zones",
    "aws_elb_service_account",
    "aws_service_principal",
    "aws_ssm_parameter",
]

# Kubernetes: the versioned resources (`*_v1`, `*_v2`) replace the deprecated
# unversioned ones, so only those plus these unversioned helpers are kept.
KUBERNETES_EXTRA = {
    "kubernetes_manifest",
    "kubernetes_annotations",
    "kubernetes_labels",
    "kubernetes_config_map_v1_data",
    "kubernetes_env",
}

# Providers vendored whole: their schemas are small.
# Every pinned provider is vendored whole (issue 18): a resource type a user adds beside
# infragen's output (an `aws_sqs_queue` in an extra template or a hand-written file) is
# checked against its schema instead of being rejected as unknown. The full AWS schema is
# about 2.5 MB of compact JSON; compiled in as text it costs nothing at run time until the
# first check parses it.
WHOLE = {"random", "tls", "time", "helm", "digitalocean", "aws", "kubernetes"}


def aws_keep(name):
    for p in AWS_PREFIXES:
        if p.endswith("_"):
            if name.startswith(p):
                return True
        elif name == p or name.startswith(p + "_"):
            return True
    return False


def kubernetes_keep(name):
    return name.endswith("_v1") or name.endswith("_v2") or name in KUBERNETES_EXTRA


KEEP = {"aws": aws_keep, "kubernetes": kubernetes_keep}


def provider_versions(schemas_dir):
    """Provider release versions, which the schema files themselves do not record:
    read from the README of the tools that ship beside them, when it is there."""
    readme = os.path.join(schemas_dir, "..", "tools", "README.md")
    versions = {}
    try:
        text = open(readme, encoding="utf-8").read()
    except OSError:
        return versions
    for ns, name, ver in re.findall(r"\b([a-z0-9-]+)/([a-z0-9-]+) (\d+\.\d+\.\d+)\b", text):
        versions[f"{ns}/{name}"] = ver
    return versions


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    src_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, "..", "shared", "schemas")
    out_dir = os.path.join(repo, "providers", "schemas")
    os.makedirs(out_dir, exist_ok=True)
    versions = provider_versions(src_dir)

    rows = []  # (file, source, version, note, resources kept/total, data sources kept/total, bytes)
    names = sorted(f for f in os.listdir(src_dir) if f.endswith(".json"))
    if not names:
        sys.exit(f"vendor-schemas: no *.json in {src_dir}")
    for fname in names:
        provider = fname[: -len(".json")]
        if provider not in WHOLE and provider not in KEEP:
            print(f"skip {fname}: not a vendored provider")
            continue
        with open(os.path.join(src_dir, fname), encoding="utf-8") as f:
            doc = json.load(f)
        keep = (lambda _name: True) if provider in WHOLE else KEEP[provider]
        out_schemas = {}
        for source, ps in doc.get("provider_schemas", {}).items():
            res = ps.get("resource_schemas", {})
            data = ps.get("data_source_schemas", {})
            kept_res = {k: v for k, v in res.items() if keep(k)}
            kept_data = {k: v for k, v in data.items() if keep(k)}
            entry = {"resource_schemas": kept_res, "data_source_schemas": kept_data}
            if "provider" in ps:
                entry["provider"] = ps["provider"]
            out_schemas[source] = entry
            short = "/".join(source.split("/")[-2:])  # "hashicorp/aws"
            rows.append([fname, source, versions.get(short, "unknown"), doc.get("//", ""),
                         f"{len(kept_res)}/{len(res)}", f"{len(kept_data)}/{len(data)}", 0])
        note = doc.get("//", "")
        subset = "all resources and data sources" if provider in WHOLE else "a subset of resources and data sources"
        out = {
            "format_version": doc.get("format_version", "1.0"),
            "provider_schemas": out_schemas,
            "//": f"{note}; vendored by scripts/vendor-schemas.py: {subset}",
        }
        text = json.dumps(out, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
        path = os.path.join(out_dir, fname)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        for r in rows:
            if r[0] == fname:
                r[6] = len(text.encode("utf-8"))

    write_readme(out_dir, rows)
    print(f"{'file':<18} {'source':<48} {'version':<8} {'resources':>10} {'data':>8} {'bytes':>9}")
    for fname, source, ver, _note, r, d, size in rows:
        print(f"{fname:<18} {source:<48} {ver:<8} {r:>10} {d:>8} {size:>9}")
    print(f"wrote {len(rows)} schema files and README.md to {os.path.relpath(out_dir, repo)}")


def write_readme(out_dir, rows):
    lines = [
        "# Vendored provider schemas",
        "",
        "Provider schemas in the `terraform providers schema -json` format, embedded by",
        "`crates/check/src/schema.rs` so that the Terraform checker (and `cargo test`) work offline",
        "without reading anything outside this repository.",
        "",
        "They are the shared schema files (`../shared/schemas/*.json`) of every pinned provider,",
        "complete: a resource type a user adds beside infragen's output (an `aws_sqs_queue` in",
        "an extra template or a hand-written file) is checked against its schema, never",
        "rejected as unknown. (`WHOLE` and `KEEP` in `scripts/vendor-schemas.py` can trim a",
        "provider to a subset again should size ever matter.)",
        "",
        "| file | provider | version | resources kept | data sources kept | source note |",
        "|---|---|---|---|---|---|",
    ]
    for fname, source, ver, note, r, d, _size in rows:
        lines.append(f"| `{fname}` | `{source}` | {ver} | {r} | {d} | {note} |")
    lines += [
        "",
        "Versions are the provider releases the shared files were made for; the schema files do",
        "not record them, so the script reads them from `../shared/tools/README.md`. The source",
        "note is each shared file's own `//` field (kept, extended, in the vendored file).",
        "",
        "Attributes a user cannot set carry `\"computed\": true` and no required/optional flag;",
        "sets and lists are both written as `list` (a property of the shared files).",
        "",
        "Regenerate (output is deterministic: compact JSON, sorted keys):",
        "",
        "```sh",
        "python3 scripts/vendor-schemas.py [SHARED_SCHEMAS_DIR]   # default ../shared/schemas",
        "```",
        "",
    ]
    with open(os.path.join(out_dir, "README.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
