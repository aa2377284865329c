//! The only code that knows YAML: parsing with positions, environment and per-provider
//! overlays, and the raw
//! serde types of the blueprint.

pub mod base;
pub mod cron;
pub mod de;
pub mod escape;
pub mod job;
pub mod node;
mod not_offered;
pub mod overlay;
mod overlay_hints;
pub mod per_provider;
pub mod reference;
pub mod schema;
pub mod types;
pub mod windows;

pub use node::Node;
pub use types::Blueprint;

use crate::catalog::Provider;
use crate::diagnostic::{Diagnostic, Diagnostics, Span, one_of};

/// Blueprints larger than this are refused before parsing: real ones are kilobytes, and the
/// limit keeps a mistaken `--blueprint /dev/zero`-style input from exhausting memory.
pub const MAX_BLUEPRINT_BYTES: usize = 16 * 1024 * 1024;

/// A blueprint merged for one environment, with the merged tree kept for positions.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub file: String,
    pub text: String,
    pub env: String,
    /// The provider the blueprint was merged for (its `per_provider` overlays applied).
    pub provider: Provider,
    /// The names of every environment the blueprint declares (empty without `environments`).
    pub environments: Vec<String>,
    pub blueprint: Blueprint,
    /// The merged document, for mapping field paths back to `line:col` in later checks.
    pub node: Node,
    /// Why the base read alone (as an editor reads it) is no blueprint of its own, when
    /// overlays supply what it lacks (`base::incomplete`); found here, where the base is
    /// already parsed and split from its overlays.
    pub base_incomplete: Option<Diagnostic>,
}

impl Loaded {
    /// The position of a field path such as `services[2].port`, or of its nearest existing
    /// parent, so semantic errors point as close as possible to the cause.
    pub fn span(&self, path: &str) -> Option<Span> {
        let mut node = &self.node;
        let mut best = Some(node.span);
        for seg in split_path(path) {
            let next = match seg {
                PathSeg::Key(k) => {
                    if let Some(s) = node.key_span(k) {
                        best = Some(s);
                    }
                    node.get(k)
                }
                PathSeg::Index(i) => match &node.kind {
                    node::NodeKind::Seq(items) => items.get(i),
                    _ => None,
                },
            };
            match next {
                Some(n) => {
                    node = n;
                    best = Some(n.span);
                }
                None => break,
            }
        }
        best
    }

    /// Whether the blueprint writes the field at `path` (e.g. `queues[0].version`): a field
    /// left to its default and one set to the default value are told apart here only.
    pub fn has(&self, path: &str) -> bool {
        self.node_at(path).is_some()
    }

    /// The node at `path`, if the blueprint writes it.
    fn node_at(&self, path: &str) -> Option<&node::Node> {
        at_path(&self.node, path)
    }

    /// The position of the key `key` (which may contain dots, like a ResourceQuota's
    /// `limits.cpu`) in the mapping at `path`, else of `path` itself.
    pub fn key_span(&self, path: &str, key: &str) -> Option<Span> {
        self.node_at(path)
            .and_then(|node| node.key_span(key))
            .or_else(|| self.span(path))
    }

    /// Which overlay wrote the field at `path` (e.g. `cluster.platform`) into the merged
    /// blueprint: the most specific of `environments.<env>.per_provider.<provider>`,
    /// `environments.<env>` and `per_provider.<provider>` that writes it (the merge order
    /// reversed), or `None` for the base. An error the value causes can then name its cause.
    pub fn set_by(&self, path: &str) -> Option<String> {
        self.writer(path).map(|(_, at)| at)
    }

    /// How late in the merge the field at `path` was written: 0 by the base, 1 by
    /// `per_provider.<provider>`, 2 by `environments.<env>`, 3 by the environment's provider
    /// part. Of two fields that contradict each other, the later one is the change to point
    /// at (`desired: 9` in an environment against the base's `max: 3`).
    pub fn specificity(&self, path: &str) -> usize {
        self.writer(path).map_or(0, |(rank, _)| rank)
    }

