//! Kubernetes manifests checked against the strict upstream JSON schemas of Kubernetes 1.33
//! vendored in `providers/kubernetes-schemas/` (no unknown fields anywhere).
//!
//! The validator covers the JSON-Schema subset those files use: `type` (one or a list),
//! `$ref` into `_definitions.json`, `properties`, `additionalProperties` (`false` or a
//! schema), `required`, `items`, `enum`, `oneOf` (int-or-string, quantities) and the integer
//! `format`s. Custom resources (cert-manager, the VPA, kustomize) are checked only for
//! `apiVersion`, `kind` and `metadata.name`, like `../shared/tools/k8scheck.py`; a built-in
//! kind without a vendored schema is a problem (vendor it).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// One problem in one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    /// Position of the document in its file, from 0.
    pub document: usize,
    /// `Kind/name`, when the document has them.
    pub object: String,
    /// JSON path inside the document, e.g. `spec.template.spec.containers[0].image`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.file, self.document)?;
        if !self.object.is_empty() {
            write!(f, " {}", self.object)?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// What a set of files held.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub documents: usize,
    /// Documents of custom resources (checked for apiVersion/kind/name only).
    pub custom: usize,
    pub problems: Vec<Problem>,
}

/// API groups built into Kubernetes; any other group is a custom resource.
pub const BUILT_IN_GROUPS: [&str; 22] = [
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

macro_rules! vendored {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("../../../providers/kubernetes-schemas/", $name, ".json")))),*]
    };
}

/// The vendored kinds (see `scripts/vendor-kubernetes-schemas.py`; the Gateway API kinds,
/// v1.6.1 standard channel made strict, `scripts/vendor-gateway-api-schemas.py`).
const KINDS: [(&str, &str); 23] = vendored!(
    "clusterrole-rbac-v1",
    "clusterrolebinding-rbac-v1",
    "configmap-v1",
    "cronjob-batch-v1",
    "deployment-apps-v1",
    "gateway-gateway-v1",
    "gatewayclass-gateway-v1",
    "httproute-gateway-v1",
    "horizontalpodautoscaler-autoscaling-v2",
    "ingress-networking-v1",
    "job-batch-v1",
    "limitrange-v1",
    "namespace-v1",
    "networkpolicy-networking-v1",
    "persistentvolumeclaim-v1",
    "poddisruptionbudget-policy-v1",
    "resourcequota-v1",
    "role-rbac-v1",
    "rolebinding-rbac-v1",
    "service-v1",
    "serviceaccount-v1",
    "statefulset-apps-v1",
    "storageclass-storage-v1",
);
const DEFINITIONS: &str = include_str!("../../../providers/kubernetes-schemas/_definitions.json");

/// Kind schemas by (apiVersion, kind), and the shared definitions.
#[derive(Debug)]
pub struct Schemas {
    kinds: BTreeMap<(String, String), Value>,
    defs: Map<String, Value>,
}

