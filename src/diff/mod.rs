//! What a blueprint change does to the generated infrastructure: resources and Kubernetes
//! objects added, changed (attribute by attribute) and removed, destructive changes flagged,
//! renames turned into `moved` blocks, and the unified diff of every file.

mod databases;
mod ecs_rollout;
mod fargate_profiles;
mod identity;
mod ignored;
mod immutable;
mod nat_gateway;
mod objects;
mod owner;
pub mod renames;
mod render;
mod upgrades;
mod vpc_move;
mod zonal_pools;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::output::Output;
pub use objects::flatten;
pub use render::{Format, render};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Changed,
    Removed,
    Moved,
}

/// One attribute that differs; `None` is absent on that side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribute {
    pub path: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// One resource or object that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    /// `infra: aws_db_instance.db`, `k8s: Deployment shop/api`.
    pub address: String,
    /// The address's parts, for tools: the Terraform module (`infra`) or `k8s`…
    pub module: String,
    /// …the resource type (`aws_db_instance`) or Kubernetes kind (`Deployment`)…
    #[serde(rename = "type")]
    pub kind_name: String,
    /// …and the resource or object name.
    pub name: String,
    /// Kubernetes namespace, for namespaced objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `data` for a Terraform data source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'static str>,
    /// For `moved`: the previous address…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// …and its name (a move keeps the module and type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    pub attributes: Vec<Attribute>,
    /// Why this change destroys or replaces something, if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destructive: Option<String>,
}

/// A generated file that differs, with its unified diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileDiff {
    pub path: String,
    pub diff: String,
}

/// The difference for one provider × environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetDiff {
    pub provider: String,
    pub env: String,
    pub changes: Vec<Change>,
    pub files: Vec<FileDiff>,
    /// `moved` blocks that keep renamed components' state, by module.
    pub moved: BTreeMap<String, Vec<(String, String)>>,
    pub notes: Vec<String>,
}

impl Change {
    fn new(kind: ChangeKind, address: String) -> Change {
        let (module, rest) = address.split_once(": ").unwrap_or(("", &address));
        let (module, rest) = (module.to_string(), rest.to_string());
        let (kind_name, name, namespace, mode) = if module == "k8s" {
            // `Deployment shop/api` or `Namespace shop`.
            let (k, n) = rest.split_once(' ').unwrap_or((&rest, ""));
            match n.split_once('/') {
                Some((ns, n)) => (k.to_string(), n.to_string(), Some(ns.to_string()), None),
                None => (k.to_string(), n.to_string(), None, None),
            }
        } else {
            // `aws_vpc.main` or `data.aws_iam_policy_document.x`.
            let (r, mode) = match rest.strip_prefix("data.") {
                Some(r) => (r, Some("data")),
                None => (rest.as_str(), None),
            };
            let (t, n) = r.split_once('.').unwrap_or((r, ""));
            (t.to_string(), n.to_string(), None, mode)
        };
        Change {
            kind,
            address,
            module,
            kind_name,
            name,
            namespace,
            mode,
            from: None,
            from_name: None,
            attributes: vec![],
            destructive: None,
        }
    }
}

impl TargetDiff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.files.is_empty()
    }

    pub fn destructive(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.destructive.is_some())
            .count()
    }
}

#[derive(Deserialize)]
struct Replacement {
    stateful: BTreeSet<String>,
    forces_replacement: BTreeMap<String, Vec<String>>,
    /// Per type and argument, the `[old, new]` changes the provider makes in place although
    /// the argument otherwise forces replacement (`//` keys are comments).
    in_place: BTreeMap<String, Value>,
    /// Per type, the version arguments whose decrease replaces the resource (`//` keys are
    /// comments).
    replaced_on_downgrade: BTreeMap<String, Value>,
}

