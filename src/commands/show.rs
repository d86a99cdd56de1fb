//! `idgit show`: one object as it was backed up at a revision, or a kind's objects.

use std::path::PathBuf;

use serde_json::json;

use crate::commands::diff::revision;
use crate::error::{Outcome, UserError};
use crate::output::{Format, Printer};
use crate::{history, names, selector};

/// Show an object as it was backed up, at the latest backup or any revision.
///
/// OBJECT is an object ID, a file path, KIND, or KIND/<id-or-name> (the name as in the
/// file name, e.g. groups/break-glass-accounts). A KIND lists that kind's objects.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// The object: an ID, a path, KIND or KIND/<id-or-name>.
    #[arg(value_name = "OBJECT")]
    pub object: String,
    /// The revision to read it from.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub at: String,
    /// The backup repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(args: ShowArgs, printer: &Printer) -> Result<Outcome, UserError> {
    let repo = super::diff::open_repo(&args.repo)?;
    let commit = history::commit(&repo, &args.at)?;
    let tree = commit
        .tree()
        .map_err(|e| UserError::new(e.message().to_string()))?;
    let selector = selector::parse(&args.object);
    let found = selector::resolve(&repo, &tree, &selector)?;
    if let selector::Selector::Kind(_) = selector {
        let listed: Vec<serde_json::Value> = found
            .iter()
            .map(|f| json!({"kind": f.kind.name, "id": f.id, "path": f.path}))
            .collect();
        match args.format {
            Format::Json => printer.document(&format!(
                "{}\n",
                serde_json::to_string_pretty(&listed).unwrap_or_default()
            )),
            Format::Text => printer.document(
                &found
                    .iter()
                    .map(|f| format!("{}\n", f.path))
                    .collect::<String>(),
            ),
        }
        return Ok(Outcome::Success);
    }
    let Some(object) = found.first() else {
        return Ok(Outcome::Success);
    };
    let version = history::read_version(&repo, &object.path, object.blob)?;
    match args.format {
        Format::Json => {
            let properties = version
                .content
                .get("properties")
                .cloned()
                .unwrap_or_default();
            let shown = json!({
                "kind": object.kind.name,
                "id": object.id,
                "name": names::display_name(object.kind, &properties),
                "path": object.path,
                "revision": revision(&args.at, &commit),
                "content": version.content,
            });
            printer.document(&format!(
                "{}\n",
                serde_json::to_string_pretty(&shown).unwrap_or_default()
            ));
        }
        Format::Text => {
            let blob = repo
                .find_blob(object.blob)
                .map_err(|e| UserError::new(e.message().to_string()))?;
            let short = &commit.id().to_string()[..12];
            printer.document(&format!("# {} at {} ({short})\n", object.path, args.at));
            printer.document(&String::from_utf8_lossy(blob.content()));
        }
    }
    Ok(Outcome::Success)
}
