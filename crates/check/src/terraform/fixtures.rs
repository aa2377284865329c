//! Modules the tests start from.

use serde_json::{Value, json};

use super::super::schema::ProviderSchemas;
use super::check_module;

pub(super) fn check(doc: Value) -> Vec<String> {
    check_module(
        &[("main.tf.json".to_string(), doc)],
        ProviderSchemas::bundled(),
    )
    .iter()
    .map(ToString::to_string)
    .collect()
}

/// A valid module, with `patch` merged into the `aws_vpc.main` body.
pub(super) fn module_with_vpc(patch: Value) -> Value {
    let mut doc = valid_module();
    if let (Some(vpc), Some(extra)) = (
        doc.pointer_mut("/resource/aws_vpc/main")
            .and_then(Value::as_object_mut),
        patch.as_object(),
    ) {
        for (k, v) in extra {
            vpc.insert(k.clone(), v.clone());
        }
    }
    doc
}

pub(super) fn valid_module() -> Value {
    json!({
        "terraform": {
            "required_version": ">= 1.6",
            "required_providers": {"aws": {"source": "hashicorp/aws", "version": "~> 6.25"}}
        },
        "provider": {"aws": {"region": "${var.region}"}},
        "variable": {"region": {"type": "string", "default": "eu-west-1"}},
        "locals": {"name": "demo"},
        "resource": {
            "aws_vpc": {"main": {
                "cidr_block": "10.0.0.0/16",
                "enable_dns_support": true,
                "tags": {"Name": "${local.name}"}
            }},
            "aws_subnet": {"a": {
                "count": 2,
                "vpc_id": "${aws_vpc.main.id}",
                "cidr_block": "${cidrsubnet(aws_vpc.main.cidr_block, 8, count.index)}",
                "availability_zone": "${data.aws_availability_zones.all.names[count.index]}",
                "depends_on": ["aws_vpc.main"]
            }}
        },
        "data": {"aws_availability_zones": {"all": {"state": "available"}}},
        "output": {
            "vpc_id": {"value": "${aws_vpc.main.id}"},
            "subnets": {"value": "${aws_subnet.a[*].arn}", "description": "subnet ARNs"}
        }
    })
}
