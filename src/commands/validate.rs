//! `idgit validate`: check every backup file against its kind's schema, like a linter.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::catalog::{Kind, Shape, KINDS};
use crate::error::{Outcome, UserError};
use crate::output::{Format, Printer};
use crate::validate::{self, Finding, Segment, Severity};
use crate::{history, settings};

/// Check the backup files against the schemas of their kinds, like a linter.
///
/// Reads idgit.yaml and every object file of every kind, from the work tree (HEAD in a
/// bare repository) or, with --at, from a revision, and reports each problem as FILE:LINE: PROPERTY: PROBLEM. Errors are
/// what Graph would refuse or idgit could not read: invalid YAML, a wrong type, a value
/// outside an enum, a reference that is not a GUID, a secret or volatile value written
/// into a file, a file name without the object's ID. Properties that Graph v1.0 does not
/// define are warnings (FILE:LINE: warning: ...): Graph gains properties, and a restore
/// sends them as they are. The schemas are in the repository's schemas/ directory;
/// editors find them through the first line of each file.
///
/// Exit status: 0 when there are no errors (warnings allowed), 1 when there are.
#[derive(Debug, Clone, clap::Args)]
pub struct ValidateArgs {
    /// The backup repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Check the files of this revision instead of the work tree.
    #[arg(long, value_name = "REV")]
    pub at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// What was checked and what was found.
#[derive(Debug, Default)]
struct Outcomes {
    files: usize,
    findings: Vec<Finding>,
}

pub fn run(args: ValidateArgs, printer: &Printer) -> Result<Outcome, UserError> {
    let ValidateArgs { repo, at, format } = args;
    let dir = settings::repo_dir(Some(&repo));
    // A bare repository has no work tree: its files are the committed ones.
    let bare = git2::Repository::open(&dir).is_ok_and(|r| r.is_bare());
    let outcomes = match &at {
        None if bare => validate_revision(&dir, "HEAD")?,
        None => validate_work_tree(&dir)?,
        Some(revision) => validate_revision(&dir, revision)?,
    };
    report(&outcomes, format, printer)
}

/// The files to check, as (kind, repository path), from a listing of the kind
/// directories: `*.yaml` (and `*.yml`, which idgit would ignore) in each collection's
/// directory, and each singleton's file.
trait Files {
    /// File names (not paths) directly in `dir`.
    fn names_in(&self, dir: &str) -> Result<Vec<String>, UserError>;
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, UserError>;
}

fn object_files(files: &dyn Files) -> Result<Vec<(&'static Kind, String)>, UserError> {
    let mut found = Vec::new();
    for kind in KINDS {
        match kind.shape {
            Shape::Collection { dir, .. } => {
                let mut names = files.names_in(dir)?;
                names.retain(|n| n.ends_with(".yaml") || n.ends_with(".yml"));
                names.sort();
                found.extend(names.into_iter().map(|n| (kind, format!("{dir}/{n}"))));
            }
            Shape::Singleton { file, .. } => found.push((kind, file.to_string())),
        }
    }
    Ok(found)
}

fn validate_all(files: &dyn Files, source: &str) -> Result<Outcomes, UserError> {
    let mut outcomes = Outcomes::default();
    let mut filters = BTreeMap::new();
    let config = files.read(settings::CONFIG_FILE)?;
    if let Some(bytes) = &config {
        match config_findings(bytes) {
            Ok(config) => filters = settings::property_filters(&config),
            Err(finding) => outcomes.findings.push(finding),
        }
    }
    let mut ids: BTreeMap<(&str, String), String> = BTreeMap::new();
    for (kind, path) in object_files(files)? {
        let Some(bytes) = files.read(&path)? else {
            continue;
        };
        outcomes.files += 1;
        let filter = filters.get(kind.name).cloned().unwrap_or_default();
        outcomes
            .findings
            .extend(validate::validate_bytes(kind, &path, &bytes, &filter));
        // Two files of one object: idgit keeps one file per object ID.
        if let Some(id) = history::id_of_path(kind, &path) {
            if let Some(first) = ids.insert((kind.name, id.to_ascii_lowercase()), path.clone()) {
                outcomes.findings.push(Finding {
                    path: path.clone(),
                    line: 1,
                    pointer: String::new(),
                    severity: Severity::Error,
                    message: format!("the same object ID as {first}; keep one file per object"),
                });
            }
        }
    }
    if outcomes.files == 0 && config.is_none() {
        return Err(UserError::new(format!("no backup files in {source}"))
            .with_hint("point --repo at a backup repository made by `idgit backup`"));
    }
    Ok(outcomes)
}

/// `idgit.yaml`, parsed; a finding on the line of the setting that is wrong.
fn config_findings(bytes: &[u8]) -> Result<settings::Config, Finding> {
    let finding = |line: usize, message: String| Finding {
        path: settings::CONFIG_FILE.to_string(),
        line,
        pointer: String::new(),
        severity: Severity::Error,
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| finding(1, "not UTF-8 text".into()))?;
    if let Err(error) = crate::yaml::from_yaml(text) {
        return Err(finding(
            error.line,
            format!("not valid YAML: {}", error.message),
        ));
    }
    settings::parse_config(text).map_err(|message| {
        // "safety.maxShrink: <problem>": the setting's line.
        let (location, _) = message.split_once(": ").unwrap_or_default();
        let pointer: Vec<Segment> = location
            .split('.')
            .filter(|s| !s.is_empty() && *s != settings::CONFIG_FILE)
            .map(|s| match s.parse() {
                Ok(index) => Segment::Index(index),
                Err(_) => Segment::Key(s.to_string()),
            })
            .collect();
        finding(validate::line_of(text, &pointer), message)
    })
}

/// The files of the work tree.
struct WorkTree<'d> {
    dir: &'d Path,
}

