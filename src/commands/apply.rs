//! `idgit apply`: run a plan against the live tenant, then check that it worked.
//!
//! Actions run one at a time, in plan order. Each success is written to the journal
//! before the next request, so an interrupted apply re-runs without repeating work. An
//! action whose dependency failed is skipped; independent ones go on. At the end the
//! tenant is read again and the selection re-planned: only an empty re-plan is success.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::Value;

use crate::catalog;
use crate::commands::backup;
use crate::commands::backup::BackupSettings;
use crate::commands::restore::{self, PlanSpec, Session, TargetArgs};
use crate::error::{Outcome, UserError};
use crate::graph::{ErrorKind, GraphError};
use crate::journal::{ApplyLock, Journal, NewId};
use crate::output::{Format, Printer};
use crate::plan::{self, ActionType, Plan, PlannedAction};
use crate::report::render::{self, ReportFormat};

/// Make the live tenant match a revision: run a saved plan, or plan and apply.
///
/// With PLAN_FILE (from `idgit plan --out`), first re-reads every object the plan
/// touches and refuses if the tenant changed since the plan was made. Without it, plans
/// from --at (default HEAD) and applies that. Asks for confirmation unless --yes.
/// Progress is journaled in the repository's .git/idgit, so an interrupted apply can be
/// run again and continues where it stopped. Succeeds only when a fresh plan after the
/// apply is empty.
#[derive(Debug, Clone, clap::Args)]
pub struct ApplyArgs {
    /// A plan saved with `idgit plan --out FILE`.
    #[arg(value_name = "PLAN_FILE")]
    pub plan_file: Option<PathBuf>,
    /// Plan from this revision and apply it (default HEAD).
    #[arg(long, value_name = "REV", conflicts_with = "plan_file")]
    pub at: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Apply conditional access policies even when they could lock everyone out.
    #[arg(long)]
    pub allow_lockout: bool,
    /// Apply even when the plan deletes more objects than safety.maxDeletes.
    #[arg(long)]
    pub allow_mass_delete: bool,
    /// Output format: text, or one JSON document with each action's result (progress
    /// then goes to stderr).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub target: TargetArgs,
}

pub async fn run(args: ApplyArgs, printer: &Printer) -> Result<Outcome, UserError> {
    if args.plan_file.is_some()
        && (!args.target.only.is_empty() || args.target.prune || args.target.ca_report_only)
    {
        return Err(UserError::new(
            "--only, --prune and --ca-report-only cannot change a saved plan",
        )
        .with_hint("make a new plan with those flags: `idgit plan --out FILE ...`"));
    }
    let saved = args.plan_file.as_deref().map(load_plan).transpose()?;
    let settings = restore::resolve(&args.target)?;
    if let (Some(plan), Some(path)) = (&saved, &args.plan_file) {
        check_origin(plan, path, &settings)?;
    }
    let session = Session::with_settings(settings).await?;
    let plan = match saved {
        Some(plan) => {
            if printer.format() == Format::Text {
                printer.document(&render::render_plan_actions(&plan, printer.color()));
            }
            plan
        }
        None => {
            let spec = PlanSpec {
                at: args.at.clone().unwrap_or_else(|| "HEAD".into()),
                only: args.target.only.clone(),
                prune: args.target.prune,
                ca_report_only: args.target.ca_report_only,
            };
            let planned = session.plan(&spec, printer).await?;
            if printer.format() == Format::Text {
                printer.document(&render::render_plan(
                    &planned.report,
                    &planned.plan,
                    ReportFormat::Text,
                    printer.color(),
                ));
            }
            planned.plan
        }
    };
    if plan.is_empty() {
        printer.line("Nothing to apply.");
        printer.json(&summary(&plan, &[], &Ok(Outcome::Success)));
        return Ok(Outcome::Success);
    }
    check_blockers(&plan, &args)?;
    confirm(&plan, &args, &session, printer)?;
    let _lock = ApplyLock::acquire(&session.git_dir)?;
    let mut journal = session.journal()?;
    if args.plan_file.is_some() {
        refuse_stale(&session, &plan, &journal).await?;
    }
    execute_and_verify(&session, &plan, &mut journal, printer).await
}