/// Whether version `new` is lower than `old`, compared number by number (`7.2` < `8.0`).
fn lower_version(old: Option<&Value>, new: Option<&Value>) -> bool {
    let parts = |v: Option<&Value>| -> Option<Vec<u64>> {
        v?.as_str()?.split('.').map(|p| p.parse().ok()).collect()
    };
    matches!((parts(old), parts(new)), (Some(a), Some(b)) if b < a)
}

impl Replacement {
    /// Whether changing `arg` of a `kind` from `old` to `new` is one of the in-place exceptions.
    fn in_place(&self, kind: &str, arg: &str, old: Option<&Value>, new: Option<&Value>) -> bool {
        self.in_place
            .get(kind)
            .and_then(|args| args.get(arg))
            .and_then(Value::as_array)
            .is_some_and(|pairs| {
                pairs
                    .iter()
                    .any(|p| p.get(0) == old && p.get(1) == new && old.is_some() && new.is_some())
            })
    }
}

fn replacement() -> &'static Replacement {
    static R: OnceLock<Replacement> = OnceLock::new();
    R.get_or_init(|| {
        serde_json::from_str(include_str!("../../providers/replacement.json"))
            .unwrap_or_else(|e| panic!("providers/replacement.json is invalid: {e}"))
    })
}

/// The deletion-protection argument that is on in a resource's body, if any: the API
/// refuses to delete it, so a replacement cannot happen until it is off.
fn deletion_protected(body: &serde_json::Value) -> Option<&'static str> {
    [
        "deletion_protection",         // aws_db_instance, aws_eks_cluster
        "deletion_protection_enabled", // aws_dynamodb_table
        "enable_deletion_protection",  // aws_lb
    ]
    .into_iter()
    .find(|flag| body.get(*flag).and_then(serde_json::Value::as_bool) == Some(true))
    // Terraform's own guard: the plan fails on it.
    .or_else(|| {
        (body.pointer("/lifecycle/prevent_destroy") == Some(&serde_json::json!(true)))
            .then_some("lifecycle.prevent_destroy")
    })
}

/// Why the API refuses to delete the resource while it holds data, if it does: a bucket
/// with objects (S3 and Spaces answer `BucketNotEmpty`; with versioning, every object
/// version and delete marker counts), a registry repository with images (ECR answers
/// `RepositoryNotEmptyException`). The output never sets `force_destroy` / `force_delete`,
/// so a removal or replacement of one in use fails the apply half-way instead of deleting
/// the data — the reviewer must learn that before the apply.
fn refused_while_not_empty(kind: &str, body: &serde_json::Value) -> Option<&'static str> {
    let forced = |flag: &str| body.get(flag).and_then(serde_json::Value::as_bool) == Some(true);
    match kind {
        "aws_s3_bucket" if !forced("force_destroy") => Some(
            "S3 refuses to delete a bucket that still holds objects (BucketNotEmpty; versioned, every object version and delete marker counts), so the apply fails unless it is emptied first (`aws s3api list-object-versions`, then `aws s3api delete-objects` of every version and delete marker) — and its objects are gone for good",
        ),
        "digitalocean_spaces_bucket" if !forced("force_destroy") => Some(
            "Spaces refuses to delete a bucket that still holds objects (BucketNotEmpty), so the apply fails unless it is emptied first (`aws s3 rm s3://<bucket> --recursive --endpoint-url https://<region>.digitaloceanspaces.com`, every version too where versioning is on) — and its objects are gone for good",
        ),
        "aws_ecr_repository" if !forced("force_delete") => Some(
            "ECR refuses to delete a repository that still holds images (RepositoryNotEmptyException), so the apply fails unless its images are deleted first (`aws ecr batch-delete-image`)",
        ),
        _ => None,
    }
}

/// What stops the delete of a resource the change removes or replaces, as a sentence
/// ending the reason: deletion protection, or data the API will not delete with it.
fn delete_refusal(kind: &str, body: &serde_json::Value) -> Option<String> {
    if let Some(flag) = deletion_protected(body) {
        return Some(format!(
            "; its `{flag}` refuses the delete, so the apply fails until an apply that turns it off"
        ));
    }
    refused_while_not_empty(kind, body).map(|why| format!("; {why}"))
}

