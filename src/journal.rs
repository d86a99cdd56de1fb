//! The apply journal: what earlier applies did, so that a re-run converges instead of
//! repeating work. Kept in the repository's git directory (`.git/idgit/journal.json`),
//! never committed: it describes this tenant's history of applies, not its state.
//!
//! It records three things:
//! - which actions of which plan succeeded, so an interrupted `apply PLAN` resumes;
//! - the new IDs of re-created objects, so that a later plan pairs the old ID in the
//!   desired state with the new object instead of creating it again;
//! - the policies brought back in report-only mode, which stay so until enabled.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::UserError;

const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    #[serde(default)]
    pub format_version: u32,
    /// Re-created objects by old ID (lower case).
    #[serde(default)]
    pub new_ids: BTreeMap<String, NewId>,
    /// Conditional access policies restored in report-only mode (lower-case IDs).
    #[serde(default)]
    pub report_only: BTreeSet<String>,
    /// Progress per plan ID.
    #[serde(default)]
    pub plans: BTreeMap<String, PlanProgress>,
    #[serde(skip)]
    path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewId {
    pub kind: String,
    pub new_id: String,
    /// For an application: its old and new appId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanProgress {
    /// Numbers of the actions that succeeded.
    pub done: BTreeSet<usize>,
}

impl Journal {
    /// Where a repository's journal lives: inside its git directory.
    pub fn path_for(git_dir: &Path) -> PathBuf {
        git_dir.join("idgit").join("journal.json")
    }

    /// Reads the journal; an empty one when there is none yet.
    pub fn load(git_dir: &Path) -> Result<Journal, UserError> {
        let path = Self::path_for(git_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Journal {
                    format_version: FORMAT_VERSION,
                    path,
                    ..Journal::default()
                })
            }
            Err(e) => {
                return Err(UserError::new(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
        };
        let mut journal: Journal = serde_json::from_str(&text).map_err(|e| {
            UserError::new(format!("{}: not an idgit apply journal ({e})", path.display()))
                .with_hint("move the file away; idgit then plans from the live tenant alone, which may re-create objects an earlier apply already re-created")
        })?;
        journal.path = path;
        Ok(journal)
    }

    /// Writes the journal so that a crash leaves either the old or the new version.
    pub fn save(&self) -> Result<(), UserError> {
        let fail = |e: std::io::Error| {
            UserError::new(format!("cannot write {}: {e}", self.path.display()))
                .with_hint("check the permissions of the repository's .git directory")
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        let temporary = self.path.with_extension("json.tmp");
        std::fs::write(&temporary, text).map_err(fail)?;
        std::fs::rename(&temporary, &self.path).map_err(fail)
    }

    /// Old ID (or old appId), lower case → the new one, for every re-created object.
    pub fn id_map(&self) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        for (old, new) in &self.new_ids {
            map.insert(old.clone(), new.new_id.clone());
            if let Some((old_app, new_app)) = &new.app_id {
                map.insert(old_app.to_ascii_lowercase(), new_app.clone());
            }
        }
        map
    }

    pub fn done(&self, plan_id: &str) -> BTreeSet<usize> {
        self.plans
            .get(plan_id)
            .map(|p| p.done.clone())
            .unwrap_or_default()
    }

    pub fn mark_done(&mut self, plan_id: &str, action: usize) {
        self.plans
            .entry(plan_id.to_string())
            .or_default()
            .done
            .insert(action);
    }
}

/// Held while an apply runs, so that two applies cannot interleave their requests and
/// their journal writes. Removed when dropped; a crash leaves it behind, and the error
/// says how to clear it.
pub struct ApplyLock {
    path: PathBuf,
}

impl ApplyLock {
    pub fn acquire(git_dir: &Path) -> Result<ApplyLock, UserError> {
        let path = git_dir.join("idgit").join("apply.lock");
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path);
        match created {
            Ok(mut file) => {
                use std::io::Write;
                let _ = writeln!(file, "{}", std::process::id());
                Ok(ApplyLock { path })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                Err(UserError::new(format!(
                    "another apply is running on this repository (process {})",
                    holder.trim()
                ))
                .with_hint(format!(
                    "wait for it; if it was killed, remove {} and run apply again, which resumes",
                    path.display()
                )))
            }
            Err(e) => Err(
                UserError::new(format!("cannot create {}: {e}", path.display()))
                    .with_hint("check the permissions of the repository's .git directory"),
            ),
        }
    }
}

impl Drop for ApplyLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_journal_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::load(dir.path()).unwrap();
        journal.mark_done("p1", 3);
        journal.new_ids.insert(
            "old".into(),
            NewId {
                kind: "applications".into(),
                new_id: "new".into(),
                app_id: Some(("OldApp".into(), "newapp".into())),
            },
        );
        journal.save().unwrap();
        let again = Journal::load(dir.path()).unwrap();
        assert_eq!(again, journal);
        assert_eq!(again.done("p1"), [3].into());
        assert_eq!(
            again.id_map().get("oldapp").map(String::as_str),
            Some("newapp")
        );
    }

    #[test]
    fn one_apply_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let lock = ApplyLock::acquire(dir.path()).unwrap();
        let error = ApplyLock::acquire(dir.path()).err().unwrap().to_string();
        assert!(
            error.starts_with("another apply is running on this repository (process "),
            "{error}"
        );
        drop(lock);
        assert!(ApplyLock::acquire(dir.path()).is_ok());
    }

    #[test]
    fn a_damaged_journal_is_a_one_line_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = Journal::path_for(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{not json").unwrap();
        let error = Journal::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("not an idgit apply journal"), "{error}");
        assert!(!error.contains('\n'));
    }
}