/// Runs every action not yet done, then re-plans to check the tenant matches.
pub async fn execute_and_verify(
    session: &Session,
    plan: &Plan,
    journal: &mut Journal,
    printer: &Printer,
) -> Result<Outcome, UserError> {
    let outcome = execute(session, plan, journal, printer).await?;
    let result = if outcome.failed > 0 {
        Err(UserError::new(format!(
            "{} of {} actions failed and {} were skipped because they depend on them",
            outcome.failed,
            plan.actions.len(),
            outcome.skipped
        ))
        .with_hint("fix the cause shown above and run the same apply again: finished actions are not repeated"))
    } else {
        verify(session, plan, printer).await
    };
    printer.json(&summary(plan, &outcome.results, &result));
    result
}

/// The JSON result of an apply: each action's status, and whether the re-plan was empty.
fn summary(plan: &Plan, results: &[ActionResult], result: &Result<Outcome, UserError>) -> Value {
    serde_json::json!({
        "formatVersion": plan::FORMAT_VERSION,
        "planId": plan.plan_id,
        "desired": plan.desired,
        "results": results,
        "verified": result.is_ok(),
        "error": result.as_ref().err().map(ToString::to_string),
    })
}

/// A line of progress: on stdout for people, on stderr when stdout carries JSON.
fn progress(printer: &Printer, text: &str) {
    match printer.format() {
        Format::Text => printer.line(text),
        Format::Json => printer.note(text),
    }
}

/// Reads a saved plan.
fn load_plan(path: &Path) -> Result<Plan, UserError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        UserError::new(format!("cannot read the plan {}: {e}", path.display()))
            .with_hint("pass the file written by `idgit plan --out FILE`")
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        UserError::new(format!("{}:{}: not a plan: {e}", path.display(), e.line()))
            .with_hint("pass the file written by `idgit plan --out FILE`")
    })?;
    let version = value.get("formatVersion").and_then(Value::as_u64);
    if version != Some(u64::from(plan::FORMAT_VERSION)) {
        return Err(UserError::new(format!(
            "{}: plan format {} is not supported (this idgit reads format {})",
            path.display(),
            version.map_or("unknown".to_string(), |v| v.to_string()),
            plan::FORMAT_VERSION
        ))
        .with_hint("make the plan again with this version of idgit"));
    }
    let plan: Plan = serde_json::from_value(value).map_err(|e| {
        UserError::new(format!("{}: not a plan: {e}", path.display()))
            .with_hint("pass the file written by `idgit plan --out FILE`, unedited")
    })?;
    // A plan edited by hand would apply requests nobody reviewed as planned.
    if plan::fingerprint(&plan) != plan.plan_id {
        return Err(UserError::new(format!(
            "{}: the plan was changed after it was made",
            path.display()
        ))
        .with_hint(
            "make a new plan; to change what it does, change the YAML files and commit them",
        ));
    }
    for action in &plan.actions {
        if catalog::kind(&action.kind).is_none() {
            return Err(UserError::new(format!(
                "{}: action {} names an unknown kind {:?}",
                path.display(),
                action.number,
                action.kind
            ))
            .with_hint("make the plan again with this version of idgit"));
        }
    }
    Ok(plan)
}