impl Files for WorkTree<'_> {
    fn names_in(&self, dir: &str) -> Result<Vec<String>, UserError> {
        let path = self.dir.join(dir);
        let entries = match std::fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(read_error(&path, &e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| read_error(&path, &e))?;
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                if let Ok(name) = entry.file_name().into_string() {
                    names.push(name);
                }
            }
        }
        Ok(names)
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, UserError> {
        let file = self.dir.join(path);
        match std::fs::read(&file) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) if file.is_dir() => Err(UserError::new(format!(
                "{} is a directory, where idgit keeps a file: {e}",
                file.display()
            ))),
            Err(e) => Err(read_error(&file, &e)),
        }
    }
}

fn read_error(path: &Path, error: &std::io::Error) -> UserError {
    UserError::new(format!("cannot read {}: {error}", path.display()))
}

fn validate_work_tree(dir: &Path) -> Result<Outcomes, UserError> {
    if !dir.is_dir() {
        return Err(
            UserError::new(format!("{} is not a directory", dir.display()))
                .with_hint("point --repo at a backup repository made by `idgit backup`"),
        );
    }
    validate_all(&WorkTree { dir }, &dir.display().to_string())
}

/// The files of a commit's tree.
struct Revision<'r> {
    repo: &'r git2::Repository,
    tree: git2::Tree<'r>,
    /// Blobs of the directories listed: looking each file up by its path would parse
    /// its directory's tree again for every file.
    listed: std::cell::RefCell<BTreeMap<String, git2::Oid>>,
}

impl Files for Revision<'_> {
    fn names_in(&self, dir: &str) -> Result<Vec<String>, UserError> {
        let Ok(entry) = self.tree.get_path(Path::new(dir)) else {
            return Ok(Vec::new());
        };
        let Some(subtree) = entry
            .to_object(self.repo)
            .ok()
            .and_then(|o| o.into_tree().ok())
        else {
            return Ok(Vec::new());
        };
        let mut names = Vec::new();
        let mut listed = self.listed.borrow_mut();
        for entry in subtree.iter() {
            if entry.kind() != Some(git2::ObjectType::Blob) {
                continue;
            }
            if let Ok(name) = entry.name() {
                listed.insert(format!("{dir}/{name}"), entry.id());
                names.push(name.to_string());
            }
        }
        Ok(names)
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, UserError> {
        let listed = self.listed.borrow().get(path).copied();
        let oid = match listed {
            Some(oid) => oid,
            None => match self.tree.get_path(Path::new(path)) {
                Ok(entry) if entry.kind() == Some(git2::ObjectType::Blob) => entry.id(),
                _ => return Ok(None),
            },
        };
        let blob = self.repo.find_blob(oid).map_err(|e| {
            UserError::new(format!(
                "{path}: cannot read the file from git: {}",
                e.message()
            ))
        })?;
        Ok(Some(blob.content().to_vec()))
    }
}

fn validate_revision(dir: &Path, revision: &str) -> Result<Outcomes, UserError> {
    let repo = super::diff::open_repo(dir)?;
    let commit = history::commit(&repo, revision)?;
    let tree = commit
        .tree()
        .map_err(|e| UserError::new(e.message().to_string()))?;
    let files = Revision {
        repo: &repo,
        tree,
        listed: Default::default(),
    };
    validate_all(&files, revision)
}

fn report(outcomes: &Outcomes, format: Format, printer: &Printer) -> Result<Outcome, UserError> {
    let errors = outcomes.findings.iter().filter(|f| f.is_error()).count();
    let warnings = outcomes.findings.len() - errors;
    let files_with_errors = outcomes
        .findings
        .iter()
        .filter(|f| f.is_error())
        .map(|f| f.path.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    match format {
        Format::Json => printer.json(&json!({
            "files": outcomes.files,
            "valid": errors == 0,
            "errors": errors,
            "warnings": warnings,
            "findings": outcomes.findings,
        })),
        Format::Text => {
            for finding in &outcomes.findings {
                printer.line(&finding.to_string());
            }
        }
    }
    let warned = match warnings {
        0 => String::new(),
        n => format!(", {}", count(n, "warning")),
    };
    if errors == 0 {
        let valid = if outcomes.files == 1 {
            "file valid"
        } else {
            "files valid"
        };
        printer.line(&format!("{} {valid}{warned}", thousands(outcomes.files)));
        return Ok(Outcome::Success);
    }
    Err(UserError::new(format!(
        "{} in {}{warned}",
        count(errors, "error"),
        count(files_with_errors, "file")
    ))
    .with_hint("fix them and run `idgit validate` again"))
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", thousands(n))
    }
}

/// `12345` as `12,345`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(12345), "12,345");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(count(1, "error"), "1 error");
        assert_eq!(count(3, "file"), "3 files");
    }

    #[test]
    fn config_errors_point_at_the_setting() {
        let text = b"tenant: contoso.onmicrosoft.com\nsafety:\n  maxShrink: lots\n";
        let finding = config_findings(text).unwrap_err();
        assert_eq!(finding.line, 3, "{finding}");
        assert!(
            finding
                .to_string()
                .starts_with("idgit.yaml:3: safety.maxShrink"),
            "{finding}"
        );
        let finding = config_findings(b"a: [\n").unwrap_err();
        assert!(finding.message.starts_with("not valid YAML"), "{finding}");
        assert!(config_findings(b"kinds: [users]\n").is_ok());
    }
}
