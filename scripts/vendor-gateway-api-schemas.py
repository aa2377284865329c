#!/usr/bin/env python3
"""Vendor the Gateway API v1.6.1 (standard channel) schemas infragen emits into
providers/kubernetes-schemas/, strict like the Kubernetes ones: every object schema that
lists `properties` gets `additionalProperties: false` (the CRDs' structural schemas prune
unknown fields, which a generator must never rely on), and the root names its
group/version/kind.

usage: scripts/vendor-gateway-api-schemas.py SRC_DIR   (e.g. a gateway-api-v1.6.1 folder
holding gatewayclass-gateway-v1.json, gateway-gateway-v1.json, httproute-gateway-v1.json)
"""
import json
import os
import sys

KINDS = {
    "gatewayclass-gateway-v1": "GatewayClass",
    "gateway-gateway-v1": "Gateway",
    "httproute-gateway-v1": "HTTPRoute",
}


def strict(s):
    if isinstance(s, dict):
        if s.get("type") == "object" and "properties" in s and "additionalProperties" not in s:
            s["additionalProperties"] = False
        for v in s.values():
            strict(v)
    elif isinstance(s, list):
        for v in s:
            strict(v)


def main():
    src = sys.argv[1]
    out = os.path.join(os.path.dirname(__file__), "..", "providers", "kubernetes-schemas")
    for name, kind in KINDS.items():
        with open(os.path.join(src, name + ".json")) as f:
            schema = json.load(f)
        strict(schema)
        schema["x-kubernetes-group-version-kind"] = [
            {"group": "gateway.networking.k8s.io", "kind": kind, "version": "v1"}
        ]
        schema["x-vendored-from"] = "kubernetes-sigs/gateway-api v1.6.1, config/crd/standard"
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(schema, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
