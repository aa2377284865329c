//! The command line: the only code that touches the process (arguments, files named on the
//! command line, stdout/stderr, exit codes). Exit codes: 0 success, 1 differences or problems
//! found, 2 usage or input error.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use camino::{Utf8Path, Utf8PathBuf};
use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::catalog::Provider;
use crate::diagnostic::Diagnostics;
use crate::output::{self, DriftKind};

const DEFAULT_BLUEPRINT: &str = "infragen.yaml";

#[derive(Parser, Debug)]
#[command(
    name = "infragen",
    version,
    about = "Turn one typed YAML blueprint into Terraform JSON and Kubernetes manifests",
    after_help = "Examples:\n  infragen init\n  infragen synth --provider aws --env production\n  infragen validate out/aws/production\n  infragen synth --provider digitalocean --env stage --blueprint blueprints/ecommerce-doks.yaml --check\n  infragen schema > blueprint.schema.json"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Synthesize the blueprint for one provider and environment.
    #[command(
        after_help = "Examples:\n  infragen synth --provider aws --env production\n  infragen synth --provider aws --env staging --blueprint blueprints/ecommerce-eks.yaml --out deploy/aws-staging\n  infragen synth --provider aws --env production --check   # exit 1 when committed output is stale\n  infragen synth --provider aws --env all --blueprint stacks/a.yaml --blueprint stacks/b.yaml   # every environment of several stacks, on every core, into out/<stack>/aws/<env>"
    )]
    Synth(SynthArgs),
    /// Check output offline against the provider schemas: resource types, arguments,
    /// required arguments, value shapes, block counts and references.
    #[command(
        after_help = "Examples:\n  infragen validate out/aws/production          # output on disk\n  infragen validate --provider aws --env production --blueprint blueprints/qurable-ecs.yaml   # synthesized in memory\n  infragen validate out/aws/production --schemas schema.json   # your own `terraform providers schema -json`\n\nExit codes: 0 clean, 1 problems found, 2 usage or input error."
    )]
    Validate(ValidateArgs),
    /// Show what a blueprint change does to the generated infrastructure: resources added,
    /// changed (attribute by attribute) and removed, destructive changes flagged, renames as
    /// `moved` blocks, and the diff of every generated file.
    #[command(
        after_help = "Examples:\n  infragen diff --base origin/main --blueprint blueprints/shop.yaml\n  infragen diff --base old.yaml --blueprint shop.yaml --provider aws --env production\n  infragen diff --base deploy/aws/production --blueprint shop.yaml --provider aws --env production   # against the committed output (an infragen upgrade)\n  infragen diff --base origin/main --format markdown > comment.md   # for a pull-request comment\n\nExit codes (as diff): 0 no changes, 1 changes, 2 trouble. Colour on a terminal unless NO_COLOR is set."
    )]
    Diff(DiffArgs),
    /// Print the JSON Schema of the blueprint format (for editor completion).
    #[command(
        after_help = "Example:\n  infragen schema > blueprint.schema.json\n  # then start a blueprint with: # yaml-language-server: $schema=blueprint.schema.json\n  infragen schema --format markdown > docs/reference.md   # the book's field reference"
    )]
    Schema {
        /// `json`: the JSON Schema; `markdown`: the field reference generated from it.
        #[arg(long, value_enum, default_value = "json")]
        format: SchemaFormat,
    },
    /// Write a commented starter blueprint and, beside it, the blueprint's JSON Schema.
    #[command(
        after_help = "Example:\n  infragen init            # writes ./infragen.yaml and ./blueprint.schema.json\n  infragen init --path stacks/shop.yaml"
    )]
    Init(InitArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  infragen completions bash > ~/.local/share/bash-completion/completions/infragen\n  infragen completions zsh > \"${fpath[1]}/_infragen\"\n  infragen completions fish > ~/.config/fish/completions/infragen.fish\n  infragen completions powershell >> $PROFILE"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), for `man`.
    #[command(
        after_help = "Example:\n  infragen man > /usr/local/share/man/man1/infragen.1 && man infragen"
    )]
    Man,
}

#[derive(Args, Debug)]
struct SynthArgs {
    /// Target provider; repeat for several.
    #[arg(long, value_enum, required = true)]
    provider: Vec<Provider>,
    /// Environment (one of the blueprint's `environments`); repeat for several, or `all`.
    #[arg(long, required = true)]
    env: Vec<String>,
    /// Blueprint file; repeat for several (a monorepo's stacks) [default: ./infragen.yaml].
    #[arg(long)]
    blueprint: Vec<Utf8PathBuf>,
    /// Output folder: exactly this folder for one target; for several, the root of
    /// `<blueprint>/<provider>/<env>/`; or a layout with `{provider}`, `{env}` and
    /// `{blueprint}` replaced per target [default: out/<provider>/<env>, or out/].
    #[arg(long)]
    out: Option<Utf8PathBuf>,
    /// Compare with the output on disk instead of writing; exit 1 and show the diff when stale.
    #[arg(long)]
    check: bool,
    /// Threads synthesizing several targets at once [default: every core].
    #[arg(long)]
    jobs: Option<usize>,
}