    /// [`Self::specificity`] and [`Self::set_by`] of the overlay that wrote `path`.
    fn writer(&self, path: &str) -> Option<(usize, String)> {
        let root = node::parse(&self.text).ok()?;
        let (env, provider) = (self.env.as_str(), self.provider.name());
        let env_overlay = root.get("environments").and_then(|e| e.get(env));
        let layers = [
            (
                env_overlay
                    .and_then(|o| o.get(per_provider::KEY))
                    .and_then(|pp| pp.get(provider)),
                format!("environments.{env}.{}.{provider}", per_provider::KEY),
            ),
            (env_overlay, format!("environments.{env}")),
            (
                root.get(per_provider::KEY).and_then(|pp| pp.get(provider)),
                format!("{}.{provider}", per_provider::KEY),
            ),
        ];
        layers
            .into_iter()
            .zip([3, 2, 1])
            .find(|((overlay, _), _)| overlay.is_some_and(|o| writes(o, &self.node, path)))
            .map(|((_, at), rank)| (rank, at))
    }

    /// Report problems found after loading against this blueprint's file and text.
    pub fn diagnostics(&self, ds: Vec<Diagnostic>) -> Diagnostics {
        Diagnostics(ds).with_source(&self.file, &self.text)
    }
}

enum PathSeg<'a> {
    Key(&'a str),
    Index(usize),
}

fn split_path(path: &str) -> Vec<PathSeg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(PathSeg::Key(key));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(PathSeg::Index(i));
            }
        }
    }
    out
}

/// Whether `overlay` writes the field at `path` of the `merged` blueprint. An overlay's list
/// item merges into the item of the same `name`, so `node_pools[0]` of the merged blueprint
/// is the overlay's item named like it, wherever it stands in the overlay's list.
fn writes(overlay: &Node, merged: &Node, path: &str) -> bool {
    let (mut o, mut m) = (overlay, Some(merged));
    for seg in split_path(path) {
        let next = match seg {
            PathSeg::Key(k) => {
                m = m.and_then(|m| m.get(k));
                o.get(k)
            }
            PathSeg::Index(i) => {
                let item = m.and_then(|m| match &m.kind {
                    node::NodeKind::Seq(items) => items.get(i),
                    _ => None,
                });
                m = item;
                let name = item.and_then(|x| x.get("name")).and_then(Node::as_str);
                match (&o.kind, name) {
                    (node::NodeKind::Seq(items), Some(name)) => items
                        .iter()
                        .find(|x| x.get("name").and_then(Node::as_str) == Some(name)),
                    (node::NodeKind::Seq(items), None) => items.get(i),
                    _ => None,
                }
            }
        };
        match next {
            Some(n) => o = n,
            None => return false,
        }
    }
    true
}

/// The node at `path` under `root`, if written.
fn at_path<'n>(root: &'n Node, path: &str) -> Option<&'n Node> {
    let mut node = root;
    for seg in split_path(path) {
        node = match seg {
            PathSeg::Key(k) => node.get(k),
            PathSeg::Index(i) => match &node.kind {
                node::NodeKind::Seq(items) => items.get(i),
                _ => None,
            },
        }?;
    }
    Some(node)
}

