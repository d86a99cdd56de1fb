//! Reading snapshots back from git: revisions, the objects that changed between two
//! trees, and single objects by ID. The I/O edge of the diff reports.
//!
//! Changes come from git's tree diff, which skips identical subtrees and compares blob
//! IDs, so only changed files are read and parsed: a report on 1,000 changed objects in
//! a 100k-object tenant costs in proportion to the 1,000.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{Oid, Repository, Tree};

use crate::catalog::{Kind, Shape, KINDS};
use crate::diff::{self, ChangeSet, Version};
use crate::error::UserError;
use crate::layout;

/// A revision as the user named it, resolved to a commit.
pub fn commit<'r>(repo: &'r Repository, revision: &str) -> Result<git2::Commit<'r>, UserError> {
    let object = repo.revparse_single(revision).map_err(|_| {
        UserError::new(format!("unknown revision {revision:?}")).with_hint(
            "name a commit, branch or tag, e.g. HEAD~1; `git log --oneline` lists the backups",
        )
    })?;
    object.peel_to_commit().map_err(|_| {
        UserError::new(format!("{revision:?} is not a commit"))
            .with_hint("name a commit, branch or tag")
    })
}

/// Which kind a repository path belongs to, if any.
pub fn kind_of_path(path: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|kind| match kind.shape {
        Shape::Collection { dir, .. } => path
            .strip_prefix(dir)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|name| !name.contains('/')),
        Shape::Singleton { file, .. } => path == file,
    })
}

/// The object ID a repository path stores, if it is an object file.
pub fn id_of_path(kind: &Kind, path: &str) -> Option<String> {
    match kind.shape {
        Shape::Singleton { id, .. } => Some(id.to_string()),
        Shape::Collection { .. } => {
            let name = path.rsplit('/').next()?;
            layout::id_from_file_name(name).map(str::to_string)
        }
    }
}

/// Reads and parses one stored object.
pub fn read_version(repo: &Repository, path: &str, blob: Oid) -> Result<Version, UserError> {
    let blob = repo.find_blob(blob).map_err(|e| {
        UserError::new(format!(
            "{path}: cannot read the file from git: {}",
            e.message()
        ))
    })?;
    parse_version(path, blob.content())
}

/// Parses one stored object's bytes; errors name the file and line.
pub fn parse_version(path: &str, bytes: &[u8]) -> Result<Version, UserError> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        UserError::new(format!("{path}: not UTF-8 text")).with_hint("fix the file and commit it")
    })?;
    let content = crate::yaml::from_yaml(text).map_err(|e| {
        UserError::new(format!("{path}:{}: {}", e.line, e.message))
            .with_hint("fix the YAML and commit it; `idgit validate` checks every file")
    })?;
    Ok(Version {
        path: path.to_string(),
        content,
    })
}