#[derive(Args, Debug)]
struct ValidateArgs {
    /// Output folder to check (as written by `synth`).
    dir: Option<Utf8PathBuf>,
    /// Synthesize this blueprint in memory instead of reading a folder [default: ./infragen.yaml].
    #[arg(long)]
    blueprint: Option<Utf8PathBuf>,
    /// Provider to synthesize for (with `--env`).
    #[arg(long, value_enum)]
    provider: Option<Provider>,
    /// Environment to synthesize (with `--provider`), or `all`.
    #[arg(long)]
    env: Option<String>,
    /// `terraform providers schema -json` output (a file, or a folder of them) to check
    /// against instead of the schemas infragen ships.
    #[arg(long)]
    schemas: Option<Utf8PathBuf>,
}

#[derive(Args, Debug)]
struct DiffArgs {
    /// The blueprint before the change: a git revision (`origin/main`, `HEAD~1`) or a file;
    /// or the folder `synth` wrote for `--provider` and `--env` (the committed output).
    #[arg(long)]
    base: String,
    /// The blueprint after the change [default: ./infragen.yaml].
    #[arg(long)]
    blueprint: Option<Utf8PathBuf>,
    /// Only this provider [default: those the blueprint configures, and kubernetes].
    #[arg(long, value_enum)]
    provider: Option<Provider>,
    /// Only this environment [default, or `all`: all of the blueprint's environments].
    #[arg(long)]
    env: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: crate::diff::Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SchemaFormat {
    Json,
    Markdown,
}

#[derive(Args, Debug)]
struct InitArgs {
    /// Where to write the starter blueprint.
    #[arg(long, default_value = DEFAULT_BLUEPRINT)]
    path: Utf8PathBuf,
}

/// Run the CLI with the process's arguments; returns the exit code: 0, 1 when `--check`,
/// `validate` or `diff` found differences or problems, 2 when the command could not run.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            e.print();
            ExitCode::from(2)
        }
    }
}