/// A saved plan runs only against the tenant and the repository it was made from.
fn check_origin(plan: &Plan, path: &Path, settings: &BackupSettings) -> Result<(), UserError> {
    let tenant = &settings.connection.tenant;
    let same_tenant = match (&plan.tenant, tenant) {
        (Some(planned), Some(now)) => planned.eq_ignore_ascii_case(now),
        (planned, now) => planned == now,
    };
    if !same_tenant {
        return Err(UserError::new(format!(
            "{} was made for tenant {}, not {}",
            path.display(),
            plan.tenant.as_deref().unwrap_or("(none configured)"),
            tenant.as_deref().unwrap_or("(none configured)")
        ))
        .with_hint(
            "apply a plan only to the tenant it was made for; make a new plan for this one",
        ));
    }
    let store = restore::open_store(&settings.repo)?;
    let known = git2::Oid::from_str(&plan.desired.commit)
        .ok()
        .and_then(|oid| store.repository().find_commit(oid).ok())
        .is_some();
    if !known {
        return Err(UserError::new(format!(
            "{}: its revision {} is not in {}",
            path.display(),
            plan.desired.name,
            settings.repo.display()
        ))
        .with_hint(
            "run apply in the backup repository the plan was made from (--repo), after fetching it",
        ));
    }
    Ok(())
}

fn check_blockers(plan: &Plan, args: &ApplyArgs) -> Result<(), UserError> {
    let refused: Vec<&plan::Blocker> = plan
        .blockers
        .iter()
        .filter(|b| match b.allowed_by.as_str() {
            "--allow-lockout" => !args.allow_lockout,
            "--allow-mass-delete" => !args.allow_mass_delete,
            _ => true,
        })
        .collect();
    match refused.first() {
        None => Ok(()),
        Some(first) => {
            let more = if refused.len() > 1 {
                format!(" (and {} more reasons)", refused.len() - 1)
            } else {
                String::new()
            };
            Err(
                UserError::new(format!("refusing to apply: {}{more}", first.text)).with_hint(
                    format!(
                        "fix the desired state, or pass {} if you are sure; nothing was changed",
                        first.allowed_by
                    ),
                ),
            )
        }
    }
}

fn confirm(
    plan: &Plan,
    args: &ApplyArgs,
    session: &Session,
    printer: &Printer,
) -> Result<(), UserError> {
    if args.yes {
        return Ok(());
    }
    let tenant = session
        .settings
        .connection
        .tenant
        .clone()
        .unwrap_or_else(|| "the tenant".into());
    if !std::io::stdin().is_terminal() {
        return Err(UserError::new(format!(
            "apply needs confirmation to change {tenant}, and there is no terminal to ask"
        ))
        .with_hint("review the plan and pass --yes"));
    }
    printer.note(&format!(
        "Apply {} action{} to {tenant}? Type yes to go on:",
        plan.actions.len(),
        if plan.actions.len() == 1 { "" } else { "s" }
    ));
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    if answer.trim().eq_ignore_ascii_case("yes") {
        Ok(())
    } else {
        Err(UserError::new("apply cancelled; nothing was changed"))
    }
}

/// Refuses a saved plan when an object it touches changed since it was made. Objects
/// that an earlier run of this plan already changed are not checked: their change is
/// this plan's own.
async fn refuse_stale(session: &Session, plan: &Plan, journal: &Journal) -> Result<(), UserError> {
    let done = journal.done(&plan.plan_id);
    let touched_by_done: BTreeSet<(&str, String)> = plan
        .actions
        .iter()
        .filter(|a| done.contains(&a.number))
        .map(|a| (a.kind.as_str(), a.object_id.to_ascii_lowercase()))
        .collect();
    let checks = plan
        .preconditions
        .iter()
        .filter(|p| !touched_by_done.contains(&(p.kind.as_str(), p.id.to_ascii_lowercase())))
        .map(|p| async move {
            let kind = catalog::kind(&p.kind)
                .ok_or_else(|| UserError::new(format!("unknown kind {}", p.kind)))?;
            let filter = session
                .settings
                .filters
                .get(kind.name)
                .cloned()
                .unwrap_or_default();
            let live = backup::read_one(&session.client, kind, &p.id, &filter).await?;
            let blob = live.map(|doc| {
                let bytes = backup::file_content(kind, &doc);
                git2::Oid::hash_object(git2::ObjectType::Blob, &bytes)
                    .map(|o| o.to_string())
                    .unwrap_or_default()
            });
            Ok::<_, UserError>((blob != p.live_blob).then(|| format!("{}/{}", p.kind, p.id)))
        });
    let moved: Vec<String> = stream::iter(checks)
        .buffered(session.settings.client.max_concurrency)
        .try_collect::<Vec<Option<String>>>()
        .await?
        .into_iter()
        .flatten()
        .collect();
    if moved.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = moved.iter().take(5).map(String::as_str).collect();
    let more = if moved.len() > 5 {
        format!(" and {} more", moved.len() - 5)
    } else {
        String::new()
    };
    Err(UserError::new(format!(
        "the plan is stale: the tenant changed since it was made ({}{more})",
        shown.join(", ")
    ))
    .with_hint(format!(
        "make a new plan with `idgit plan --at {} --out FILE`; nothing was changed",
        plan.desired.name
    )))
}

