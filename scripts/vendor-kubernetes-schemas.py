#!/usr/bin/env python3
"""Vendor the strict Kubernetes JSON schemas of the kinds infragen emits into
providers/kubernetes-schemas/.

usage: python3 scripts/vendor-kubernetes-schemas.py [SHARED_K8S_SCHEMA_DIR]
       (default: ../shared/schemas/kubernetes-1.33-strict relative to the repository root)

The source folder holds the upstream Kubernetes 1.33 schemas in strict form (no unknown
fields; the kubernetes-validate package's set): one file per kind and version plus
`_definitions.json`. This script keeps the kinds listed in KINDS and, from
`_definitions.json`, only the definitions those kinds reach through `$ref`. Every schema is
reduced to the keywords the validator in crates/check/src/kubernetes.rs evaluates (descriptions
and `x-kubernetes-*` hints are dropped, except each kind's group-version-kind), and written
as JSON with sorted keys, so regenerating from the same input gives byte-identical files.

Add a kind here (and in crates/check/src/kubernetes.rs's embedded list) when the generator starts
emitting it.
"""
import json
import os
import sys

KINDS = [
    "clusterrole-rbac-v1",
    "clusterrolebinding-rbac-v1",
    "configmap-v1",
    "cronjob-batch-v1",
    "deployment-apps-v1",
    "horizontalpodautoscaler-autoscaling-v2",
    "ingress-networking-v1",
    "job-batch-v1",
    "limitrange-v1",
    "namespace-v1",
    "networkpolicy-networking-v1",
    "persistentvolumeclaim-v1",
    "poddisruptionbudget-policy-v1",
    "resourcequota-v1",
    "role-rbac-v1",
    "rolebinding-rbac-v1",
    "service-v1",
    "serviceaccount-v1",
    "statefulset-apps-v1",
    "storageclass-storage-v1",
]

# Keywords the Rust validator evaluates.
KEEP = {
    "type",
    "$ref",
    "properties",
    "additionalProperties",
    "required",
    "items",
    "enum",
    "oneOf",
    "format",
}


def ref_name(ref):
    # "/api/_definitions.json#/$defs/X" or "#/$defs/X" -> "X"
    return ref.rsplit("/", 1)[-1]


def reduce(schema, refs):
    """The schema with only KEEP keywords; `$ref`s normalised to `#/$defs/X` and collected."""
    if isinstance(schema, bool):
        return schema
    out = {}
    for k, v in schema.items():
        if k not in KEEP:
            continue
        if k == "$ref":
            name = ref_name(v)
            refs.add(name)
            out[k] = "#/$defs/" + name
        elif k == "properties":
            out[k] = {p: reduce(s, refs) for p, s in v.items()}
        elif k in ("items", "additionalProperties"):
            out[k] = reduce(v, refs)
        elif k == "oneOf":
            out[k] = [reduce(s, refs) for s in v]
        else:
            out[k] = v
    return out


def main(src):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dest = os.path.join(root, "providers", "kubernetes-schemas")
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(src, "_definitions.json")) as f:
        all_defs = json.load(f)["$defs"]

    pending = set()
    for kind in KINDS:
        with open(os.path.join(src, kind + ".json")) as f:
            schema = json.load(f)
        out = reduce(schema, pending)
        out["x-kubernetes-group-version-kind"] = schema["x-kubernetes-group-version-kind"]
        write(os.path.join(dest, kind + ".json"), out)

    defs = {}
    while pending:
        name = pending.pop()
        if name in defs:
            continue
        refs = set()
        defs[name] = reduce(all_defs[name], refs)
        pending |= refs - defs.keys()
    write(os.path.join(dest, "_definitions.json"), {"$defs": defs})
    print(f"{len(KINDS)} kinds, {len(defs)} of {len(all_defs)} definitions -> {dest}")


def write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, sort_keys=True, indent=1)
        f.write("\n")


if __name__ == "__main__":
    default = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        "..",
        "shared",
        "schemas",
        "kubernetes-1.33-strict",
    )
    main(sys.argv[1] if len(sys.argv) > 1 else default)
