#!/usr/bin/env python3
"""Helpers for scripts/apply-moto.sh (a developer-run apply against moto, a mock AWS).

  apply-moto.py override SCHEMA_JSON MODULE_COPY ENDPOINT TIMEOUT [CERTIFICATE_ARN]
      writes MODULE_COPY/zz_moto_override.tf.json: the aws provider pointed at ENDPOINT for
      every service (fake credentials, no account/metadata lookups, path-style S3), a local
      backend instead of S3, and `timeouts` of TIMEOUT on every resource whose type has a
      timeouts block (a resource moto never settles fails on its own instead of hanging).
      Two moto-only substitutions, printed when made: a listener's literal certificate ARN
      (the blueprint's, which exists in its account only) becomes CERTIFICATE_ARN, issued by
      moto; and a backup window touching the maintenance window ends a minute earlier (see
      moto_backup_window).
  apply-moto.py gaps MODULE_COPY
      works around what moto (5.2.x) does not implement, in the copy only, printing each
      change and writing MODULE_COPY/moto-skipped.txt (one address a line) for the report:
      see MOTO_GAPS and moto_gaps().
  apply-moto.py certificate ENDPOINT REGION
      requests an ACM certificate from moto and prints its ARN.
  apply-moto.py fill-secrets ENDPOINT REGION PRECONDITIONS_JSON
      puts a placeholder value into every Secrets Manager secret preconditions.json lists as
      empty (SecretsManagerSecretValue; a JSON object when it names keys), as an operator
      would before applying `infra` again: on ECS the services wait for those values.
  apply-moto.py serve HOST PORT
      runs moto's server with its bugs in what the output uses patched in the process
      (printed; see patch_moto): every RDS instance gets a DbiResourceId of its own, a
      replication group gets its NumCacheClusters members and they exist as cache clusters,
      PutBucketLogging reads the target bucket's policy as IAM does, and what moto answers
      otherwise than AWS after a create, seen as changes in the second plan (replan below).
  apply-moto.py report MOTO_LOG LOG.json... > summary
      reads `terraform apply -json` logs and prints, per resource type: planned, created,
      failed (rejected by the API with its message, or not implemented by moto — an action
      moto's log shows as NotImplementedError, or a 404/timeout) and blocked (never attempted
      because what it depends on failed). A retry's log (`….retry.json`) counts for the same
      module; a `lifecycle.precondition` that stopped the first apply is listed apart, not
      counted as a failure or a rejection. Exits 1 when the API rejected something.
  apply-moto.py replan PLAN_JSON MODULE
      reads `terraform show -json` of the plan made right after an apply, from the same
      copy and state, and prints MODULE's result: "no changes", or each resource the plan
      would still touch with only the attributes whose value differs (before -> after, or
      "(known after apply)"). Resources the apply did not create (failed or blocked) are
      counted apart; a diff listed in MOTO_REPLAN_QUIRKS (moto answers what AWS does not)
      is marked as such. Exits 1 when anything else would change: a perpetual diff.
"""

import fnmatch
import json
import os
import re
import sys
from collections import defaultdict


def override(schema_path, module, endpoint, timeout, certificate=None):
    schema = json.load(open(schema_path))["provider_schemas"]["registry.terraform.io/hashicorp/aws"]
    endpoints = schema["provider"]["block"]["block_types"]["endpoints"]["block"]["attributes"]
    resources = schema["resource_schemas"]
    body = {
        "provider": {
            "aws": {
                "access_key": "testing",
                "secret_key": "testing",
                "skip_credentials_validation": True,
                # The provider asks moto's STS for the account (123456789012): without it
                # the provider's account is empty, and it reads every rule referencing a
                # security group as a cross-account one (`<owner>/sg-…`, owner != account),
                # a perpetual diff on each such rule that AWS does not have.
                "skip_requesting_account_id": False,
                "skip_metadata_api_check": True,
                "s3_use_path_style": True,
                "max_retries": 2,
                # The blueprint's account (`providers.aws.account_id`) is not moto's.
                "allowed_account_ids": None,
                "endpoints": [{name: endpoint for name in sorted(endpoints)}],
            }
        },
        "terraform": {"backend": {"local": {"path": "terraform.tfstate"}}},
    }
    timed = defaultdict(dict)
    for f in sorted(os.listdir(module)):
        if not f.endswith(".tf.json") or f.endswith("_override.tf.json"):
            continue
        doc = json.load(open(os.path.join(module, f)))
        for name, listener in doc.get("resource", {}).get("aws_lb_listener", {}).items():
            arn = listener.get("certificate_arn")
            if certificate and isinstance(arn, str) and "${" not in arn:
                # The blueprint's certificate exists in its account, not in moto.
                timed["aws_lb_listener"].setdefault(name, {})["certificate_arn"] = certificate
                print(f"  moto: aws_lb_listener.{name}.certificate_arn -> a certificate issued by moto")
        for name, instance in doc.get("resource", {}).get("aws_db_instance", {}).items():
            window = moto_backup_window(instance)
            if window:
                timed["aws_db_instance"].setdefault(name, {})["backup_window"] = window
                print(f"  moto quirk: aws_db_instance.{name}.backup_window -> {window} (touching windows)")
        for rtype, names in doc.get("resource", {}).items():
            block = resources.get(rtype, {}).get("block", {}).get("block_types", {}).get("timeouts")
            if not block:
                continue
            allowed = block["block"].get("attributes", {})
            values = {op: timeout for op in ("create", "update", "delete") if op in allowed}
            for name in names:
                timed[rtype].setdefault(name, {})["timeouts"] = values
    if timed:
        body["resource"] = timed
    with open(os.path.join(module, "zz_moto_override.tf.json"), "w") as out:
        json.dump(body, out, indent=2)