struct ApplyOutcome {
    failed: usize,
    skipped: usize,
    results: Vec<ActionResult>,
}

/// What became of one action.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ActionResult {
    number: usize,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
enum Status {
    Done,
    /// An earlier run of the same plan did it.
    DoneEarlier,
    /// The goal already held: the member was there, the object already gone.
    AlreadyDone,
    Failed,
    /// An action it depends on did not succeed.
    Skipped,
}

async fn execute(
    session: &Session,
    plan: &Plan,
    journal: &mut Journal,
    printer: &Printer,
) -> Result<ApplyOutcome, UserError> {
    let done = journal.done(&plan.plan_id);
    let total = plan.actions.len();
    let mut not_done: BTreeSet<usize> = BTreeSet::new();
    let (mut failed, mut skipped) = (0, 0);
    let mut results = Vec::new();
    for action in &plan.actions {
        let noun = catalog::kind(&action.kind).map(crate::report::noun);
        let label = format!(
            "[{}/{total}] {} {} \"{}\": {}",
            action.number,
            action.action.verb(),
            noun.as_deref().unwrap_or(&action.kind),
            action.name,
            action.description
        );
        let (status, error) = if done.contains(&action.number) {
            progress(printer, &format!("{label}: done earlier"));
            (Status::DoneEarlier, None)
        } else if let Some(dependency) = action.depends_on.iter().find(|d| not_done.contains(d)) {
            not_done.insert(action.number);
            skipped += 1;
            progress(
                printer,
                &format!("{label}: skipped, action {dependency} did not succeed"),
            );
            (Status::Skipped, None)
        } else {
            match run_action(session, action, journal).await {
                Ok(result) => {
                    journal.mark_done(&plan.plan_id, action.number);
                    journal.save()?;
                    progress(printer, &format!("{label}: {result}"));
                    let status = if result == "done" {
                        Status::Done
                    } else {
                        Status::AlreadyDone
                    };
                    (status, None)
                }
                Err(error) => {
                    not_done.insert(action.number);
                    failed += 1;
                    progress(printer, &format!("{label}: FAILED: {error}"));
                    (Status::Failed, Some(error))
                }
            }
        };
        results.push(ActionResult {
            number: action.number,
            status,
            error,
        });
    }
    Ok(ApplyOutcome {
        failed,
        skipped,
        results,
    })
}