fn dispatch(command: Command) -> Result<ExitCode, CliError> {
    match command {
        Command::Synth(a) => synth(a),
        Command::Validate(a) => validate(a),
        Command::Diff(a) => diff(a),
        Command::Schema { format } => {
            match format {
                SchemaFormat::Json => say(format_args!("{}", schema_json())),
                SchemaFormat::Markdown => {
                    let _ = write!(
                        std::io::stdout().lock(),
                        "{}",
                        crate::blueprint::reference::markdown()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Init(a) => init(a),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "infragen", &mut out);
            let _ = std::io::stdout().lock().write_all(&out);
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => match man_page() {
            Ok(page) => {
                let _ = std::io::stdout().lock().write_all(page.as_bytes());
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(fail(format!("cannot render the man page: {e}"), None)),
        },
    }
}

/// One manual page for the whole tool: clap_mangen's page for `infragen`, then each
/// subcommand's synopsis, description and options as a section of it (rather than
/// `infragen-synth(1)` pages nobody installs).
pub fn man_page() -> std::io::Result<String> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let man = clap_mangen::Man::new(sub.clone());
        let mut part = Vec::new();
        man.render_synopsis_section(&mut part)?;
        man.render_description_section(&mut part)?;
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut part)?;
        }
        if sub.get_after_help().is_some() {
            man.render_extra_section(&mut part)?;
        }
        // Each part repeats the page's preamble (`.ie`/`.el`); once, at the top, is enough.
        let part: String = String::from_utf8_lossy(&part)
            .lines()
            .filter(|l| !l.starts_with(".ie ") && !l.starts_with(".el "))
            .map(|l| format!("{l}\n"))
            .collect();
        let part = part.replace("\n.SH ", "\n.SS ");
        let part = part
            .strip_prefix(".SH ")
            .map_or(part.clone(), |p| format!(".SS {p}"));
        out.extend_from_slice(
            format!(
                ".SH \"COMMAND: INFRAGEN {}\"\n",
                sub.get_name().to_uppercase()
            )
            .as_bytes(),
        );
        out.extend_from_slice(part.as_bytes());
    }
    let page = String::from_utf8_lossy(&out).into_owned();
    // The subcommand list points below, not at separate pages.
    let page = page
        .replace("infragen\\-", "infragen ")
        .replace("(1)\n", "\n");
    // `after_help` holds examples, one command a line: kept unfilled so lines stay lines.
    let mut out = String::with_capacity(page.len());
    let mut examples = false;
    for line in page.lines() {
        if line.starts_with(".SH") || line.starts_with(".SS") {
            if examples {
                out.push_str(".fi\n");
            }
            examples = line.ends_with(" EXTRA");
            if examples {
                out.push_str(&line.replace("EXTRA", "EXAMPLES"));
                out.push_str("\n.nf\n");
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    if examples {
        out.push_str(".fi\n");
    }
    Ok(out)
}

/// One line on stdout. A closed pipe (`infragen schema | head`) is not an error: the reader
/// has what it wanted, so the write's failure is ignored and the run ends normally.
fn say(args: std::fmt::Arguments) {
    let _ = writeln!(std::io::stdout().lock(), "{args}");
}

/// The blueprint's JSON Schema, pretty-printed.
pub fn schema_json() -> String {
    serde_json::to_string_pretty(&crate::blueprint::schema::schema()).unwrap_or_default()
}

/// Why a command could not do its work. [`run`] prints it once, on stderr, and exits 2.
#[derive(Debug)]
pub enum CliError {
    /// Positioned problems in blueprints (one set per failed target).
    Blueprint(Vec<Diagnostics>),
    /// Anything else: what went wrong, and what to do about it.
    Other {
        message: String,
        help: Option<String>,
    },
}

impl From<Diagnostics> for CliError {
    fn from(d: Diagnostics) -> Self {
        CliError::Blueprint(vec![d])
    }
}

impl CliError {
    fn print(&self) {
        let mut err = std::io::stderr().lock();
        match self {
            CliError::Blueprint(all) => {
                for d in all {
                    let _ = write!(err, "{d}");
                }
            }
            CliError::Other { message, help } => {
                let _ = writeln!(err, "error: {message}");
                if let Some(h) = help {
                    let _ = writeln!(err, "  = help: {h}");
                }
            }
        }
    }
}

fn fail(message: impl std::fmt::Display, help: Option<&str>) -> CliError {
    CliError::Other {
        message: message.to_string(),
        help: help.map(str::to_string),
    }
}

/// Notes and lint warnings of a synthesis, on stderr: `note: …` and `warning[rule]: …`,
/// the only place they are rendered. `label` names the target when several are synthesized
/// at once: `note: LABEL: …`.
/// The notes of one of several targets: a finding about the file itself (`base-incomplete`:
/// the base read alone) is the same for every provider and environment of that blueprint, so
/// it is shown once, unlabelled (its text begins with the file's position); `shown`
/// remembers it across targets.
fn print_target_notes(
    notes: &[crate::diagnostic::Note],
    path: &str,
    label: Option<&str>,
    shown: &mut std::collections::HashSet<(String, String)>,
) {
    let Some(label) = label else {
        return print_notes(notes, None);
    };
    let (file_level, per_target): (Vec<_>, Vec<_>) = notes
        .iter()
        .cloned()
        .partition(|n| n.rule == Some("base-incomplete"));
    let first: Vec<_> = file_level
        .into_iter()
        .filter(|n| shown.insert((path.to_string(), n.text.clone())))
        .collect();
    print_notes(&first, None);
    print_notes(&per_target, Some(label));
}

fn print_notes(notes: &[crate::diagnostic::Note], label: Option<&str>) {
    let mut err = std::io::stderr().lock();
    for n in notes {
        let _ = match label {
            Some(l) => writeln!(err, "{}: {l}: {}", n.head(), n.text),
            None => writeln!(err, "{n}"),
        };
    }
}

/// Read the blueprint named on the command line (or the default one).
fn read_blueprint(path: Option<&Utf8Path>) -> Result<(Utf8PathBuf, Vec<u8>), CliError> {
    let path = path
        .map(Utf8Path::to_owned)
        .unwrap_or_else(|| DEFAULT_BLUEPRINT.into());
    match std::fs::read(&path) {
        Ok(b) => Ok((path, b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(fail(
            format!("blueprint `{path}` not found"),
            Some(if path == DEFAULT_BLUEPRINT {
                "pass `--blueprint FILE`, or run `infragen init` to write a starter infragen.yaml here"
            } else {
                "check the path given to `--blueprint`"
            }),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => Err(fail(
            format!("`{path}` is a folder, not a blueprint file"),
            None,
        )),
        Err(e) => Err(fail(format!("cannot read `{path}`: {e}"), None)),
    }
}

/// Synthesize a blueprint read from a file: the templates of its `extra:` are read from the
/// blueprint's folder, and only from there (the library refuses paths that leave it).
fn synthesize_file(loaded: &crate::blueprint::Loaded) -> Result<crate::Output, Diagnostics> {
    let dir = Utf8Path::new(&loaded.file)
        .parent()
        .map(|p| p.as_std_path().to_path_buf())
        .unwrap_or_default();
    crate::synthesize_with(loaded, &crate::escape::folder(dir))
}

/// The blueprint's environments other than `lowered`, synthesized in memory for `provider`
/// only to compare their account-scoped names with the lowered ones' (`environments-share-names`):
/// a single-environment synth of a blueprint whose environments share one account warns
/// too. One that does not synthesize is left out (its own synth reports why).
fn other_environments(
    path: &Utf8Path,
    bytes: &[u8],
    provider: Provider,
    lowered: &[&str],
) -> Vec<(String, crate::Output)> {
    let Ok(all) = crate::blueprint::environments(path.as_str(), bytes) else {
        return Vec::new();
    };
    all.into_iter()
        .filter(|e| !lowered.contains(&e.as_str()))
        .filter_map(|env| {
            let loaded = crate::blueprint::load(path.as_str(), bytes, provider, &env).ok()?;
            let out = synthesize_file(&loaded).ok()?;
            Some((env, out))
        })
        .collect()
}

/// One blueprint × provider × environment to synthesize, and where its output goes.
struct Target {
    blueprint: usize,
    provider: Provider,
    env: String,
    dir: Utf8PathBuf,
}

fn synth(a: SynthArgs) -> Result<ExitCode, CliError> {
    let paths: Vec<Option<&Utf8Path>> = if a.blueprint.is_empty() {
        vec![None]
    } else {
        a.blueprint.iter().map(|p| Some(p.as_path())).collect()
    };
    let mut blueprints = Vec::new();
    for p in paths {
        match read_blueprint(p) {
            Ok(x) => blueprints.push(x),
            Err(e) => return Err(e),
        }
    }
    let mut targets = Vec::new();
    for (i, (path, bytes)) in blueprints.iter().enumerate() {
        let envs = if a.env.iter().any(|e| e == "all") {
            match crate::blueprint::environments(path.as_str(), bytes) {
                Ok(e) if !e.is_empty() => e,
                Ok(_) => {
                    return Err(fail(
                        format!("`{path}` declares no environments for `--env all`"),
                        Some("name the environment with `--env NAME`"),
                    ));
                }
                Err(d) => return Err(d.into()),
            }
        } else {
            a.env.clone()
        };
        for provider in &a.provider {
            for env in &envs {
                targets.push(Target {
                    blueprint: i,
                    provider: *provider,
                    env: env.clone(),
                    dir: Utf8PathBuf::new(),
                });
            }
        }
    }
    let single = targets.len() == 1;
    let root = a.out.clone().unwrap_or_else(|| Utf8PathBuf::from("out"));
    // `--out` may spell the layout itself: `{provider}`, `{env}` and `{blueprint}` (the
    // file's stem) are replaced per target, as the GitHub Action's `out` input is.
    let pattern = a.out.as_ref().filter(|o| {
        ["{provider}", "{env}", "{blueprint}"]
            .iter()
            .any(|p| o.as_str().contains(p))
    });
    for t in &mut targets {
        t.dir = match (&a.out, single, blueprints.len()) {
            _ if let Some(p) = pattern => {
                let stem = blueprints[t.blueprint].0.file_stem().unwrap_or("blueprint");
                Utf8PathBuf::from(
                    p.as_str()
                        .replace("{provider}", t.provider.name())
                        .replace("{env}", &t.env)
                        .replace("{blueprint}", stem),
                )
            }
            (Some(out), true, _) => out.clone(),
            (_, _, 1) => root.join(t.provider.name()).join(&t.env),
            _ => {
                let stem = blueprints[t.blueprint].0.file_stem().unwrap_or("blueprint");
                root.join(stem).join(t.provider.name()).join(&t.env)
            }
        };
    }
    let mut dirs = BTreeMap::new();
    for t in &targets {
        let name = format!("{} {}/{}", blueprints[t.blueprint].0, t.provider, t.env);
        if let Some(other) = dirs.insert(t.dir.clone(), name.clone())
            && other != name
        {
            return Err(fail(
                format!(
                    "`--out` puts {other} and {name} in the same folder `{}`",
                    t.dir
                ),
                Some("add `{provider}`, `{env}` or `{blueprint}` to `--out` where they differ"),
            ));
        }
    }

    // Everything is synthesized in memory first; nothing is written unless every target
    // succeeded, so a failed run never touches existing output.
    let results = synthesize_all(&blueprints, &targets, a.jobs);
    let mut outputs: Vec<crate::Output> = Vec::with_capacity(results.len());
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(o) => outputs.push(o),
            Err(d) => failures.push(d),
        }
    }
    if !failures.is_empty() {
        return Err(CliError::Blueprint(failures));
    }
    // A finding about the file itself (`base-incomplete`: the base read alone) is the same for
    // every provider and environment of that blueprint: shown once, labelled with the file.
    let mut shown = std::collections::HashSet::new();
    for (t, out) in targets.iter().zip(&outputs) {
        let path = blueprints[t.blueprint].0.as_str();
        let label = (!single).then(|| format!("{path} {}/{}", t.provider, t.env));
        print_target_notes(&out.notes, path, label.as_deref(), &mut shown);
    }
    // Would the environments lowered collide with the blueprint's others in one account?
    for (i, (path, bytes)) in blueprints.iter().enumerate() {
        for (provider, check) in [
            (
                crate::Provider::Aws,
                crate::backend::aws::accounts::collisions
                    as fn(&[(&str, &crate::Output)], &[&str]) -> Vec<crate::diagnostic::Note>,
            ),
            (crate::Provider::Digitalocean, |envs, focus| {
                crate::backend::digitalocean::accounts::shared_names(envs, focus)
                    .into_iter()
                    .collect()
            }),
        ] {
            let mut envs: Vec<(&str, &crate::Output)> = targets
                .iter()
                .zip(&outputs)
                .filter(|(t, _)| t.blueprint == i && t.provider == provider)
                .map(|(t, o)| (t.env.as_str(), o))
                .collect();
            if envs.is_empty() {
                continue;
            }
            let focus: Vec<&str> = envs.iter().map(|(e, _)| *e).collect();
            let others = other_environments(path, bytes, provider, &focus);
            envs.extend(others.iter().map(|(e, o)| (e.as_str(), o)));
            if envs.len() > 1 {
                let notes = check(&envs, &focus);
                if !notes.is_empty() {
                    print_notes(&notes, Some(&format!("{path} {provider}")));
                }
            }
        }
    }
    // Blueprints synthesized together for AWS (two teams' stacks): names both would create
    // in one account.
    let labels: Vec<String> = targets
        .iter()
        .map(|t| format!("{} {}/{}", blueprints[t.blueprint].0, t.provider, t.env))
        .collect();
    let aws: Vec<(&str, usize, &crate::Output)> = targets
        .iter()
        .zip(&outputs)
        .zip(&labels)
        .filter(|((t, _), _)| t.provider == crate::Provider::Aws)
        .map(|((t, out), label)| (label.as_str(), t.blueprint, out))
        .collect();
    if blueprints.len() > 1
        && let Some(note) = crate::backend::aws::accounts::stacks_share_names(&aws)
    {
        print_notes(&[note], None);
    }
    // Stacks synthesized together for one existing cluster: objects both write. A blueprint's
    // other environments are lowered in memory too (as for AWS accounts above): staging
    // beside production in one cluster is warned about by the CI job that synthesizes one.
    let mut other_k8s: Vec<(usize, String, crate::Output)> = Vec::new();
    for (i, (path, bytes)) in blueprints.iter().enumerate() {
        let focus: Vec<&str> = targets
            .iter()
            .filter(|t| t.blueprint == i && t.provider == crate::Provider::Kubernetes)
            .map(|t| t.env.as_str())
            .collect();
        if !focus.is_empty() {
            let others = other_environments(path, bytes, crate::Provider::Kubernetes, &focus);
            other_k8s.extend(others.into_iter().map(|(env, out)| (i, env, out)));
        }
    }
    let k8s_targets = targets
        .iter()
        .zip(&outputs)
        .filter(|(t, _)| t.provider == crate::Provider::Kubernetes)
        .map(|(t, out)| (t.blueprint, t.env.as_str(), out, true));
    let k8s_others = other_k8s
        .iter()
        .map(|(i, env, out)| (*i, env.as_str(), out, false));
    let stacks: Vec<crate::backend::kubernetes::shared_cluster::Stack> = k8s_targets
        .chain(k8s_others)
        .map(|(i, env, out, lowered)| {
            let (path, bytes) = &blueprints[i];
            let provider = crate::Provider::Kubernetes;
            let context = crate::blueprint::load(path.as_str(), bytes, provider, env)
                .ok()
                .and_then(|l| l.blueprint.providers.kubernetes.as_ref()?.context.clone());
            crate::backend::kubernetes::shared_cluster::Stack {
                label: format!("{path} {provider}/{env}"),
                context,
                out,
                lowered,
            }
        })
        .collect();
    if stacks.len() > 1 {
        print_notes(
            &crate::backend::kubernetes::shared_cluster::shared_objects(&stacks),
            None,
        );
    }
    let mut code = ExitCode::SUCCESS;
    for (t, out) in targets.iter().zip(&outputs) {
        let dir = &t.dir;
        if a.check {
            match output::check(dir, out) {
                Err(e) => return Err(fail(&e, e.help())),
                Ok(drift) if drift.is_empty() => {
                    say(format_args!(
                        "{dir} is up to date ({} files)",
                        out.files.len()
                    ));
                }
                Ok(drift) => {
                    let mut so = std::io::stdout().lock();
                    for d in &drift {
                        let what = match d.kind {
                            DriftKind::Missing => "missing",
                            DriftKind::Changed => "changed",
                            DriftKind::Stale => "no longer generated",
                        };
                        let _ = writeln!(so, "{what}: {}", d.path);
                    }
                    for d in &drift {
                        let _ = write!(so, "{}", d.diff);
                    }
                    let _ = writeln!(
                        so,
                        "{dir} is stale: {} file(s) differ; run `infragen synth` without --check",
                        drift.len()
                    );
                    code = ExitCode::from(1);
                }
            }
            continue;
        }
        match output::write(dir, out) {
            Ok(r) => say(format_args!(
                "wrote {dir}: {} file(s) written, {} unchanged, {} removed",
                r.written, r.unchanged, r.removed
            )),
            Err(e) => return Err(fail(&e, e.help())),
        }
    }
    if single {
        // As for the blueprint: the process is about to end.
        std::mem::forget(outputs);
    }
    Ok(code)
}

/// Synthesize every target, on up to `jobs` threads (default: every core). Results come back
/// in target order, so output and messages do not depend on scheduling.
fn synthesize_all(
    blueprints: &[(Utf8PathBuf, Vec<u8>)],
    targets: &[Target],
    jobs: Option<usize>,
) -> Vec<Result<crate::Output, Diagnostics>> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let single = targets.len() == 1;
    let run = |t: &Target| {
        let (path, bytes) = &blueprints[t.blueprint];
        let loaded = crate::blueprint::load(path.as_str(), bytes, t.provider, &t.env)?;
        let out = synthesize_file(&loaded);
        if single {
            // The process ends right after writing: freeing the parsed blueprint, node by
            // node, would be wasted work. (Several targets free theirs as they go.)
            std::mem::forget(loaded);
        }
        out
    };
    // `available_parallelism` reads cgroup files: asked only when there is work to share.
    let workers = match (targets.len(), jobs) {
        (0 | 1, _) => 1,
        (n, Some(j)) => j.clamp(1, n),
        (n, None) => std::thread::available_parallelism()
            .map_or(1, |p| p.get())
            .clamp(1, n),
    };
    if workers == 1 {
        return targets.iter().map(run).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<crate::Output, Diagnostics>>>> =
        targets.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(t) = targets.get(i) else { break };
                    let r = run(t);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|m| {
            m.into_inner().ok().flatten().unwrap_or_else(|| {
                Err(Diagnostics::single(crate::Diagnostic::new(
                    "internal error: a synthesis thread stopped",
                )))
            })
        })
        .collect()
}

fn validate(a: ValidateArgs) -> Result<ExitCode, CliError> {
    let owned;
    let schemas = match &a.schemas {
        None => crate::check::schema::ProviderSchemas::bundled(),
        Some(path) => match crate::check::schema::ProviderSchemas::from_dir(path) {
            Ok(s) => {
                owned = s;
                &owned
            }
            Err(e) => return Err(fail(format!("cannot use `--schemas {path}`: {e}"), None)),
        },
    };
    let targets: Vec<(BTreeMap<String, String>, String)> = match (&a.dir, &a.provider, &a.env) {
        (Some(dir), None, None) => {
            if !dir.is_dir() {
                return Err(fail(
                    format!("`{dir}` is not a folder"),
                    Some("give the folder `synth` wrote, e.g. out/aws/production"),
                ));
            }
            match crate::check::read_output_dir(dir.as_std_path()) {
                Ok(f) => vec![(f, dir.to_string())],
                Err(e) => return Err(fail(format!("cannot read `{dir}`: {e}"), None)),
            }
        }
        (None, Some(provider), Some(env)) => {
            let (path, bytes) = read_blueprint(a.blueprint.as_deref())?;
            // `--env all` as `synth` takes it: each of the blueprint's environments.
            let envs = if env == "all" {
                crate::blueprint::environments(path.as_str(), &bytes)?
            } else {
                vec![env.clone()]
            };
            let several = envs.len() > 1;
            let mut shown = std::collections::HashSet::new();
            let mut targets = Vec::new();
            for env in envs {
                match crate::blueprint::load(path.as_str(), &bytes, *provider, &env)
                    .and_then(|l| synthesize_file(&l))
                {
                    Ok(o) => {
                        let label = format!("{provider}/{env}");
                        let label = several.then_some(label.as_str());
                        print_target_notes(&o.notes, path.as_str(), label, &mut shown);
                        targets.push((o.files, format!("{path} ({provider}, {env})")));
                    }
                    Err(d) => return Err(d.into()),
                }
            }
            targets
        }
        (Some(_), _, _) => {
            return Err(fail(
                "give either an output folder or `--provider` and `--env`, not both",
                None,
            ));
        }
        _ => {
            return Err(fail(
                "nothing to validate",
                Some(
                    "give an output folder (`infragen validate out/aws/production`) or `--provider P --env E`",
                ),
            ));
        }
    };
    let mut problems = 0;
    for (files, shown) in &targets {
        problems += validate_files(files, shown, schemas, targets.len() > 1)?;
    }
    Ok(if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Check one target's files and print what was found; the number of problems. `label`:
/// name the target on its summary line (several were asked).
fn validate_files(
    files: &BTreeMap<String, String>,
    shown: &str,
    schemas: &crate::check::schema::ProviderSchemas,
    label: bool,
) -> Result<usize, CliError> {
    let report = crate::check::check_files(files, schemas);
    let kube = crate::check::kubernetes::Schemas::bundled();
    let mut manifests = kube.check_files(
        files
            .iter()
            .filter(|(p, _)| p.ends_with(".yaml") && p.starts_with("k8s/"))
            .map(|(p, t)| (p.as_str(), t.as_str())),
    );
    // Objects written as Terraform (`kubernetes_manifest`) are manifests too.
    let in_terraform = crate::check::terraform_manifests::check(files, kube);
    manifests.documents += in_terraform.documents;
    manifests.custom += in_terraform.custom;
    manifests.problems.extend(in_terraform.problems);
    if report.modules == 0 && manifests.documents == 0 {
        return Err(fail(
            format!("no Terraform modules or Kubernetes manifests found in {shown}"),
            None,
        ));
    }
    let mut so = std::io::stdout().lock();
    for p in &report.problems {
        let _ = writeln!(so, "{p}");
    }
    for p in &manifests.problems {
        let _ = writeln!(so, "{p}");
    }
    let problems = report.problems.len() + manifests.problems.len();
    let prefix = if label {
        format!("validate {shown}")
    } else {
        "validate".into()
    };
    let _ = writeln!(
        so,
        "{prefix}: {} modules, {} resources, {} manifests ({} custom), {problems} problems",
        report.modules, report.resources, manifests.documents, manifests.custom,
    );
    Ok(problems)
}

/// The blueprint's text at `base`: a file, or the same path in a git revision. `Ok(None)`
/// when the revision exists but the blueprint did not.
fn read_base(base: &str, blueprint: &Utf8Path) -> Result<Option<Vec<u8>>, CliError> {
    let as_file = Utf8Path::new(base);
    if as_file.is_file() {
        return std::fs::read(as_file)
            .map(Some)
            .map_err(|e| fail(format!("cannot read `{base}`: {e}"), None));
    }
    let dir = blueprint
        .parent()
        .filter(|p| !p.as_str().is_empty())
        .unwrap_or(Utf8Path::new("."));
    let name = blueprint.file_name().unwrap_or(blueprint.as_str());
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir.as_str())
            .args(args)
            .output()
    };
    match git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{base}^{{commit}}"),
    ]) {
        Ok(o) if o.status.success() => {}
        Ok(_) => {
            return Err(fail(
                format!("`--base {base}` is neither a file nor a git revision"),
                Some(
                    "pass a branch, tag or commit of the repository holding the blueprint, or a file path",
                ),
            ));
        }
        Err(e) => {
            return Err(fail(
                format!("cannot run git to read `{base}`: {e}"),
                Some("pass the old blueprint as a file instead"),
            ));
        }
    }
    match git(&["show", &format!("{base}:./{name}")]) {
        Ok(o) if o.status.success() => Ok(Some(o.stdout)),
        _ => Ok(None),
    }
}

/// Reads an `extra:` template by its path relative to the blueprint's folder.
type TemplateReader = dyn Fn(&str) -> Result<String, String> + Sync;

/// Where the base reads its `extra:` templates: beside the base file, or from the same
/// revision as the blueprint (`git show <rev>:<path>`), so a changed template shows in the
/// diff — reading the working tree's would render the new template on both sides.
fn base_templates(base: &str, blueprint: &Utf8Path) -> Box<TemplateReader> {
    let as_file = Utf8Path::new(base);
    if as_file.is_file() {
        let dir = as_file
            .parent()
            .map(|p| p.as_std_path().to_path_buf())
            .unwrap_or_default();
        return Box::new(crate::escape::folder(dir));
    }
    let dir = blueprint
        .parent()
        .filter(|p| !p.as_str().is_empty())
        .unwrap_or(Utf8Path::new("."))
        .to_owned();
    let base = base.to_string();
    // Template paths are confined to the blueprint's folder before they get here.
    Box::new(move |rel: &str| {
        let o = std::process::Command::new("git")
            .arg("-C")
            .arg(dir.as_str())
            .args(["show", &format!("{base}:./{rel}")])
            .output()
            .map_err(|e| format!("cannot run git to read `{rel}` at `{base}`: {e}"))?;
        if !o.status.success() {
            return Err(format!("`{rel}` does not exist at `{base}`"));
        }
        String::from_utf8(o.stdout).map_err(|_| format!("`{rel}` at `{base}` is not UTF-8"))
    })
}

fn diff(mut a: DiffArgs) -> Result<ExitCode, CliError> {
    use crate::diff::renames;
    // `--env all` as `synth` takes it: every environment, which is also the default.
    if a.env.as_deref() == Some("all") {
        a.env = None;
    }
    let (path, bytes) = read_blueprint(a.blueprint.as_deref())?;
    if Utf8Path::new(&a.base).is_dir() {
        return diff_output(&a, &path, &bytes);
    }
    let base_bytes = read_base(&a.base, &path)?;
    let base_source = base_templates(&a.base, &path);
    let base_name = format!("{}@{}", path, a.base);
    let envs = match &a.env {
        Some(e) => vec![e.clone()],
        None => {
            let mut envs = crate::blueprint::environments(path.as_str(), &bytes)?;
            if let Some(b) = &base_bytes {
                for e in crate::blueprint::environments(&base_name, b).unwrap_or_default() {
                    if !envs.contains(&e) {
                        envs.push(e);
                    }
                }
            }
            if envs.is_empty() {
                envs.push("production".into());
            }
            envs
        }
    };
    let providers = match a.provider {
        Some(p) => vec![p],
        None => {
            // Each provider's settings as that provider's merge has them: `providers.<p>` may
            // be written in `per_provider.<p>`.
            let mut v = Vec::new();
            for p in [Provider::Aws, Provider::Digitalocean] {
                let loaded = crate::blueprint::load(path.as_str(), &bytes, p, &envs[0])?;
                let settings = &loaded.blueprint.providers;
                let configured = match p {
                    Provider::Aws => settings.aws.is_some(),
                    _ => settings.digitalocean.is_some(),
                };
                if configured {
                    v.push(p);
                }
            }
            // Every blueprint also targets an existing cluster (its workloads as manifests),
            // except one with an SQS queue: SQS exists only on AWS, and `--provider
            // kubernetes` refuses the queue, which would fail the whole diff (exit 2) of an
            // AWS blueprint that never meant to run there.
            let k8s =
                crate::blueprint::load(path.as_str(), &bytes, Provider::Kubernetes, &envs[0])?;
            if k8s.blueprint.sqs_queues().next().is_none() {
                v.push(Provider::Kubernetes);
            }
            v
        }
    };
    let mut targets = Vec::new();
    for provider in &providers {
        for env in &envs {
            let mut notes = Vec::new();
            let head_loaded = crate::blueprint::load(path.as_str(), &bytes, *provider, env);
            let head = match head_loaded
                .as_ref()
                .map_err(Clone::clone)
                .and_then(synthesize_file)
            {
                Ok(o) => o,
                Err(d)
                    if a.env.is_none()
                        && d.0
                            .iter()
                            .any(|x| x.message.starts_with("unknown environment")) =>
                {
                    notes.push(format!("environment `{env}` is removed by this change"));
                    crate::Output::default()
                }
                Err(d) => return Err(d.into()),
            };
            // Loaded under the same name, so generated headers do not differ.
            let base_loaded = base_bytes
                .as_ref()
                .map(|b| crate::blueprint::load(path.as_str(), b, *provider, env));
            let base = match &base_loaded {
                None => {
                    notes.push(format!(
                        "the blueprint does not exist at `{}`: everything is new",
                        a.base
                    ));
                    crate::Output::default()
                }
                Some(Err(d)) => {
                    let first = d.0.first().map(|x| x.message.clone()).unwrap_or_default();
                    notes.push(if first.starts_with("unknown environment") {
                        format!("environment `{env}` is added by this change: everything in it is new")
                    } else {
                        format!(
                            "the base does not synthesize for `{env}` ({first}): compared with nothing"
                        )
                    });
                    crate::Output::default()
                }
                Some(Ok(l)) => match crate::synthesize_with(l, &*base_source) {
                    Ok(o) => o,
                    Err(d) => {
                        let first = d.0.first().map(|x| x.message.clone()).unwrap_or_default();
                        notes.push(format!("the base does not synthesize for {provider}/{env} ({first}): compared with nothing"));
                        crate::Output::default()
                    }
                },
            };
            let mut rename_pairs = Vec::new();
            let mut undeclared = Vec::new();
            if let Ok(h) = &head_loaded {
                rename_pairs = crate::blueprint::renames(&h.blueprint);
                if let Some(Ok(b)) = &base_loaded {
                    for r in renames::detect(&b.blueprint, &h.blueprint) {
                        if !rename_pairs.contains(&r) {
                            rename_pairs.push(r);
                        }
                    }
                    undeclared = renames::undeclared(&b.blueprint, &h.blueprint);
                }
            }
            targets.push(crate::diff::target(
                (&provider.to_string(), env),
                &base,
                &head,
                &rename_pairs,
                &undeclared,
                notes,
            ));
        }
    }
    Ok(print_diff(&targets, &a, path.as_str()))
}

/// `diff` against a folder of output a previous `synth` wrote (committed, and so applied):
/// what the blueprint makes now against what runs, whatever infragen release and versions
/// catalog wrote the folder — the view of an infragen upgrade (new chart pins, engine
/// defaults), which two blueprint revisions rendered by the same release never show.
fn diff_output(a: &DiffArgs, path: &Utf8Path, bytes: &[u8]) -> Result<ExitCode, CliError> {
    let (Some(provider), Some(env)) = (a.provider, a.env.as_ref()) else {
        return Err(fail(
            format!(
                "`--base {}` is a folder: the output of one provider and environment",
                a.base
            ),
            Some("name the target it holds with `--provider` and `--env`"),
        ));
    };
    let dir = Utf8Path::new(&a.base);
    let base = match output::read(dir) {
        Ok(Some(o)) => o,
        Ok(None) => {
            return Err(fail(
                format!("`{dir}` holds no output of infragen (no `.infragen-manifest`)"),
                Some(
                    "pass the folder `infragen synth --out` wrote, a git revision or a blueprint file",
                ),
            ));
        }
        Err(e) => return Err(fail(e.to_string(), None)),
    };
    let loaded = crate::blueprint::load(path.as_str(), bytes, provider, env)?;
    let head = synthesize_file(&loaded)?;
    let pairs = crate::blueprint::renames(&loaded.blueprint);
    let targets = vec![crate::diff::target(
        (&provider.to_string(), env),
        &base,
        &head,
        &pairs,
        &[],
        Vec::new(),
    )];
    Ok(print_diff(&targets, a, path.as_str()))
}

/// Print the diff of `targets` (colour on a terminal unless `NO_COLOR`); exit 1 when
/// anything changed, as `diff` does.
fn print_diff(targets: &[crate::diff::TargetDiff], a: &DiffArgs, path: &str) -> ExitCode {
    use std::io::IsTerminal;
    let color = a.format == crate::diff::Format::Text
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal();
    let text = crate::diff::render(targets, &a.base, path, a.format, color);
    let _ = write!(std::io::stdout().lock(), "{text}");
    if targets.iter().any(|t| !t.is_empty()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn init(a: InitArgs) -> Result<ExitCode, CliError> {
    if a.path.exists() {
        return Err(fail(
            format!(
                "`{}` already exists; infragen init never overwrites",
                a.path
            ),
            Some("pass `--path` to write the starter elsewhere"),
        ));
    }
    if let Some(parent) = a.path.parent().filter(|p| !p.as_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        return Err(fail(format!("cannot create `{parent}`: {e}"), None));
    }
    if let Err(e) = std::fs::write(&a.path, STARTER) {
        return Err(fail(format!("cannot write `{}`: {e}", a.path), None));
    }
    // The schema the starter's first line points at, beside it. It is generated, so an
    // older copy (another stack's `init`, an earlier release) is brought up to date.
    let schema_path = a
        .path
        .parent()
        .unwrap_or(Utf8Path::new(""))
        .join("blueprint.schema.json");
    let schema = format!("{}\n", schema_json());
    if std::fs::read_to_string(&schema_path).ok().as_deref() != Some(schema.as_str())
        && let Err(e) = std::fs::write(&schema_path, &schema)
    {
        return Err(fail(format!("cannot write `{schema_path}`: {e}"), None));
    }
    say(format_args!(
        "wrote {} and {schema_path} (editor completion); next: infragen synth --provider aws --env production --blueprint {}",
        a.path, a.path
    ));
    Ok(ExitCode::SUCCESS)
}

/// The starter blueprint `infragen init` writes.
pub const STARTER: &str = include_str!("../templates/init.yaml");