/// Replacements cascade: a resource whose forcing argument refers to a replaced resource
/// (`vpc_uuid = "${digitalocean_vpc.main.id}"`) gets a new value there at apply — the
/// replacement's new id — and is replaced with it, although its own text did not change: a
/// new VPC range takes the Kubernetes and database clusters in it along. Terraform plans
/// them so; the diff, which compares text, must follow the references.
fn cascade(
    new: &BTreeMap<String, objects::Object>,
    rules: &Replacement,
    changes: &mut Vec<Change>,
) {
    // `module` → `type.name` of the resources replaced so far.
    let mut replaced: BTreeSet<(String, String)> = changes
        .iter()
        .filter(|c| c.kind != ChangeKind::Added && c.destructive.is_some() && c.module != "k8s")
        .filter(|c| c.kind != ChangeKind::Removed && c.mode.is_none())
        .map(|c| (c.module.clone(), format!("{}.{}", c.kind_name, c.name)))
        .collect();
    loop {
        let mut found = Vec::new();
        for (addr, n) in new {
            let c = Change::new(ChangeKind::Changed, addr.clone());
            if c.mode.is_some()
                || replaced.contains(&(c.module.clone(), format!("{}.{}", c.kind_name, c.name)))
            {
                continue;
            }
            let Some(args) = rules.forces_replacement.get(&n.kind) else {
                continue;
            };
            let leaves = objects::flatten(&n.body);
            let hit = args.iter().find_map(|arg| {
                leaves.iter().find_map(|(path, v)| {
                    let text = v.as_str()?;
                    if !inside(path, arg) {
                        return None;
                    }
                    replaced
                        .iter()
                        .filter(|(m, _)| *m == c.module)
                        .find(|(_, r)| text.contains(&format!("${{{r}.")))
                        .map(|(_, r)| (arg.clone(), path.clone(), v.clone(), r.clone()))
                })
            });
            if let Some(hit) = hit {
                found.push((addr.clone(), hit));
            }
        }
        if found.is_empty() {
            return;
        }
        for (addr, (arg, path, value, by)) in found {
            let c = Change::new(ChangeKind::Changed, addr.clone());
            replaced.insert((c.module.clone(), format!("{}.{}", c.kind_name, c.name)));
            let what = if rules.stateful.contains(&c.kind_name) {
                "destroys and recreates"
            } else {
                "replaces"
            };
            let mut why = format!(
                "{what} the {} with {by}, which is replaced: its {arg} names it, and gets the new one's value",
                c.kind_name
            );
            if let Some(refusal) = new
                .get(&addr)
                .and_then(|o| delete_refusal(&o.kind, &o.body))
            {
                why.push_str(&refusal);
            }
            match changes.iter_mut().find(|x| x.address == addr) {
                Some(x) if x.destructive.is_none() => x.destructive = Some(why),
                Some(_) => {}
                None => changes.push(Change {
                    attributes: vec![Attribute {
                        path,
                        old: Some(value),
                        new: Some(serde_json::json!("(known after apply)")),
                    }],
                    destructive: Some(why),
                    ..c
                }),
            }
        }
    }
}

/// Whether `path` is `arg` or lies inside it (`vpc_config[0].x` inside `vpc_config`).
fn inside(path: &str, arg: &str) -> bool {
    // Blocks are arrays in Terraform JSON (`load_balancer[0].container_name`), so compare
    // with indexes removed.
    let bare: String = {
        let mut s = String::with_capacity(path.len());
        let mut skip = false;
        for ch in path.chars() {
            match ch {
                '[' => skip = true,
                ']' => skip = false,
                _ if !skip => s.push(ch),
                _ => {}
            }
        }
        s
    };
    bare == arg || bare.starts_with(&format!("{arg}.")) || bare.starts_with(&format!("{arg}:"))
}

