//! The command line: the only code that touches the process (arguments, files named on the
//! command line, stdout/stderr, exit codes). Exit codes: 0 success, 1 differences or problems
//! found, 2 usage or input error.

use std::io::Write;

use camino::{Utf8Path, Utf8PathBuf};
use clap::{Args, Parser, Subcommand};

use crate::catalog::Provider;
use crate::diagnostic::Diagnostics;
use crate::output::{self, DriftKind};

const DEFAULT_BLUEPRINT: &str = "infragen.yaml";

#[derive(Parser, Debug)]
#[command(
    name = "infragen",
    version,
    about = "Turn one typed YAML blueprint into Terraform JSON and Kubernetes manifests",
    after_help = "Examples:\n  infragen init\n  infragen synth --provider aws --env production\n  infragen synth --provider digitalocean --env stage --blueprint blueprints/ecommerce-doks.yaml --check\n  infragen schema > blueprint.schema.json"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Synthesize the blueprint for one provider and environment.
    #[command(
        after_help = "Examples:\n  infragen synth --provider aws --env production\n  infragen synth --provider aws --env staging --blueprint blueprints/ecommerce-eks.yaml --out deploy/aws-staging\n  infragen synth --provider aws --env production --check   # exit 1 when committed output is stale"
    )]
    Synth(SynthArgs),
    /// Print the JSON Schema of the blueprint format (for editor completion).
    #[command(
        after_help = "Example:\n  infragen schema > blueprint.schema.json\n  # then start a blueprint with: # yaml-language-server: $schema=blueprint.schema.json"
    )]
    Schema,
    /// Write a commented starter blueprint.
    #[command(
        after_help = "Example:\n  infragen init            # writes ./infragen.yaml\n  infragen init --path stacks/shop.yaml"
    )]
    Init(InitArgs),
}

#[derive(Args, Debug)]
struct SynthArgs {
    /// Target provider.
    #[arg(long, value_enum)]
    provider: Provider,
    /// Environment (one of the blueprint's `environments`).
    #[arg(long)]
    env: String,
    /// Blueprint file [default: ./infragen.yaml].
    #[arg(long)]
    blueprint: Option<Utf8PathBuf>,
    /// Output folder [default: out/<provider>/<env>].
    #[arg(long)]
    out: Option<Utf8PathBuf>,
    /// Compare with the output on disk instead of writing; exit 1 and show the diff when stale.
    #[arg(long)]
    check: bool,
}

#[derive(Args, Debug)]
struct InitArgs {
    /// Where to write the starter blueprint.
    #[arg(long, default_value = DEFAULT_BLUEPRINT)]
    path: Utf8PathBuf,
}

/// Run the CLI with the process's arguments; returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::Synth(a) => synth(a),
        Command::Schema => {
            println!("{}", schema_json());
            0
        }
        Command::Init(a) => init(a),
    }
}

/// The blueprint's JSON Schema, pretty-printed.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(crate::blueprint::Blueprint);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

fn fail(message: impl std::fmt::Display, help: Option<&str>) -> i32 {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {message}");
    if let Some(h) = help {
        let _ = writeln!(err, "  = help: {h}");
    }
    2
}

fn report(d: &Diagnostics) -> i32 {
    let _ = write!(std::io::stderr().lock(), "{d}");
    2
}

/// Read the blueprint named on the command line (or the default one).
fn read_blueprint(path: Option<&Utf8Path>) -> Result<(Utf8PathBuf, Vec<u8>), i32> {
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

fn synth(a: SynthArgs) -> i32 {
    let (path, bytes) = match read_blueprint(a.blueprint.as_deref()) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let out = match crate::synthesize(path.as_str(), &bytes, a.provider, &a.env) {
        Ok(o) => o,
        Err(d) => return report(&d),
    };
    let dir = a
        .out
        .unwrap_or_else(|| Utf8PathBuf::from(format!("out/{}/{}", a.provider, a.env)));
    {
        let mut err = std::io::stderr().lock();
        for n in &out.notes {
            // Lint findings arrive as `warning[rule]: …` (crate::backend::warning).
            if n.starts_with("warning[") {
                let _ = writeln!(err, "{n}");
            } else {
                let _ = writeln!(err, "note: {n}");
            }
        }
    }
    if a.check {
        return match output::check(&dir, &out) {
            Err(e) => fail(&e, e.help()),
            Ok(drift) if drift.is_empty() => {
                println!("{dir} is up to date ({} files)", out.files.len());
                0
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
                1
            }
        };
    }
    match output::write(&dir, &out) {
        Ok(r) => {
            println!(
                "wrote {dir}: {} file(s) written, {} unchanged, {} removed",
                r.written, r.unchanged, r.removed
            );
            0
        }
        Err(e) => fail(&e, e.help()),
    }
}

fn init(a: InitArgs) -> i32 {
    if a.path.exists() {
        return fail(
            format!(
                "`{}` already exists; infragen init never overwrites",
                a.path
            ),
            Some("pass `--path` to write the starter elsewhere"),
        );
    }
    if let Some(parent) = a.path.parent().filter(|p| !p.as_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        return fail(format!("cannot create `{parent}`: {e}"), None);
    }
    match std::fs::write(&a.path, STARTER) {
        Ok(()) => {
            println!(
                "wrote {}; next: infragen synth --provider aws --env production --blueprint {}",
                a.path, a.path
            );
            0
        }
        Err(e) => fail(format!("cannot write `{}`: {e}", a.path), None),
    }
}

/// The starter blueprint `infragen init` writes.
pub const STARTER: &str = include_str!("../templates/init.yaml");