/// Load `bytes` (the content of `file`) for environment `env` on `provider`.
///
/// Overlays apply in this order, most specific last: the base, `per_provider.<provider>`,
/// `environments.<env>`, `environments.<env>.per_provider.<provider>`. An environment's own
/// values beat a provider default (`production` sizes itself whatever the provider), and the
/// environment's provider part is the narrowest statement of all. Every provider's overlays are
/// checked and, merged for their provider, deserialized here, so a typo in the DigitalOcean
/// part fails the AWS synth too (docs/blueprint.md "One blueprint, several providers").
pub fn load(
    file: &str,
    bytes: &[u8],
    provider: Provider,
    env: &str,
) -> Result<Loaded, Diagnostics> {
    let text = decode(bytes).map_err(|d| Diagnostics::single(d.in_file(file)))?;
    let fail = |d: Diagnostic| Diagnostics::single(d).with_source(file, &text);
    let fail_all = |ds: Vec<Diagnostic>| Diagnostics(ds).with_source(file, &text);
    let mut root = node::parse(&text).map_err(fail)?;

    let envs_key = root.key_span("environments");
    let envs = take_key(&mut root, "environments");
    let environments = environment_names(envs.as_ref());
    // Shape problems of both `per_provider` mappings are reported together.
    let mut problems = Vec::new();
    let top = per_provider::split(take_key(&mut root, per_provider::KEY), per_provider::KEY)
        .unwrap_or_else(|ds| {
            problems.extend(ds);
            per_provider::Overlays::default()
        });
    let mut overlay = match &envs {
        // Without `environments` there are no overlays, and every environment is the base.
        None => None,
        Some(_) => {
            select_environment(envs.as_ref(), env, envs_key.unwrap_or(root.span)).map_err(fail)?
        }
    };
    let env_path = format!("environments.{env}.{}", per_provider::KEY);
    let env_pp = match overlay.as_mut() {
        Some(o) => {
            if let Some(k) = o.key_span("environments") {
                return Err(fail(
                    Diagnostic::new(format!(
                        "`environments` cannot be inside `environments.{env}`"
                    ))
                    .at(Some(k))
                    .expected("blueprint fields (an environment overlay does not nest)")
                    .help("declare every environment at the top level, under `environments`"),
                ));
            }
            per_provider::split(take_key(o, per_provider::KEY), &env_path).unwrap_or_else(|ds| {
                problems.extend(ds);
                per_provider::Overlays::default()
            })
        }
        None => per_provider::Overlays::default(),
    };
    if !problems.is_empty() {
        return Err(fail_all(problems));
    }
    if let Some(o) = &overlay {
        let problems = overlay::check(o);
        if !problems.is_empty() {
            let lines = overlay_hints::line_range(o);
            let what = format!("environment `{env}`");
            let problems = problems
                .into_iter()
                .map(|d| overlay_hints::restate(d, &what, lines, &[]))
                .collect();
            return Err(fail_all(problems));
        }
    }
    // What each layer is called in errors, the overlay, and the top-level keys it refuses
    // (taken out before the merge, so the deserializer would offer them).
    const IN_ENVIRONMENT: &[&str] = &["environments"];
    const IN_PROVIDER_PART: &[&str] = &["environments", per_provider::KEY];
    let layers = |p: Provider| -> Vec<Layer> {
        let mut v = Vec::new();
        if let Some(o) = top.get(p) {
            v.push(Layer {
                what: format!("`{}.{}`", per_provider::KEY, p.name()),
                overlay: o,
                refuses: IN_PROVIDER_PART,
            });
        }
        if let Some(o) = &overlay {
            v.push(Layer {
                what: format!("environment `{env}`"),
                overlay: o,
                refuses: IN_ENVIRONMENT,
            });
        }
        if let Some(o) = env_pp.get(p) {
            v.push(Layer {
                what: format!("`{env_path}.{}`", p.name()),
                overlay: o,
                refuses: IN_PROVIDER_PART,
            });
        }
        v
    };
    // The other providers' merges only have to deserialize: their semantics are judged when
    // they are synthesized (`infragen validate --provider P --env all` for each).
    let mut others: Vec<Provider> = top
        .providers()
        .chain(env_pp.providers())
        .filter(|p| *p != provider)
        .collect();
    others.sort();
    others.dedup();
    // Copied only when another provider has an overlay: most blueprints have none.
    let base = (!others.is_empty()).then(|| root.clone());
    let base_incomplete = (envs.is_some() || top.providers().next().is_some())
        .then(|| base::incomplete(&root, env))
        .flatten();
    // The selected provider first: an error of the base is reported as this provider's.
    let (blueprint, merged) = merged_for(root, &layers(provider), env).map_err(fail)?;
    if let Some(base) = base {
        for p in others {
            merged_for(base.clone(), &layers(p), env).map_err(|mut d| {
                d.message = format!("for `--provider {p}`: {}", d.message);
                fail(d)
            })?;
        }
    }
    Ok(Loaded {
        file: file.to_string(),
        text,
        env: env.to_string(),
        provider,
        environments,
        blueprint,
        node: merged,
        base_incomplete,
    })
}

