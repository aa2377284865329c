#!/usr/bin/env python3
"""Combination generator: blueprints nobody wrote, built from the documented features.

From a seed, composes blueprints out of a menu taken from docs/reference.md and the
fixtures (1-6 services with or without a port, jobs, autoscaling, rollouts, files, sidecars,
init containers, release steps, gRPC, internal routes, image credentials; databases, caches
and queues managed and in the cluster, buckets, tables, SQS; `uses` between them; ingress
hosts/TLS/gateway; observability; network options; EKS, EKS Fargate, ECS Fargate, DOKS and an
existing cluster; environments with overlays), synthesizes each for every environment and
classifies the result:

- refused: exit 2 with a positioned error (`--> file:line:col`), counted by rule;
- clean: exit 0 and every checker passes (tfcheck, k8scheck, `kubectl kustomize`,
  `infragen validate`) and the manifests' cross-references hold (`xrefs`: routes, Services,
  autoscalers, budgets, service accounts and in-cluster URLs name what exists; on ECS each
  `http://<name>:<port>` a container gets is a Service Connect alias: `ecs_xrefs`);
- finding: a panic, any other exit code, an unpositioned error, or a checker failure.

Findings are written to OUT/findings/<n>-<provider>-<env>.json (with the checker output)
beside the blueprint, so each reproduces with `infragen synth --blueprint ...`. With
`--keep DIR` every clean blueprint is copied to DIR, so the behavioural invariants of
tests/it/connections.rs (every Secret/ConfigMap a pod reads is made or listed; every
`uses` gives the workload its variables) run over them:
`INFRAGEN_COMBOS=DIR cargo test --test it connections::`.

A dev tool: it needs /work/shared (the checkers and schemas), the Python packages the
checkers import (k8scheck: `kubernetes-validate` and PyYAML; PyYAML also for the
cross-reference checks, `xrefs`) and kubectl. It checks them at start (`preflight`: each
checker must run to its summary line on an empty folder) and exits 2 naming what is
missing, rather than report every combo as a finding; a checker that later stops short of
its summary line stops the run the same way. Blueprints are written as JSON (which YAML
reads).

    python3 scripts/combos.py --seed 1 --count 300 [--bin target/debug/infragen]
        [--shared /work/shared] [--out /tmp/combos] [--keep DIR] [--budget 900]
"""

import argparse
import collections
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

try:
    import yaml  # PyYAML: the cross-reference checks read the manifests
except ImportError:
    yaml = None

IMG = "ghcr.io/acme/{}:1.2.3"

PLATFORMS = [
    # (provider, platform)
    ("aws", "eks"),
    ("aws", "eks_fargate"),
    ("aws", "ecs_fargate"),
    ("digitalocean", "doks"),
    ("kubernetes", "existing"),
]


