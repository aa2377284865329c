//! DynamoDB tables: on-demand (or provisioned) billing, the blueprint's keys, point-in-time
//! recovery, server-side encryption with the tables' own KMS key, deletion protection and
//! TTL. Workloads reach them through IRSA policies naming the table ARN (`identity.rs`).

use crate::json;

use super::{Ctx, kms};
use crate::blueprint::types::{Billing, KeyType, Table};
use crate::terraform::{Module, res};

fn key_type(t: KeyType) -> &'static str {
    match t {
        KeyType::S => "S",
        KeyType::N => "N",
        KeyType::B => "B",
    }
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    let tables = &ctx.v.bp.tables;
    if tables.is_empty() {
        return;
    }
    kms::key(
        ctx,
        m,
        "dynamodb",
        &format!("DynamoDB table encryption for {}", ctx.prefix),
        vec![],
    );
    for t in tables {
        table(ctx, t, m);
    }
    ctx.mark("tables");
}

fn table(ctx: &Ctx, t: &Table, m: &mut Module) {
    let r = res("aws_dynamodb_table", &t.name);
    let mut attributes =
        vec![json!({"name": &t.partition_key.name, "type": key_type(t.partition_key.r#type)})];
    let mut body = json!({
        "name": t.table_name(),
        "hash_key": &t.partition_key.name,
        "point_in_time_recovery": {"enabled": t.point_in_time_recovery},
        "server_side_encryption": {"enabled": true, "kms_key_arn": res("aws_kms_key", "dynamodb").arn()},
        "deletion_protection_enabled": t.deletion_protection,
        "tags": {"Name": t.table_name()},
    });
    if let Some(sk) = &t.sort_key {
        body["range_key"] = json!(&sk.name);
        attributes.push(json!({"name": &sk.name, "type": key_type(sk.r#type)}));
    }
    body["attribute"] = json!(attributes);
    match t.billing {
        Billing::OnDemand => body["billing_mode"] = json!("PAY_PER_REQUEST"),
        Billing::Provisioned => {
            // The blueprint has no capacity figures: the smallest useful provisioned table,
            // to be scaled by Application Auto Scaling or edited.
            body["billing_mode"] = json!("PROVISIONED");
            body["read_capacity"] = json!(5);
            body["write_capacity"] = json!(5);
            ctx.note(format!(
                "table `{}` is provisioned with 5 read / 5 write capacity units (the blueprint gives none)",
                t.name
            ));
        }
    }
    if t.point_in_time_recovery
        && let Some(days) = t.pitr_days
    {
        body["point_in_time_recovery"]["recovery_period_in_days"] = json!(days);
    }
    if let Some(attr) = &t.ttl_attribute {
        body["ttl"] = json!({"attribute_name": attr, "enabled": true});
    }
    m.file("tables").resource(&r, body);
    m.file("outputs")
        .output(
            &format!("{}_table_name", t.name),
            r.attr("name"),
            &format!("DynamoDB table {}", t.name),
        )
        .output(
            &format!("{}_table_arn", t.name),
            r.arn(),
            &format!("ARN of DynamoDB table {}", t.name),
        );
}
