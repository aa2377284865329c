//! Writing output: confined to the output folder, file by file atomically, owning only the
//! files listed in the folder's manifest; and `--check`, which compares in memory.

use std::fs;
use std::io;

use camino::{Utf8Path, Utf8PathBuf};
use similar::TextDiff;

mod files;
pub use files::Output;

/// Lists the files infragen wrote into an output folder; only those are ever replaced or
/// removed, so `terraform init` leftovers (`.terraform/`, lock files) and anything else a
/// user keeps there survive.
pub const MANIFEST: &str = ".infragen-manifest";

const MANIFEST_HEADER: &str =
    "# Files infragen wrote into this folder. It replaces and removes only these.\n";

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("`{0}` exists and is not a folder")]
    NotAFolder(Utf8PathBuf),
    #[error(
        "`{dir}` already holds files infragen did not write ({}), so infragen will not write there",
        .entries.join(", ")
    )]
    ForeignFolder {
        dir: Utf8PathBuf,
        entries: Vec<String>,
    },
    #[error("refusing the output path `{0}`: it would leave the output folder")]
    UnsafePath(String),
    #[error("{path}: {source}")]
    Io {
        path: Utf8PathBuf,
        source: io::Error,
    },
}

impl OutputError {
    pub fn help(&self) -> Option<&'static str> {
        match self {
            OutputError::ForeignFolder { .. } => Some(
                "choose an empty or new folder with `--out`, or one infragen wrote before (it keeps a `.infragen-manifest`)",
            ),
            OutputError::NotAFolder(_) => Some("`--out` names the folder the output goes into"),
            _ => None,
        }
    }
}

fn io_err(path: &Utf8Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A relative path made only of normal components, so nothing can escape the folder.
fn confined(rel: &str) -> Result<&Utf8Path, OutputError> {
    let p = Utf8Path::new(rel);
    let ok = !rel.is_empty()
        && !rel.contains('\\')
        && p.components()
            .all(|c| matches!(c, camino::Utf8Component::Normal(n) if !n.is_empty()));
    if ok {
        Ok(p)
    } else {
        Err(OutputError::UnsafePath(rel.to_string()))
    }
}

/// The files the previous run wrote, or `None` when the folder has no manifest.
fn previous(dir: &Utf8Path) -> Result<Option<Vec<String>>, OutputError> {
    let path = dir.join(MANIFEST);
    match fs::read_to_string(&path) {
        Ok(text) => Ok(Some(
            text.lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .map(str::to_string)
                .collect(),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// Check that infragen may write into `dir`, returning the files it owns there.
fn owned(dir: &Utf8Path) -> Result<Vec<String>, OutputError> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(dir)(e)),
        Ok(m) if !m.is_dir() => return Err(OutputError::NotAFolder(dir.to_owned())),
        Ok(_) => {}
    }
    if let Some(files) = previous(dir)? {
        return Ok(files);
    }
    let mut entries: Vec<String> = fs::read_dir(dir)
        .map_err(io_err(dir))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    entries.sort();
    if entries.len() > 5 {
        let more = entries.len() - 4;
        entries.truncate(4);
        entries.push(format!("and {more} more"));
    }
    Err(OutputError::ForeignFolder {
        dir: dir.to_owned(),
        entries,
    })
}

/// What a write did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

fn write_atomic(path: &Utf8Path, text: &str) -> Result<(), OutputError> {
    let tmp = Utf8PathBuf::from(format!("{path}.infragen-tmp"));
    fs::write(&tmp, text).map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err(path)(e)
    })
}

/// A buffer for [`holds`], made once per write or check: the largest file's size, within
/// 4 KiB to 64 KiB.
fn compare_buffer(out: &Output) -> Vec<u8> {
    let largest = out.files.values().map(String::len).max().unwrap_or(0);
    vec![0; largest.clamp(4 << 10, 64 << 10)]
}

/// Whether the file at `path` holds exactly `text`, compared a block at a time through
/// `buf`, so comparing an unchanged file allocates nothing (output can run to megabytes).
fn holds(path: &Utf8Path, text: &str, buf: &mut [u8]) -> bool {
    use std::io::Read;
    let Ok(mut f) = fs::File::open(path) else {
        return false;
    };
    let mut want = text.as_bytes();
    loop {
        match f.read(buf) {
            Ok(0) => return want.is_empty(),
            Ok(n) if n <= want.len() && buf[..n] == want[..n] => want = &want[n..],
            // Longer, or different.
            Ok(_) => return false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // A folder where the file should be, unreadable, ...
            Err(_) => return false,
        }
    }
}

/// Write `out` into `dir`. Everything is rendered before this is called, so a blueprint
/// error never reaches the disk; each file is replaced atomically, unchanged files are left
/// alone, and files of the previous run that are no longer produced are removed.
pub fn write(dir: &Utf8Path, out: &Output) -> Result<WriteReport, OutputError> {
    let old = owned(dir)?;
    for rel in out.files.keys() {
        confined(rel)?;
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut report = WriteReport::default();
    let mut buf = compare_buffer(out);
    for (rel, text) in &out.files {
        let path = dir.join(confined(rel)?);
        if holds(&path, text, &mut buf) {
            report.unchanged += 1;
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        write_atomic(&path, text)?;
        report.written += 1;
    }
    for rel in old.iter().filter(|r| !out.files.contains_key(*r)) {
        // A hand-edited manifest must not make infragen delete outside the folder.
        let Ok(rel) = confined(rel) else { continue };
        let path = dir.join(rel);
        match fs::remove_file(&path) {
            Ok(()) => report.removed += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path)(e)),
        }
        // Remove folders the removal emptied, up to the output folder.
        let mut parent = path.parent();
        while let Some(p) = parent {
            if p == dir || fs::remove_dir(p).is_err() {
                break;
            }
            parent = p.parent();
        }
    }
    let mut manifest = String::from(MANIFEST_HEADER);
    for rel in out.files.keys() {
        manifest.push_str(rel);
        manifest.push('\n');
    }
    let path = dir.join(MANIFEST);
    if !holds(&path, &manifest, &mut buf) {
        write_atomic(&path, &manifest)?;
    }
    Ok(report)
}