# Resource and data source types moto 5.2.x has no API for. moto's EKS back-end implements
# clusters, managed node groups and Fargate profiles only (moto/eks/urls.py): no add-ons
# (CreateAddon, DescribeAddonVersions) and no access entries (CreateAccessEntry,
# AssociateAccessPolicy) -- it answers them 404 with an HTML page. Their blocks are removed
# from the copy and dropped from every `depends_on`, so what waits on them (the node groups
# wait for the vpc-cni and kube-proxy add-ons) is still applied.
MOTO_GAPS = {
    "resource": {"aws_eks_addon", "aws_eks_access_entry", "aws_eks_access_policy_association",
                 "aws_eks_pod_identity_association"},
    "data": {"aws_eks_addon_version"},
}


def moto_gaps(module):
    """Edit the module copy around moto's gaps (see MOTO_GAPS), printing each change:

    - removes the blocks of MOTO_GAPS types and their `depends_on` entries; any other
      reference to them is an error (the workaround would be silently wrong);
    - moto leaves an EKS cluster's `vpc_config[0].cluster_security_group_id` empty (AWS
      creates that group with the cluster): references to it point at a stand-in security
      group in the cluster's VPC, so the rules on it are applied;
    - moto has no CreateCacheParameterGroup (elasticache): the group is removed and the
      replication group uses the family's default group (`default.<family>`, with
      `.cluster.on` when the group enables cluster mode);
    - moto has no MonitorInstances (ec2/responses/monitoring.py raises NotImplementedError):
      an instance's detailed `monitoring` is turned off.
    """
    files = {}
    for f in sorted(os.listdir(module)):
        if f.endswith(".tf.json") and not f.endswith("_override.tf.json"):
            files[f] = json.load(open(os.path.join(module, f)))
    removed, skipped, replace = [], [], {}
    for doc in files.values():
        for kind, types in MOTO_GAPS.items():
            for rtype in types & set(doc.get(kind, {})):
                for name in doc[kind].pop(rtype):
                    prefix = "data." if kind == "data" else ""
                    removed.append(f"{prefix}{rtype}.{name}")
                    if kind == "resource":
                        skipped.append(f"{rtype}.{name}")
                    print(f"  moto gap: removed {prefix}{rtype}.{name} (no such API in moto)")
            if kind in doc and not doc[kind]:
                del doc[kind]
        for name, group in doc.get("resource", {}).pop("aws_elasticache_parameter_group", {}).items():
            params = {p.get("name"): p.get("value") for p in group.get("parameter", [])}
            default = "default." + group["family"]
            if params.get("cluster-enabled") == "yes":
                default += ".cluster.on"
            replace[f"${{aws_elasticache_parameter_group.{name}.name}}"] = default
            removed.append(f"aws_elasticache_parameter_group.{name}")
            skipped.append(f"aws_elasticache_parameter_group.{name}")
            print(f"  moto gap: removed aws_elasticache_parameter_group.{name}, uses {default} "
                  "(no CreateCacheParameterGroup in moto)")
        for name, instance in doc.get("resource", {}).get("aws_instance", {}).items():
            if instance.get("monitoring"):
                instance["monitoring"] = False
                print(f"  moto gap: aws_instance.{name}.monitoring -> false (no MonitorInstances in moto)")
    # The VPC made in this module, or read by it (`network.existing`: data.aws_vpc).
    vpcs = [f"aws_vpc.{n}" for d in files.values() for n in d.get("resource", {}).get("aws_vpc", {})]
    vpcs += [f"data.aws_vpc.{n}" for d in files.values() for n in d.get("data", {}).get("aws_vpc", {})]
    stand_ins = {}
    for doc in files.values():
        for name in doc.get("resource", {}).get("aws_eks_cluster", {}):
            ref = f"aws_eks_cluster.{name}.vpc_config[0].cluster_security_group_id"
            # The stand-in needs the cluster's VPC: one made or read in this module (else
            # the reference stays, and the rules on it fail as moto's gap).
            if len(vpcs) == 1:
                replace[f"${{{ref}}}"] = f"${{aws_security_group.moto_eks_{name}.id}}"
                stand_ins[f"moto_eks_{name}"] = {
                    "name_prefix": f"moto-eks-{name}-",
                    "description": "stand-in for the EKS cluster security group (moto has none)",
                    "vpc_id": f"${{{vpcs[0]}.id}}",
                }
    text = {f: json.dumps(d) for f, d in files.items()}
    for f in files:
        for old, new in replace.items():
            if old in text[f]:
                print(f"  moto gap: {old} -> {new} in {f}")
                text[f] = text[f].replace(old, new)
        doc = json.loads(text[f])
        for kind in ("resource", "data"):
            for rtype, blocks in doc.get(kind, {}).items():
                for body in blocks.values():
                    if "depends_on" in body:
                        body["depends_on"] = [d for d in body["depends_on"] if d not in removed]
        leftover = [r for r in removed if re.search(re.escape(r) + r"\b", json.dumps(doc))]
        if leftover:
            sys.exit(f"apply-moto: {f} still refers to {leftover} after removing them for moto")
        json.dump(doc, open(os.path.join(module, f), "w"), indent=2)
    used = [n for n in stand_ins if any(f"aws_security_group.{n}." in t for t in text.values())]
    if used:
        body = {"resource": {"aws_security_group": {n: stand_ins[n] for n in used}}}
        json.dump(body, open(os.path.join(module, "zz_moto_gaps.tf.json"), "w"), indent=2)
    with open(os.path.join(module, "moto-skipped.txt"), "w") as out:
        out.writelines(f"{a}\n" for a in skipped)