/// The diff of one target (`provider`/`env`): `renames` (previous, current) become `moved`
/// pairs, then the changes, the files and, after `notes` the caller already has, the notes on
/// what one apply cannot make. `undeclared` are the renames among them the blueprint does not
/// declare (list, previous, current: [`renames::undeclared`]), which as written destroy and
/// recreate what they rename ([`undeclared_renames`]).
pub fn target(
    (provider, env): (&str, &str),
    base: &Output,
    head: &Output,
    renames: &[(String, String)],
    undeclared: &[(&'static str, String, String)],
    mut notes: Vec<String>,
) -> TargetDiff {
    let moved = renames::moved(base, head, renames);
    let pair = Pair::new(base, head);
    let (mut changes, files) = pair.changes(&moved);
    notes.extend(undeclared_renames(&pair, undeclared, &mut changes));
    notes.extend(pair.upgrade_notes());
    // The lint warnings the change brings (synth prints them; a reviewer reading only the
    // diff would not see them). A base read from a folder has none: all of the head's show.
    notes.extend(
        head.notes
            .iter()
            .filter(|n| n.is_warning() && !base.notes.contains(n))
            .map(|n| format!("synth now warns: {n}")),
    );
    TargetDiff {
        provider: provider.to_string(),
        env: env.to_string(),
        changes,
        files,
        moved,
        notes,
    }
}

/// Arguments that carry a resource's own name in the cloud, for [`undeclared_renames`]: one
/// that stays the same across a destroy and create is taken by the old resource while the
/// new one is created.
const NAME_ARGS: [&str; 6] = [
    "identifier",
    "name",
    "bucket",
    "replication_group_id",
    "cluster_identifier",
    "table_name",
];

/// A component renamed without `renamed_from` (`undeclared`: list, previous, current): the
/// diff pairs its resources as moves (and shows the `moved` blocks), but `synth` writes none,
/// so the plan destroys every Terraform resource of the previous name and creates the new
/// ones — a database, cache, queue or bucket new and empty, its data lost with the old one.
/// Each stateful resource moved so is marked destructive, and one loud note per rename names
/// the data destroyed, the `renamed_from` line to add, a fixed cloud name the new resource
/// would take while the old one still holds it, and what even `renamed_from` cannot rename
/// in place (a moved resource the diff already finds replaced: an ElastiCache
/// `replication_group_id`, an S3 or Spaces bucket, an SQS queue, a DigitalOcean database
/// cluster's `name` — `providers/replacement.json`).
fn undeclared_renames(
    pair: &Pair<'_>,
    undeclared: &[(&'static str, String, String)],
    changes: &mut [Change],
) -> Vec<String> {
    let rules = replacement();
    let mut notes = Vec::new();
    for (list, prev, cur) in undeclared {
        let moved = renames::moved(pair.base, pair.head, &[(prev.clone(), cur.clone())]);
        let pairs: Vec<(String, String)> = moved
            .iter()
            .flat_map(|(m, ps)| {
                ps.iter()
                    .map(move |(f, t)| (format!("{m}: {f}"), format!("{m}: {t}")))
            })
            .collect();
        if pairs.is_empty() {
            // Nothing of it is in Terraform's state (manifests only): nothing to keep.
            continue;
        }
        let line = format!("`renamed_from: {prev}`");
        let mut lost = Vec::new();
        // An in-cluster data service's StatefulSet under the new name starts on new, empty
        // claims whether or not the rename is declared (`immutable::renamed_statefulsets`):
        // no `moved` block carries a volume.
        let mut replaced_anyway: Vec<String> = changes
            .iter()
            .filter(|c| {
                c.module == "k8s"
                    && c.kind_name == "StatefulSet"
                    && &c.name == cur
                    && c.kind == ChangeKind::Added
                    && c.destructive.is_some()
            })
            .map(|c| format!("`{}` (volumes do not follow a rename)", c.address))
            .collect();
        let mut taken = Vec::new();
        for (from, to) in &pairs {
            let (Some(o), Some(n)) = (pair.old.get(from), pair.new.get(to)) else {
                continue;
            };
            if !rules.stateful.contains(&n.kind) {
                continue;
            }
            lost.push(format!("`{from}`"));
            let Some(c) = changes.iter_mut().find(|c| &c.address == to) else {
                continue;
            };
            match &c.destructive {
                Some(_) => replaced_anyway.push(format!("`{to}`")),
                None => {
                    c.destructive = Some(format!(
                        "as written, destroys the {} `{}` and creates this one empty: the blueprint does not declare the rename, so synth writes no moved block (add {line} to `{cur}` in `{list}`)",
                        n.kind,
                        from.split_once(": ").map_or(from.as_str(), |(_, a)| a)
                    ));
                }
            }
            for arg in NAME_ARGS {
                if let (Some(a), Some(b)) = (o.body.get(arg), n.body.get(arg))
                    && a == b
                    && let Some(name) = a.as_str().filter(|s| !s.is_empty() && !s.contains("${"))
                {
                    taken.push(format!("`{to}` keeps the {arg} `{name}`"));
                }
            }
        }
        let mut note = format!(
            "WARNING: `{list}` `{prev}` → `{cur}` reads as a rename (one name gone, one new) the blueprint does not declare: `synth` writes no `moved` blocks for it, so Terraform destroys the {} resource(s) of `{prev}` and creates those of `{cur}` anew",
            pairs.len()
        );
        if lost.is_empty() {
            note.push_str(" (none of them stores data)");
        } else {
            note.push_str(&format!(
                " — with them the data of {}, the new ones starting empty",
                lost.join(", ")
            ));
        }
        if !taken.is_empty() {
            note.push_str(&format!(
                "; {}: each create collides with the old resource still holding that name, and the apply fails half-way",
                taken.join(", ")
            ));
        }
        note.push_str(&format!(
            ". If it is a rename, add {line} to `{cur}` in `{list}`, and synth writes the moved blocks shown below"
        ));
        if !replaced_anyway.is_empty() {
            note.push_str(&format!(
                ". Even with it, these cannot be renamed in place and are replaced, empty (DESTRUCTIVE below): {} — keep the name `{prev}`, or move what they hold across first",
                replaced_anyway.join(", ")
            ));
        }
        notes.push(note);
    }
    changes.sort_by(|a, b| {
        (b.destructive.is_some(), &a.address).cmp(&(a.destructive.is_some(), &b.address))
    });
    notes
}

/// Two outputs of one target, and what both the changes and the notes read of them: their
/// objects and the objects changing owner between the manifests and Terraform, each found
/// once.
pub struct Pair<'a> {
    base: &'a Output,
    head: &'a Output,
    old: BTreeMap<String, objects::Object>,
    new: BTreeMap<String, objects::Object>,
    handovers: Vec<owner::Handover>,
}

/// Notes on version changes between two outputs of the same target that one apply cannot
/// make (an EKS minor version skipped, a downgrade, a MySQL major upgrade with replicas).
pub fn upgrade_notes(base: &Output, head: &Output) -> Vec<String> {
    Pair::new(base, head).upgrade_notes()
}

/// Compare two outputs of the same target. `moved` pairs (module → [(from, to)]) mark
/// renamed resources, which are then reported as moves, not as destroy + create.
pub fn compare(
    base: &Output,
    head: &Output,
    moved: &BTreeMap<String, Vec<(String, String)>>,
) -> (Vec<Change>, Vec<FileDiff>) {
    Pair::new(base, head).changes(moved)
}

impl<'a> Pair<'a> {
    pub fn new(base: &'a Output, head: &'a Output) -> Self {
        let (old, new) = (objects::objects(base), objects::objects(head));
        let handovers = owner::handovers(&old, &new);
        Pair {
            base,
            head,
            old,
            new,
            handovers,
        }
    }

    /// The notes of [`upgrade_notes`].
    pub fn upgrade_notes(&self) -> Vec<String> {
        let (old, new) = (&self.old, &self.new);
        let mut notes = upgrades::notes(old, new);
        notes.extend(ignored::notes(old, new));
        notes.extend(self.handovers.iter().map(owner::Handover::note));
        let adopted: Vec<&str> = self
            .handovers
            .iter()
            .filter(|h| h.into_terraform)
            .map(|h| h.manifest.as_str())
            .collect();
        notes.extend(immutable::removed_note(old, new, &adopted));
        notes.extend(immutable::release_notes(old, new));
        notes.extend(immutable::replicas_note(old, new));
        notes.extend(immutable::strategy_note(old, new));
        notes.extend(zonal_pools::notes(old, new));
        notes.extend(fargate_profiles::notes(old, new));
        notes.extend(vpc_move::notes(old, new));
        notes.extend(nat_gateway::notes(old, new));
        notes.extend(databases::notes(old, new));
        notes
    }

    /// The changes and file diffs of [`compare`].
    pub fn changes(
        &self,
        moved: &BTreeMap<String, Vec<(String, String)>>,
    ) -> (Vec<Change>, Vec<FileDiff>) {
        let (base, head, old, new) = (self.base, self.head, &self.old, &self.new);
        let handovers = &self.handovers;
        let rules = replacement();
        let moved_to: BTreeMap<String, String> = moved
            .iter()
            .flat_map(|(m, pairs)| {
                pairs
                    .iter()
                    .map(move |(f, t)| (format!("{m}: {t}"), format!("{m}: {f}")))
            })
            .collect();
        let moved_from: BTreeSet<&String> = moved_to.values().collect();

        let mut changes = Vec::new();
        for (addr, o) in old {
            if !new.contains_key(addr) && !moved_from.contains(addr) {
                let handover = handovers
                    .iter()
                    .find(|h| &h.manifest == addr || &h.resource == addr);
                // Terraform takes over an object the manifests made: nothing is deleted.
                let adopted = handover.is_some_and(|h| h.into_terraform);
                let destructive = (rules.stateful.contains(&o.kind) && !adopted).then(|| {
                let mut why = match o.kind.strip_prefix("k8s:") {
                    // `kubectl apply` deletes nothing: the object keeps running (and its data)
                    // until deleted by hand — which the removal note says how to do.
                    Some("StatefulSet") => "drops a stateful StatefulSet from the manifests: `kubectl apply` leaves it running, and deleting it (the `kubectl delete` note) stops the data service — its claims are kept (`whenDeleted: Retain`) until deleted too".to_string(),
                    Some(k) => format!("drops a stateful {k} from the manifests: `kubectl apply` leaves it, and deleting it by hand (the `kubectl delete` note) deletes what it holds"),
                    None => format!("removes a stateful {}", o.kind),
                };
                if let Some(refusal) = delete_refusal(&o.kind, &o.body) {
                    why.push_str(&refusal);
                }
                if handover.is_some() {
                    why.push_str(
                        ", unless it is removed from the state first: the manifests hold it now (see the note)",
                    );
                }
                why
            });
                changes.push(Change {
                    destructive,
                    ..Change::new(ChangeKind::Removed, addr.clone())
                });
            }
        }
        for (addr, n) in new {
            let (kind, previous, from) = match (old.get(addr), moved_to.get(addr)) {
                (Some(o), _) => (ChangeKind::Changed, Some(o), None),
                (None, Some(f)) => (ChangeKind::Moved, old.get(f), Some(f.clone())),
                (None, None) => (ChangeKind::Added, None, None),
            };
            // Terraform keeps the state's value of an argument the resource's
            // `lifecycle.ignore_changes` lists: a change to it is no change of the running
            // system (and replaces nothing); `ignored::notes` says it is not applied.
            let ignored = ignored::paths(&n.body);
            let attributes: Vec<Attribute> = match previous {
                None => vec![],
                Some(o) => identity::attributes(&o.body, &n.body)
                    .into_iter()
                    .filter(|at| !ignored::is_ignored(at, &ignored))
                    .collect(),
            };
            if kind == ChangeKind::Changed && attributes.is_empty() {
                continue;
            }
            let mut forcing: Vec<&str> = rules
                .forces_replacement
                .get(&n.kind)
                .map(|args| {
                    args.iter()
                        .filter(|arg| {
                            attributes.iter().any(|at| {
                                inside(&at.path, arg)
                                    && !rules.in_place(
                                        &n.kind,
                                        arg,
                                        at.old.as_ref(),
                                        at.new.as_ref(),
                                    )
                            })
                        })
                        .map(String::as_str)
                        .collect()
                })
                .unwrap_or_default();
            // A version argument the provider replaces the resource for when it goes down.
            if let Some(args) = rules
                .replaced_on_downgrade
                .get(&n.kind)
                .and_then(Value::as_array)
            {
                for arg in args.iter().filter_map(Value::as_str) {
                    if attributes
                        .iter()
                        .any(|at| at.path == arg && lower_version(at.old.as_ref(), at.new.as_ref()))
                    {
                        forcing.push(match arg {
                            "engine_version" => "a lower engine_version",
                            _ => arg,
                        });
                    }
                }
            }
            // A claim may grow (where its StorageClass allows expansion), never shrink.
            if n.kind == "k8s:PersistentVolumeClaim" && immutable::shrinks(&attributes) {
                forcing.push("spec.resources.requests.storage (smaller)");
            }
            let k8s = n.kind.strip_prefix("k8s:");
            // A move keeps the state, but a renamed argument that cannot change in place (an IAM
            // role's `name`, a cache's `replication_group_id`) still replaces the resource after it.
            let destructive = (kind != ChangeKind::Added && !forcing.is_empty()).then(|| {
            // `kubectl apply` does not replace an object: it fails.
            if let Some(k) = k8s {
                let c = Change::new(kind, addr.clone());
                return immutable::refusal(
                    k,
                    c.namespace.as_deref(),
                    &c.name,
                    &forcing,
                    &attributes,
                    &n.body,
                );
            }
            let what = if rules.stateful.contains(&n.kind) {
                "destroys and recreates"
            } else {
                "replaces"
            };
            let mut why = format!(
                "{what} the {} ({} cannot change in place)",
                n.kind.trim_start_matches("k8s:"),
                forcing.join(", ")
            );
            if n.body.pointer("/lifecycle/create_before_destroy") == Some(&serde_json::json!(true)) {
                why.push_str(", the new one created before the old one is destroyed");
            } else if !rules.stateful.contains(&n.kind) {
                // Terraform's default order: what the old one served (an ECS service's
                // tasks, a role's permissions) is gone until the new one exists.
                why.push_str(", the old one destroyed before the new one is created");
            }
            if n.kind == "random_password" {
                // The server keeps the password it was initialized with (an in-cluster
                // database's volume, MONGO_INITDB_ROOT_PASSWORD and the like apply once).
                why.push_str(": a new password goes to the clients' Secret, while a data service initialized with the old one keeps it and refuses them until it is changed in the server too");
            }
            if let Some(refusal) = previous.and_then(|o| delete_refusal(&o.kind, &o.body)) {
                why.push_str(&refusal);
            }
            why
        });
            changes.push(Change {
                from_name: from.as_ref().map(|f| Change::new(kind, f.clone()).name),
                from,
                attributes,
                destructive,
                ..Change::new(kind, addr.clone())
            });
        }
        cascade(new, rules, &mut changes);
        immutable::renamed_statefulsets(old, new, &mut changes);
        changes.sort_by(|a, b| {
            (b.destructive.is_some(), &a.address).cmp(&(a.destructive.is_some(), &b.address))
        });

        let mut files = Vec::new();
        let paths: BTreeSet<&String> = base.files.keys().chain(head.files.keys()).collect();
        for p in paths {
            let a = base.files.get(p).map_or("", String::as_str);
            let b = head.files.get(p).map_or("", String::as_str);
            if a != b {
                files.push(FileDiff {
                    path: p.clone(),
                    diff: crate::output::unified(p, a, b),
                });
            }
        }
        (changes, files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(files: &[(&str, &str)]) -> Output {
        Output::from_files(files)
    }

    #[test]
    fn classifies_changes() {
        let base = out(&[(
            "terraform/infra/data.tf.json",
            r#"{"resource":{"aws_db_instance":{"db":{"instance_class":"db.t4g.medium","engine":"postgres"}},"aws_elasticache_replication_group":{"cache":{"node_type":"x"}}}}"#,
        )]);
        let head = out(&[(
            "terraform/infra/data.tf.json",
            r#"{"resource":{"aws_db_instance":{"db":{"instance_class":"db.t4g.large","engine":"postgres"}},"aws_vpc":{"main":{"cidr_block":"10.0.0.0/16"}}}}"#,
        )]);
        let (changes, files) = compare(&base, &head, &BTreeMap::new());
        assert_eq!(files.len(), 1);
        let removed = changes
            .iter()
            .find(|c| c.kind == ChangeKind::Removed)
            .unwrap();
        assert_eq!(
            removed.address,
            "infra: aws_elasticache_replication_group.cache"
        );
        assert!(removed.destructive.is_some());
        let changed = changes
            .iter()
            .find(|c| c.kind == ChangeKind::Changed)
            .unwrap();
        assert_eq!(changed.attributes[0].path, "instance_class");
        assert!(changed.destructive.is_none(), "a class change is in place");
        assert!(
            changes
                .iter()
                .any(|c| c.kind == ChangeKind::Added && c.address == "infra: aws_vpc.main")
        );
        assert!(inside(
            "load_balancer[0].container_name",
            "load_balancer.container_name"
        ));
        assert!(inside(
            "vpc_config[0].security_group_ids[1]",
            "vpc_config.security_group_ids"
        ));
    }

    #[test]
    fn a_moved_resource_whose_name_forces_replacement_is_destructive() {
        let base = out(&[(
            "terraform/infra/iam.tf.json",
            r#"{"resource":{"aws_iam_role":{"orders_task":{"name":"shop-orders-task"}}}}"#,
        )]);
        let head = out(&[(
            "terraform/infra/iam.tf.json",
            r#"{"resource":{"aws_iam_role":{"sales_task":{"name":"shop-sales-task"}}}}"#,
        )]);
        let moved = BTreeMap::from([(
            "infra".to_string(),
            vec![(
                "aws_iam_role.orders_task".to_string(),
                "aws_iam_role.sales_task".to_string(),
            )],
        )]);
        let (changes, _) = compare(&base, &head, &moved);
        assert_eq!(changes.len(), 1, "{changes:?}");
        let c = &changes[0];
        assert_eq!(c.kind, ChangeKind::Moved);
        assert!(
            c.destructive.as_deref().is_some_and(|d| d.contains("name")),
            "{c:?}"
        );
        assert_eq!(
            (c.module.as_str(), c.kind_name.as_str(), c.name.as_str()),
            ("infra", "aws_iam_role", "sales_task")
        );
        assert_eq!(c.from_name.as_deref(), Some("orders_task"));
    }

    #[test]
    fn addresses_split_into_fields() {
        let c = Change::new(ChangeKind::Added, "k8s: Deployment shop/api".into());
        assert_eq!(
            (c.module.as_str(), c.kind_name.as_str(), c.name.as_str()),
            ("k8s", "Deployment", "api")
        );
        assert_eq!(c.namespace.as_deref(), Some("shop"));
        let c = Change::new(
            ChangeKind::Added,
            "infra: data.aws_caller_identity.me".into(),
        );
        assert_eq!(
            (c.kind_name.as_str(), c.name.as_str(), c.mode),
            ("aws_caller_identity", "me", Some("data"))
        );
    }
}