def k8s_platform(platform):
    return platform in ("eks", "eks_fargate", "doks", "existing")


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def chance(self, p):
        return self.r.random() < p

    def pick(self, xs):
        return self.r.choice(xs)

    def some(self, xs, lo=0, hi=None):
        hi = len(xs) if hi is None else min(hi, len(xs))
        n = self.r.randint(min(lo, hi), hi)
        return self.r.sample(xs, n)

    # ---- skeleton -------------------------------------------------------------------

    def skeleton(self, provider, platform):
        bp = {"name": self.pick(["shop", "acme", "combo", "relay"])}
        if self.chance(0.3):
            bp["tags"] = {"team": "platform", "cost-center": "eng"}
        if provider == "aws":
            bp["providers"] = {"aws": {"region": "eu-west-1"}}
            bp["state"] = {"bucket": bp["name"] + "-tfstate-{env}", "locking": True}
            net = {
                "cidr": "10.0.0.0/16",
                "zones": ["eu-west-1a", "eu-west-1b"],
                "nat": self.pick(["single", "per_zone"]),
                "subnets": {
                    "public": ["10.0.0.0/24", "10.0.1.0/24"],
                    "private": ["10.0.64.0/20", "10.0.80.0/20"],
                    "database": ["10.0.20.0/24", "10.0.21.0/24"],
                },
            }
            if self.chance(0.25):
                net["endpoints"] = self.some(["ecr", "logs", "secretsmanager", "sts", "sqs"], 1, 3)
            bp["network"] = net
        elif provider == "digitalocean":
            bp["providers"] = {"digitalocean": {"region": "ams3"}}
            bp["state"] = {"bucket": bp["name"] + "-tfstate-{env}"}
            bp["network"] = {"cidr": "10.10.0.0/16"}
        else:
            bp["providers"] = {"kubernetes": {}}
        cluster = {"platform": platform}
        if platform in ("eks", "eks_fargate"):
            cluster["version"] = "1.35"
            cluster["addons"] = ["vpc-cni", "coredns", "kube-proxy"]
            if platform == "eks" and self.chance(0.5):
                cluster["addons"].append("aws-ebs-csi-driver")
        if platform == "doks":
            cluster["version"] = "1.35"
        bp["cluster"] = cluster
        if platform in ("eks", "doks"):
            pools = [{"name": "general", "size": "medium", "min": 2, "max": 4}]
            if self.chance(0.3):
                pools.append(
                    {
                        "name": "compute",
                        "size": "large",
                        "min": 1,
                        "max": 3,
                        "spot": platform == "eks" and self.chance(0.5),
                        "taints": [{"key": "workload", "value": "compute", "effect": "NoSchedule"}],
                    }
                )
            bp["node_pools"] = pools
        return bp

    # ---- data services --------------------------------------------------------------

    def data(self, bp, provider, platform):
        comps = []  # (name, kind)
        in_cluster_ok = k8s_platform(platform) and platform != "eks_fargate"
        dbs = []
        for i in range(self.r.randint(0, 2)):
            engine = self.pick(["postgres", "mysql", "mongodb"])
            name = ["main-db", "ledger"][i]
            d = {"name": name, "engine": engine}
            managed = provider != "kubernetes" and not (engine == "mongodb") and not self.chance(0.25)
            if engine == "mongodb" and provider == "digitalocean" and self.chance(0.5):
                managed = True
            if not managed:
                if not in_cluster_ok and not self.chance(0.1):
                    continue
                d["deployment"] = "in_cluster"
                ic = {}
                if self.chance(0.4):
                    ic["replicas"] = self.pick([1, 2, 3])
                if self.chance(0.3):
                    ic["volume_size"] = "20Gi"
                if self.chance(0.2):
                    ic["exporter"] = {}
                if ic:
                    d["in_cluster"] = ic
                if self.chance(0.2):
                    d["backup"] = {"schedule": "0 2 * * *", "retention_days": 7}
            else:
                d["size"] = "small"
                if provider == "aws" or self.chance(0.5):
                    d["storage"] = {"size_gb": 20}
                if self.chance(0.3):
                    d["ha"] = True
                if self.chance(0.3):
                    d["replicas"] = 1
                if self.chance(0.4):
                    d["database_name"] = "app"
                if self.chance(0.3):
                    d["backup"] = {"retention_days": 7, "window": "03:00-04:00"}
                    d["maintenance_window"] = "sun:05:00-sun:06:00"
            if self.chance(0.15):
                d["port"] = {"postgres": 6432, "mysql": 3307, "mongodb": 27018}[engine]
            if self.chance(0.1) and d.get("deployment") == "in_cluster":
                d.setdefault("in_cluster", {})["service_name"] = name + "-svc"
            dbs.append(d)
            comps.append((name, "database"))
        if dbs:
            bp["databases"] = dbs
        caches = []
        for i in range(self.r.randint(0, 1)):
            name = "sessions"
            c = {"name": name, "engine": self.pick(["redis", "valkey"])}
            if provider == "kubernetes" or (in_cluster_ok and self.chance(0.3)):
                c["deployment"] = "in_cluster"
                if self.chance(0.3):
                    c["in_cluster"] = {"replicas": self.pick([1, 2])}
            else:
                c["size"] = "small"
                if self.chance(0.3):
                    c["ha"] = True
                    c["nodes"] = 2
            if self.chance(0.2):
                c["port"] = 6380
            if self.chance(0.2) and any(x.get("name") == "stripe" for x in bp.get("secrets", [])) is False:
                pass
            caches.append(c)
            comps.append((name, "cache"))
        if caches:
            bp["caches"] = caches
        queues = []
        for i in range(self.r.randint(0, 2)):
            name = ["events", "jobs"][i]
            q = {"name": name}
            if provider == "aws" and self.chance(0.6):
                q["engine"] = "sqs"
                if self.chance(0.3):
                    q["fifo"] = True
                    q["content_based_deduplication"] = True
                if self.chance(0.3):
                    q["visibility_timeout_seconds"] = 120
                comps.append((name, "sqs"))
            else:
                q["engine"] = "rabbitmq"
                if provider != "aws" or self.chance(0.4):
                    if not in_cluster_ok and not self.chance(0.1):
                        continue
                    q["deployment"] = "in_cluster"
                else:
                    q["size"] = "small"
                comps.append((name, "rabbitmq"))
            queues.append(q)
        if queues:
            bp["queues"] = queues
        if provider in ("aws", "digitalocean") and self.chance(0.4):
            b = {"name": "uploads"}
            if self.chance(0.4):
                b["cors"] = [
                    {"allowed_methods": ["GET", "PUT"], "allowed_origins": ["https://shop.example.com"]}
                ]
            if self.chance(0.3):
                b["expire_after_days"] = 30
            bp["buckets"] = [b]
            comps.append(("uploads", "bucket"))
        if provider == "aws" and self.chance(0.3):
            t = {"name": "carts", "partition_key": {"name": "id", "type": "S"}, "table": "{env}-carts"}
            if self.chance(0.4):
                t["sort_key"] = {"name": "ts", "type": "N"}
            bp["tables"] = [t]
            comps.append(("carts", "table"))
        secrets = []
        if self.chance(0.5):
            secrets.append({"name": "stripe", "keys": ["api-key"]})
            comps.append(("stripe", "secret"))
        if secrets and self.chance(0.3):
            secrets[0]["path"] = "app/stripe-{env}"
        if self.chance(0.3):
            secrets.append({"name": "ghcr", "keys": ["username", "password"]})
        if self.chance(0.15):
            secrets.append({"name": "cache-token", "keys": ["token"]})
            for c in bp.get("caches", []):
                if c.get("deployment") != "in_cluster":
                    c["auth_token_secret"] = "cache-token"
        if secrets:
            bp["secrets"] = secrets
        return comps

    # ---- workloads ------------------------------------------------------------------

    def service(self, i, provider, platform, comps, names, bp):
        name = names[i]
        s = {"name": name, "image": IMG.format(name)}
        has_port = self.chance(0.75)
        if has_port:
            s["port"] = self.pick([8080, 3000, 9090])
        if self.chance(0.3):
            s["replicas"] = self.pick([1, 2, 3])
        if has_port and self.chance(0.2):
            s["protocol"] = "grpc"
        usable = [c for c in comps if c[1] != "secret" or self.chance(0.5)]
        uses = [c[0] for c in self.some(usable, 0, 3)]
        # Other services with a port (no cycles: only earlier ones).
        others = [n for n in names[:i] if n in self.ported]
        if others and self.chance(0.4):
            uses.append(self.pick(others))
        if uses:
            s["uses"] = uses
            if self.chance(0.15):
                u0 = uses[0]
                s["uses"][0] = {"name": u0, "env_prefix": "DEP"}
            elif self.chance(0.15):
                u0 = uses[0]
                kind = dict(comps).get(u0)
                field = {"database": "host", "cache": "port", "bucket": "bucket", "table": "table", "sqs": "url", "rabbitmq": "host"}.get(kind)
                if field:
                    s["uses"][0] = {"name": u0, "env": {"ALIAS_" + field.upper(): field}}
        if has_port:
            self.ported.add(name)
            if self.chance(0.6):
                s["routes"] = [{"path": self.pick(["/", "/api", "/" + name])}]
                if self.chance(0.2):
                    s["routes"][0]["path_type"] = self.pick(["Exact", "Prefix"])
            if self.chance(0.4):
                s["probes"] = {"readiness": {"path": "/healthz"}}
                if self.chance(0.3):
                    s["probes"]["liveness"] = {"path": "/live", "period": 20}
        else:
            if self.chance(0.5):
                s["probes"] = {"liveness": {"command": ["test", "-f", "/tmp/healthy"]}}
        if self.chance(0.4):
            s["resources"] = {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"cpu": "500m", "memory": "256Mi"},
            }
        if platform == "ecs_fargate" and self.chance(0.4):
            s["task"] = self.pick([{"cpu": 256, "memory": 512}, {"cpu": 512, "memory": 1024}])
        if self.chance(0.3):
            a = {"min": 2, "max": self.pick([4, 6])}
            k = self.pick(["cpu", "memory", "queue", "requests", "both"])
            if k in ("cpu", "both"):
                a["cpu_percent"] = 70
            if k in ("memory", "both"):
                a["memory_percent"] = 80
            if k == "queue":
                sqs = [c[0] for c in comps if c[1] == "sqs"]
                if sqs:
                    a["queue"] = {"name": sqs[0], "messages_per_task": 30}
                    s.setdefault("uses", [])
                    if sqs[0] not in [u if isinstance(u, str) else u["name"] for u in s["uses"]]:
                        s["uses"].append(sqs[0])
                else:
                    a["cpu_percent"] = 60
            if k == "requests":
                a["requests"] = {"target": 500}
            s["autoscaling"] = a
            s.pop("replicas", None)
        if self.chance(0.25):
            strat = self.pick(["rolling", "blue_green", "canary", "recreate"])
            ro = {"strategy": strat}
            if strat == "canary":
                ro["canary_weight"] = 20
            if strat == "rolling" and self.chance(0.5):
                ro["max_surge"] = "25%"
                ro["max_unavailable"] = "0"
            if strat in ("canary", "blue_green") and self.chance(0.3):
                ro["next_image"] = IMG.format(name).replace("1.2.3", "1.3.0")
            s["rollout"] = ro
        if self.chance(0.2):
            s["files"] = [{"path": "/etc/" + name + "/config.yaml", "content": "env: {env}\n"}]
        if self.chance(0.2):
            s["sidecars"] = [{"name": "log-shipper", "image": "cr.fluentbit.io/fluent/fluent-bit:4.0.3"}]
        if self.chance(0.15):
            s["init"] = [
                {"name": "wait", "image": IMG.format("migrate"), "command": ["./wait"], "app_env": self.chance(0.5)}
            ]
        if self.chance(0.15):
            s["release"] = {"command": ["./migrate"]}
        if has_port and provider == "aws" and self.chance(0.15):
            s["internal_routes"] = True
            s.setdefault("routes", [{"path": "/"}])
        if any(x["name"] == "ghcr" for x in bp.get("secrets", [])) and self.chance(0.5):
            s["image_credentials"] = "ghcr"
        if any(x["name"] == "stripe" for x in bp.get("secrets", [])) and self.chance(0.3):
            s["secret_env"] = [{"name": "STRIPE_KEY", "secret": "stripe"}]
        if self.chance(0.15):
            s["egress"] = [{"to": "0.0.0.0/0", "ports": [443]}]
        if self.chance(0.1):
            s["peer_ports"] = [4369]
        if self.chance(0.15):
            s["stop_timeout"] = self.pick([60, 110])
        if self.chance(0.15):
            s["env"] = {"LOG_LEVEL": "info", "APP_ENV": "{env}"}
        if has_port and self.chance(0.1):
            s["idle_timeout"] = 120
        if has_port and self.chance(0.1):
            s["metrics"] = {"path": "/metrics"}
        if k8s_platform(platform) and self.chance(0.15):
            s["pdb"] = {"max_unavailable": "1"}
        if k8s_platform(platform) and self.chance(0.15):
            s["namespace"] = "admin"
        if self.chance(0.1):
            s["security"] = {"writable_paths": ["/tmp"]}
        # Renamed objects and ports: every consumer must follow the new names.
        if has_port and self.chance(0.15):
            s["service_name"] = name + "-svc"
        if has_port and self.chance(0.15):
            s["service_port"] = self.pick([8000, 443, 9000])
        if self.chance(0.1):
            s["container_name"] = "app"
        if k8s_platform(platform) and self.chance(0.1):
            s["vpa"] = {"mode": "Off"}
        if "autoscaling" in s and self.chance(0.3):
            s["autoscaling"]["scale_down"] = {"stabilization_seconds": 300, "percent": 50, "period_seconds": 60}
        if self.chance(0.1):
            s["architecture"] = self.pick(["amd64", "arm64", "multi"])
        return s

    def job(self, i, provider, platform, comps, bp):
        name = ["nightly", "report"][i]
        j = {"name": name, "image": IMG.format(name), "schedule": self.pick(["0 3 * * *", "@hourly", "*/15 * * * *"])}
        uses = [c[0] for c in self.some(comps, 0, 2)]
        if uses:
            j["uses"] = uses
        if platform == "ecs_fargate":
            j["concurrency"] = "Allow"
            if self.chance(0.5):
                j["task"] = {"cpu": 256, "memory": 512}
        if self.chance(0.2):
            j["files"] = [{"path": "/etc/job/settings.ini", "content": "x=1\n"}]
        if any(x["name"] == "ghcr" for x in bp.get("secrets", [])) and self.chance(0.3):
            j["image_credentials"] = "ghcr"
        if any(x["name"] == "stripe" for x in bp.get("secrets", [])) and self.chance(0.3):
            j["secret_env"] = [{"name": "STRIPE_KEY", "secret": "stripe"}]
        if self.chance(0.2):
            j["egress"] = [{"ports": [443]}]
        return j

    # ---- edge, k8s platform, observability -------------------------------------------

    def edge(self, bp, provider, platform):
        routed = any(s.get("routes") for s in bp.get("services", []))
        if provider == "aws" and (routed or self.chance(0.3)):
            lb = {"certificate": {"domain": "shop.example.com", "alternative_names": ["*.shop.example.com"]}}
            if self.chance(0.5):
                lb["redirect_http"] = True
            if self.chance(0.3):
                lb["waf"] = {"rate_limit": 2000}
            if self.chance(0.2):
                lb["health_check"] = {"path": "/healthz"}
            if self.chance(0.2):
                lb["internal_cidrs"] = ["172.16.0.0/22"]
            if platform != "ecs_fargate" and self.chance(0.5):
                pass
            bp["load_balancer"] = lb
        if k8s_platform(platform) and (routed or self.chance(0.3)):
            ing = {"hosts": ["shop.example.com"]}
            if self.chance(0.3):
                ing["hosts"].append("api.shop.example.com")
            if self.chance(0.5):
                ing["tls"] = {"secret_name": "shop-tls"}
                if self.chance(0.6):
                    ing["tls"]["issuer"] = "letsencrypt"
            if platform in ("eks", "eks_fargate") and self.chance(0.3):
                ing["class"] = "alb"
            elif self.chance(0.15):
                ing["gateway"] = {"class": "eg"}
            if self.chance(0.15):
                ing["rate_limit"] = {"requests": 100, "window": "1m"}
            if self.chance(0.15):
                ing["proxy_body_size"] = "10m"
            if self.chance(0.1):
                ing["cors"] = {"allow_origin": "https://shop.example.com"}
            if self.chance(0.15):
                ing["namespace"] = "edge"
            if self.chance(0.2):
                for sv in bp.get("services", []):
                    for r in sv.get("routes", []):
                        if self.chance(0.5) and len(ing["hosts"]) > 1:
                            r["host"] = ing["hosts"][1]
            bp["ingress"] = ing

    def kube(self, bp, provider, platform):
        if not k8s_platform(platform):
            return
        k = {}
        nss = {s.get("namespace") for s in bp.get("services", [])} | {None}
        if self.chance(0.7):
            k["default_namespace"] = "app"
            k["namespaces"] = [{"name": "app"}]
            if self.chance(0.3):
                k["namespaces"][0]["pod_security"] = "restricted"
            if self.chance(0.2):
                k["namespaces"][0]["quota"] = {"requests.cpu": "8", "requests.memory": "16Gi"}
        if "admin" in nss:
            k.setdefault("namespaces", []).append({"name": "admin"})
        if (bp.get("ingress") or {}).get("namespace") == "edge":
            k.setdefault("namespaces", []).append({"name": "edge"})
        if self.chance(0.1):
            k.setdefault("namespaces", []).append({"name": "monitoring"})
        if self.chance(0.5):
            k["network_policies"] = {
                "default_deny_ingress": True,
                "per_service": True,
                "allow_from_ingress": True,
            }
        ing = bp.get("ingress")
        if ing and ing.get("class") != "alb" and not ing.get("gateway"):
            if self.chance(0.8):
                k["ingress_controller"] = {"kind": "nginx"}
        if ing and ing.get("tls", {}).get("issuer"):
            k["issuers"] = [{"name": "letsencrypt", "kind": "acme", "email": "ops@shop.example.com"}]
            if self.chance(0.7):
                k["cert_manager"] = {}
        if platform == "eks_fargate":
            # Services run in `kubernetes.default_namespace`, else one named after the blueprint.
            nsl = {k.get("default_namespace", bp["name"])}
            for extra in ("admin", "edge"):
                if any(n.get("name") == extra for n in k.get("namespaces", [])):
                    nsl.add(extra)
            if "ingress_controller" in k:
                nsl.add("ingress-nginx")
            if "cert_manager" in k:
                nsl.add("cert-manager")
            nsl = sorted(nsl)
            bp["fargate_profiles"] = [
                {"name": "apps", "namespaces": nsl},
                {"name": "kube-system", "namespaces": ["kube-system"]},
            ]
        if k:
            bp["kubernetes"] = k

    def observability(self, bp, provider):
        if self.chance(0.4):
            o = {}
            if self.chance(0.7):
                o["notify"] = ["ops@shop.example.com"]
            if self.chance(0.5):
                o["log_retention_days"] = self.pick([14, 30, 90])
            bp["observability"] = o

    def environments(self, bp, provider, platform):
        envs = {}
        names = self.some(["staging", "production", "development"], 1, 2)
        for e in names:
            ov = {}
            if e != "production" and self.chance(0.5):
                if bp.get("databases"):
                    ov["databases"] = [{"name": bp["databases"][0]["name"], "deletion_protection": False}]
                if bp.get("load_balancer"):
                    ov["load_balancer"] = {"deletion_protection": False}
            if bp.get("services") and self.chance(0.4):
                s0 = bp["services"][0]
                ov["services"] = [{"name": s0["name"], "replicas": 3 if "autoscaling" not in s0 else None}]
                if "autoscaling" in s0:
                    ov["services"][0] = {"name": s0["name"], "autoscaling": {"min": 1, "max": 3}}
            if len(bp.get("services", [])) > 1 and self.chance(0.15):
                last = bp["services"][-1]["name"]
                used = any(
                    last == (u if isinstance(u, str) else u.get("name"))
                    for s in bp["services"]
                    for u in s.get("uses", [])
                )
                if not used:
                    ov.setdefault("services", []).append({"name": last, "$patch": "delete"})
            if e == "production" and bp.get("caches") and self.chance(0.3) and "deployment" not in bp["caches"][0]:
                ov["caches"] = [{"name": bp["caches"][0]["name"], "ha": True, "nodes": 2}]
            envs[e] = ov
        bp["environments"] = envs
        return names

    def blueprint(self):
        provider, platform = self.pick(PLATFORMS)
        bp = self.skeleton(provider, platform)
        comps = self.data(bp, provider, platform)
        n = self.r.randint(1, 6)
        names = ["web", "api", "worker", "admin", "search", "notifier"][:n]
        self.ported = set()
        bp["services"] = [self.service(i, provider, platform, comps, names, bp) for i in range(n)]
        jobs = [self.job(i, provider, platform, comps, bp) for i in range(self.r.randint(0, 2))]
        if jobs:
            bp["jobs"] = jobs
        self.edge(bp, provider, platform)
        self.kube(bp, provider, platform)
        self.observability(bp, provider)
        envs = self.environments(bp, provider, platform)
        if provider == "aws" and self.chance(0.15):
            bp.setdefault("observability", {})["alarms"] = [
                {"name": "custom-5xx", "namespace": "AWS/ApplicationELB", "metric": "HTTPCode_Target_5XX_Count",
                 "statistic": "Sum", "period": 300, "evaluation_periods": 2, "threshold": 10, "comparison": ">"}
            ]
        return provider, platform, bp, envs


