//! Provider schemas (`terraform providers schema -json` format) as the Terraform checker needs them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

/// Resource, data-source and provider-configuration schemas, merged from one or more
/// schema documents. When two documents define the same type, the later one wins.
#[derive(Debug, Clone, Default)]
pub struct ProviderSchemas {
    /// Resource schemas keyed by resource type (`aws_vpc`).
    pub resources: BTreeMap<String, Block>,
    /// Data-source schemas keyed by data-source type (`aws_region`).
    pub data_sources: BTreeMap<String, Block>,
    /// Providers keyed by provider type, the last segment of the source address (`aws`).
    pub providers: BTreeMap<String, Provider>,
}

/// One provider: where it comes from and, when the document has it, its configuration schema.
#[derive(Debug, Clone, Default)]
pub struct Provider {
    /// Source address as written in the document (`registry.terraform.io/hashicorp/aws`).
    pub source: String,
    pub config: Option<Block>,
}

/// The body schema of a resource, data source, provider or nested block.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Block {
    #[serde(default)]
    pub attributes: BTreeMap<String, Attribute>,
    #[serde(default)]
    pub block_types: BTreeMap<String, NestedBlock>,
}

/// An attribute. `ty` is the cty type in its JSON form: `"string"`, `["list", "string"]`,
/// `["object", {"k": "number"}]`, `"dynamic"`. Attributes declared with `nested_type`
/// (protocol 6 providers) are folded into an equivalent `ty` when loaded.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "RawAttribute")]
pub struct Attribute {
    pub ty: Value,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
}

impl Attribute {
    /// Set by the provider only: configuration may read it but never set it.
    pub fn is_computed_only(&self) -> bool {
        self.computed && !self.optional && !self.required
    }
}

/// A nested block type inside a block.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NestedBlock {
    #[serde(default)]
    pub nesting_mode: NestingMode,
    #[serde(default)]
    pub min_items: u64,
    /// `None` (or 0, which Terraform also uses) means no upper bound.
    #[serde(default)]
    pub max_items: Option<u64>,
    #[serde(default)]
    pub block: Block,
}

impl NestedBlock {
    /// Upper bound on the number of blocks, if there is one.
    pub fn max(&self) -> Option<u64> {
        self.max_items.filter(|&m| m > 0)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NestingMode {
    Single,
    Group,
    #[default]
    List,
    Set,
    Map,
    /// A mode newer than this code knows; checked like `list`.
    #[serde(other)]
    Other,
}

/// The attribute as written in the document; `nested_type` is folded into `type`.
#[derive(Deserialize)]
struct RawAttribute {
    #[serde(default, rename = "type")]
    ty: Value,
    #[serde(default)]
    nested_type: Option<RawNestedType>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    computed: bool,
}

#[derive(Deserialize)]
struct RawNestedType {
    #[serde(default)]
    attributes: BTreeMap<String, RawAttribute>,
    #[serde(default)]
    nesting_mode: NestingMode,
}

impl RawNestedType {
    fn to_type(&self) -> Value {
        let fields: serde_json::Map<String, Value> = self
            .attributes
            .iter()
            .map(|(k, a)| (k.clone(), a.effective_type()))
            .collect();
        let object = Value::Array(vec![Value::from("object"), Value::Object(fields)]);
        let wrap = |kind: &str| Value::Array(vec![Value::from(kind), object.clone()]);
        match self.nesting_mode {
            NestingMode::Single | NestingMode::Group => object.clone(),
            NestingMode::Set => wrap("set"),
            NestingMode::Map => wrap("map"),
            NestingMode::List | NestingMode::Other => wrap("list"),
        }
    }
}

impl RawAttribute {
    fn effective_type(&self) -> Value {
        match (&self.ty, &self.nested_type) {
            (Value::Null, Some(n)) => n.to_type(),
            // Neither given: accept any value rather than invent a constraint.
            (Value::Null, None) => Value::from("dynamic"),
            (ty, _) => ty.clone(),
        }
    }
}

impl From<RawAttribute> for Attribute {
    fn from(raw: RawAttribute) -> Self {
        Attribute {
            ty: raw.effective_type(),
            required: raw.required,
            optional: raw.optional,
            computed: raw.computed,
        }
    }
}

/// `{"format_version": ..., "provider_schemas": {source: {...}}}`; `provider_schemas` is
/// required so that an unrelated JSON file is reported instead of silently adding nothing.
#[derive(Deserialize)]
struct Document {
    provider_schemas: BTreeMap<String, RawProvider>,
}

#[derive(Deserialize)]
struct RawProvider {
    #[serde(default)]
    provider: Option<SchemaEntry>,
    #[serde(default)]
    resource_schemas: BTreeMap<String, SchemaEntry>,
    #[serde(default)]
    data_source_schemas: BTreeMap<String, SchemaEntry>,
}

#[derive(Deserialize)]
struct SchemaEntry {
    #[serde(default)]
    block: Block,
}

/// The vendored subset (see `providers/schemas/README.md`), compiled into the binary so
/// checks never depend on files outside the repository.
const BUNDLED: &[(&str, &str)] = &[
    (
        "aws.json",
        include_str!("../../../providers/schemas/aws.json"),
    ),
    (
        "digitalocean.json",
        include_str!("../../../providers/schemas/digitalocean.json"),
    ),
    (
        "helm.json",
        include_str!("../../../providers/schemas/helm.json"),
    ),
    (
        "kubernetes.json",
        include_str!("../../../providers/schemas/kubernetes.json"),
    ),
    (
        "random.json",
        include_str!("../../../providers/schemas/random.json"),
    ),
    (
        "time.json",
        include_str!("../../../providers/schemas/time.json"),
    ),
    (
        "tls.json",
        include_str!("../../../providers/schemas/tls.json"),
    ),
];

impl ProviderSchemas {
    /// Parses and merges schema documents, in order.
    pub fn from_json_texts(texts: &[&str]) -> Result<ProviderSchemas, String> {
        let mut schemas = ProviderSchemas::default();
        for (i, text) in texts.iter().enumerate() {
            schemas
                .add_document(text)
                .map_err(|e| format!("provider schema document {}: {e}", i + 1))?;
        }
        Ok(schemas)
    }

    /// Loads a schema file, or every `*.json` file directly inside a directory (in name
    /// order), as given to `--schemas DIR|FILE`.
    pub fn from_dir(path: impl AsRef<Path>) -> Result<ProviderSchemas, String> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let files = if meta.is_dir() {
            let entries =
                std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut files = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
                let p = entry.path();
                let is_json = p.extension().is_some_and(|x| x == "json");
                if is_json && p.is_file() {
                    files.push(p);
                }
            }
            files.sort();
            if files.is_empty() {
                return Err(format!(
                    "{}: no *.json provider schema files",
                    path.display()
                ));
            }
            files
        } else {
            vec![path.to_path_buf()]
        };
        let mut schemas = ProviderSchemas::default();
        for file in files {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            schemas
                .add_document(&text)
                .map_err(|e| format!("{}: {e}", file.display()))?;
        }
        Ok(schemas)
    }