/// The change set between two trees, limited to `kinds`.
pub fn changes_between(
    repo: &Repository,
    from: Option<&Tree<'_>>,
    to: Option<&Tree<'_>>,
    kinds: &[&'static Kind],
) -> Result<ChangeSet, UserError> {
    let paths: Vec<String> = kinds.iter().map(|k| k.repo_path().to_string()).collect();
    changes_in(repo, from, to, &paths)
}

/// The change set between two trees, limited to git pathspecs (globs allowed): only the
/// files they match are read.
pub fn changes_in(
    repo: &Repository,
    from: Option<&Tree<'_>>,
    to: Option<&Tree<'_>>,
    paths: &[String],
) -> Result<ChangeSet, UserError> {
    let mut changes = Vec::new();
    for ((_, id), (kind, before, after)) in changed_files(repo, from, to, paths)? {
        let read = |side: Option<(String, Oid)>| {
            side.map(|(path, oid)| read_version(repo, &path, oid))
                .transpose()
        };
        if let Some(change) = diff::compare(kind, &id, read(before)?, read(after)?) {
            changes.push(change);
        }
    }
    Ok(ChangeSet::new(changes))
}

/// One side of a changed object: its path and blob, or nothing.
pub type Side = Option<(String, Oid)>;

/// Changed object files by (kind name, object ID): the kind, the older side, the newer.
pub type ChangedFiles = BTreeMap<(&'static str, String), (&'static Kind, Side, Side)>;

/// The object files that differ between two trees, by (kind, object ID), without
/// reading any of them. `paths` are git pathspecs (globs allowed).
pub fn changed_files(
    repo: &Repository,
    from: Option<&Tree<'_>>,
    to: Option<&Tree<'_>>,
    paths: &[String],
) -> Result<ChangedFiles, UserError> {
    let mut options = git2::DiffOptions::new();
    for path in paths {
        options.pathspec(path);
    }
    let git_diff = repo
        .diff_tree_to_tree(from, to, Some(&mut options))
        .map_err(|e| UserError::new(format!("cannot compare the revisions: {}", e.message())))?;
    let mut pairs = ChangedFiles::new();
    for delta in git_diff.deltas() {
        for (file, is_after) in [(delta.old_file(), false), (delta.new_file(), true)] {
            if file.id().is_zero() {
                continue;
            }
            let Some(path) = file.path().and_then(Path::to_str) else {
                continue;
            };
            let Some(kind) = kind_of_path(path) else {
                continue;
            };
            let Some(id) = id_of_path(kind, path) else {
                continue;
            };
            let entry = pairs.entry((kind.name, id)).or_insert((kind, None, None));
            let side = Some((path.to_string(), file.id()));
            if is_after {
                entry.2 = side;
            } else {
                entry.1 = side;
            }
        }
    }
    Ok(pairs)
}

/// Finds the files of the given object IDs of one kind in a tree: one pass over the
/// kind's directory listing, no file is read.
pub fn find_objects(
    repo: &Repository,
    tree: &Tree<'_>,
    kind: &Kind,
    ids: &std::collections::BTreeSet<String>,
) -> BTreeMap<String, (String, Oid)> {
    let mut found = BTreeMap::new();
    match kind.shape {
        Shape::Singleton { file, id, .. } => {
            if ids.contains(id) {
                if let Ok(entry) = tree.get_path(Path::new(file)) {
                    found.insert(id.to_string(), (file.to_string(), entry.id()));
                }
            }
        }
        Shape::Collection { dir, .. } => {
            let Some(subtree) = tree
                .get_path(Path::new(dir))
                .ok()
                .and_then(|e| e.to_object(repo).ok())
                .and_then(|o| o.into_tree().ok())
            else {
                return found;
            };
            for entry in subtree.iter() {
                let Ok(name) = entry.name() else { continue };
                if let Some(id) = layout::id_from_file_name(name) {
                    if ids.contains(id) {
                        found.insert(id.to_string(), (format!("{dir}/{name}"), entry.id()));
                    }
                }
            }
        }
    }
    found
}

/// Every object file of a kind in a tree, path and blob, for kind-wide look-ups.
pub fn list_objects(repo: &Repository, tree: &Tree<'_>, kind: &Kind) -> Vec<(String, Oid)> {
    let mut files = Vec::new();
    match kind.shape {
        Shape::Singleton { file, .. } => {
            if let Ok(entry) = tree.get_path(Path::new(file)) {
                files.push((file.to_string(), entry.id()));
            }
        }
        Shape::Collection { dir, .. } => {
            if let Some(subtree) = tree
                .get_path(Path::new(dir))
                .ok()
                .and_then(|e| e.to_object(repo).ok())
                .and_then(|o| o.into_tree().ok())
            {
                for entry in subtree.iter() {
                    let Ok(name) = entry.name() else { continue };
                    if layout::id_from_file_name(name).is_some() {
                        files.push((format!("{dir}/{name}"), entry.id()));
                    }
                }
            }
        }
    }
    files
}