/// The output a previous `synth` wrote into `dir` (the files its manifest lists), as the
/// base `infragen diff` compares with when the base is that folder: what is committed, and
/// so applied, whatever infragen release and catalog wrote it. `None` when `dir` holds no output of infragen's (no manifest).
pub fn read(dir: &Utf8Path) -> Result<Option<Output>, OutputError> {
    let Some(files) = previous(dir)? else {
        return Ok(None);
    };
    let mut out = Output::default();
    for rel in files {
        let path = dir.join(confined(&rel)?);
        let text = fs::read_to_string(&path).map_err(io_err(&path))?;
        out.add_file(rel, text);
    }
    Ok(Some(out))
}

/// One file whose committed content differs from what the blueprint produces now.
#[derive(Debug, PartialEq, Eq)]
pub struct Drift {
    pub path: String,
    pub kind: DriftKind,
    /// Unified diff, committed → generated.
    pub diff: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftKind {
    Missing,
    Changed,
    Stale,
}

/// Compare `out` with what is in `dir`, touching nothing.
pub fn check(dir: &Utf8Path, out: &Output) -> Result<Vec<Drift>, OutputError> {
    let old = owned(dir)?;
    let mut drift = Vec::new();
    let mut buf = compare_buffer(out);
    for (rel, text) in &out.files {
        let path = dir.join(confined(rel)?);
        if holds(&path, text, &mut buf) {
            continue;
        }
        let (kind, current) = match fs::read_to_string(&path) {
            Ok(t) if t == *text => continue,
            Ok(t) => (DriftKind::Changed, t),
            Err(_) => (DriftKind::Missing, String::new()),
        };
        drift.push(Drift {
            path: rel.clone(),
            kind,
            diff: unified(rel, &current, text),
        });
    }
    for rel in old.iter().filter(|r| !out.files.contains_key(*r)) {
        let current = fs::read_to_string(dir.join(rel)).unwrap_or_default();
        if confined(rel).is_ok() && dir.join(rel).exists() {
            drift.push(Drift {
                path: rel.clone(),
                kind: DriftKind::Stale,
                diff: unified(rel, &current, ""),
            });
        }
    }
    drift.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(drift)
}

/// A unified diff with `a/` and `b/` headers, as git shows it.
pub fn unified(path: &str, old: &str, new: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(files: &[(&str, &str)]) -> Output {
        Output::from_files(files)
    }

    fn tmp() -> (tempfile::TempDir, Utf8PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let p = Utf8PathBuf::from_path_buf(t.path().join("out")).unwrap();
        (t, p)
    }

    #[test]
    fn writes_owns_and_removes_only_its_files() {
        let (_t, dir) = tmp();
        let r = write(&dir, &out(&[("a/x.json", "1\n"), ("b.json", "2\n")])).unwrap();
        assert_eq!(r.written, 2);
        fs::write(dir.join("a/user-file"), "mine").unwrap();
        let r = write(&dir, &out(&[("b.json", "2\n")])).unwrap();
        assert_eq!(
            r,
            WriteReport {
                written: 0,
                unchanged: 1,
                removed: 1
            }
        );
        assert!(!dir.join("a/x.json").exists());
        assert_eq!(fs::read_to_string(dir.join("a/user-file")).unwrap(), "mine");
        assert!(check(&dir, &out(&[("b.json", "2\n")])).unwrap().is_empty());
        let d = check(&dir, &out(&[("b.json", "3\n")])).unwrap();
        assert_eq!(d.len(), 1);
        assert!(d[0].diff.contains("-2\n+3\n"), "{}", d[0].diff);
    }

    #[test]
    fn refuses_foreign_folders_files_and_escapes() {
        let (_t, dir) = tmp();
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("README.md"), "repo").unwrap();
        let e = write(&dir, &out(&[("x", "1")])).unwrap_err();
        assert!(matches!(e, OutputError::ForeignFolder { .. }), "{e}");
        assert_eq!(fs::read_to_string(dir.join("README.md")).unwrap(), "repo");
        let file = dir.join("README.md");
        assert!(matches!(
            write(&file, &out(&[("x", "1")])).unwrap_err(),
            OutputError::NotAFolder(_)
        ));
        let (_t2, dir2) = tmp();
        for bad in ["../x", "/etc/x", "a/../../x", ""] {
            assert!(
                matches!(
                    write(&dir2, &out(&[(bad, "1")])).unwrap_err(),
                    OutputError::UnsafePath(_)
                ),
                "{bad}"
            );
        }
        assert!(!dir2.exists(), "nothing written when a path is refused");
    }
}