    /// The schemas vendored under `providers/schemas/`, parsed once.
    pub fn bundled() -> &'static ProviderSchemas {
        static SCHEMAS: OnceLock<ProviderSchemas> = OnceLock::new();
        SCHEMAS.get_or_init(|| {
            let mut schemas = ProviderSchemas::default();
            for (_name, text) in BUNDLED {
                // The texts are fixed at compile time and a unit test proves they parse,
                // so a failure here cannot happen in a tested build; degrade, don't panic.
                let _ = schemas.add_document(text);
            }
            schemas
        })
    }

    pub fn resource(&self, ty: &str) -> Option<&Block> {
        self.resources.get(ty)
    }

    pub fn data_source(&self, ty: &str) -> Option<&Block> {
        self.data_sources.get(ty)
    }

    /// The provider whose type (last segment of its source) is `ty`.
    pub fn provider(&self, ty: &str) -> Option<&Provider> {
        self.providers.get(ty)
    }

    fn add_document(&mut self, text: &str) -> Result<(), String> {
        let doc: Document = serde_json::from_str(text)
            .map_err(|e| format!("not a `terraform providers schema -json` document: {e}"))?;
        for (source, raw) in doc.provider_schemas {
            let ty = source.rsplit('/').next().unwrap_or(&source).to_string();
            for (name, entry) in raw.resource_schemas {
                self.resources.insert(name, entry.block);
            }
            for (name, entry) in raw.data_source_schemas {
                self.data_sources.insert(name, entry.block);
            }
            let config = raw.provider.map(|p| p.block);
            self.providers.insert(ty, Provider { source, config });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_schemas_parse() {
        for (name, text) in BUNDLED {
            let parsed = ProviderSchemas::from_json_texts(&[text]);
            assert!(parsed.is_ok(), "{name}: {:?}", parsed.err());
        }
        let s = ProviderSchemas::bundled();
        for ty in [
            "aws_vpc",
            "aws_subnet",
            "digitalocean_droplet",
            "kubernetes_namespace_v1",
            "helm_release",
            "random_password",
            "tls_private_key",
            "time_sleep",
        ] {
            assert!(s.resource(ty).is_some(), "{ty}");
        }
        assert!(s.data_source("aws_region").is_some());
        for p in [
            "aws",
            "digitalocean",
            "kubernetes",
            "helm",
            "random",
            "tls",
            "time",
        ] {
            assert!(s.provider(p).is_some_and(|p| p.config.is_some()), "{p}");
        }
        let vpc = &s.resources["aws_vpc"];
        assert!(vpc.attributes["arn"].is_computed_only());
        assert!(!vpc.attributes["cidr_block"].is_computed_only());
    }

    #[test]
    fn rejects_non_schema_documents() {
        assert!(ProviderSchemas::from_json_texts(&["{}"]).is_err());
        assert!(ProviderSchemas::from_json_texts(&["not json"]).is_err());
        assert!(ProviderSchemas::from_json_texts(&[r#"{"provider_schemas": 3}"#]).is_err());
    }

    #[test]
    fn nested_type_becomes_a_type() {
        let text = r#"{"provider_schemas": {"example.com/x/demo": {"resource_schemas": {"demo_thing": {"block": {"attributes": {
            "rules": {"nested_type": {"nesting_mode": "list", "attributes": {"port": {"type": "number", "required": true}}}, "optional": true}
        }}}}}}}"#;
        let s = ProviderSchemas::from_json_texts(&[text]).unwrap_or_default();
        let ty = &s.resources["demo_thing"].attributes["rules"].ty;
        assert_eq!(
            ty,
            &serde_json::json!(["list", ["object", {"port": "number"}]])
        );
        assert!(s.provider("demo").is_some_and(|p| p.config.is_none()));
    }
}
