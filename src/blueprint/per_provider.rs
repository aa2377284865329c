//! Per-provider overlays: `per_provider.<provider>` at the top level and inside an
//! environment, so one environment name (`production`) can mean the same environment on
//! every provider a blueprint targets while the parts a provider refuses (`node_pools` on
//! ECS, `ecs_fargate` on DigitalOcean) live with that provider.
//!
//! They are plain overlays ([`super::overlay::merge`]); this file only takes them out of the
//! tree and checks their shape, before anything is merged.

use super::node::{Node, NodeKind};
use crate::catalog::Provider;
use crate::diagnostic::{Diagnostic, one_of};

/// The key, at the top level and in an environment's overlay.
pub const KEY: &str = "per_provider";

/// The overlays of one `per_provider` mapping, by provider (a `null` value is no overlay).
#[derive(Debug, Default)]
pub struct Overlays(Vec<(Provider, Node)>);

impl Overlays {
    pub fn get(&self, provider: Provider) -> Option<&Node> {
        self.0.iter().find(|(p, _)| *p == provider).map(|(_, n)| n)
    }

    /// The providers that have an overlay here.
    pub fn providers(&self) -> impl Iterator<Item = Provider> + '_ {
        self.0.iter().map(|(p, _)| *p)
    }
}

/// Check the shape of the `per_provider` mapping `node` found at `path` (`per_provider` or
/// `environments.<env>.per_provider`) and split it by provider. Every provider's overlay is
/// checked here, not only the selected one's, so a mistake in the DigitalOcean part fails an
/// AWS synth too rather than waiting for the DigitalOcean run.
pub fn split(node: Option<Node>, path: &str) -> Result<Overlays, Vec<Diagnostic>> {
    let Some(node) = node else {
        return Ok(Overlays::default());
    };
    let entries = match node.kind {
        NodeKind::Null => return Ok(Overlays::default()),
        NodeKind::Map(entries) => entries,
        other => {
            return Err(vec![
                Diagnostic::new(format!(
                    "`{path}` must be a mapping of provider names to overlays, found {}",
                    Node::new(other, node.span).kind_name()
                ))
                .at(Some(node.span))
                .expected(one_of(Provider::ALL.iter().map(|p| p.name()))),
            ]);
        }
    };
    let names = Provider::ALL.map(Provider::name);
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (k, v) in entries {
        let key = k.as_str().unwrap_or_default();
        let Some(provider) = Provider::ALL.into_iter().find(|p| p.name() == key) else {
            problems.push(
                Diagnostic::new(format!("unknown provider `{key}` in `{path}`"))
                    .at(Some(k.span))
                    .expected(format!(
                        "{} (the names `--provider` takes)",
                        one_of(names.iter().copied())
                    ))
                    .suggest(key, names.iter().copied()),
            );
            continue;
        };
        match &v.kind {
            NodeKind::Null => {}
            NodeKind::Map(inner) => {
                for (ik, _) in inner {
                    let nested = match ik.as_str() {
                        Some(KEY) => Some(
                            "the provider is already chosen here; write the keys of the inner overlay directly",
                        ),
                        Some("environments") => Some(
                            "an environment's provider part goes under `environments.<env>.per_provider.<provider>`",
                        ),
                        _ => None,
                    };
                    if let Some(help) = nested {
                        problems.push(
                            Diagnostic::new(format!(
                                "`{}` cannot be inside `{path}.{key}`",
                                ik.as_str().unwrap_or_default()
                            ))
                            .at(Some(ik.span))
                            .expected("blueprint fields (a per-provider overlay does not nest)")
                            .help(help),
                        );
                    }
                }
                problems.extend(super::overlay::check(&v));
                out.push((provider, v));
            }
            _ => problems.push(
                Diagnostic::new(format!(
                    "`{path}.{key}` must be a mapping (an overlay of the blueprint), found {}",
                    v.kind_name()
                ))
                .at(Some(v.span)),
            ),
        }
    }
    if problems.is_empty() {
        Ok(Overlays(out))
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::node::parse;
    use crate::diagnostic::Span;

    fn split_text(text: &str) -> Result<Overlays, Vec<Diagnostic>> {
        let root = parse(text).unwrap_or_else(|d| panic!("{d}"));
        split(root.get(KEY).cloned(), KEY)
    }

    #[test]
    fn splits_by_provider_and_skips_null() {
        let o = split_text("per_provider:\n  aws: { a: 1 }\n  kubernetes: ~\n").unwrap();
        assert_eq!(o.providers().collect::<Vec<_>>(), [Provider::Aws]);
        assert!(o.get(Provider::Digitalocean).is_none());
    }

    #[test]
    fn unknown_provider_is_positioned_with_a_suggestion() {
        let ds = split_text("per_provider:\n  digitalocen: {}\n").unwrap_err();
        assert_eq!(
            ds[0].message,
            "unknown provider `digitalocen` in `per_provider`"
        );
        assert_eq!(ds[0].span, Some(Span::new(2, 3)));
        assert_eq!(ds[0].help.as_deref(), Some("did you mean `digitalocean`?"));
    }

    #[test]
    fn nesting_is_refused() {
        let ds = split_text(
            "per_provider:\n  aws:\n    per_provider: {}\n    environments: {}\n    $patch: delete\n",
        )
        .unwrap_err();
        let messages: Vec<&str> = ds.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`per_provider` cannot be inside `per_provider.aws`",
                "`environments` cannot be inside `per_provider.aws`",
                "`$patch` only applies to items of a list merged by `name`",
            ]
        );
        assert_eq!(ds[0].span, Some(Span::new(3, 5)));
    }
}