/// One overlay merged onto the base.
struct Layer<'a> {
    /// What it is called in errors (``environment `staging` ``).
    what: String,
    overlay: &'a Node,
    /// Top-level keys it may not hold (refused before the merge).
    refuses: &'static [&'static str],
}

/// `root` with `layers` merged onto it in order and `{env}` substituted, deserialized. An
/// error a layer caused says which layer.
fn merged_for(root: Node, layers: &[Layer], env: &str) -> Result<(Blueprint, Node), Diagnostic> {
    // Where each overlay is and which items it adds, to say so in errors it causes.
    let mut hints = Vec::new();
    let mut merged = root;
    for layer in layers {
        let o = layer.overlay;
        hints.push((
            layer,
            overlay_hints::line_range(o),
            overlay_hints::new_items(&merged, o),
        ));
        merged = overlay::merge(merged, o.clone());
    }
    substitute_env(&mut merged, env);
    match de::from_node(&merged) {
        Ok(bp) => Ok((bp, merged)),
        Err(mut d) => {
            // The most specific overlay holding the error's line: an environment's provider
            // part lies inside the environment's lines.
            let at = d.span.map(|s| s.line);
            let d = match hints
                .iter()
                .rev()
                .find(|(_, lines, _)| at.is_some_and(|l| lines.0 <= l && l <= lines.1))
            {
                Some((layer, lines, new)) => {
                    // An unknown top-level key (no path before the message): the fields the
                    // overlay may hold, not the keys it refuses (`expected` is `one_of`'s list
                    // of backquoted names).
                    if d.message.starts_with("unknown field `")
                        && let Some(expected) = &d.expected
                    {
                        let allowed = expected
                            .split('`')
                            .skip(1)
                            .step_by(2)
                            .filter(|k| !layer.refuses.contains(k));
                        d.expected = Some(one_of(allowed));
                    }
                    overlay_hints::restate(d, &layer.what, *lines, new)
                }
                None => d,
            };
            Err(d)
        }
    }
}

/// The names of the environments a blueprint declares (for `diff` over all of them).
pub fn environments(file: &str, bytes: &[u8]) -> Result<Vec<String>, Diagnostics> {
    let text = decode(bytes).map_err(|d| Diagnostics::single(d.in_file(file)))?;
    let root = node::parse(&text).map_err(|d| Diagnostics::single(d).with_source(file, &text))?;
    Ok(environment_names(root.get("environments")))
}