/// Sends one action's request. Returns what happened, in words.
async fn run_action(
    session: &Session,
    action: &PlannedAction,
    journal: &mut Journal,
) -> Result<&'static str, String> {
    let kind =
        catalog::kind(&action.kind).ok_or_else(|| format!("unknown kind {}", action.kind))?;
    let mut url = fill_placeholders(&action.request.url, journal)?;
    if let Some((prefix, principal, role)) = assignment_in(&url) {
        match find_assignment(session, &prefix, &principal, &role).await? {
            Some(id) => url = format!("{prefix}/{id}"),
            None => return Ok("already absent"),
        }
    }
    let mut body = match &action.request.body {
        Some(body) => Some(
            serde_json::from_str::<Value>(&fill_placeholders(&body.to_string(), journal)?)
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    if action.sets_random_password {
        if let Some(Value::Object(map)) = &mut body {
            map.insert(
                "passwordProfile".into(),
                serde_json::json!({"forceChangePasswordNextSignIn": true, "password": random_password()}),
            );
        }
    }
    let answer = session
        .client
        .send(&action.request.method, &url, body.as_ref())
        .await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => return already_done(action, &error).ok_or_else(|| describe(&error)),
    };
    if action.action == ActionType::Recreate {
        {
            let answer = answer.unwrap_or(Value::Null);
            let new_id = answer
                .get("id")
                .and_then(Value::as_str)
                .ok_or("Graph created the object but returned no id")?;
            let old_id = action
                .creates
                .clone()
                .unwrap_or_else(|| action.object_id.clone());
            let app_id = action.creates_app_id.clone().and_then(|old| {
                let new = answer.get("appId")?.as_str()?.to_string();
                Some((old, new))
            });
            journal.new_ids.insert(
                old_id.to_ascii_lowercase(),
                NewId {
                    kind: kind.name.into(),
                    new_id: new_id.to_string(),
                    app_id,
                },
            );
        }
    }
    let report_only = kind.name == "conditional-access-policies"
        && body
            .as_ref()
            .and_then(|b| b.get("state"))
            .and_then(Value::as_str)
            == Some(plan::REPORT_ONLY);
    if report_only {
        let id = match action.action {
            ActionType::Recreate => journal
                .new_ids
                .get(&action.object_id.to_ascii_lowercase())
                .map(|n| n.new_id.clone())
                .unwrap_or_default(),
            _ => action.object_id.clone(),
        };
        journal.report_only.insert(id.to_ascii_lowercase());
    }
    Ok("done")
}

/// A failure that means the action's goal already holds: the member is already there,
/// or the object already gone. Re-runs of an interrupted apply meet these.
fn already_done(action: &PlannedAction, error: &GraphError) -> Option<&'static str> {
    let message = error.message.to_ascii_lowercase();
    match action.action {
        ActionType::AddRelationship
            if error.status == Some(400)
                && (message.contains("already exist") || message.contains("already exists")) =>
        {
            Some("already present")
        }
        ActionType::RemoveRelationship
            if error.kind == ErrorKind::NotFound || message.contains("do not exist") =>
        {
            Some("already absent")
        }
        ActionType::Delete if error.kind == ErrorKind::NotFound => Some("already deleted"),
        _ => None,
    }
}

fn describe(error: &GraphError) -> String {
    error.to_string()
}

