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
  apply-moto.py certificate ENDPOINT REGION
      requests an ACM certificate from moto and prints its ARN.
  apply-moto.py fill-secrets ENDPOINT REGION PRECONDITIONS_JSON
      puts a placeholder value into every Secrets Manager secret preconditions.json lists as
      empty (SecretsManagerSecretValue; a JSON object when it names keys), as an operator
      would before applying `infra` again: on ECS the services wait for those values.
  apply-moto.py report MOTO_LOG LOG.json... > summary
      reads `terraform apply -json` logs and prints, per resource type: planned, created,
      failed (rejected by the API with its message, or not implemented by moto — an action
      moto's log shows as NotImplementedError, or a 404/timeout) and blocked (never attempted
      because what it depends on failed). A retry's log (`….retry.json`) counts for the same
      module; a `lifecycle.precondition` that stopped the first apply is listed apart, not
      counted as a failure or a rejection. Exits 1 when the API rejected something.
"""

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
                "skip_requesting_account_id": True,
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
]


def moto_unimplemented(moto_log):
    """Actions moto answered with NotImplementedError (it replies 500 or 404 to the client)."""
    found = set()
    if moto_log and os.path.exists(moto_log):
        for line in open(moto_log, errors="replace"):
            m = re.search(r"The (\w+) action has not been implemented", line)
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
    guarded = []  # (where, message) of preconditions that stopped an apply
    for log in logs:
        module = os.path.basename(log).removesuffix(".json").removesuffix(".retry")
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
                if (action and snake(action) in unimplemented) or NOT_IMPLEMENTED.search(text):
                    verdict = "not implemented by moto"
                elif any(rx.search(text) for rx, _ in MOTO_BUGS):
                    why = next(w for rx, w in MOTO_BUGS if rx.search(text))
                    verdict = "moto bug"
                    text = f"{text} [{why}]"
                elif "StatusCode: 500" in text:
                    # moto raised an exception answering (a moto bug; its log has the trace).
                    verdict = "moto error"
                else:
                    verdict = "rejected"
                failed.add(f"{module}: {address}")
                problems[rtype].append((verdict, f"{module}: {address}", text[:600]))
    types = sorted(set(planned) | set(created) | set(problems))
    print(f"{'resource type':50} {'planned':>7} {'created':>7} {'failed':>6} {'blocked':>7}")
    totals = [0, 0, 0, 0]
    for t in types:
        p, c, f = len(planned.get(t, ())), len(created.get(t, ())), len(problems.get(t, ()))
        blocked = len(planned.get(t, set()) - created.get(t, set()) - failed)
        totals = [a + b for a, b in zip(totals, (p, c, f, blocked))]
        print(f"{t:50} {p:7} {c:7} {f:6} {blocked:7}")
    print(f"{'total':50} {totals[0]:7} {totals[1]:7} {totals[2]:6} {totals[3]:7}")
    print("(blocked: planned, never attempted because something it depends on failed)")
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


def main():
    if sys.argv[1] == "override":
        override(*sys.argv[2:7])
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
    elif sys.argv[1] == "report":
        sys.exit(1 if report(sys.argv[2], sys.argv[3:]) else 0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
