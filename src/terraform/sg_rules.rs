//! Security group rules as EC2 counts them against its quotas: "Inbound or outbound rules
//! per security group", 60 by default, "enforced separately for IPv4 and IPv6 rules" — so a
//! group has four counts, inbound and outbound of each family — and a rule naming another
//! security group (`referenced_security_group_id`) counts once, like a CIDR block, whatever
//! the size of that group
//! (<https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups>).
//! Recorded as resources are added ([`super::File::resource`]), so a back-end can check the
//! counts of the module it built without reading its rendered text back.

use super::json::Json;

/// One `aws_vpc_security_group_{ingress,egress}_rule`: the group it belongs to (the
/// `security_group_id` expression, `${aws_security_group.web_tasks.id}`), its direction and
/// address family.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SgRule {
    pub group: String,
    pub egress: bool,
    pub ipv6: bool,
}

/// The rule a resource of type `ty` with `body` adds to its group, if it is one.
pub fn of(ty: &str, body: &Json) -> Option<SgRule> {
    let egress = match ty {
        "aws_vpc_security_group_ingress_rule" => false,
        "aws_vpc_security_group_egress_rule" => true,
        _ => return None,
    };
    let group = match body.get("security_group_id")? {
        Json::String(s) => s.to_string(),
        Json::Expr(e) => e.as_str().to_string(),
        _ => return None,
    };
    Some(SgRule {
        group,
        egress,
        ipv6: body.get("cidr_ipv6").is_some(),
    })
}