impl Schemas {
    /// The schemas embedded in the binary.
    pub fn bundled() -> &'static Schemas {
        static S: OnceLock<Schemas> = OnceLock::new();
        S.get_or_init(|| {
            let defs = match serde_json::from_str::<Value>(DEFINITIONS) {
                Ok(Value::Object(mut m)) => match m.remove("$defs") {
                    Some(Value::Object(d)) => d,
                    _ => Map::new(),
                },
                _ => Map::new(),
            };
            let mut kinds = BTreeMap::new();
            for (name, text) in KINDS {
                // Vendored files are covered by tests; a parse failure is a build defect.
                let schema: Value = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("providers/kubernetes-schemas/{name}.json: {e}"));
                for gvk in schema["x-kubernetes-group-version-kind"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let group = gvk["group"].as_str().unwrap_or_default();
                    let version = gvk["version"].as_str().unwrap_or_default();
                    let api = if group.is_empty() {
                        version.to_string()
                    } else {
                        format!("{group}/{version}")
                    };
                    let kind = gvk["kind"].as_str().unwrap_or_default().to_string();
                    kinds.insert((api, kind), schema.clone());
                }
            }
            Schemas { kinds, defs }
        })
    }

    /// The (apiVersion, kind) pairs with a schema.
    pub fn kinds(&self) -> impl Iterator<Item = (&str, &str)> {
        self.kinds.keys().map(|(a, k)| (a.as_str(), k.as_str()))
    }

    /// Check every YAML document of every file (`*.yaml`/`*.yml`).
    pub fn check_files<'a>(&self, files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Report {
        let mut report = Report::default();
        for (file, text) in files {
            if file.ends_with(".yaml") || file.ends_with(".yml") {
                self.check_file(file, text, &mut report);
            }
        }
        report
    }

    /// Check one multi-document YAML file into `report`.
    pub fn check_file(&self, file: &str, text: &str, report: &mut Report) {
        let problem = |document: usize, object: &str, path: &str, message: String| Problem {
            file: file.to_string(),
            document,
            object: object.to_string(),
            path: path.to_string(),
            message,
        };
        let docs = match YamlLoader::load_from_str(text) {
            Ok(d) => d,
            Err(e) => {
                report
                    .problems
                    .push(problem(0, "", "", format!("not YAML: {e}")));
                return;
            }
        };
        for (i, doc) in docs.iter().filter(|d| !d.is_null()).enumerate() {
            match to_json(doc) {
                Ok(v) => self.check_value(file, i, &v, report),
                Err(e) => {
                    report.documents += 1;
                    report.problems.push(problem(i, "", "", e));
                }
            }
        }
    }

    /// Check one document (already JSON), the `document`-th of `file`, into `report`.
    pub fn check_value(&self, file: &str, document: usize, value: &Value, report: &mut Report) {
        let problem = |object: &str, path: &str, message: String| Problem {
            file: file.to_string(),
            document,
            object: object.to_string(),
            path: path.to_string(),
            message,
        };
        report.documents += 1;
        let api = value["apiVersion"].as_str().unwrap_or_default();
        let kind = value["kind"].as_str().unwrap_or_default();
        let name = value["metadata"]["name"].as_str().unwrap_or_default();
        if api.is_empty() || kind.is_empty() || name.is_empty() {
            report.problems.push(problem(
                "",
                "",
                "missing apiVersion/kind/metadata.name".into(),
            ));
            return;
        }
        let object = format!("{kind}/{name}");
        match self.kinds.get(&(api.to_string(), kind.to_string())) {
            Some(schema) => {
                let mut found = Vec::new();
                self.validate(schema, value, "", &mut found);
                report
                    .problems
                    .extend(found.into_iter().map(|(p, m)| problem(&object, &p, m)));
            }
            None => {
                let group = api.rsplit_once('/').map_or("", |(g, _)| g);
                if BUILT_IN_GROUPS.contains(&group) {
                    report.problems.push(problem(
                        &object,
                        "",
                        format!("no schema vendored for {api} {kind}; add it to scripts/vendor-kubernetes-schemas.py"),
                    ));
                } else {
                    report.custom += 1;
                }
            }
        }
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        self.defs.get(reference.rsplit('/').next()?)
    }

    /// Problems of `v` against `schema`, as (path, message).
    fn validate(&self, schema: &Value, v: &Value, path: &str, out: &mut Vec<(String, String)>) {
        let s = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                out.push((path.into(), "no value is allowed here".into()));
                return;
            }
            Value::Object(s) => s,
            _ => return,
        };
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            // The schema says only "string or number"; the API server parses the string.
            if r.ends_with("io.k8s.apimachinery.pkg.api.resource.Quantity")
                && let Value::String(q) = v
                && let Err(e) = super::quantity::check(q)
            {
                out.push((path.into(), e));
            }
            match self.resolve(r) {
                Some(def) => self.validate(def, v, path, out),
                None => out.push((path.into(), format!("unresolved schema reference {r}"))),
            }
        }
        if let Some(t) = s.get("type") {
            let types: Vec<&str> = match t {
                Value::String(one) => vec![one.as_str()],
                Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if !types.is_empty() && !types.iter().any(|t| has_type(v, t)) {
                out.push((
                    path.into(),
                    format!("expected {}, got {}", types.join(" or "), type_name(v)),
                ));
                return;
            }
        }
        if let Some(Value::Array(allowed)) = s.get("enum")
            && !allowed.contains(v)
        {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            out.push((
                path.into(),
                format!("{v} is not one of {}", list.join(", ")),
            ));
        }
        if let Some(Value::Array(options)) = s.get("oneOf") {
            let matching = options
                .iter()
                .filter(|o| {
                    let mut scratch = Vec::new();
                    self.validate(o, v, path, &mut scratch);
                    scratch.is_empty()
                })
                .count();
            if matching != 1 {
                out.push((
                    path.into(),
                    format!(
                        "{} matches {matching} of the {} allowed shapes, expected exactly one",
                        type_name(v),
                        options.len()
                    ),
                ));
            }
        }
        if let (Some(f), Some(n)) = (s.get("format").and_then(Value::as_str), v.as_f64()) {
            let range = match f {
                "int32" => Some((f64::from(i32::MIN), f64::from(i32::MAX))),
                "int64" => Some((i64::MIN as f64, i64::MAX as f64)),
                _ => None,
            };
            if let Some((lo, hi)) = range
                && !(lo..=hi).contains(&n)
            {
                out.push((path.into(), format!("{n} is out of the {f} range")));
            }
        }
        match v {
            Value::Object(obj) => {
                for r in s
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !obj.contains_key(r) {
                        out.push((path.into(), format!("missing required field `{r}`")));
                    }
                }
                let props = s.get("properties").and_then(Value::as_object);
                for (k, val) in obj {
                    let here = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                        (Some(sub), _) => self.validate(sub, val, &here, out),
                        (None, Some(Value::Bool(false))) => {
                            out.push((path.into(), format!("unknown field `{k}`")))
                        }
                        (None, Some(extra)) => self.validate(extra, val, &here, out),
                        (None, None) => {}
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item) = s.get("items") {
                    for (i, val) in items.iter().enumerate() {
                        self.validate(item, val, &format!("{path}[{i}]"), out);
                    }
                }
            }
            _ => {}
        }
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A parsed YAML document as JSON (mapping keys must be strings).
pub fn to_json(y: &Yaml) -> Result<Value, String> {
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(r) => {
            let f: f64 = r
                .parse()
                .map_err(|_| format!("`{r}` is not a number JSON can hold"))?;
            serde_json::Number::from_f64(f)
                .map(Value::Number)
                .ok_or_else(|| format!("`{r}` is not a number JSON can hold"))?
        }
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    other => return Err(format!("mapping key {other:?} is not a string")),
                };
                m.insert(key, to_json(v)?);
            }
            Value::Object(m)
        }
        Yaml::Alias(_) => return Err("aliases are not allowed in manifests".into()),
        Yaml::BadValue => return Err("unreadable YAML value".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let mut r = Report::default();
        Schemas::bundled().check_file("x.yaml", text, &mut r);
        r.problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn every_vendored_kind_is_indexed() {
        assert_eq!(Schemas::bundled().kinds().count(), KINDS.len());
    }

    #[test]
    fn a_valid_deployment_passes() {
        let ok = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  selector:\n    matchLabels: {app: a}\n  strategy:\n    rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}\n  template:\n    metadata:\n      labels: {app: a}\n    spec:\n      containers:\n        - name: a\n          image: a:1\n          resources: {limits: {cpu: 1, memory: 1Gi}}\n";
        assert_eq!(problems(ok), Vec::<String>::new());
    }

    #[test]
    fn quantities_are_parsed_as_the_api_server_does() {
        let bad = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  selector:\n    matchLabels: {app: a}\n  template:\n    metadata:\n      labels: {app: a}\n    spec:\n      containers:\n        - name: a\n          image: a:1\n          resources: {requests: {cpu: 500mc}, limits: {cpu: 1, memory: 512MB}}\n";
        assert_eq!(
            problems(bad),
            [
                "x.yaml#0 Deployment/a: spec.template.spec.containers[0].resources.limits.memory: `512MB` is not a Kubernetes quantity; did you mean `512Mi`?",
                "x.yaml#0 Deployment/a: spec.template.spec.containers[0].resources.requests.cpu: `500mc` is not a Kubernetes quantity; did you mean `500m`?",
            ]
        );
    }

    #[test]
    fn strictness_types_required_and_int_or_string() {
        let bad = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  colour: red\nspec:\n  replicas: two\n  selector:\n    matchLabels: {app: a}\n  strategy:\n    rollingUpdate: {maxSurge: [1]}\n  template:\n    spec:\n      containers:\n        - image: a:1\n          ports: [{containerPort: 99999999999}]\n";
        let p = problems(bad);
        let want = [
            "x.yaml#0 Deployment/a: metadata: unknown field `colour`",
            "x.yaml#0 Deployment/a: spec.replicas: expected integer or null, got string",
            "x.yaml#0 Deployment/a: spec.strategy.rollingUpdate.maxSurge: array matches 0 of the 2 allowed shapes, expected exactly one",
            "x.yaml#0 Deployment/a: spec.template.spec.containers[0]: missing required field `name`",
            "x.yaml#0 Deployment/a: spec.template.spec.containers[0].ports[0].containerPort: 99999999999 is out of the int32 range",
        ];
        for w in want {
            assert!(p.iter().any(|x| x == w), "{w}\nnot in\n{}", p.join("\n"));
        }
    }

    #[test]
    fn enums_custom_resources_and_unvendored_kinds() {
        let p = problems("apiVersion: apps/v2\nkind: Deployment\nmetadata: {name: a}\n");
        assert!(
            p[0].contains("no schema vendored for apps/v2 Deployment"),
            "{p:?}"
        );
        let mut r = Report::default();
        Schemas::bundled().check_file(
            "x.yaml",
            "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: a}\nspec: {anything: 1}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\nkind: X\n",
            &mut r,
        );
        assert_eq!((r.documents, r.custom), (3, 1));
        assert_eq!(r.problems.len(), 2);
        assert!(r.problems[1].message.contains("missing apiVersion"));
        let p = problems(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: a}\nspec:\n  selector: {}\n  template: {}\n  volumeClaimTemplates: [{kind: Claim}]\n",
        );
        assert_eq!(
            p,
            [
                "x.yaml#0 StatefulSet/a: spec.volumeClaimTemplates[0].kind: \"Claim\" is not one of \"PersistentVolumeClaim\""
            ]
        );
    }
}