def moto_backup_window(body):
    """moto refuses a backup window that merely touches the maintenance window (its overlap
    test counts a shared boundary minute; AWS accepts touching windows, and infragen's own
    check refuses real overlaps). In the moto copy only, end the backup window one minute
    earlier so the instance (and what depends on it) is exercised."""
    backup, maintenance = body.get("backup_window"), body.get("maintenance_window")
    if not (isinstance(backup, str) and isinstance(maintenance, str)):
        return None
    m = re.fullmatch(r"(\d\d):(\d\d)-(\d\d):(\d\d)", backup)
    w = re.fullmatch(r"\w{3}:(\d\d):(\d\d)-\w{3}:(\d\d):(\d\d)", maintenance)
    if not (m and w):
        return None
    start, end = int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])
    mstart, mend = int(w[1]) * 60 + int(w[2]), int(w[3]) * 60 + int(w[4])
    if end != mstart and mend != start:
        return None
    if end == mstart:
        end = (end - 1) % 1440
    else:
        start = (start + 1) % 1440
    return f"{start // 60:02}:{start % 60:02}-{end // 60:02}:{end % 60:02}"


NOT_IMPLEMENTED = re.compile(
    r"not yet implemented|NotImplemented|not implemented|404 Not Found|StatusCode: 404|"
    r"timeout while waiting|context deadline exceeded|UnknownOperation|"
    r"InvalidAction|Could not find operation|UnrecognizedClientException",
    re.I,
)


# Failures whose cause was traced to moto (moto 5.2.1), with the reason. Each was checked
# against the AWS API documentation before being put here; keep the list short and explicit.
MOTO_BUGS = [
    (
        re.compile(r"reading RDS DB Instance \([^)]*replica\): couldn't find resource"),
        "moto gives a read replica its source's DbiResourceId, so the provider's lookup by "
        "resource id (filter dbi-resource-id) matches two instances",
    ),
    (
        re.compile(r"reading ElastiCache Replication Group .*DescribeCacheClusters.*CacheClusterNotFound"),
        "moto lists a replication group's member clusters (MemberClusters) but never registers "
        "them as cache clusters (moto/elasticache/models.py), so DescribeCacheClusters on a "
        "member answers CacheClusterNotFound",
    ),
]


