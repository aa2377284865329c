//! Amazon MQ for RabbitMQ: a private broker (single instance, or a three-node cluster across
//! zones when `ha`) in the data subnets, reachable only from its clients' security groups
//! on AMQPS (5671) and the management console / API (443), encrypted at rest with the
//! AWS-owned key (Amazon MQ for RabbitMQ accepts no customer-managed key; the `mq` KMS key
//! encrypts the admin password's SSM parameter), with general logs, automatic minor upgrades and the blueprint's maintenance window.
//!
//! Credentials: the provider requires one admin user with a password and offers no
//! write-only variant, so the password is in Terraform state whatever its source. The safest
//! option it allows is to generate it (`random_password`: never typed, never in a file or
//! CI variable, never in the output — the state is KMS-encrypted in the bootstrap bucket)
//! and hand it on through an SSM SecureString written with the write-only `value_wo`, so
//! operators read it with `aws ssm get-parameter --with-decryption` instead of opening the
//! state. Applications should get their own broker users (RabbitMQ management API), not this
//! one. The broker API never returns RabbitMQ users, so a password change is applied by
//! replacing the admin user; rotate deliberately (`terraform apply -replace=random_password…`).

use crate::json;

use super::network::subnet_ids;
use super::{Ctx, kms, security};
use crate::analysis::DataKind;
use crate::blueprint::types::Queue;
use crate::catalog::SizeKind;
use crate::terraform::{Expr, Module, ident, res};

/// The SSM parameter holding the admin password of broker `queue`.
pub fn password_parameter_name(ctx: &Ctx, queue: &str) -> String {
    format!("/{}/mq/{queue}/admin-password", ctx.prefix)
}

/// Brokers that infragen creates (managed queues).
pub fn managed<'a>(ctx: &Ctx<'a>) -> impl Iterator<Item = &'a Queue> {
    let v = ctx.v;
    v.bp.brokers()
        .filter(move |q| !v.in_cluster(DataKind::Queue, q.deployment))
}

/// Whether the module needs the `random` provider (a broker's admin password).
pub fn needs_random(ctx: &Ctx) -> bool {
    managed(ctx).next().is_some()
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    if !needs_random(ctx) {
        return;
    }
    kms::key(
        ctx,
        m,
        "mq",
        &format!("Amazon MQ admin credentials of {}", ctx.prefix),
        vec![],
    );
    for q in managed(ctx) {
        broker(ctx, q, m);
        ctx.note(format!(
            "queue `{}`: Amazon MQ for RabbitMQ encrypts at rest only with an AWS-owned key (no customer-managed KMS key); the admin password's SSM parameter uses the `mq` key",
            q.name
        ));
    }
    ctx.mark("queues");
}

/// The local holding queue `name`'s broker host (`local.<name>_host`), in `infra`.
pub fn host_local(name: &str) -> String {
    format!("{name}_host")
}

