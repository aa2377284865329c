#!/usr/bin/env python3
"""Prepare a *copy* of a generated Terraform root module for `terraform validate` through a
filesystem provider mirror (used by scripts/tf-validate.sh; never run it on real output).

usage: tf-validate-prepare.py MIRROR_ROOT MODULE_COPY_DIR

What it changes in the copy, and nothing else:

1. Pins every provider the mirror holds to the mirrored version, in
   `zz_mirror_override.tf.json` (Terraform's own override mechanism: the generated files stay
   as they are).
2. Strips the arguments that exist only in a newer major of the provider than the mirror's,
   from the one explicit list `NEWER_MAJOR_ONLY` below (each entry says why), and removes
   the data sources of `NEWER_MAJOR_DATA_SOURCES` as in 3.
3. Removes resources and data sources of providers the mirror lacks (random, tls, helm,
   kubernetes, time, ...), their `provider` blocks and `required_providers` entries, and
   replaces every reference to them with a literal placeholder of a valid shape (a string
   that passes the argument's own validation, a list where the reference was a splat), and
   drops them from `depends_on`.

Prints one line per change so the log shows exactly what was not validated.
"""

import json
import os
import re
import sys

# Arguments that exist in hashicorp/aws 6.x but not in 5.x, which the mirror holds.
# (resource type, argument path inside the resource body). Keep this list explicit and short:
# anything else the 5.x schema rejects is a real error.
NEWER_MAJOR_ONLY = [
    # aws 6.0 added `deletion_protection` to aws_eks_cluster (EKS deletion protection, 2025).
    ("aws_eks_cluster", ("deletion_protection",)),
    # aws 6.4 added ECS's own blue/green deployments (July 2025) and 6.21 canary and linear:
    # the strategy block and each load balancer's alternate target group, production listener
    # rule and infrastructure role (src/backend/aws/ecs_deployments.rs).
    ("aws_ecs_service", ("deployment_configuration",)),
    ("aws_ecs_service", ("load_balancer", "advanced_configuration")),
]

# Data sources that exist in hashicorp/aws 6.x but not in 5.x: removed like those of a provider
# the mirror lacks (references become placeholders). Keep this list explicit and short.
NEWER_MAJOR_DATA_SOURCES = {
    # aws 6.x added aws_ecr_images (list a repository's image ids); ECS services check with it
    # that their image was pushed before their first deployment (src/backend/aws/readiness.rs).
    "aws_ecr_images",
}

# Placeholders by attribute (last name in the traversal): values that pass the validation the
# consuming arguments apply (ElastiCache/MQ passwords: 16-128 printable characters without
# `@`, `"`, `/`; an OIDC thumbprint: 40 hex digits).
PLACEHOLDERS = {
    "result": "PlaceholderValue0123456789abcdef",
    "sha1_fingerprint": "9e99a48a9960b14926bb7f3b02e22da2b0ab7280",
    "hex": "0123456789abcdef",
    "hostname": "placeholder.elb.amazonaws.com",
    "name": "placeholder",
}
DEFAULT_PLACEHOLDER = "placeholder"


def mirrored_providers(mirror_root):
    """{provider local name: highest version} for hashicorp providers in the mirror."""
    found = {}
    base = os.path.join(mirror_root, "registry.terraform.io", "hashicorp")
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        versions = [v for v in os.listdir(os.path.join(base, name)) if re.match(r"^\d", v)]
        # Both mirror layouts: unpacked (<version>/<platform>/) and packed (zip files).
        for entry in os.listdir(os.path.join(base, name)):
            m = re.match(r"^terraform-provider-[a-z0-9-]+_(\d[^_]*)_", entry)
            if m:
                versions.append(m.group(1))
        if versions:
            found[name] = max(versions, key=lambda v: [int(x) if x.isdigit() else 0 for x in re.split(r"[.-]", v)])
    return found


def provider_of(resource_type, body):
    explicit = body.get("provider") if isinstance(body, dict) else None
    if isinstance(explicit, str):
        return explicit.split(".")[0]
    return resource_type.split("_")[0]


