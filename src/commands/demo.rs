//! `idgit demo`: the whole story on an emulated tenant, with nothing to set up.

use std::path::PathBuf;

use serde_json::json;

use crate::commands::apply;
use crate::commands::backup::{self, BackupSettings};
use crate::commands::restore::{PlanSpec, Session};
use crate::emulator::{self, EmulatorConfig, Seed};
use crate::error::{Outcome, UserError};
use crate::graph::{ClientOptions, Credential, Secret};
use crate::output::Printer;
use crate::report::render::{self, ReportFormat};
use crate::settings::{self, Config, Connection};

/// The whole story on an emulated tenant: back up, an incident, the report, the
/// restore.
///
/// Starts the Graph emulator in-process with the demo tenant and signs in with a client
/// secret, as a real deployment would. Then: (1) backs the tenant up into ./idgit-demo,
/// (2) stages an incident through Graph (a conditional access policy disabled, an HR
/// import overwriting 50 users' departments, a named location deleted, a group losing
/// members), (3) backs up again, (4) shows the difference report, (5) plans the restore
/// to the first backup, (6) applies it, and (7) backs up once more to show that the
/// tenant is exactly as it was. Run it again: the story repeats on the same repository.
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
    let result = story(&args, &handle, printer).await;
    handle.shutdown().await;
    result
}

async fn story(
    args: &DemoArgs,
    handle: &emulator::EmulatorHandle,
    printer: &Printer,
) -> Result<Outcome, UserError> {
    let repo = settings::repo_dir(Some(&args.dir));
    let settings = demo_settings(handle, repo.clone());
    let dir = repo.display().to_string();

    step(printer, 1, "Back up the tenant");
    let first = backup::backup(&settings, printer).await?;
    let objects: usize = first.changes.iter().map(|c| c.objects).sum();
    let baseline = match (&first.commit, &first.head) {
        (Some(commit), _) => {
            printer.line(&format!(
                "Backed up {objects} objects of {} kinds into {dir} as commit {}.",
                first.changes.len(),
                short(commit)
            ));
            commit.clone()
        }
        (None, Some(head)) => {
            printer.line(&format!(
                "Backed up {objects} objects: nothing changed since the last backup, so no new commit; {dir} is at {}.",
                short(head)
            ));
            head.clone()
        }
        (None, None) => return Err(UserError::new("the first backup made no commit")),
    };

    step(
        printer,
        2,
        "An incident, made through Graph like any script gone wrong",
    );
    let session = Session::with_settings(settings.clone()).await?;
    incident(handle, &session, printer).await?;

    step(printer, 3, "Back up again");
    let second = backup::backup(&settings, printer).await?;
    let incident_commit = second
        .commit
        .clone()
        .or(second.head.clone())
        .unwrap_or_default();
    printer.line(&format!(
        "Committed the incident as {}.",
        short(&incident_commit)
    ));

    step(
        printer,
        4,
        &format!(
            "What changed: idgit diff {} {}",
            short(&baseline),
            short(&incident_commit)
        ),
    );
    super::diff::run(
        super::diff::DiffArgs {
            from: Some(short(&baseline).to_string()),
            to: Some(short(&incident_commit).to_string()),
            repo: repo.clone(),
            kinds: None,
            format: ReportFormat::Text,
        },
        printer,
    )?;

    step(
        printer,
        5,
        &format!(
            "The plan back to the first backup: idgit plan --at {}",
            short(&baseline)
        ),
    );
    let spec = PlanSpec {
        at: short(&baseline).to_string(),
        only: Vec::new(),
        prune: false,
        ca_report_only: false,
    };
    let planned = session.plan(&spec, printer).await?;
    printer.document(&render::render_plan(
        &planned.report,
        &planned.plan,
        ReportFormat::Text,
        printer.color(),
    ));

    step(
        printer,
        6,
        &format!("Apply it: idgit apply --at {} --yes", short(&baseline)),
    );
    let _lock = crate::journal::ApplyLock::acquire(&session.git_dir)?;
    let mut journal = session.journal()?;
    apply::execute_and_verify(&session, &planned.plan, &mut journal, printer).await?;

    step(
        printer,
        7,
        "Back up once more, and compare with the first backup",
    );
    let third = backup::backup(&settings, printer).await?;
    let restored = third
        .commit
        .clone()
        .or(third.head.clone())
        .unwrap_or_default();
    let same = same_tree(&repo, &baseline, &restored)?;
    if same {
        printer.line(&format!(
            "Committed the restored tenant as {}. Its files are byte for byte those of the first backup: `git -C {dir} diff {} {}` is empty.",
            short(&restored),
            short(&baseline),
            short(&restored)
        ));
    } else {
        printer.line(&format!(
            "Committed the restored tenant as {}; `git -C {dir} diff {} {}` shows what the restore could not bring back.",
            short(&restored),
            short(&baseline),
            short(&restored)
        ));
    }
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
    Ok(Outcome::Success)
}