def patch_moto():
    """Patch moto (5.2.x) bugs in the server process, so that what depends on them is
    exercised instead of failing on moto's side (printed when applied):

    - moto gives every RDS instance one constant DbiResourceId (moto/rds/models.py,
      `self.dbi_resource_id = "db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U"`), and a read replica is a
      copy of its source: the provider reads an instance by resource id (filter
      `dbi-resource-id`), finds two, and reports "couldn't find resource". Each instance and
      replica gets an id of its own, as in AWS.
    - moto creates one member cluster for a group without cluster mode whatever its
      NumCacheClusters (the provider then calls IncreaseReplicaCount, not implemented), and
      it lists the members (MemberClusters) but never registers them as cache clusters, so
      the provider's DescribeCacheClusters on the first member answers CacheClusterNotFound.
      The group gets its NumCacheClusters members, and before each DescribeCacheClusters
      the members of every replication group are registered (or refreshed) from the
      group's own settings, those of deleted groups dropped.
    - PutBucketLogging checks the target bucket's policy for the logging service, reading
      every statement's `Principal` as an object; a statement with `"Principal": "*"` (the
      DenyInsecureTransport statement, valid IAM) crashes it (HTTP 500). The check skips
      such statements. It also compares a statement's Resource with `<bucket>/<prefix>*` as
      text, where IAM matches a pattern: a Resource covering the prefix counts.
    - SQS keeps a queue's RedriveAllowPolicy but GetQueueAttributes leaves it out, so the
      provider waits for it until its timeout; it is returned as set.
    - every EKS cluster shares the one OIDC issuer moto drew at import, so a second cluster's
      IRSA OIDC provider already exists; each gets its own.
    """
    import inspect

    from moto.core.utils import utcnow  # noqa: F401  (moto's import order: core first)
    from moto.elasticache import models as ec
    from moto.moto_api._internal import mock_random
    from moto.rds import models as rds

    def fresh_id():
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        return "db-" + "".join(mock_random.choice(alphabet) for _ in range(26))

    init = rds.DBInstance.__init__

    def db_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.dbi_resource_id = fresh_id()
        # moto takes Performance Insights and Enhanced Monitoring at CreateDBInstance but
        # answers DescribeDBInstances without them: the re-plan turned them on again on
        # every instance. AWS returns what was set (DBInstance.PerformanceInsightsEnabled,
        # MonitoringInterval, ...).
        self.performance_insights_enabled = bool(kwargs.get("enable_performance_insights"))
        for name in (
            "performance_insights_kms_key_id",
            "performance_insights_retention_period",
            "monitoring_interval",
            "monitoring_role_arn",
        ):
            if kwargs.get(name) is not None:
                setattr(self, name, kwargs[name])

    rds.DBInstance.__init__ = db_init
    read_replica = rds.RDSBackend.create_db_instance_read_replica

    def create_read_replica(self, db_kwargs):
        replica = read_replica(self, db_kwargs)
        replica.dbi_resource_id = fresh_id()
        return replica

    rds.RDSBackend.create_db_instance_read_replica = create_read_replica
    print("moto patch: every RDS instance and read replica gets a DbiResourceId of its own, and"
          " keeps its Performance Insights and Enhanced Monitoring settings")

    params = inspect.signature(ec.CacheCluster.__init__).parameters

    def members(backend):
        for group in backend.replication_groups.values():
            for cluster_id in group.member_clusters:
                kwargs = {name: None for name in params if name != "self"}
                kwargs.update(
                    account_id=backend.account_id,
                    region_name=backend.region_name,
                    cache_cluster_id=cluster_id,
                    replication_group_id=group.replication_group_id,
                    log_delivery_configurations=[],
                )
                for name in kwargs:
                    if kwargs[name] is None and hasattr(group, name):
                        kwargs[name] = getattr(group, name)
                cluster = ec.CacheCluster(**kwargs)
                # CacheCluster sets these for engine "redis" only (not "valkey").
                cluster.replication_group_id = group.replication_group_id
                cluster.num_cache_nodes = 1
                for name in ("snapshot_arns", "snapshot_name", "snapshot_window"):
                    setattr(cluster, name, getattr(group, name, None))
                # What the provider reads from the first member rather than the group
                # (a missing at_rest_encryption_enabled reads false: a replacement).
                for name in (
                    "at_rest_encryption_enabled",
                    "transit_encryption_enabled",
                    "transit_encryption_mode",
                    "auth_token_enabled",
                ):
                    setattr(cluster, name, getattr(group, name, None))
                cluster.security_groups = [
                    {"SecurityGroupId": sg, "Status": "active"}
                    for sg in group.security_group_ids or []
                ]
                if group.cache_parameter_group_name:
                    cluster.cache_parameter_group = {
                        "CacheParameterGroupName": group.cache_parameter_group_name,
                        "ParameterApplyStatus": "in-sync",
                    }
                cluster.infragen_member = True
                backend.cache_clusters[cluster_id] = cluster
        live = {m for g in backend.replication_groups.values() for m in g.member_clusters}
        for cluster_id, cluster in list(backend.cache_clusters.items()):
            if getattr(cluster, "infragen_member", False) and cluster_id not in live:
                del backend.cache_clusters[cluster_id]

    # moto sizes a group without cluster mode by ReplicasPerNodeGroup only, ignoring
    # NumCacheClusters (one member where two were asked for: the provider then calls
    # IncreaseReplicaCount, which moto does not implement).
    set_members = ec.ReplicationGroup._set_node_members_clusters_disabled

    def set_members_disabled(self, *args, **kwargs):
        if not kwargs.get("replicas_per_node_group") and (kwargs.get("num_cache_clusters") or 1) > 1:
            kwargs["replicas_per_node_group"] = kwargs["num_cache_clusters"] - 1
        return set_members(self, *args, **kwargs)

    ec.ReplicationGroup._set_node_members_clusters_disabled = set_members_disabled
    describe = ec.ElastiCacheBackend.describe_cache_clusters

    def describe_cache_clusters(self, *args, **kwargs):
        members(self)
        return describe(self, *args, **kwargs)

    ec.ElastiCacheBackend.describe_cache_clusters = describe_cache_clusters
    print(
        "moto patch: a replication group has NumCacheClusters members, and they are cache"
        " clusters"
    )

    from types import SimpleNamespace

    from moto.s3 import models as s3

    log_permissions = s3.FakeBucket._log_permissions_enabled_policy

    def log_permissions_enabled(target_bucket, target_prefix):
        if not target_bucket.policy:
            return log_permissions(target_bucket, target_prefix)
        doc = json.loads(target_bucket.policy.decode())
        statements = doc.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        doc["Statement"] = [s for s in statements if isinstance(s.get("Principal", {}), dict)]
        # moto compares a statement's Resource with `<bucket>/<prefix>*` as text; IAM matches
        # it as a pattern (`<bucket>/s3-access/*` covers the prefix `s3-access/uploads/`).
        wanted = f"arn:{target_bucket.partition}:s3:::{target_bucket.name}/{target_prefix or ''}*"
        for statement in doc["Statement"]:
            resources = statement.get("Resource", [])
            resources = resources if isinstance(resources, list) else [resources]
            if any(fnmatch.fnmatchcase(wanted.rstrip("*") + "x", r) for r in resources):
                statement["Resource"] = wanted
        view = SimpleNamespace(
            policy=json.dumps(doc).encode(),
            partition=target_bucket.partition,
            name=target_bucket.name,
        )
        return log_permissions(view, target_prefix)

    s3.FakeBucket._log_permissions_enabled_policy = staticmethod(log_permissions_enabled)
    print(
        'moto patch: PutBucketLogging reads a target bucket policy with a "Principal": "*"'
        " statement, and its Resource as a pattern"
    )


    from moto.eks import responses as eks

    create_cluster = eks.EKSResponse.create_cluster

    def create_cluster_with_access(self):
        # AWS answers CreateCluster and DescribeCluster with the cluster's accessConfig
        # (authenticationMode, bootstrapClusterCreatorAdminPermissions); moto drops it, so
        # the provider reads an empty access_config and plans to replace the cluster
        # (`bootstrap_cluster_creator_admin_permissions` forces it) on every later plan.
        result = create_cluster(self)
        asked = self._get_param("accessConfig") or {}
        cluster = self.eks_backend.clusters[self._get_param("name")]
        cluster.access_config = {
            "authenticationMode": asked.get("authenticationMode", "CONFIG_MAP"),
            "bootstrapClusterCreatorAdminPermissions": asked.get(
                "bootstrapClusterCreatorAdminPermissions", True
            ),
        }
        # The same for its upgradePolicy (EXTENDED when none is given): read back empty,
        # the next plan updates it, and moto's UpdateClusterConfig answer carries no
        # `update`, on which the provider crashes (aws 5.100, eks/cluster.go:819).
        cluster.upgrade_policy = self._get_param("upgradePolicy") or {"supportType": "EXTENDED"}
        return result

    eks.EKSResponse.create_cluster = create_cluster_with_access
    print("moto patch: an EKS cluster keeps the accessConfig and upgradePolicy it was created with")

    # moto draws one OIDC issuer id when it is imported (moto/eks/models.py ISSUER_TEMPLATE)
    # and gives it to every cluster, so a second cluster in one account (MOTO_SHARED=1:
    # staging and production side by side) gets the first one's issuer and its IRSA OIDC
    # provider is EntityAlreadyExists. In AWS each cluster has an issuer of its own
    # (`https://oidc.eks.<region>.amazonaws.com/id/<id>`).
    from moto.eks import models as eks_models

    cluster_init = eks_models.Cluster.__init__

    def cluster_with_own_issuer(self, *args, **kwargs):
        cluster_init(self, *args, **kwargs)
        issuer = self.identity["oidc"]["issuer"].rsplit("/", 1)[0]
        own = "".join(mock_random.choice("0123456789ABCDEF") for _ in range(32))
        self.identity = {"oidc": {"issuer": f"{issuer}/{own}"}}

    eks_models.Cluster.__init__ = cluster_with_own_issuer
    print("moto patch: every EKS cluster gets an OIDC issuer of its own")

    from moto.ec2.models import security_groups as ec2_sg

    modify_rules = ec2_sg.SecurityGroupBackend.modify_security_group_rules

    def modify_security_group_rules(self, group_id, rules):
        # A rule of every protocol (IpProtocol -1) covers all ports and AWS takes it without
        # FromPort/ToPort (ModifySecurityGroupRules, SecurityGroupRuleRequest); moto asks
        # for both ports whatever the protocol.
        for rule in rules.values():
            if str(rule.get("IpProtocol")) == "-1":
                rule.setdefault("FromPort", -1)
                rule.setdefault("ToPort", -1)
        result = modify_rules(self, group_id, rules)
        # moto leaves a rule's referenced group as it was ("TODO: Handle … reference_group_id"
        # in its modify_security_group_rules); AWS moves the rule to the new group. A rule
        # naming a replaced group (a renamed service's, created before the old one goes) is
        # updated in place, so without this the second plan shows the old id.
        group = self.get_security_group_by_name_or_id(group_id)
        for rule_id, rule in rules.items():
            ref = rule.get("ReferencedGroupId")
            existing = group.get_rule(rule_id) if group else None
            if ref and existing is not None:
                kept = {k: v for k, v in existing.source_group.items() if k != "GroupName"}
                existing.source_group = {**kept, "GroupId": ref}
        return result

    ec2_sg.SecurityGroupBackend.modify_security_group_rules = modify_security_group_rules
    print("moto patch: ModifySecurityGroupRules takes a rule of every protocol without ports, and moves a rule to its new referenced group")

    from moto.sqs import models as sqs

    queue_attributes = sqs.Queue.attributes

    def attributes_with_redrive_allow(self):
        # SetQueueAttributes keeps RedriveAllowPolicy (moto sets every attribute it is given)
        # but GetQueueAttributes never returns it, so the provider's
        # aws_sqs_queue_redrive_allow_policy waits for it until its timeout. AWS returns it
        # as set (SQS API reference, SetQueueAttributes: RedriveAllowPolicy).
        result = queue_attributes.fget(self)
        allow = getattr(self, "redrive_allow_policy", None)
        if allow:
            result["RedriveAllowPolicy"] = allow
        if result.get("RedrivePolicy"):
            # moto writes the RedrivePolicy back with Python's spaced separators; AWS answers
            # it compact (SQS API reference, GetQueueAttributes example:
            # {"deadLetterTargetArn":"…","maxReceiveCount":1000}), and the provider stores
            # what it reads unnormalized: the second plan updated every queue with a DLQ.
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    sqs.Queue.attributes = property(attributes_with_redrive_allow)
    get_attributes = sqs.SQSBackend.get_queue_attributes

    def get_queue_attributes(self, queue_name, attribute_names):
        # ... and refuses to be asked for it by name (InvalidAttributeName).
        wanted = "RedriveAllowPolicy" in attribute_names
        rest = [n for n in attribute_names if n != "RedriveAllowPolicy"]
        result = get_attributes(self, queue_name, rest) if rest else {}
        allow = getattr(self.get_queue(queue_name), "redrive_allow_policy", None)
        if wanted and allow:
            result["RedriveAllowPolicy"] = allow
        return result

    sqs.SQSBackend.get_queue_attributes = get_queue_attributes
    print("moto patch: GetQueueAttributes returns a queue's RedriveAllowPolicy, and its RedrivePolicy"
          " compact as AWS does")

    # The three below made the re-plan right after an apply (apply-moto.sh `replan`) show
    # changes moto caused, AWS would not.
    from moto.ec2.models import elastic_network_interfaces as ec2_eni
    from moto.ec2.models import instances as ec2_instances

    eni_association = ec2_eni.NetworkInterface.association

    def association_if_public(self):
        # moto answers an Association element, empty, for a network interface without a
        # public IP; the provider reads `associate_public_ip_address` as "Association is
        # present" (aws 5.x ec2_instance.go: `primaryNetworkInterface.Association != nil`),
        # so an instance in a private subnet read back `true` against the configured
        # `false`, and the re-plan replaced it. AWS has no association without a public IP.
        return eni_association.fget(self) or None

    ec2_eni.NetworkInterface.association = property(association_if_public)
    prep_nics = ec2_instances.Instance.prep_nics

    def prep_nics_with_groups(self, *args, **kwargs):
        # Given its security groups inside NetworkInterfaces (what the provider sends when
        # `associate_public_ip_address` is set), moto leaves the instance's SecurityGroups
        # empty; AWS lists the primary interface's groups, so `vpc_security_group_ids`
        # read back empty and the re-plan added them again.
        prep_nics(self, *args, **kwargs)
        primary = self.nics.get(0)
        if not self.security_groups and primary is not None:
            self.security_groups = list(primary._group_set)

    ec2_instances.Instance.prep_nics = prep_nics_with_groups
    print("moto patch: an instance's network interface without a public IP has no Association,"
          " and the instance lists the groups given on its interface")

    def rule_description(self):
        # A rule referencing a security group keeps its Description in the group pair
        # (UserIdGroupPairs[].Description), where moto's DescribeSecurityGroupRules does not
        # look: aws_vpc_security_group_ingress_rule read back no description.
        return self.ip_range.get("Description") or (self.source_group or {}).get("Description")

    ec2_sg.SecurityGroupRule.description = property(rule_description)
    print("moto patch: DescribeSecurityGroupRules returns the description of a rule that"
          " references a security group")

    create_nodegroup = eks.EKSResponse.create_nodegroup

    def create_nodegroup_as_asked(self):
        # moto gives a node group without remoteAccess a default one (`eksKeypair`,
        # moto/eks/models.py DEFAULT_REMOTE_ACCESS) and drops CreateNodegroup's updateConfig
        # and nodeRepairConfig (it keeps them on UpdateNodegroupConfig only): the re-plan
        # replaced every node group (`remote_access` forces it). AWS answers what was asked
        # (CreateNodegroup: remoteAccess, updateConfig, nodeRepairConfig).
        result = create_nodegroup(self)
        group = self.eks_backend.clusters[self._get_param("name")].nodegroups[
            self._get_param("nodegroupName")
        ]
        group.remote_access = self._get_param("remoteAccess")
        group.update_config = self._get_param("updateConfig") or group.update_config
        group.node_repair_config = self._get_param("nodeRepairConfig") or group.node_repair_config
        return result

    eks.EKSResponse.create_nodegroup = create_nodegroup_as_asked
    print("moto patch: CreateNodegroup keeps remoteAccess (none unless asked), updateConfig and"
          " nodeRepairConfig")

    from moto.ec2.responses import launch_templates as ec2_lt

    create_template = ec2_lt.LaunchTemplates.create_launch_template

    def create_launch_template(self):
        # CreateLaunchTemplate's own TagSpecifications tag the launch template (resource type
        # `launch-template`); moto also copies them into the template data, which tags what
        # is launched, so the provider read a third `tag_specifications` block back and the
        # re-plan removed it from every launch template.
        result = create_template(self)
        template = self.ec2_backend.get_launch_template_by_name(self._get_param("LaunchTemplateName"))
        for version in template.versions:
            specs = version.data.get("TagSpecifications")
            if specs:
                version.data["TagSpecifications"] = [
                    t for t in specs if t.get("ResourceType") != "launch-template"
                ]
        return result

    ec2_lt.LaunchTemplates.create_launch_template = create_launch_template
    print("moto patch: a launch template's own tags stay out of its data's TagSpecifications")

    update_parameters = rds.DBParameterGroup.update_parameters

    def update_parameters_as_user(self, new_parameters):
        # AWS marks what ModifyDBParameterGroup set as `Source: user` (DescribeDBParameters,
        # Parameter.Source); moto leaves Source out, and the provider, which keeps the user
        # parameters, read none: the re-plan set `rds.force_ssl` again.
        new_parameters = list(new_parameters)
        update_parameters(self, new_parameters)
        for p in new_parameters:
            self.parameters[p["ParameterName"]].setdefault("Source", "user")

    rds.DBParameterGroup.update_parameters = update_parameters_as_user
    print("moto patch: DescribeDBParameters gives what was set Source user")

    from moto.applicationautoscaling import responses as aas

    # Application Auto Scaling in moto has no tags: ListTagsForResource is not implemented
    # (HTTP 500), so every read of an aws_appautoscaling_target failed, the apply stopped
    # there (its policies and scheduled actions blocked) and the second plan could not
    # refresh at all. Tags given at RegisterScalableTarget or TagResource are kept per ARN
    # and returned (Application Auto Scaling API: ListTagsForResource).
    def tag_store(self):
        return self.applicationautoscaling_backend.__dict__.setdefault("infragen_tags", {})

    register_target = aas.ApplicationAutoScalingResponse.register_scalable_target

    def register_scalable_target(self):
        body = register_target(self)
        arn = json.loads(body)["ScalableTargetARN"]
        tag_store(self).setdefault(arn, {}).update(self._get_param("Tags") or {})
        return body

    def list_tags_for_resource(self):
        return json.dumps({"Tags": tag_store(self).get(self._get_param("ResourceARN"), {})})

    def tag_resource(self):
        tag_store(self).setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self):
        tags = tag_store(self).get(self._get_param("ResourceARN"), {})
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return "{}"

    aas.ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target
    aas.ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource
    aas.ApplicationAutoScalingResponse.tag_resource = tag_resource
    aas.ApplicationAutoScalingResponse.untag_resource = untag_resource
    print("moto patch: Application Auto Scaling keeps a scalable target's tags (ListTagsForResource,"
          " TagResource, UntagResource)")

    from moto.ecs import responses as ecs

    create_service = ecs.EC2ContainerServiceResponse.create_service

    def create_service_as_asked(self):
        # moto's CreateService drops healthCheckGracePeriodSeconds, enableECSManagedTags and
        # availabilityZoneRebalancing (moto/ecs/responses.py passes neither to the backend),
        # so DescribeServices answered 0/false/none and the second plan updated every
        # service behind a load balancer. AWS returns them as set (ECS API, Service).
        result = create_service(self)
        services, _ = self.ecs_backend.describe_services(
            self._get_param("cluster", "default"), [self._get_param("serviceName")]
        )
        for param, attr in (
            ("healthCheckGracePeriodSeconds", "health_check_grace_period_seconds"),
            ("enableECSManagedTags", "enable_ecs_managed_tags"),
            ("availabilityZoneRebalancing", "availability_zone_rebalancing"),
        ):
            if self._get_param(param) is not None:
                setattr(services[0], attr, self._get_param(param))
        return result

    ecs.EC2ContainerServiceResponse.create_service = create_service_as_asked
    print("moto patch: CreateService keeps healthCheckGracePeriodSeconds, enableECSManagedTags and"
          " availabilityZoneRebalancing")


