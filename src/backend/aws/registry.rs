//! ECR: one repository per `registry.repositories` (prefixed `<registry.name>/` when the
//! blueprint names the registry), with immutable tags, scan on push, KMS encryption with the
//! registry's own key, no force-delete, and a lifecycle policy from `registry.lifecycle`.
//! Used by every AWS platform.

use crate::json;
use crate::terraform::Json;
use crate::tpl;

use super::{Ctx, kms};
use crate::blueprint::types::{Registry, RegistryLifecycle};
use crate::terraform::{Module, Ref, res};

/// The repository's name in ECR.
fn repository_name(reg: &Registry, repo: &str) -> String {
    match &reg.name {
        Some(prefix) => format!("{prefix}/{repo}"),
        None => repo.to_string(),
    }
}

/// An ECR image (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]`), split.
pub struct EcrImage<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub repository: &'a str,
    /// `:tag` or `@digest`, with its separator (empty when the image names neither).
    pub reference: &'a str,
}

pub fn parse_ecr_image(image: &str) -> Option<EcrImage<'_>> {
    let (host, rest) = image.split_once('/')?;
    let mut parts = host.split('.');
    let account = parts.next()?;
    if parts.next()? != "dkr" || parts.next()? != "ecr" {
        return None;
    }
    let region = parts.next()?;
    let split = rest
        .find('@')
        .or_else(|| rest.rfind(':').filter(|&i| !rest[i..].contains('/')))
        .unwrap_or(rest.len());
    Some(EcrImage {
        account,
        region,
        repository: &rest[..split],
        reference: &rest[split..],
    })
}

/// The repository this output creates that `image` lives in: an ECR image in the stack's
/// region whose repository path is one of `registry.repositories`. The account in the URL is
/// not compared: it is often a placeholder, and the repository the output creates is in the
/// account it is applied to, which is where the image must be pushed.
pub fn created_repository(ctx: &Ctx, image: &str) -> Option<(Ref, String)> {
    let reg = ctx.v.bp.registry.as_ref()?;
    let ecr = parse_ecr_image(image)?;
    if ecr.region != ctx.region {
        return None;
    }
    reg.repositories
        .iter()
        .find(|r| repository_name(reg, r) == ecr.repository)
        .map(|r| (res("aws_ecr_repository", r), ecr.reference.to_string()))
}

/// The lifecycle policy document: expire untagged images after N days, then keep only the
/// newest N tagged images (matching the prefixes, or any image when none are given — ECR
/// wants a `tagStatus: any` rule last).
pub fn lifecycle_policy(l: &RegistryLifecycle) -> Option<String> {
    let mut rules: Vec<Json> = Vec::new();
    if let Some(days) = l.untagged_days {
        rules.push(json!({
            "description": format!("Expire untagged images {days} days after push"),
            "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": days},
            "action": {"type": "expire"},
        }));
    }
    if let Some(keep) = l.keep_tagged {
        let mut selection = json!({"countType": "imageCountMoreThan", "countNumber": keep});
        let description = if l.tag_prefixes.is_empty() {
            selection["tagStatus"] = json!("any");
            format!("Keep the newest {keep} images")
        } else {
            selection["tagStatus"] = json!("tagged");
            selection["tagPrefixList"] = json!(&l.tag_prefixes);
            format!(
                "Keep the newest {keep} images tagged {}*",
                l.tag_prefixes.join("*, ")
            )
        };
        rules.push(json!({"description": description, "selection": selection, "action": {"type": "expire"}}));
    }
    if rules.is_empty() {
        return None;
    }
    for (i, r) in rules.iter_mut().enumerate() {
        r["rulePriority"] = json!(i + 1);
    }
    Some(json!({"rules": (rules)}).to_compact_string())
}

pub fn lower(ctx: &Ctx, m: &mut Module) {
    let Some(reg) = &ctx.v.bp.registry else {
        return;
    };
    kms::key(
        ctx,
        m,
        "ecr",
        &format!("ECR image encryption for {}", ctx.prefix),
        vec![],
    );
    let policy = reg.lifecycle.as_ref().and_then(lifecycle_policy);
    for repo in &reg.repositories {
        let r = res("aws_ecr_repository", repo);
        let name = repository_name(reg, repo);
        let f = m.file("registry");
        f.resource(
            &r,
            json!({
                "name": &name,
                "image_tag_mutability": if reg.immutable_tags { "IMMUTABLE" } else { "MUTABLE" },
                "image_scanning_configuration": {"scan_on_push": reg.scan_on_push},
                "encryption_configuration": [{"encryption_type": "KMS", "kms_key": res("aws_kms_key", "ecr").arn()}],
                // Deleting a repository that still holds images must be deliberate.
                "force_delete": false,
                "tags": {"Name": &name},
            }),
        );
        if let Some(p) = &policy {
            f.resource(
                &res("aws_ecr_lifecycle_policy", repo),
                json!({"repository": r.attr("name"), "policy": p}),
            );
        }
        m.file("outputs").output(
            &format!("{repo}_repository_url"),
            r.attr("repository_url"),
            &format!("Push URL of ECR repository {name}"),
        );
    }
    m.file("outputs").output(
        "ecr_registry_url",
        tpl!(ctx.account_id(), ".dkr.ecr.", ctx.region, ".amazonaws.com"),
        "The account's ECR registry (docker login target)",
    );
    ctx.mark("registry");
}

#[cfg(test)]
mod tests {
    use super::lifecycle_policy;
    use crate::blueprint::types::RegistryLifecycle;

    #[test]
    fn lifecycle_rules_in_priority_order() {
        let l = RegistryLifecycle {
            keep_tagged: Some(30),
            tag_prefixes: vec!["v".into()],
            untagged_days: Some(14),
        };
        let p: serde_json::Value = serde_json::from_str(&lifecycle_policy(&l).unwrap()).unwrap();
        assert_eq!(p["rules"][0]["selection"]["tagStatus"], "untagged");
        assert_eq!(p["rules"][0]["rulePriority"], 1);
        assert_eq!(p["rules"][1]["selection"]["tagPrefixList"][0], "v");
        assert_eq!(p["rules"][1]["selection"]["countNumber"], 30);
        let any = RegistryLifecycle {
            keep_tagged: Some(30),
            tag_prefixes: vec![],
            untagged_days: None,
        };
        let p: serde_json::Value = serde_json::from_str(&lifecycle_policy(&any).unwrap()).unwrap();
        assert_eq!(p["rules"][0]["selection"]["tagStatus"], "any");
    }
}
