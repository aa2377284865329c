//! Reading modules from disk: every folder of `*.tf.json` files is one module.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Problem, ProviderSchemas, check_module};

/// Checks every folder under `dir` (recursively, hidden folders skipped) that holds
/// `*.tf.json` files as one module each. `file` in the problems is relative to `dir`.
/// `dir` may also be a single `*.tf.json` file. Unreadable JSON is a problem, not an error;
/// errors are reserved for failing to read the file system.
pub fn check_dir(dir: &Path, schemas: &ProviderSchemas) -> Result<Vec<Problem>, std::io::Error> {
    let mut modules: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    let base = if std::fs::metadata(dir)?.is_file() {
        let parent = dir.parent().unwrap_or(Path::new("")).to_path_buf();
        modules
            .entry(parent.clone())
            .or_default()
            .push(dir.to_path_buf());
        parent
    } else {
        find_modules(dir, &mut modules)?;
        dir.to_path_buf()
    };
    let mut problems = Vec::new();
    if modules.is_empty() {
        problems.push(Problem {
            file: ".".into(),
            address: String::new(),
            message: "no *.tf.json files found".into(),
        });
    }
    for paths in modules.values() {
        let mut files = Vec::new();
        for path in paths {
            let rel = path.strip_prefix(&base).unwrap_or(path);
            let name = rel.to_string_lossy().replace('\\', "/");
            let bytes = std::fs::read(path)?;
            let parsed = String::from_utf8(bytes)
                .map_err(|e| format!("not UTF-8: {e}"))
                .and_then(|text| {
                    serde_json::from_str::<Value>(&text).map_err(|e| format!("not valid JSON: {e}"))
                });
            match parsed {
                Ok(value) => files.push((name, value)),
                Err(message) => problems.push(Problem {
                    file: name,
                    address: String::new(),
                    message,
                }),
            }
        }
        problems.extend(check_module(&files, schemas));
    }
    problems.sort();
    problems.dedup();
    Ok(problems)
}

fn find_modules(
    dir: &Path,
    out: &mut BTreeMap<PathBuf, Vec<PathBuf>>,
) -> Result<(), std::io::Error> {
    let mut entries = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Like Python's glob("**"): skip hidden entries such as `.terraform/`.
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        // Symlinked folders are not followed, so a link cycle cannot recurse forever.
        let ty = entry.file_type()?;
        if ty.is_dir() {
            find_modules(&path, out)?;
        } else if name.ends_with(".tf.json") && std::fs::metadata(&path).is_ok_and(|m| m.is_file())
        {
            out.entry(dir.to_path_buf()).or_default().push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::valid_module;
    use super::*;

    #[test]
    fn check_dir_finds_each_module() -> Result<(), std::io::Error> {
        let dir = tempfile::tempdir()?;
        let write = |rel: &str, text: &str| -> Result<(), std::io::Error> {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap_or(dir.path()))?;
            std::fs::write(path, text)
        };
        write("envs/prod/main.tf.json", &valid_module().to_string())?;
        // A second module: its own declarations, so `aws_vpc.main` is dangling here.
        write(
            "envs/dev/outputs.tf.json",
            r#"{"output": {"x": {"value": "${aws_vpc.main.id}"}}}"#,
        )?;
        write("envs/dev/broken.tf.json", "{")?;
        write(".terraform/skip.tf.json", "not even json")?;
        write("envs/prod/notes.json", "ignored: not *.tf.json")?;
        let problems: Vec<String> = check_dir(dir.path(), ProviderSchemas::bundled())?
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "envs/dev/broken.tf.json: not valid JSON: EOF while parsing an object at line 1 column 1",
                "envs/dev/outputs.tf.json: output.x: reference to undeclared resource aws_vpc.main",
            ]
        );
        let single = check_dir(
            &dir.path().join("envs/prod/main.tf.json"),
            ProviderSchemas::bundled(),
        )?;
        assert_eq!(single, Vec::new());
        let empty = tempfile::tempdir()?;
        let none = check_dir(empty.path(), ProviderSchemas::bundled())?;
        assert_eq!(none.len(), 1);
        Ok(())
    }
}