def serve(host, port):
    patch_moto()
    sys.stdout.flush()
    from moto.server import main as moto_main

    moto_main(["-H", host, "-p", str(port)])


def moto_unimplemented(moto_log):
    """Actions moto answered with NotImplementedError (it replies 500 or 404 to the client)."""
    found = set()
    if moto_log and os.path.exists(moto_log):
        for line in open(moto_log, errors="replace"):
            m = re.search(r"The (\w+) action has not been implemented", line) or re.search(
                r"NotImplementedError: \w+\.(\w+) is not yet implemented", line
            )
            if m:
                found.add(m.group(1))
    return found


def api_action(text):
    m = re.search(r"operation error [\w ]+?: (\w+)", text)
    return m.group(1) if m else None


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def report(moto_log, logs):
    unimplemented = moto_unimplemented(moto_log)
    planned = defaultdict(set)  # rtype -> addresses planned for create
    created = defaultdict(set)
    problems = defaultdict(list)  # rtype -> [(verdict, where, message)]
    failed = set()
    skipped = defaultdict(set)  # rtype -> addresses removed from the copy for a moto gap
    modules = []
    guarded = []  # (where, message) of preconditions that stopped an apply
    for log in logs:
        module = os.path.basename(log).removesuffix(".json").removesuffix(".retry")
        if module not in modules:
            modules.append(module)
        gaps = log.removesuffix(".json") + ".skipped"
        if os.path.exists(gaps):
            for address in open(gaps).read().split():
                skipped[address.split(".")[0]].add(f"{module}: {address}")
        for line in open(log):
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            kind = msg.get("type")
            if kind == "planned_change":
                change = msg["change"]
                if change.get("action") in ("create", "replace"):
                    r = change["resource"]
                    planned[r["resource_type"]].add(f"{module}: {r['addr']}")
            elif kind == "apply_complete":
                hook = msg["hook"]
                if hook.get("action") == "create":
                    r = hook["resource"]
                    created[r["resource_type"]].add(f"{module}: {r['addr']}")
            elif kind == "diagnostic" and msg.get("@level") == "error":
                diag = msg["diagnostic"]
                address = diag.get("address", "")
                text = " ".join((diag.get("summary", "") + ": " + diag.get("detail", "")).split())
                parts = address.split("[")[0].split(".")
                if parts and parts[0] == "data" and len(parts) > 1:
                    rtype = parts[1]
                else:
                    rtype = parts[0] if parts and parts[0] else "(module)"
                action = api_action(text)
                if text.startswith("Resource precondition failed"):
                    # The output's own guard (an empty secret, an image not pushed yet).
                    guarded.append((f"{module}: {address}", text[:600]))
                    continue
                if any(rx.search(text) for rx, _ in MOTO_BUGS):
                    why = next(w for rx, w in MOTO_BUGS if rx.search(text))
                    verdict = "moto bug"
                    text = f"{text} [{why}]"
                elif (action and snake(action) in unimplemented) or NOT_IMPLEMENTED.search(text):
                    verdict = "not implemented by moto"
                elif "StatusCode: 500" in text:
                    # moto raised an exception answering (a moto bug; its log has the trace).
                    verdict = "moto error"
                else:
                    verdict = "rejected"
                failed.add(f"{module}: {address}")
                problems[rtype].append((verdict, f"{module}: {address}", text[:600]))
    types = sorted(set(planned) | set(created) | set(problems) | set(skipped))
    head = f"{'resource type':50} {'planned':>7} {'created':>7} {'failed':>6} {'blocked':>7}"
    print(f"{head} {'skipped':>7}")
    totals = [0, 0, 0, 0, 0]
    for t in types:
        p, c, f = len(planned.get(t, ())), len(created.get(t, ())), len(problems.get(t, ()))
        blocked = len(planned.get(t, set()) - created.get(t, set()) - failed)
        s = len(skipped.get(t, ()))
        totals = [a + b for a, b in zip(totals, (p, c, f, blocked, s))]
        print(f"{t:50} {p:7} {c:7} {f:6} {blocked:7} {s:7}")
    print(f"{'total':50} " + " ".join(f"{n:7}" if i != 2 else f"{n:6}" for i, n in enumerate(totals)))
    print("(blocked: planned, never attempted because something it depends on failed;")
    print(" skipped: removed from the copy because moto has no API for it, see MOTO_GAPS)")
    print()
    for module in modules:
        def mine(table):
            return sum(1 for v in table.values() for a in v if a.startswith(module + ": "))

        p, c, s = mine(planned), mine(created), mine(skipped)
        print(f"{module}: {c}/{p} resources created ({s} skipped for moto gaps)")
    if unimplemented:
        print("\nmoto raised NotImplementedError for: " + ", ".join(sorted(unimplemented)))
    for where, text in guarded:
        print(f"\n[stopped by its precondition] ({where})\n    {text}")
    rejected = 0
    for t in sorted(problems):
        for verdict, where, text in problems[t]:
            rejected += verdict == "rejected"
            print(f"\n[{verdict}] {t} ({where})\n    {text}")
    return rejected


