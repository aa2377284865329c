//! ECS on Fargate with `network.nat: none`: the tasks run in private subnets with no route
//! out, so everything they reach at start and at run time must be inside the VPC — a VPC
//! endpoint per AWS API, and images ECR serves through them. Accepted when that holds,
//! refused naming exactly what is missing otherwise.
//!
//! What a Fargate task (platform 1.4.0) calls, per "Migrating to Linux platform version
//! 1.4.0" (docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-version-migration.html)
//! and "Amazon ECS interface VPC endpoints" (…/developerguide/vpc-endpoints.html):
//!
//! - **Images**: ECR through `ecr.api` + `ecr.dkr` and the S3 gateway endpoint (every
//!   created VPC has it, `backend::aws::endpoints`). Endpoints are regional ("VPC endpoints
//!   currently don't support cross-Region requests") and do not serve ECR Public or any
//!   other registry (Docker Hub, ghcr.io, quay.io): such an image is never pulled. So is the
//!   volume-setup container infragen adds for writable paths and RDS CA files
//!   (`backend::aws::sidecars::volume_setup`), BusyBox from ECR Public unless
//!   `providers.aws.setup_image` names a copy in the stack's ECR. AWS's suggestion for public
//!   images, a pull through cache, is filled on the first pull, and "When an image is pulled
//!   using a pull through cache rule for the first time, if you've configured Amazon ECR to
//!   use an interface VPC endpoint … you need to … route all outbound traffic … to the NAT
//!   gateway in order for the pull to work" (…/AmazonECR/latest/userguide/vpc-endpoints.html):
//!   the copy must exist before the tasks start (pushed, or the cache primed from outside).
//! - **Logs**: the `awslogs` driver every container uses needs `logs`.
//! - **Secrets**: a task definition's `secrets` read from Secrets Manager need
//!   `secretsmanager`; from Parameter Store (Amazon MQ passwords), `ssm`.
//! - **What a service `uses`**: SQS needs `sqs`, DynamoDB tables `dynamodb`; S3 buckets go
//!   through the gateway endpoint; RDS, ElastiCache and Amazon MQ are in the VPC.
//!
//! Load balancer ingress needs no NAT: the ALB sits in the public subnets behind the
//! internet gateway, and answers go back the way requests came.
//!
//! An `egress` to an address outside the private ranges (a database we do not own — Neon,
//! Supabase, RDS of another account over its public endpoint —, Stripe, Twilio, an SMTP
//! relay) is refused: the private subnets' only route out is the NAT gateway ("NAT gateways",
//! Amazon VPC user guide: instances in a private subnet reach services outside the VPC
//! through one), and an interface endpoint serves only its own AWS service, so the security
//! group rule would open a door with no road behind it and every call would time out. A
//! private `to` (RFC 1918, or RFC 6598's 100.64.0.0/10 — see `smtp_port::private`) stays
//! accepted: a peering, VPN or transit gateway route the team adds (an `extra:` template)
//! may carry it.
//!
//! Not needed, so not asked for: `kms` (Secrets Manager, Systems Manager, CloudWatch Logs,
//! S3 and SQS decrypt with the stack's keys themselves; the roles' `kms:Decrypt` is
//! conditioned on `kms:ViaService`), `sts` (task role credentials come from the ECS agent's
//! credential endpoint), `ecs` ("Tasks using the Fargate launch type don't require the
//! interface VPC endpoints for Amazon ECS", …/developerguide/vpc-endpoints.html). ECS Exec,
//! which would need `ssmmessages`, is off on every service (`enable_execute_command`).

use std::collections::BTreeMap;

use super::Checker;
use crate::blueprint::types::{Blueprint, Service, VpcEndpoint};
use crate::catalog::Provider;
use crate::wiring::setup_image::{DEFAULT_SETUP_IMAGE, setup_image};
use crate::wiring::{self, Flavor, Kind, Value};

/// Whether `image` is in an ECR private registry of `region`
/// (`<account>.dkr.ecr.<region>.amazonaws.com/<repository>…`).
fn ecr_in(image: &str, region: &str) -> bool {
    let host = image.split('/').next().unwrap_or_default();
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 6
        && !parts[0].is_empty()
        && parts[1..3] == ["dkr", "ecr"]
        && parts[3] == region
        && parts[4..] == ["amazonaws", "com"]
        && image.len() > host.len() + 1
}

