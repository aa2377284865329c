//! Kubernetes objects written as Terraform (`kubernetes_manifest`, e.g. the External Secrets
//! objects of EKS's `connections` module): the provider schema types `manifest` as "any
//! map", so the Terraform check alone would pass anything. Each `manifest` is checked like a
//! document under `k8s/` (strict schemas for built-in kinds; apiVersion, kind and name for
//! custom resources).

use std::collections::BTreeMap;

use serde_json::Value;

use super::kubernetes::{Problem, Report, Schemas};

/// Check the `manifest` of every `kubernetes_manifest` among `files` (paths relative to an
/// output folder). A problem names `<file>:kubernetes_manifest.<name>`.
pub fn check(files: &BTreeMap<String, String>, schemas: &Schemas) -> Report {
    let mut report = Report::default();
    for (path, text) in files {
        if !path.ends_with(".tf.json") {
            continue;
        }
        // Unparsable modules are reported by the Terraform check.
        let Ok(doc) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        let Some(resources) = doc
            .pointer("/resource/kubernetes_manifest")
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (name, body) in resources {
            let at = format!("{path}:kubernetes_manifest.{name}");
            match body.get("manifest") {
                Some(m @ Value::Object(_)) => schemas.check_value(&at, 0, m, &mut report),
                _ => {
                    report.documents += 1;
                    report.problems.push(Problem {
                        file: at,
                        document: 0,
                        object: String::new(),
                        path: "manifest".into(),
                        message:
                            "expected the object as a JSON object (apiVersion, kind, metadata…)"
                                .into(),
                    });
                }
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tf: &str) -> Report {
        let files = BTreeMap::from([("terraform/m/x.tf.json".to_string(), tf.to_string())]);
        check(&files, Schemas::bundled())
    }

    #[test]
    fn custom_resources_count_and_built_in_kinds_are_strict() {
        let r = run(r#"{"resource": {"kubernetes_manifest": {
            "store": {"manifest": {"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore", "metadata": {"name": "s"}}},
            "cm": {"manifest": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "dta": {}}}
        }}}"#);
        assert_eq!((r.documents, r.custom), (2, 1));
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(r.problems[0].file.ends_with(":kubernetes_manifest.cm"));
    }

    #[test]
    fn a_manifest_without_its_identity_is_a_problem() {
        let r = run(r#"{"resource": {"kubernetes_manifest": {
            "a": {"manifest": {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret"}},
            "b": {"manifest": "apiVersion: v1"}
        }}}"#);
        assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
    }
}
