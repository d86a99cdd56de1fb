//! `idgit demo`: the whole story on an emulated tenant, with nothing to set up.

use std::path::PathBuf;

use crate::commands::backup::{self, BackupSettings};
use crate::emulator::{self, EmulatorConfig, Seed};
use crate::error::{Outcome, UserError};
use crate::graph::{ClientOptions, Credential, Secret};
use crate::output::Printer;
use crate::settings::{self, Config, Connection};

/// Back up an emulated demo tenant into ./idgit-demo and show where to look.
///
/// Starts the Graph emulator in-process with the demo tenant, signs in with a client
/// secret as a real deployment would, and backs the tenant up. Run it twice: the second
/// backup finds no change and makes no commit.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Where to put the demo backup repository.
    #[arg(long, value_name = "DIR", default_value = "idgit-demo")]
    pub dir: PathBuf,
}

pub async fn run(args: DemoArgs, printer: &Printer) -> Result<Outcome, UserError> {
    let config = EmulatorConfig {
        seed: Seed::Demo,
        ..EmulatorConfig::default()
    };
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let handle = emulator::start(config, listen)
        .await
        .map_err(|e| UserError::new(format!("cannot start the Graph emulator: {e}")))?;
    printer.line(&format!(
        "Started a Graph emulator for the demo tenant at {}.",
        handle.base_url()
    ));

    let repo = settings::repo_dir(Some(&args.dir));
    let connection = Connection {
        graph_url: handle.base_url().to_string(),
        credential: Credential::ClientSecret {
            authority_host: handle.base_url().to_string(),
            tenant_id: handle.tenant_id().to_string(),
            client_id: handle.client_id().to_string(),
            secret: Secret::new(handle.client_secret()),
        },
        tenant: Some(handle.tenant_id().to_string()),
    };
    let settings = BackupSettings {
        repo: repo.clone(),
        kinds: crate::catalog::KINDS.iter().collect(),
        client: ClientOptions {
            graph_url: connection.graph_url.clone(),
            ..ClientOptions::default()
        },
        connection,
        filters: Default::default(),
        subject: None,
        author: Some("idgit demo <demo@idgit.invalid>".into()),
        allow_shrink: false,
        config: Config::default(),
    };
    let report = backup::backup(&settings, printer).await?;
    handle.shutdown().await;

    let objects: usize = report.changes.iter().map(|c| c.objects).sum();
    match &report.commit {
        Some(commit) => printer.line(&format!(
            "Backed up {objects} objects of {} kinds into {} as commit {}.",
            report.changes.len(),
            repo.display(),
            &commit[..commit.len().min(12)]
        )),
        None => printer.line(&format!(
            "Backed up {objects} objects again: nothing changed, so no new commit in {}.",
            repo.display()
        )),
    }
    let dir = repo.display();
    printer.line("");
    printer.line("Where to look:");
    for (what, where_) in [
        (
            "the history, one commit per backup that changed something",
            format!("git -C {dir} log --stat"),
        ),
        (
            "one YAML file per policy, references by object ID",
            format!("{dir}/conditional-access-policies/"),
        ),
        (
            "members and owners, under `relationships`",
            format!("{dir}/groups/"),
        ),
        (
            "kinds, personal-data filters, safety limits",
            format!("{dir}/idgit.yaml"),
        ),
    ] {
        printer.line(&format!("  {what}:\n      {where_}"));
    }
    printer.line("Run `idgit demo` again: the second backup finds no change and makes no commit.");
    Ok(Outcome::Success)
}