/// What a task does with endpoint `e`, for the message.
fn why(e: VpcEndpoint) -> &'static str {
    match e {
        VpcEndpoint::Ecr => "to pull images",
        VpcEndpoint::Logs => "to write logs (awslogs)",
        VpcEndpoint::Secretsmanager => "to read secrets and credentials",
        VpcEndpoint::Ssm => "to read Amazon MQ passwords (Parameter Store)",
        VpcEndpoint::Sqs => "to call SQS",
        VpcEndpoint::Dynamodb => "to call DynamoDB",
        _ => "",
    }
}

/// The endpoints task `s` needs.
fn needs(bp: &Blueprint, s: &Service, region: &str) -> Vec<VpcEndpoint> {
    let mut out = vec![VpcEndpoint::Ecr, VpcEndpoint::Logs];
    if !s.secret_env.is_empty() {
        out.push(VpcEndpoint::Secretsmanager);
    }
    let all = wiring::bindings(bp, s, |_, _| Some(Flavor::Aws));
    let list = wiring::without_own(s, wiring::with_known_cas(all, Flavor::Aws, region));
    for b in &list {
        let need = match (b.kind, &b.value) {
            (_, Value::Key(_)) => Some(VpcEndpoint::Secretsmanager),
            (Kind::Queue, &Value::Field(f))
                if wiring::from_secret_store(b.kind, Flavor::Aws, f) =>
            {
                Some(VpcEndpoint::Ssm)
            }
            (kind, &Value::Field(f)) if wiring::from_secret_store(kind, Flavor::Aws, f) => {
                Some(VpcEndpoint::Secretsmanager)
            }
            (Kind::Sqs, _) => Some(VpcEndpoint::Sqs),
            (Kind::Table, _) => Some(VpcEndpoint::Dynamodb),
            _ => None,
        };
        out.extend(need);
    }
    out
}

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let Some(net) = &bp.network else { return };
    let region = bp
        .providers
        .aws
        .as_ref()
        .map(|a| a.region.as_str())
        .unwrap_or_default();
    // Every task the output runs: services, then jobs, with their blueprint paths.
    let tasks: Vec<(String, &Service)> = bp.workloads_at().collect();
    // Whether a wrong `providers.aws.setup_image` was already reported.
    let mut said = false;
    // Each missing endpoint with the tasks (and reasons) that need it.
    let mut missing: BTreeMap<VpcEndpoint, Vec<String>> = BTreeMap::new();
    for (path, s) in &tasks {
        let images = std::iter::once((format!("{path}.image"), s.image.as_str()))
            .chain(
                (s.init.iter().enumerate())
                    .map(|(j, x)| (format!("{path}.init[{j}].image"), x.image.as_str())),
            )
            .chain(
                (s.sidecars.iter().enumerate())
                    .map(|(j, x)| (format!("{path}.sidecars[{j}].image"), x.image.as_str())),
            );
        for (at, image) in images {
            if !ecr_in(image, region) {
                c.error(
                    &at,
                    format!("`{}` runs `{image}`, which its tasks cannot pull with `network.nat: none`: VPC endpoints reach only ECR private registries of the stack's region ({region}), not Docker Hub, ECR Public or another registry", s.name),
                )
                .help = Some(format!("copy the image into a repository of `registry` (`<account>.dkr.ecr.{region}.amazonaws.com/<repository>:<tag>`), or set `network.nat: single`"));
            }
        }
        let image = setup_image(bp);
        let chosen = bp
            .providers
            .aws
            .as_ref()
            .is_some_and(|a| a.setup_image.is_some());
        if let Some(field) =
            super::ecs_containers::volume_setup_reason(Provider::Aws, bp, s, region)
            && !ecr_in(image, region)
        {
            // A `setup_image` of the user's is wrong once, where it is written; the default
            // is wrong for each task that gets the container, where the task asks for it.
            let at = if chosen {
                "providers.aws.setup_image".to_string()
            } else {
                format!("{path}.{field}")
            };
            // A pull through cache is filled on the first pull, which through an interface
            // endpoint needs NAT ("Amazon ECR interface VPC endpoints", considerations): the
            // copy must be there before the tasks start.
            // Name what brings the container to this task, so the way out fits it.
            let (does, drop) = match field {
                "files" => (
                    "writes `files` into its task volumes",
                    "move the files' content into the image",
                ),
                "uses" => (
                    "copies the RDS CA bundle for a managed database's `_CA_FILE`",
                    "read no managed database's `_CA_FILE`",
                ),
                _ => (
                    "prepares the writable paths",
                    "set `security: { writable_paths: [] }`",
                ),
            };
            let help = format!(
                "copy BusyBox into the stack's ECR before the tasks start and name the copy in `providers.aws.setup_image` — e.g. add `busybox` to `registry.repositories`, push `{DEFAULT_SETUP_IMAGE}` there (`crane copy` or docker pull/tag/push) and set `setup_image: <account>.dkr.ecr.{region}.amazonaws.com/<registry>/busybox:1.37.0`; or {drop}, or set `network.nat: single` (docs/blueprint.md \"VPC endpoints\")"
            );
            if !(chosen && said) {
                said = true;
                c.error(
                    &at,
                    format!("`{}` gets infragen's volume-setup container (here it {does}), whose image `{image}` is not in an ECR private registry of the stack's region ({region}): with `network.nat: none` it is never pulled", s.name),
                )
                .help = Some(help);
            }
        }
        for (j, e) in s.egress.iter().enumerate() {
            // A `to` that is no CIDR is refused where it is written (`references.rs`); a
            // second error about its route would only repeat the first.
            if e.to.parse::<ipnet::Ipv4Net>().is_ok() && !super::smtp_port::private(&e.to) {
                let ports: Vec<String> = e.ports.iter().map(u16::to_string).collect();
                c.error(
                    &format!("{path}.egress[{j}]"),
                    format!("`{}` may send to {} on port {}, but with `network.nat: none` the private subnets its tasks run in have no route to the internet: every connection there times out", s.name, e.to, ports.join(", ")),
                )
                .help = Some("set `network.nat: single` (one NAT gateway; its address is the output `nat_public_ips` for a partner's allow-list) or `per_zone`; an AWS API goes through `network.endpoints` instead, and an address inside the private ranges (`to: 10.0.0.0/8`, or RFC 6598's 100.64.0.0/10) stays accepted for a route of your own (peering, VPN)".into());
            }
        }
        for e in needs(bp, s, region) {
            if net.endpoints.contains(&e) {
                continue;
            }
            let list = missing.entry(e).or_default();
            if !list.contains(&s.name) {
                list.push(s.name.clone());
            }
        }
    }
    if missing.is_empty() {
        return;
    }
    let what: Vec<String> = missing
        .iter()
        .map(|(e, who)| format!("`{}` {} for {}", e.as_str(), why(*e), who.join(", ")))
        .collect();
    c.error(
        "network.nat",
        format!("ECS tasks run in the private subnets without a public IP, and with `nat: none` they reach AWS only through VPC endpoints; missing: {}", what.join("; ")),
    )
    .help = Some(format!(
        "add them: `network.endpoints: [{}]`, or set `nat: single` (one gateway) or `nat: per_zone`",
        merged(&net.endpoints, missing.keys().copied()).join(", ")
    ));
}

