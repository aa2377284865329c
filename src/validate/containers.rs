//! Sidecars, init containers and pod annotations (`services[].sidecars`, `.init`,
//! `.annotations`): container names must be unique DNS labels in the pod (the API server
//! refuses duplicates), images pinned like the app's, and ECS, which has no such pod
//! shape in infragen yet, refuses them instead of dropping them silently.

use std::collections::BTreeSet;

use super::Checker;
use super::names::is_label;
use crate::blueprint::types::{Blueprint, Platform};

pub fn check(c: &mut Checker, bp: &Blueprint) {
    let ecs = bp
        .cluster
        .as_ref()
        .is_some_and(|k| k.platform == Platform::EcsFargate);
    for (i, s) in bp.services.iter().enumerate() {
        let path = format!("services[{i}]");
        if ecs {
            for (field, given) in [
                ("sidecars", !s.sidecars.is_empty()),
                ("init", !s.init.is_empty()),
                ("annotations", !s.annotations.is_empty()),
            ] {
                if given {
                    c.error(
                        &format!("{path}.{field}"),
                        format!("`{field}` is for Kubernetes pods; infragen does not lower it to ECS task definitions yet"),
                    )
                    .help = Some(format!(
                        "drop `{field}` on ECS, or patch aws_ecs_task_definition.{} with an `overrides:` entry",
                        s.name.replace('-', "_")
                    ));
                }
            }
        }
        let mut names: BTreeSet<&str> = BTreeSet::new();
        names.insert(s.container_name.as_deref().unwrap_or(&s.name));
        for (field, list) in [("sidecars", &s.sidecars), ("init", &s.init)] {
            for (j, x) in list.iter().enumerate() {
                let at = format!("{path}.{field}[{j}]");
                if !is_label(&x.name) {
                    c.error(
                        &format!("{at}.name"),
                        format!("container name `{}` is not a DNS label (lower-case letters, digits and `-`, at most 63)", x.name),
                    );
                } else if !names.insert(x.name.as_str()) {
                    c.error(
                        &format!("{at}.name"),
                        format!(
                            "another container of the pod of `{}` is already named `{}`",
                            s.name, x.name
                        ),
                    )
                    .help = Some("give each container of a pod its own name".into());
                }
                let last = x.image.rsplit('/').next().unwrap_or_default();
                if !(last.contains(':') || x.image.contains('@')) || x.image.ends_with(":latest") {
                    c.error(
                        &format!("{at}.image"),
                        format!("image `{}` is not pinned to a version", x.image),
                    )
                    .help = Some("give a tag such as `:1.27.3`, or a digest `@sha256:…`".into());
                }
            }
        }
    }
}