def main():
    mirror_root, module = sys.argv[1], sys.argv[2]
    mirrored = mirrored_providers(mirror_root)
    files = sorted(f for f in os.listdir(module) if f.endswith(".tf.json"))
    docs = {f: json.load(open(os.path.join(module, f))) for f in files}

    # Resources and data sources of providers the mirror lacks.
    removed = set()  # "type.name" and "data.type.name"
    for f, doc in docs.items():
        for kind in ("resource", "data"):
            blocks = doc.get(kind, {})
            for rtype in list(blocks):
                names = blocks[rtype]
                keep = {}
                for name, body in names.items():
                    newer = kind == "data" and rtype in NEWER_MAJOR_DATA_SOURCES
                    if provider_of(rtype, body) in mirrored and not newer:
                        keep[name] = body
                    else:
                        address = f"{rtype}.{name}" if kind == "resource" else f"data.{rtype}.{name}"
                        removed.add(address)
                        why = "aws 6.x only" if newer else "provider not in the mirror"
                        print(f"  removed {address} ({why})")
                if keep:
                    blocks[rtype] = keep
                else:
                    del blocks[rtype]
            if kind in doc and not doc[kind]:
                del doc[kind]
        providers = doc.get("provider", {})
        for p in list(providers):
            if p not in mirrored:
                del providers[p]
        if "provider" in doc and not doc["provider"]:
            del doc["provider"]
        required = doc.get("terraform", {}).get("required_providers", {})
        for p in list(required):
            if p not in mirrored:
                del required[p]

    # References to what was removed: inside `${...}` templates, whole traversals
    # (`random_password.x.result`, `data.tls_certificate.x.certificates[0].sha1_fingerprint`).
    types = sorted({a.split(".")[-2] for a in removed}, key=len, reverse=True)
    reference = None
    if types:
        reference = re.compile(
            r"(?<![\w.])(data\.)?(" + "|".join(map(re.escape, types)) + r")\.([\w-]+)((?:\.[\w-]+|\[[^\]]*\])*)"
        )

    def placeholder(match):
        address = f"{'data.' if match.group(1) else ''}{match.group(2)}.{match.group(3)}"
        if address not in removed:
            return match.group(0)
        path = match.group(4)
        names = re.findall(r"\.([\w-]+)", path)
        value = PLACEHOLDERS.get(names[-1], DEFAULT_PLACEHOLDER) if names else DEFAULT_PLACEHOLDER
        literal = json.dumps(value)
        return f"[{literal}]" if "[*]" in path else literal

    def template(match):
        return "${" + reference.sub(placeholder, match.group(1)) + "}"

    def refers(condition):
        return re.search(r"(?<![\w.\"])(data\.)?[a-z][a-z0-9]*_[a-z0-9_]+\.[\w-]+", condition)

    def rewrite(node, key=None):
        if isinstance(node, dict):
            return {k: rewrite(v, k) for k, v in node.items()}
        if isinstance(node, list):
            if key == "depends_on":
                return [v for v in node if not (isinstance(v, str) and v in removed)]
            if key in ("precondition", "postcondition"):
                # Terraform refuses a condition that refers to nothing: one that only read
                # what was removed is dropped.
                kept = []
                for v in node:
                    new = rewrite(v)
                    if isinstance(v, dict) and new.get("condition") != v.get("condition") and not refers(new.get("condition", "")):
                        print(f"  dropped {key} `{v.get('condition')}` (it reads only what was removed)")
                        continue
                    kept.append(new)
                return kept
            return [rewrite(v) for v in node]
        if isinstance(node, str) and reference is not None and "${" in node:
            return re.sub(r"\$\{(.*?)\}", template, node)
        return node

    for f in docs:
        docs[f] = rewrite(docs[f])

    # Arguments only the newer provider major knows.
    for f, doc in docs.items():
        for rtype, path in NEWER_MAJOR_ONLY:
            for name, body in doc.get("resource", {}).get(rtype, {}).items():
                # A block is an object, or a list of them (`load_balancer`): every one.
                nodes = [body]
                for part in path[:-1]:
                    nodes = [n.get(part) for n in nodes if isinstance(n, dict)]
                    nodes = [x for n in nodes for x in (n if isinstance(n, list) else [n])]
                for node in nodes:
                    if isinstance(node, dict) and path[-1] in node:
                        del node[path[-1]]
                        print(f"  stripped {rtype}.{name}.{'.'.join(path)} (aws 6.x only)")

    for f, doc in docs.items():
        with open(os.path.join(module, f), "w") as out:
            json.dump(doc, out, indent=2)

    required = {}
    for doc in docs.values():
        required.update(doc.get("terraform", {}).get("required_providers", {}))
    pins = {
        p: {"source": f"hashicorp/{p}", "version": mirrored[p]}
        for p in sorted(required)
        if p in mirrored
    }
    with open(os.path.join(module, "zz_mirror_override.tf.json"), "w") as out:
        json.dump({"terraform": {"required_providers": pins}}, out, indent=2)
    for p, pin in pins.items():
        print(f"  pinned {p} to the mirror's {pin['version']} (generated: {required[p].get('version')})")


if __name__ == "__main__":
    main()