/// The keys of an `environments` mapping.
fn environment_names(envs: Option<&Node>) -> Vec<String> {
    match envs.map(|n| &n.kind) {
        Some(node::NodeKind::Map(entries)) => entries
            .iter()
            .filter_map(|(k, _)| k.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

fn decode(bytes: &[u8]) -> Result<String, Diagnostic> {
    if bytes.len() > MAX_BLUEPRINT_BYTES {
        return Err(Diagnostic::new(format!(
            "the blueprint is {} bytes; the limit is {} bytes",
            bytes.len(),
            MAX_BLUEPRINT_BYTES
        ))
        .help("a blueprint describes infrastructure in kilobytes; is this the right file?"));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let line = good.iter().filter(|b| **b == b'\n').count() + 1;
            let line_start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            let col = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
            Err(Diagnostic::new(format!(
                "the blueprint is not valid UTF-8 (byte 0x{:02X})",
                bytes[e.valid_up_to()]
            ))
            .at(Some(Span::new(line, col)))
            .expected("UTF-8 encoded YAML text")
            .help("save the file as UTF-8; binary files are not blueprints"))
        }
    }
}

/// Remove `key` from a top-level mapping and return its value.
fn take_key(root: &mut Node, key: &str) -> Option<Node> {
    if let node::NodeKind::Map(entries) = &mut root.kind {
        let pos = entries.iter().position(|(k, _)| k.as_str() == Some(key))?;
        return Some(entries.remove(pos).1);
    }
    None
}

fn select_environment(
    envs: Option<&Node>,
    env: &str,
    at: Span,
) -> Result<Option<Node>, Diagnostic> {
    let entries = match envs.map(|n| &n.kind) {
        None | Some(node::NodeKind::Null) => &Vec::new(),
        Some(node::NodeKind::Map(entries)) => entries,
        Some(_) => {
            let n = envs.expect("matched Some");
            return Err(Diagnostic::new(format!(
                "`environments` must be a mapping of environment names to overlays, found {}",
                n.kind_name()
            ))
            .at(Some(n.span)));
        }
    };
    let names: Vec<&str> = entries.iter().filter_map(|(k, _)| k.as_str()).collect();
    match entries.iter().find(|(k, _)| k.as_str() == Some(env)) {
        Some((_, overlay)) => match &overlay.kind {
            node::NodeKind::Null => Ok(None),
            node::NodeKind::Map(_) => Ok(Some(overlay.clone())),
            _ => Err(Diagnostic::new(format!(
                "`environments.{env}` must be a mapping (an overlay of the blueprint), found {}",
                overlay.kind_name()
            ))
            .at(Some(overlay.span))),
        },
        None => {
            let mut d = Diagnostic::new(format!("unknown environment `{env}`")).at(Some(at));
            d = if names.is_empty() {
                d.expected("an environment the blueprint declares; it declares none")
                    .help(format!("add `{env}: {{}}` under `environments`"))
            } else {
                d.expected(one_of(names.iter().copied()))
            };
            Err(d.suggest(env, names.iter().copied()))
        }
    }
}

/// Replace `{env}` in every string scalar, so one blueprint names things per environment.
fn substitute_env(node: &mut Node, env: &str) {
    match &mut node.kind {
        node::NodeKind::Scalar { text, .. } => {
            // Most scalars hold no `{`: one byte search before the substring search.
            if text.contains('{') && text.contains("{env}") {
                *text = text.replace("{env}", env);
            }
        }
        node::NodeKind::Seq(items) => items.iter_mut().for_each(|n| substitute_env(n, env)),
        node::NodeKind::Map(entries) => {
            entries.iter_mut().for_each(|(_, v)| substitute_env(v, env))
        }
        node::NodeKind::Null => {}
    }
}

/// `(previous, current)` names of the components the blueprint marks `renamed_from`.
pub fn renames(bp: &Blueprint) -> Vec<(String, String)> {
    bp.components()
        .into_iter()
        .filter_map(|c| {
            c.renamed_from
                .map(|old| (old.to_string(), c.name.to_string()))
        })
        .collect()
}

/// The blueprint as it was before `renames` (`(previous, current)` pairs): every scalar equal
/// to a current name becomes the previous one, and `renamed_from` keys are dropped. Names are
/// DNS labels, so a whole-scalar match is the component's name or a reference to it.
pub fn before_renames(
    loaded: &Loaded,
    renames: &[(String, String)],
) -> Result<Loaded, Diagnostics> {
    fn revert(node: &mut Node, renames: &[(String, String)]) {
        match &mut node.kind {
            node::NodeKind::Scalar { text, .. } => {
                if let Some((old, _)) = renames.iter().find(|(_, new)| new == text) {
                    *text = old.clone();
                }
            }
            node::NodeKind::Seq(items) => items.iter_mut().for_each(|n| revert(n, renames)),
            node::NodeKind::Map(entries) => {
                entries.retain(|(k, _)| k.as_str() != Some("renamed_from"));
                entries.iter_mut().for_each(|(_, v)| revert(v, renames));
            }
            node::NodeKind::Null => {}
        }
    }
    let mut node = loaded.node.clone();
    revert(&mut node, renames);
    let blueprint: Blueprint = de::from_node(&node)
        .map_err(|d| Diagnostics::single(d).with_source(&loaded.file, &loaded.text))?;
    Ok(Loaded {
        file: loaded.file.clone(),
        text: loaded.text.clone(),
        env: loaded.env.clone(),
        provider: loaded.provider,
        environments: loaded.environments.clone(),
        blueprint,
        node,
        base_incomplete: loaded.base_incomplete.clone(),
    })
}