# ---- running and classifying ---------------------------------------------------------

RULE_MASK = re.compile(r"`[^`]*`")


def rule_of(stderr):
    """The first error line with names masked: the rule that refused."""
    for line in stderr.splitlines():
        if line.startswith("error"):
            head = line.split(":", 2)
            text = head[-1] if len(head) > 1 else line
            text = RULE_MASK.sub(lambda m: m.group(0) if ("." in m.group(0) or "[" in m.group(0)) else "`_`", text)
            text = re.sub(r"\d+", "N", text)
            return (head[0] + ":" + text)[:110]
    return "?"


def run(cmd, timeout=120, cwd=None):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", "", "timed out"


def tf_objects(outdir):
    """Kubernetes objects the Terraform modules make (`kubernetes_<kind>_v1`), as manifests."""
    kinds = {"kubernetes_service_account_v1": "ServiceAccount", "kubernetes_service_v1": "Service"}
    found, namespaces = [], {}
    for root, _, files in os.walk(os.path.join(outdir, "terraform")):
        for f in files:
            if f.endswith(".tf.json"):
                res = json.load(open(os.path.join(root, f))).get("resource", {})
                for n, b in res.get("kubernetes_namespace_v1", {}).items():
                    namespaces[n] = b["metadata"]["name"]
                for ty, kind in kinds.items():
                    for b in res.get(ty, {}).values():
                        found.append({"kind": kind, "metadata": dict(b["metadata"]), "spec": b.get("spec", {})})
    ref = re.compile(r"^\$\{kubernetes_namespace_v1\.([a-z0-9_]+)\.metadata\[0\]\.name\}$")
    for d in found:
        m = ref.match(d["metadata"].get("namespace", ""))
        if m:
            d["metadata"]["namespace"] = namespaces.get(m.group(1), "?")
    return [d for d in found if d["kind"] == "ServiceAccount"]