# Diffs of a re-plan right after an apply that come from moto answering what AWS does not
# (address pattern, attribute path pattern, why). The output is NOT changed for these; each
# was checked against the provider's documentation/issues before being put here.
MOTO_REPLAN_QUIRKS = [
]


def differing(before, after, unknown, path=()):
    """Paths (tuples) where `after` differs from `before`, with (before, after) values;
    `unknown` mirrors after_unknown (True where the value is known after apply only)."""
    if unknown is True:
        if before is None:
            return []
        return [(path, before, "(known after apply)")]
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        unknown = unknown if isinstance(unknown, dict) else {}
        for key in sorted(set(before) | set(after) | set(unknown)):
            out += differing(before.get(key), after.get(key), unknown.get(key), path + (key,))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        unknown = unknown if isinstance(unknown, list) else []
        for i, (b, a) in enumerate(zip(before, after)):
            out += differing(b, a, unknown[i] if i < len(unknown) else None, path + (i,))
        return out
    # An empty list/object and an absent value plan as no change.
    if before == after or (before in (None, [], {}) and after in (None, [], {})):
        return []
    return [(path, before, after)]


def short(value, limit=160):
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


def replan(plan_json, module):
    try:
        plan = json.load(open(plan_json))
    except (OSError, ValueError):
        print(f"   {module} re-plan: no plan (see its log)")
        return 1
    not_created, drift, quirks = [], [], []
    for rc in plan.get("resource_changes", []):
        actions = rc["change"]["actions"]
        if actions in (["no-op"], ["read"]):
            continue
        if actions == ["create"]:
            not_created.append(rc["address"])
            continue
        change = rc["change"]
        diffs = differing(change.get("before"), change.get("after"), change.get("after_unknown"))
        forced = {tuple(p) for p in change.get("replace_paths") or []}
        lines = []
        all_quirk = True
        # On a replacement every computed attribute becomes "(known after apply)": those say
        # nothing about the cause, only counted, unless they force the replacement.
        later = [d for d in diffs if d[2] == "(known after apply)" and d[0] not in forced]
        diffs = [d for d in diffs if d not in later]
        for path, b, a in diffs:
            dotted = ".".join(map(str, path))
            why = next((w for addr, attr, w in MOTO_REPLAN_QUIRKS
                        if re.fullmatch(addr, rc["address"]) and re.fullmatch(attr, dotted)), None)
            all_quirk &= why is not None
            mark = " (forces replacement)" if path in forced or path[:1] in forced else ""
            note = f"  [moto quirk: {why}]" if why else ""
            lines.append(f"       {dotted}: {short(b)} -> {short(a)}{mark}{note}")
        if later:
            lines.append(f"       (and {len(later)} attributes known after apply only)")
        if not diffs and not later:
            # before/after equal as JSON: the change is in a sensitive value (redacted from
            # show -json) or in the provider's private data.
            lines.append("       (no attribute differs as shown: a sensitive value?)")
            all_quirk = False
        all_quirk &= bool(diffs)
        entry = (f"     {'/'.join(actions):>15} {rc['address']}", lines)
        (quirks if all_quirk else drift).append(entry)
    if not (not_created or drift or quirks):
        print(f"   {module} re-plan: no changes")
        return 0
    parts = []
    if drift:
        parts.append(f"{len(drift)} to change")
    if quirks:
        parts.append(f"{len(quirks)} moto quirks")
    if not_created:
        parts.append(f"{len(not_created)} not created by the apply (failed or blocked)")
    print(f"   {module} re-plan: " + ", ".join(parts))
    for head, lines in drift + quirks:
        print(head)
        for line in lines:
            print(line)
    return 1 if drift else 0


def main():
    if sys.argv[1] == "override":
        override(*sys.argv[2:7])
    elif sys.argv[1] == "gaps":
        moto_gaps(sys.argv[2])
    elif sys.argv[1] == "certificate":
        import boto3

        acm = boto3.client(
            "acm",
            endpoint_url=sys.argv[2],
            region_name=sys.argv[3],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        print(acm.request_certificate(DomainName="moto.example.com")["CertificateArn"])
    elif sys.argv[1] == "fill-secrets":
        import boto3

        sm = boto3.client(
            "secretsmanager",
            endpoint_url=sys.argv[2],
            region_name=sys.argv[3],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        for p in json.load(open(sys.argv[4])):
            if p["kind"] != "SecretsManagerSecretValue":
                continue
            value = json.dumps({k: "moto-placeholder" for k in p["keys"]}) if p["keys"] else "moto-placeholder"
            sm.put_secret_value(SecretId=p["name"], SecretString=value)
            print(f"  moto: put a placeholder value in {p['name']} (preconditions.json)")
    elif sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "replan":
        sys.exit(replan(sys.argv[2], sys.argv[3]))
    elif sys.argv[1] == "report":
        sys.exit(1 if report(sys.argv[2], sys.argv[3:]) else 0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
