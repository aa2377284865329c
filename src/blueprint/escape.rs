//! The blueprint's escape hatches as written: `overrides:` and `extra:`. Only their shape
//! lives here; `crate::escape` applies them to the finished output.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::catalog::Provider;

/// One merge patch onto a generated Terraform resource or Kubernetes object.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Optional; lets an environment overlay change or remove this override by name (lists
    /// of named items merge by `name`).
    #[serde(default)]
    pub name: Option<String>,
    /// A generated Terraform resource address, `<type>.<name>` (e.g. `aws_db_instance.ledger_db`).
    #[serde(default)]
    pub resource: Option<String>,
    /// The root module of `resource` (`infra`, `platform`, …), when more than one declares it.
    #[serde(default)]
    pub module: Option<String>,
    /// A generated Kubernetes object, `Kind/namespace/name` (`Kind/name` when cluster-scoped).
    #[serde(default)]
    pub manifest: Option<String>,
    /// Apply only when synthesizing for this provider (a blueprint for several providers
    /// names different resources on each).
    #[serde(default)]
    pub provider: Option<ProviderName>,
    /// An RFC 7396 JSON merge patch: mappings merge key by key, `null` deletes a key, any
    /// other value (lists included) replaces. Terraform strings may hold `${…}` references.
    pub set: serde_json::Value,
}

/// A provider, as named in the blueprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderName {
    Aws,
    Digitalocean,
    Kubernetes,
}

impl ProviderName {
    pub fn matches(self, p: Provider) -> bool {
        matches!(
            (self, p),
            (ProviderName::Aws, Provider::Aws)
                | (ProviderName::Digitalocean, Provider::Digitalocean)
                | (ProviderName::Kubernetes, Provider::Kubernetes)
        )
    }
}

/// Extra files rendered from minijinja templates kept beside the blueprint.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Extra {
    /// Per root module (`infra`, `platform`, …): templates of Terraform JSON
    /// (`templates/sqs.tf.json.j2` becomes `terraform/<module>/extra_sqs.tf.json`).
    #[serde(default)]
    pub terraform: BTreeMap<String, Vec<String>>,
    /// Templates of Kubernetes manifests (YAML, several documents allowed), written under
    /// `k8s/<namespace>/` and added to the kustomization.
    #[serde(default)]
    pub kubernetes: Vec<String>,
}

impl Extra {
    pub fn is_empty(&self) -> bool {
        self.terraform.values().all(Vec::is_empty) && self.kubernetes.is_empty()
    }

    /// Every template path, in blueprint order, with its field path for positions.
    pub fn templates(&self) -> Vec<(String, &str)> {
        let mut out = Vec::new();
        for (module, paths) in &self.terraform {
            for (i, p) in paths.iter().enumerate() {
                out.push((format!("extra.terraform.{module}[{i}]"), p.as_str()));
            }
        }
        for (i, p) in self.kubernetes.iter().enumerate() {
            out.push((format!("extra.kubernetes[{i}]"), p.as_str()));
        }
        out
    }
}