/// The endpoints already listed and the missing ones, in the enum's order.
fn merged(listed: &[VpcEndpoint], missing: impl Iterator<Item = VpcEndpoint>) -> Vec<&'static str> {
    let mut all: Vec<VpcEndpoint> = listed.iter().copied().chain(missing).collect();
    all.sort();
    all.dedup();
    all.into_iter().map(VpcEndpoint::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::ecr_in;

    #[test]
    fn private_destinations() {
        assert!(super::super::smtp_port::private("10.20.0.0/16"));
        assert!(super::super::smtp_port::private("192.168.4.7/32"));
        assert!(!super::super::smtp_port::private("0.0.0.0/0"));
        assert!(!super::super::smtp_port::private("54.187.174.169/32"));
        assert!(!super::super::smtp_port::private("10.0.0.0/7"));
        // RFC 6598 shared address space: a VPC's secondary CIDR, routed privately.
        assert!(super::super::smtp_port::private("100.64.0.0/10"));
        assert!(super::super::smtp_port::private("100.100.12.0/24"));
        assert!(!super::super::smtp_port::private("100.128.0.0/24"));
        assert!(!super::super::smtp_port::private("100.0.0.0/8"));
    }

    #[test]
    fn ecr_images() {
        assert!(ecr_in(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1.0.0",
            "eu-west-1"
        ));
        assert!(!ecr_in(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api:1.0.0",
            "eu-west-1"
        ));
        assert!(!ecr_in("nginx:1.27", "eu-west-1"));
        assert!(!ecr_in(
            crate::wiring::setup_image::DEFAULT_SETUP_IMAGE,
            "eu-west-1"
        ));
        assert!(!ecr_in("ghcr.io/acme/api:1.0.0", "eu-west-1"));
    }
}