fn broker(ctx: &Ctx, q: &Queue, m: &mut Module) {
    let name = format!("{}-{}", ctx.prefix, q.name);
    let key = res("aws_kms_key", "mq");
    let sg = security::data_sg(ctx, m, "queues", &q.name, 5671, "Amazon MQ (AMQPS)");
    // The management console and HTTP API, for the same clients.
    for (label, source) in security::clients_of(ctx, &q.name) {
        let rule = format!(
            "{}-console-from-{}",
            q.name,
            label.replace(' ', "-").to_lowercase()
        );
        m.file("queues").resource(
            &res("aws_vpc_security_group_ingress_rule", &rule),
            json!({
                "security_group_id": sg.id(),
                "referenced_security_group_id": source,
                "ip_protocol": "tcp",
                "from_port": 443,
                "to_port": 443,
                "description": format!("{label} to the RabbitMQ management API of {} on 443", q.name),
            }),
        );
    }

    // The data tiers (cache, else database), which have no route to the internet — the same
    // subnets the manifests' NetworkPolicies open AMQPS egress to — else the private tier.
    let tier = ctx
        .v
        .bp
        .network
        .as_ref()
        .map(|n| {
            ["cache", "database", "private"]
                .iter()
                .map(|t| subnet_ids(n, t))
                .find(|ids| !ids.is_empty())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let subnets: Vec<Expr> = if q.ha {
        tier
    } else {
        tier.into_iter().take(1).collect()
    };
    let password = res("random_password", &format!("{}_admin", q.name));
    let username = format!("{}_admin", ident(&q.name));
    let broker = res("aws_mq_broker", &q.name);
    let mut body = json!({
        "broker_name": &name,
        "engine_type": "RabbitMQ",
        "engine_version": q.version.clone().unwrap_or_else(|| {
            ctx.v.catalog.default_version("rabbitmq").unwrap_or_default().to_string()
        }),
        "host_instance_type": ctx.v.size(SizeKind::Queue, q.size.as_deref(), &q.sizes),
        "deployment_mode": if q.ha { "CLUSTER_MULTI_AZ" } else { "SINGLE_INSTANCE" },
        "subnet_ids": subnets,
        "security_groups": [sg.id()],
        "publicly_accessible": false,
        "auto_minor_version_upgrade": true,
        "authentication_strategy": "simple",
        // RabbitMQ brokers have no audit log (CKV_AWS_197 does not apply).
        "logs": {"general": true},
        // Amazon MQ for RabbitMQ accepts only the AWS-owned key: a customer-managed
        // `kms_key_id` is rejected at create (customer keys are an ActiveMQ feature).
        "encryption_options": {"use_aws_owned_key": true},
        "user": [{"username": &username, "password": password.attr("result")}],
        "tags": {"Name": &name},
    });
    if let Some(w) = q.maintenance_window {
        body["maintenance_window_start_time"] = json!({
            "day_of_week": w.day_upper(),
            "time_of_day": w.start(),
            "time_zone": "UTC",
        });
    }
    let parameter = res("aws_ssm_parameter", &format!("{}_admin_password", q.name));
    let parameter_name = password_parameter_name(ctx, &q.name);
    m.file("queues")
        .resource(
            &password,
            json!({
                "length": 32,
                // RabbitMQ rejects `,`, `:` and `=`; letters and digits avoid quoting trouble.
                "special": false,
                "min_lower": 4,
                "min_upper": 4,
                "min_numeric": 4,
            }),
        )
        .resource(&broker, body)
        .resource(
            &parameter,
            json!({
                "name": parameter_name,
                "description": format!("Admin password of Amazon MQ broker {name} (user {username})"),
                "type": "SecureString",
                "key_id": key.arn(),
                "value_wo": password.attr("result"),
                "value_wo_version": 1,
                "tags": {"Name": &name},
            }),
        );
    // The broker's host name for its clients (`<QUEUE>_HOST`), as a local: ECS writes the
    // container definitions as JSON text, where the quotes of an inline expression's string
    // arguments are escaped (`\"amqps://\"`), which Terraform's template parser refuses
    // ("Invalid character") — a reference to a local has none.
    // (EKS clients read the host from `platform`'s ConfigMap instead.)
    if !ctx.is_eks() {
        let endpoint = broker.path("instances[0].endpoints[0]");
        m.file("queues").local(
            &host_local(&q.name),
            json!(crate::terraform::interp(&format!(
                "trimsuffix(trimprefix({endpoint}, \"amqps://\"), \":5671\")"
            ))),
        );
    }
    m.file("outputs")
        .output(
            &format!("{}_endpoints", q.name),
            broker.attr("instances[0].endpoints"),
            &format!("AMQPS endpoints of broker {name}"),
        )
        .output(
            &format!("{}_console_url", q.name),
            broker.attr("instances[0].console_url"),
            &format!("RabbitMQ management console of broker {name} (private)"),
        )
        .output(
            &format!("{}_admin_password_parameter", q.name),
            parameter.attr("name"),
            &format!("SSM SecureString holding the password of {username}"),
        );
}
