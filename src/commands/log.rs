//! `idgit log`: the history of one object, or of the whole backup.

use std::path::PathBuf;

use serde_json::json;

use crate::catalog::Shape;
use crate::commands::diff::iso_date;
use crate::error::{Outcome, UserError};
use crate::history;
use crate::names::Names;
use crate::output::{Format, Printer};
use crate::report;
use crate::selector::{self, Selector};

/// Show the backups that changed one object, or every backup, newest first.
///
/// With OBJECT (an ID, a path or KIND/<id-or-name>), each line is a commit that changed
/// the object and what changed, in words. Without it, each line is a backup and its
/// summary.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// The object whose history to show.
    #[arg(value_name = "OBJECT")]
    pub object: Option<String>,
    /// The backup repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Show at most this many commits.
    #[arg(long, short = 'n', value_name = "N")]
    pub max_count: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// One line of the log.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    commit: String,
    date: String,
    author: String,
    summary: String,
}

pub fn run(args: LogArgs, printer: &Printer) -> Result<Outcome, UserError> {
    let repo = super::diff::open_repo(&args.repo)?;
    let head = history::commit(&repo, "HEAD")?;
    let target = match &args.object {
        None => None,
        Some(text) => {
            let selector = selector::parse(text);
            if let Selector::Kind(kind) = selector {
                return Err(
                    UserError::new(format!("{} is a kind, not one object", kind.name)).with_hint(
                        format!(
                            "name one object, e.g. {}/<id-or-name>; `idgit show {}` lists them",
                            kind.name, kind.name
                        ),
                    ),
                );
            }
            Some(find_in_history(&repo, &selector)?)
        }
    };
    let mut walk = repo
        .revwalk()
        .map_err(|e| UserError::new(e.message().to_string()))?;
    walk.push(head.id())
        .map_err(|e| UserError::new(e.message().to_string()))?;
    let mut entries = Vec::new();
    for oid in walk.flatten() {
        if args.max_count.is_some_and(|max| entries.len() >= max) {
            break;
        }
        let Ok(commit) = repo.find_commit(oid) else {
            continue;
        };
        let Ok(tree) = commit.tree() else { continue };
        let parent_tree = commit.parent(0).ok().and_then(|p| p.tree().ok());
        let summary = match &target {
            Some(found) => {
                let pathspec = match found.kind.shape {
                    Shape::Collection { dir, .. } => format!("{dir}/*.{}.yaml", found.id),
                    Shape::Singleton { file, .. } => file.to_string(),
                };
                // Only this object's file is compared and read, whatever else the
                // commit changed.
                let changes =
                    history::changes_in(&repo, parent_tree.as_ref(), Some(&tree), &[pathspec])?;
                if changes.is_empty() {
                    continue;
                }
                let trees: Vec<&git2::Tree<'_>> =
                    std::iter::once(&tree).chain(parent_tree.as_ref()).collect();
                let names = Names::for_changes(&repo, &trees, &changes);
                let to = report::Revision {
                    name: String::new(),
                    commit: None,
                    date: None,
                    subject: None,
                };
                let actors = crate::audit::links_of(&repo, &[oid]);
                let built = report::build(&changes, &names, &actors, None, to);
                match built.objects.first() {
                    Some(object) => match object.changed_by.first() {
                        Some(who) => format!("{} (by {})", object.sentence, who.actor),
                        None => object.sentence.clone(),
                    },
                    None => continue,
                }
            }
            None => commit.summary().ok().flatten().unwrap_or("").to_string(),
        };
        let author = commit.author();
        entries.push(Entry {
            commit: oid.to_string(),
            date: iso_date(commit.time().seconds()),
            author: author.name().unwrap_or("").to_string(),
            summary,
        });
    }
    match args.format {
        Format::Json => {
            let value = json!({ "object": target.map(|f| json!({"kind": f.kind.name, "id": f.id})), "commits": entries });
            printer.document(&format!(
                "{}\n",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            ));
        }
        Format::Text => {
            let lines: String = entries
                .iter()
                .map(|e| {
                    format!(
                        "{} {} {}  {}\n",
                        &e.commit[..12],
                        &e.date[..10],
                        e.author,
                        e.summary
                    )
                })
                .collect();
            printer.document(&lines);
        }
    }
    Ok(Outcome::Success)
}

/// The object a selector names at HEAD or, for a deleted object, in the newest backup
/// that still had it.
fn find_in_history(
    repo: &git2::Repository,
    selector: &Selector,
) -> Result<selector::Found, UserError> {
    let mut walk = repo
        .revwalk()
        .map_err(|e| UserError::new(e.message().to_string()))?;
    walk.push_head()
        .map_err(|e| UserError::new(e.message().to_string()))?;
    let mut first_error = None;
    for oid in walk.flatten() {
        let Ok(tree) = repo.find_commit(oid).and_then(|c| c.tree()) else {
            continue;
        };
        match selector::resolve(repo, &tree, selector) {
            Ok(found) if found.len() == 1 => return Ok(found.into_iter().next().expect("one")),
            Ok(_) => {}
            // Ambiguity is final; absence may be resolved by an older backup.
            Err(error) if error.message.contains(" matches ") => return Err(error),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| UserError::new("no object matches")))
}