/// Replaces `${new-id:OLD}` and `${new-appid:OLD}` with what the journal recorded when
/// the object was re-created.
fn fill_placeholders(text: &str, journal: &Journal) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${new-") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find('}').ok_or("a placeholder is not closed")?;
        let token = &tail[2..end];
        let (what, old) = token.split_once(':').ok_or("a placeholder has no ID")?;
        let entry = journal
            .new_ids
            .get(&old.to_ascii_lowercase())
            .ok_or_else(|| format!("the object {old} has not been re-created yet"))?;
        match what {
            "new-id" => out.push_str(&entry.new_id),
            "new-appid" => out.push_str(
                entry
                    .app_id
                    .as_ref()
                    .map(|(_, new)| new.as_str())
                    .ok_or_else(|| format!("no new appId recorded for {old}"))?,
            ),
            other => return Err(format!("unknown placeholder {other}")),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `(".../appRoleAssignedTo", principal, role)` for a URL ending in an assignment
/// placeholder.
fn assignment_in(url: &str) -> Option<(String, String, String)> {
    let start = url.find("${assignment:")?;
    let token = url[start + 13..].strip_suffix('}')?;
    let (principal, role) = token.split_once(':')?;
    Some((
        url[..start].trim_end_matches('/').to_string(),
        principal.to_string(),
        role.to_string(),
    ))
}

async fn find_assignment(
    session: &Session,
    collection: &str,
    principal: &str,
    role: &str,
) -> Result<Option<String>, String> {
    let items = session
        .client
        .get_all(&format!("{collection}?$select=id,principalId,appRoleId"))
        .await
        .map_err(|e| describe(&e))?;
    Ok(items.into_iter().find_map(|item| {
        let matches = item
            .get("principalId")
            .and_then(Value::as_str)
            .is_some_and(|p| p.eq_ignore_ascii_case(principal))
            && item
                .get("appRoleId")
                .and_then(Value::as_str)
                .is_some_and(|r| r.eq_ignore_ascii_case(role));
        matches
            .then(|| item.get("id").and_then(Value::as_str).map(str::to_string))
            .flatten()
    }))
}

/// A password for a re-created user: random, meeting Entra's complexity rules, never
/// shown, logged or stored. The user resets it.
fn random_password() -> String {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!("{}!{}#{}", &a[..12], &b[..12], &a[12..16])
}

/// Re-plans the selection against the tenant as it now is.
async fn verify(session: &Session, plan: &Plan, printer: &Printer) -> Result<Outcome, UserError> {
    let spec = PlanSpec {
        at: plan.desired.commit.clone(),
        only: plan.selection.clone(),
        prune: plan.prune,
        ca_report_only: plan.ca_report_only,
    };
    let again = session.plan(&spec, printer).await?;
    if again.plan.is_empty() {
        let short = &plan.desired.commit[..plan.desired.commit.len().min(12)];
        let revision = if plan.desired.commit.starts_with(&plan.desired.name) {
            short.to_string()
        } else {
            format!("{} ({short})", plan.desired.name)
        };
        progress(
            printer,
            &format!(
                "Applied {} actions. Verified: the tenant matches {revision} for this selection.",
                plan.actions.len()
            ),
        );
        return Ok(Outcome::Success);
    }
    if printer.format() == Format::Text {
        printer.document(&render::render_plan_actions(&again.plan, printer.color()));
    }
    Err(UserError::new(format!(
        "the tenant still differs after apply: a new plan has {} actions",
        again.plan.actions.len()
    ))
    .with_hint(format!(
        "run `idgit plan --at {}` to see them; Graph can take a moment to show a change everywhere, so try again first",
        plan.desired.name
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_from_the_journal() {
        let mut journal = Journal::default();
        journal.new_ids.insert(
            "old".into(),
            NewId {
                kind: "applications".into(),
                new_id: "NEW".into(),
                app_id: Some(("oldapp".into(), "NEWAPP".into())),
            },
        );
        assert_eq!(
            fill_placeholders("/groups/${new-id:OLD}/members ${new-appid:old}", &journal).unwrap(),
            "/groups/NEW/members NEWAPP"
        );
        assert!(fill_placeholders("${new-id:other}", &journal)
            .unwrap_err()
            .contains("not been re-created"));
    }

    #[test]
    fn assignment_placeholders_name_principal_and_role() {
        assert_eq!(
            assignment_in("/servicePrincipals/s/appRoleAssignedTo/${assignment:p:r}"),
            Some((
                "/servicePrincipals/s/appRoleAssignedTo".into(),
                "p".into(),
                "r".into()
            ))
        );
    }

    #[test]
    fn random_passwords_differ_and_mix_character_classes() {
        let (a, b) = (random_password(), random_password());
        assert_ne!(a, b);
        assert!(
            a.chars().any(|c| c.is_ascii_uppercase())
                && a.chars()
                    .any(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert!(a.contains('!'));
    }
}