/// Whether two commits hold the same tree: the same files, byte for byte.
fn same_tree(repo: &std::path::Path, a: &str, b: &str) -> Result<bool, UserError> {
    let git =
        |e: git2::Error| UserError::new(format!("cannot read {}: {}", repo.display(), e.message()));
    let repo = git2::Repository::open(repo).map_err(git)?;
    let tree = |rev: &str| -> Result<git2::Oid, UserError> {
        Ok(repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_tree())
            .map_err(git)?
            .id())
    };
    Ok(tree(a)? == tree(b)?)
}

fn step(printer: &Printer, number: usize, title: &str) {
    printer.line("");
    printer.line(&format!("== {number}/7 {title}"));
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

fn demo_settings(handle: &emulator::EmulatorHandle, repo: PathBuf) -> BackupSettings {
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
    BackupSettings {
        repo,
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
    }
}

/// The demo's incident: the kind of damage a bad script or a compromised admin does.
async fn incident(
    handle: &emulator::EmulatorHandle,
    session: &Session,
    printer: &Printer,
) -> Result<(), UserError> {
    // Object IDs are looked up in the emulated tenant; every change goes through Graph.
    let (policy, staff, location, group, members) = {
        let tenant = handle.tenant();
        let tenant = tenant
            .lock()
            .map_err(|_| UserError::new("the emulator failed"))?;
        let by_name = |collection: &str, name: &str| {
            tenant
                .collection(collection)
                .and_then(|objects| objects.iter().find(|(_, o)| o["displayName"] == name))
                .map(|(id, _)| id.clone())
                .ok_or_else(|| UserError::new(format!("the demo tenant has no {name}")))
        };
        let policy = by_name(
            "conditionalAccessPolicies",
            "CA001: Require MFA for administrators",
        )?;
        let location = by_name("namedLocations", "Branch offices")?;
        let group = by_name("groups", "Finance")?;
        let staff: Vec<String> = tenant
            .collection("users")
            .map(|users| {
                users
                    .iter()
                    .filter(|(_, u)| u["accountEnabled"] == true && u["userType"] != "Guest")
                    .map(|(id, _)| id.clone())
                    .take(HR_IMPORT_USERS)
                    .collect()
            })
            .unwrap_or_default();
        let members: Vec<String> = tenant
            .group_members
            .get(&group)
            .map(|m| m.iter().take(2).cloned().collect())
            .unwrap_or_default();
        (policy, staff, location, group, members)
    };
    let send = |method: &'static str, url: String, body: Option<serde_json::Value>| async move {
        session
            .client
            .send(method, &url, body.as_ref())
            .await
            .map_err(|e| UserError::new(format!("the demo's incident failed: {e}")))
    };
    send(
        "PATCH",
        format!("/identity/conditionalAccess/policies/{policy}"),
        Some(json!({"state": "disabled"})),
    )
    .await?;
    printer
        .line("  disabled the conditional access policy \"CA001: Require MFA for administrators\"");
    for id in &staff {
        send(
            "PATCH",
            format!("/users/{id}"),
            Some(json!({"department": "HR import 2026-11"})),
        )
        .await?;
    }
    printer.line(&format!(
        "  an HR import overwrote the department of {} users",
        staff.len()
    ));
    send(
        "DELETE",
        format!("/identity/conditionalAccess/namedLocations/{location}"),
        None,
    )
    .await?;
    printer.line("  deleted the named location \"Branch offices\"");
    for member in &members {
        send(
            "DELETE",
            format!("/groups/{group}/members/{member}/$ref"),
            None,
        )
        .await?;
    }
    printer.line(&format!(
        "  removed {} members from the group \"Finance\"",
        members.len()
    ));
    Ok(())
}

/// How many users the demo's HR import overwrites.
const HR_IMPORT_USERS: usize = 50;
