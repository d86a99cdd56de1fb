//! `idgit drift`: the live tenant against the latest backup, without committing.

use std::path::PathBuf;

use crate::commands::backup::{self, ConnectionArgs, PreviewRequest, WriterMode};
use crate::error::{Outcome, UserError};
use crate::output::Printer;
use crate::report::render::{self, ReportFormat};
use crate::store::Store;

/// Show how the live tenant differs from the latest backup, without committing.
///
/// Reads the tenant exactly as `idgit backup` does, compares it with HEAD of the backup
/// repository and reports the differences in words. Nothing is written to the
/// repository. Exit status 2 when the tenant drifted, 0 when it did not.
#[derive(Debug, Clone, clap::Args)]
pub struct DriftArgs {
    /// The backup repository to compare with.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Only these kinds, comma-separated (default: the kinds in idgit.yaml, else all).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub kinds: Option<Vec<String>>,
    /// Output format: text for terminals, markdown for pull requests, json for machines.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Requests to Graph in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

pub async fn run(args: DriftArgs, printer: &Printer) -> Result<Outcome, UserError> {
    let settings = backup::resolve_reader(
        &args.repo,
        args.kinds.clone(),
        args.concurrency,
        &args.connection,
    )?;
    let has_backup = Store::open(&settings.repo)
        .ok()
        .flatten()
        .is_some_and(|store| store.head_commit().ok().flatten().is_some());
    if !has_backup {
        return Err(UserError::new(format!(
            "{} has no backup to compare with",
            settings.repo.display()
        ))
        .with_hint(format!(
            "run `idgit backup --repo {}` first",
            settings.repo.display()
        )));
    }
    let client = backup::sign_in(&settings).await?;
    let writer = backup::read_tenant(&settings, &client, printer, WriterMode::Preview).await?;
    let report = writer
        .preview(PreviewRequest {
            kinds: settings.kinds.clone(),
        })
        .await?;
    printer.document(&render::render(&report, args.format, printer.color()));
    Ok(if report.objects.is_empty() {
        Outcome::Success
    } else {
        Outcome::Changes
    })
}
