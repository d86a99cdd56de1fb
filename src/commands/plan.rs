//! `idgit plan`: what `apply` would change in the live tenant to match a revision.

use std::path::PathBuf;

use crate::commands::restore::{PlanSpec, Session, TargetArgs};
use crate::error::{Outcome, UserError};
use crate::output::Printer;
use crate::report::render::{self, ReportFormat};

/// Show what `idgit apply` would change in the live tenant to make it match a revision.
///
/// Reads the tenant as a backup would, compares it with the objects at --at (default
/// HEAD: the latest backup, or your committed edits) and lists the actions: PATCH what
/// differs, restore deleted objects from the recycle bin with their IDs, re-create
/// objects that are gone for good (rewriting references to their new IDs), add and
/// remove members, owners and app role assignments, and, with --prune, delete objects
/// the revision does not have. Nothing is written to the tenant.
///
/// Exit status: 0 when there is nothing to do, 2 when the plan has actions, 1 on error.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    /// The revision whose state to restore: a commit, tag or branch, e.g. HEAD~1.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub at: String,
    /// Output format: text for terminals, markdown for pull requests, json for machines.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Also save the plan as JSON, for `idgit apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
}

pub async fn run(args: PlanArgs, printer: &Printer) -> Result<Outcome, UserError> {
    let session = Session::open(&args.target).await?;
    let spec = PlanSpec {
        at: args.at.clone(),
        only: args.target.only.clone(),
        prune: args.target.prune,
        ca_report_only: args.target.ca_report_only,
    };
    let planned = session.plan(&spec, printer).await?;
    printer.document(&render::render_plan(
        &planned.report,
        &planned.plan,
        args.format,
        printer.color(),
    ));
    if let Some(path) = &args.out {
        let mut text =
            serde_json::to_string_pretty(&render::plan_json(&planned.report, &planned.plan))
                .unwrap_or_default();
        text.push('\n');
        std::fs::write(path, text).map_err(|e| {
            UserError::new(format!("cannot write the plan to {}: {e}", path.display()))
                .with_hint("choose a writable path for --out")
        })?;
        printer.note(&format!(
            "Saved the plan to {}; apply it with `idgit apply {}`.",
            path.display(),
            path.display()
        ));
    }
    Ok(if planned.plan.is_empty() {
        Outcome::Success
    } else {
        Outcome::Changes
    })
}