def xrefs(docs):
    """What the checkers cannot see: names one object gives that no other object has.

    Each Ingress/HTTPRoute backend is a Service of its namespace with that port; each Service
    selects pods of some workload and its targetPort is one of their container ports; each
    HPA/PDB/VPA/ScaledObject names or selects a workload that exists; each pod's service
    account exists or is made by the cluster (`default`); each `http://<svc>.<ns>.svc...:<port>`
    a container is given names an existing Service port."""
    problems = []
    by_kind = collections.defaultdict(dict)
    for d in docs:
        if not isinstance(d, dict) or "kind" not in d:
            continue
        md = d.get("metadata", {})
        by_kind[d["kind"]][(md.get("namespace", ""), md.get("name"))] = d

    def pod_of(d):
        k = d["kind"]
        if k in ("Deployment", "StatefulSet", "Job", "DaemonSet"):
            return d["spec"]["template"]
        if k == "CronJob":
            return d["spec"]["jobTemplate"]["spec"]["template"]
        return None

    workloads = []  # (ns, kind, name, labels, pod spec)
    for kind in ("Deployment", "StatefulSet", "Job", "CronJob", "DaemonSet"):
        for (ns, name), d in by_kind[kind].items():
            t = pod_of(d)
            workloads.append((ns, kind, name, t.get("metadata", {}).get("labels", {}) or {}, t["spec"]))

    def selects(sel, labels):
        # (The StatefulSet controller labels each pod with its own name.)
        return all(
            labels.get(k) == v for k, v in (sel or {}).items() if k != "statefulset.kubernetes.io/pod-name"
        )

    def cports(spec):
        out = {}
        for c in spec.get("containers", []):
            for p in c.get("ports", []) or []:
                out[p["containerPort"]] = p
                if p.get("name"):
                    out[p["name"]] = p
        return out

    services = by_kind["Service"]
    for (ns, name), svc in services.items():
        sel = svc["spec"].get("selector")
        if not sel:
            continue
        pods = [w for w in workloads if w[0] == ns and selects(sel, w[3]) and w[1] in ("Deployment", "StatefulSet")]
        if not pods:
            problems.append(f"Service {ns}/{name} selects {sel}: no Deployment or StatefulSet has such pods")
            continue
        for port in svc["spec"].get("ports", []):
            tp = port.get("targetPort", port.get("port"))
            # A number needs no declared containerPort (it is informational); a name does.
            for w in pods:
                if isinstance(tp, str) and tp not in cports(w[4]):
                    problems.append(f"Service {ns}/{name} port {port.get('port')} targets {tp}, which {w[1]} {w[2]} does not expose ({sorted(map(str, cports(w[4])))})")

    def service_port(ns, name, port):
        svc = services.get((ns, name))
        if svc is None:
            return f"no Service {ns}/{name}"
        ports = svc["spec"].get("ports", [])
        if isinstance(port, str):
            ok = any(p.get("name") == port for p in ports)
        else:
            ok = any(p.get("port") == port for p in ports)
        return None if ok else f"Service {ns}/{name} has no port {port} ({[p.get('port') for p in ports]})"

    for (ns, name), ing in by_kind["Ingress"].items():
        for rule in ing["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                b = path["backend"].get("service")
                if b and b["port"].get("name") == "use-annotation":
                    # The AWS Load Balancer Controller's action of that name: its target
                    # groups are the Services (blue/green, canary weights).
                    ann = ing["metadata"].get("annotations", {}).get(f"alb.ingress.kubernetes.io/actions.{b['name']}")
                    if ann is None:
                        problems.append(f"Ingress {ns}/{name} routes {path.get('path')} to action {b['name']}, which no annotation defines")
                        continue
                    for tg in json.loads(ann).get("forwardConfig", {}).get("targetGroups", []):
                        if "serviceName" in tg:
                            e = service_port(ns, tg["serviceName"], tg.get("servicePort"))
                            if e:
                                problems.append(f"Ingress {ns}/{name} action {b['name']} forwards to {e}")
                elif b:
                    port = b["port"].get("number", b["port"].get("name"))
                    e = service_port(ns, b["name"], port)
                    if e:
                        problems.append(f"Ingress {ns}/{name} routes {path.get('path')} to {e}")
    for (ns, name), r in list(by_kind["HTTPRoute"].items()) + list(by_kind["GRPCRoute"].items()):
        for rule in r["spec"].get("rules", []):
            for b in rule.get("backendRefs", []):
                if b.get("kind", "Service") == "Service":
                    e = service_port(b.get("namespace", ns), b["name"], b.get("port"))
                    if e:
                        problems.append(f"{r['kind']} {ns}/{name} routes to {e}")
    for kind in ("HorizontalPodAutoscaler", "VerticalPodAutoscaler", "ScaledObject"):
        for (ns, name), h in by_kind[kind].items():
            ref = h["spec"].get("scaleTargetRef") or h["spec"].get("targetRef") or {}
            if (ns, ref.get("name")) not in by_kind[ref.get("kind", "Deployment")]:
                problems.append(f"{kind} {ns}/{name} scales {ref.get('kind')} {ref.get('name')}, which does not exist")
    for (ns, name), pdb in by_kind["PodDisruptionBudget"].items():
        sel = pdb["spec"].get("selector", {}).get("matchLabels")
        if not any(w[0] == ns and selects(sel, w[3]) for w in workloads):
            problems.append(f"PodDisruptionBudget {ns}/{name} selects {sel}: no pods")
    url = re.compile(r"^[a-z]+://([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?:(\d+)")
    for ns, kind, name, _, spec in workloads:
        sa = spec.get("serviceAccountName")
        if sa and sa != "default" and (ns, sa) not in by_kind["ServiceAccount"]:
            problems.append(f"{kind} {ns}/{name} runs as ServiceAccount {sa}, which the manifests do not make")
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            for e in c.get("env", []) or []:
                m = url.match(str(e.get("value", "")))
                if m:
                    err = service_port(m.group(2), m.group(1), int(m.group(3)))
                    if err:
                        problems.append(f"{kind} {ns}/{name} container {c['name']}: {e['name']}={e['value']}: {err}")
    return problems


def ecs_xrefs(outdir):
    """ECS: every `http(s)://<name>:<port>` a container is given with a bare host name is a
    Service Connect client alias of some service (the only names tasks resolve so)."""
    path = os.path.join(outdir, "terraform/infra/ecs.tf.json")
    if not os.path.exists(path):
        return []
    res = json.load(open(path)).get("resource", {})
    aliases = set()
    for svc in res.get("aws_ecs_service", {}).values():
        sc = svc.get("service_connect_configuration") or {}
        for sc in sc if isinstance(sc, list) else [sc]:
            for s in sc.get("service", []) or []:
                for a in s.get("client_alias", []) or []:
                    aliases.add((a.get("dns_name"), a.get("port")))
    problems = []
    url = re.compile(r"^[a-z]+://([a-z0-9-]+):(\d+)")
    for name, td in res.get("aws_ecs_task_definition", {}).items():
        for c in json.loads(td["container_definitions"]):
            for e in c.get("environment", []) or []:
                m = url.match(str(e.get("value", "")))
                if m and (m.group(1), int(m.group(2))) not in aliases:
                    problems.append(f"task {name} container {c['name']}: {e['name']}={e['value']}: no Service Connect alias {m.group(1)}:{m.group(2)} ({sorted(aliases)})")
    return problems


# The summary line each checker prints last ("tfcheck: N modules, R resources, P problems",
# "k8scheck: N documents, C custom, P problems"). A checker that fails without it did not
# check anything: it could not start (a module it imports is missing, e.g. k8scheck without
# `kubernetes-validate`) and its traceback is no finding about the output.
CHECKERS = {
    "tfcheck": re.compile(r"^tfcheck: \d+ modules, \d+ resources, \d+ problems$", re.M),
    "k8scheck": re.compile(r"^k8scheck: \d+ documents, \d+ custom, \d+ problems$", re.M),
}
# What each checker imports beyond the standard library, as `pip install` names.
CHECKER_PACKAGES = "kubernetes-validate PyYAML"


class ToolError(Exception):
    """A checker or tool this run needs could not run: no result of this run is trustworthy."""


def checker_cmd(args, name, outdir):
    script = os.path.join(args.shared, "tools", name + ".py")
    if name == "tfcheck":
        return [sys.executable, script, os.path.join(args.shared, "schemas"), outdir]
    return [sys.executable, script, outdir]


def run_checker(args, name, outdir):
    """(rc, output) of one checker on `outdir`; raises ToolError when it did not run to its
    summary line (it failed to start, or crashed): counting that as a finding would report
    the tool's problem as the output's."""
    rc, out, err = run(checker_cmd(args, name, outdir))
    if not CHECKERS[name].search(out):
        tail = "\n".join((out + err).strip().splitlines()[-12:]) or "(no output)"
        raise ToolError(
            f"{name} ({checker_cmd(args, name, outdir)[1]}) did not run to its summary line "
            f"(exit {rc}):\n{tail}"
        )
    return rc, out + err


def preflight(args):
    """Fail at start, loudly, when a checker cannot run here (each is run once on an empty
    folder: it must get as far as its summary line), or PyYAML (the cross-reference checks)
    or kubectl (`kubectl kustomize`) is missing — rather than turn every combo into a false
    finding, or silently check less than a clean result claims."""
    problems = []
    empty = os.path.join(args.out, "preflight-empty")
    os.makedirs(empty, exist_ok=True)
    for name in CHECKERS:
        try:
            run_checker(args, name, empty)
        except ToolError as e:
            problems.append(str(e))
    if yaml is None:
        problems.append(f"PyYAML is not importable by {sys.executable}: the cross-reference checks (xrefs) need it")
    if not shutil.which("kubectl"):
        problems.append("kubectl is not on PATH: `kubectl kustomize` is one of the checks")
    if problems:
        print("combos.py: cannot check anything with this setup:\n", file=sys.stderr)
        for p in problems:
            print(p + "\n", file=sys.stderr)
        print(
            f"help: install what the checkers import, for this interpreter: "
            f"`{sys.executable} -m pip install {CHECKER_PACKAGES}`; kubectl from its package; "
            f"and check --shared ({args.shared})",
            file=sys.stderr,
        )
        sys.exit(2)


def check(args, bp_path, provider, env, outdir):
    """(status, detail): status in refused / clean / finding."""
    if os.path.exists(outdir):
        shutil.rmtree(outdir)
    rc, out, err = run([args.bin, "synth", "--blueprint", bp_path, "--provider", provider, "--env", env, "--out", outdir])
    if rc == 2:
        if "panicked" in err:
            return "finding", "panic (exit 2)\n" + err
        if "-->" not in err:
            return "finding", "unpositioned error\n" + err
        return "refused", rule_of(err)
    if rc != 0:
        return "finding", f"synth exit {rc}\n{err}"
    problems = []
    # (Each checker fails on an output with nothing of its kind: an existing cluster's output
    # may have no Terraform, ECS's has no manifests.)
    if os.path.isdir(os.path.join(outdir, "terraform")):
        rc, out = run_checker(args, "tfcheck", outdir)
        if rc != 0:
            problems.append("tfcheck:\n" + out)
    k8s = os.path.join(outdir, "k8s")
    if os.path.isdir(k8s):
        rc, out = run_checker(args, "k8scheck", outdir)
        if rc != 0:
            problems.append("k8scheck:\n" + out)
    if os.path.isdir(k8s):
        rc, out, err = run(["kubectl", "kustomize", k8s])
        if rc != 0:
            problems.append("kustomize:\n" + err)
        else:
            bad = xrefs(list(yaml.safe_load_all(out)) + tf_objects(outdir))
            if bad:
                problems.append("xrefs:\n" + "\n".join(bad))
    rc, out, err = run([args.bin, "validate", "--schemas", os.path.join(args.shared, "schemas"), outdir])
    if rc != 0:
        problems.append("validate:\n" + out + err)
    bad = ecs_xrefs(outdir)
    if bad:
        problems.append("ecs xrefs:\n" + "\n".join(bad))
    if problems:
        return "finding", "\n".join(problems)
    return "clean", ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=300, help="blueprints to generate")
    ap.add_argument("--bin", default="target/debug/infragen")
    ap.add_argument("--shared", default="/work/shared")
    ap.add_argument("--out", default="/tmp/combos")
    ap.add_argument("--keep", help="copy every clean blueprint here (for the invariant tests)")
    ap.add_argument("--budget", type=float, default=900, help="seconds; stop starting combos after")
    ap.add_argument("--only", type=int, help="generate (and run) only combo N, to reproduce one")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    for d in ("blueprints", "findings", "outputs"):
        os.makedirs(os.path.join(args.out, d), exist_ok=True)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    preflight(args)
    start = time.time()
    stats = collections.Counter()
    rules = collections.Counter()
    by_target = collections.Counter()
    findings = []
    for n in range(args.count):
        if time.time() - start > args.budget:
            print(f"budget of {args.budget:.0f}s spent after {n} blueprints", file=sys.stderr)
            break
        # One generator per combo: combo N is the same whatever --count says.
        provider, platform, bp, envs = Gen(args.seed * 100003 + n).blueprint()
        if args.only is not None and n != args.only:
            continue
        path = os.path.join(args.out, "blueprints", f"{n:04d}-{platform}.yaml")
        with open(path, "w") as f:
            f.write(f"# combos.py --seed {args.seed} --only {n}: {provider} / {platform}\n")
            # The pairs it was made for (tests/it/support.rs `targets` reads this header).
            f.write("# targets: " + " ".join(f"{provider}:{e}" for e in envs) + "\n")
            f.write(json.dumps(bp, indent=1) + "\n")
        stats["blueprints"] += 1
        all_clean = True
        for env in envs:
            outdir = os.path.join(args.out, "outputs", f"{n:04d}-{env}")
            try:
                status, detail = check(args, path, provider, env, outdir)
            except ToolError as e:
                # A checker that ran at start broke on this output: stop, rather than go on
                # counting the tool's failure as findings.
                print(f"combos.py: combo {n} {provider}/{platform} --env {env} ({path}): {e}", file=sys.stderr)
                return 2
            stats[status] += 1
            by_target[(platform, status)] += 1
            if status == "refused":
                rules[detail] += 1
                all_clean = False
            elif status == "finding":
                all_clean = False
                rec = {"combo": n, "provider": provider, "platform": platform, "env": env, "blueprint": path, "detail": detail}
                findings.append(rec)
                with open(os.path.join(args.out, "findings", f"{n:04d}-{provider}-{env}.json"), "w") as f:
                    json.dump(rec, f, indent=1)
                print(f"FINDING combo {n} {provider}/{platform} --env {env}: {detail.splitlines()[0][:150]}")
            else:
                shutil.rmtree(outdir, ignore_errors=True)
        if all_clean and args.keep:
            shutil.copy(path, os.path.join(args.keep, os.path.basename(path)))
    took = time.time() - start
    print(f"\nseed {args.seed}: {stats['blueprints']} blueprints, "
          f"{stats['clean'] + stats['refused'] + stats['finding']} synths in {took:.0f}s: "
          f"{stats['clean']} clean, {stats['refused']} refused, {stats['finding']} findings")
    print("\nby platform:")
    for platform in sorted({p for p, _ in by_target}):
        print(f"  {platform:13} " + ", ".join(f"{s} {by_target[(platform, s)]}" for s in ("clean", "refused", "finding")))
    if rules:
        print("\nrefused, by rule:")
        for r, c in rules.most_common():
            print(f"  {c:4}  {r}")
    if findings:
        print(f"\nfindings ({len(findings)}), details in {args.out}/findings/:")
        for rec in findings:
            print(f"  combo {rec['combo']} {rec['provider']}/{rec['platform']} --env {rec['env']}: {rec['detail'].splitlines()[0][:120]}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
