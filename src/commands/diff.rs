//! `idgit diff`: what changed between two backups, in words a reviewer can check.

use std::path::PathBuf;

use crate::error::{Outcome, UserError};
use crate::history;
use crate::names::Names;
use crate::output::Printer;
use crate::report::{self, render::ReportFormat, Revision};
use crate::settings;

/// Show what changed between two revisions of the backup repository.
///
/// FROM and TO are any git revisions (commits, branches, tags, HEAD~3). With none, the
/// previous backup is compared with the latest; with one, that revision with the latest.
/// Object IDs are shown with the names they had on either side; security-relevant
/// changes (a conditional access policy disabled, an exclusion added, a new credential)
/// are flagged.
#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {
    /// The older revision (default: the one before TO).
    #[arg(value_name = "FROM")]
    pub from: Option<String>,
    /// The newer revision (default: HEAD).
    #[arg(value_name = "TO")]
    pub to: Option<String>,
    /// The backup repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Only these kinds, comma-separated.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub kinds: Option<Vec<String>>,
    /// Output format: text for terminals, markdown for pull requests, json for machines.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// The backup repository named by `--repo`.
pub fn open_repo(dir: &std::path::Path) -> Result<git2::Repository, UserError> {
    let dir = settings::repo_dir(Some(dir));
    git2::Repository::open(&dir).map_err(|_| {
        UserError::new(format!("{} is not a git repository", dir.display()))
            .with_hint("point --repo at a backup repository made by `idgit backup`")
    })
}

pub fn run(args: DiffArgs, printer: &Printer) -> Result<Outcome, UserError> {
    let repo = open_repo(&args.repo)?;
    let kinds = settings::resolve_kinds(args.kinds.as_deref(), &settings::Config::default())?;
    let to_name = args.to.clone().unwrap_or_else(|| "HEAD".into());
    let to = history::commit(&repo, &to_name)?;
    let from = match &args.from {
        Some(name) => Some((name.clone(), history::commit(&repo, name)?)),
        // The first parent is the previous backup; a first backup has none.
        None => to
            .parent(0)
            .ok()
            .map(|parent| (format!("{to_name}~1"), parent)),
    };
    let to_tree = to
        .tree()
        .map_err(|e| UserError::new(e.message().to_string()))?;
    let from_tree = from
        .as_ref()
        .map(|(_, c)| c.tree())
        .transpose()
        .map_err(|e| UserError::new(e.message().to_string()))?;
    let changes = history::changes_between(&repo, from_tree.as_ref(), Some(&to_tree), &kinds)?;
    let trees: Vec<&git2::Tree<'_>> = std::iter::once(&to_tree)
        .chain(from_tree.as_ref())
        .collect();
    let names = Names::for_changes(&repo, &trees, &changes);
    let actors = crate::audit::links_of(
        &repo,
        &commits_between(&repo, from.as_ref().map(|(_, c)| c.id()), to.id()),
    );
    let report = report::build(
        &changes,
        &names,
        &actors,
        from.as_ref().map(|(name, commit)| revision(name, commit)),
        revision(&to_name, &to),
    );
    printer.document(&report::render::render(
        &report,
        args.format,
        printer.color(),
    ));
    Ok(Outcome::Success)
}

/// The commits after `from` up to and including `to`: the backups whose notes say who
/// made the changes between the two.
fn commits_between(
    repo: &git2::Repository,
    from: Option<git2::Oid>,
    to: git2::Oid,
) -> Vec<git2::Oid> {
    let Ok(mut walk) = repo.revwalk() else {
        return Vec::new();
    };
    if walk.push(to).is_err() {
        return Vec::new();
    }
    if let Some(from) = from {
        let _ = walk.hide(from);
    }
    walk.flatten().collect()
}

/// A commit as a report names it.
pub fn revision(name: &str, commit: &git2::Commit<'_>) -> Revision {
    Revision {
        name: name.to_string(),
        commit: Some(commit.id().to_string()),
        date: Some(iso_date(commit.time().seconds())),
        subject: commit.summary().ok().flatten().map(str::to_string),
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso_date(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    // Civil-from-days, proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::iso_date(1767225600), "2026-01-01T00:00:00Z");
        assert_eq!(super::iso_date(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::iso_date(951_782_400), "2000-02-29T00:00:00Z");
    }
}
