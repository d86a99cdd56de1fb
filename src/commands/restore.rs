//! What `plan` and `apply` share: the desired state from a revision, the live state
//! from Graph, and the plan between them. The I/O edge around the pure `plan` module.
//!
//! Cost follows the change, not the tenant: the live tenant is read into an in-memory
//! tree exactly as a backup would write it, and git's tree diff against the desired
//! revision finds the objects whose files differ. Only those are parsed and planned.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use git2::{Oid, Repository, Tree};
use serde_json::Value;

use crate::catalog::{Kind, Shape};
use crate::commands::backup::{self, BackupSettings, CompareRequest, ConnectionArgs, WriterMode};
use crate::diff::{self, ChangeSet, Version};
use crate::error::UserError;
use crate::graph::{ErrorKind, GraphClient};
use crate::journal::Journal;
use crate::names::Names;
use crate::output::Printer;
use crate::plan::{
    self, lockout, DesiredRevision, LiveState, ObjectState, Plan, PlanInput, PlanOptions,
};
use crate::report::{self, Report, Revision};
use crate::selector::{self, Selector};
use crate::store::Store;
use crate::{history, layout, normalize};

/// Flags that say what to restore, shared by `plan` and `apply`.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// The backup repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Limit the plan to these kinds or objects: KIND, KIND/<id-or-name>, an object ID
    /// or a file path. Repeatable.
    #[arg(long = "only", value_name = "SELECTOR")]
    pub only: Vec<String>,
    /// Also delete objects that exist live but not in the desired state (objects named
    /// with --only are deleted without it).
    #[arg(long)]
    pub prune: bool,
    /// Bring restored or re-created conditional access policies back in report-only
    /// mode, as Microsoft recommends, instead of enforcing them at once.
    #[arg(long)]
    pub ca_report_only: bool,
    /// Requests to Graph in flight at once while reading.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// What to plan: a revision and a selection.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSpec {
    pub at: String,
    pub only: Vec<String>,
    pub prune: bool,
    pub ca_report_only: bool,
}

/// A signed-in connection to a tenant and its backup repository.
pub struct Session {
    pub settings: BackupSettings,
    pub client: GraphClient,
    pub git_dir: PathBuf,
}

/// A plan, with the change report it was made from.
pub struct Planned {
    pub plan: Plan,
    pub report: Report,
}

impl Session {
    pub async fn open(args: &TargetArgs) -> Result<Session, UserError> {
        Session::with_settings(resolve(args)?).await
    }

    /// A session for settings made in code (the demo), signing in now.
    pub async fn with_settings(settings: BackupSettings) -> Result<Session, UserError> {
        let store = open_store(&settings.repo)?;
        let git_dir = store.repository().path().to_path_buf();
        drop(store);
        let client = backup::sign_in(&settings).await?;
        Ok(Session {
            settings,
            client,
            git_dir,
        })
    }

    pub fn journal(&self) -> Result<Journal, UserError> {
        Journal::load(&self.git_dir)
    }

    /// Reads what is needed and plans.
    pub async fn plan(&self, spec: &PlanSpec, printer: &Printer) -> Result<Planned, UserError> {
        let store = open_store(&self.settings.repo)?;
        let repo = store.repository();
        let commit = history::commit(repo, &spec.at)?;
        let desired_tree = commit.tree().map_err(git)?;
        if spec.at == "HEAD" {
            warn_uncommitted(&store, printer);
        }
        let scope = Scope::resolve(repo, &desired_tree, &spec.only, &self.settings.kinds)?;
        let journal = self.journal()?;
        let id_map = journal.id_map();

        // Live state: whole kinds through the backup's reader, single objects by ID.
        let mut compared = Vec::new();
        if !scope.kinds.is_empty() {
            let mut settings = self.settings.clone();
            settings.kinds = scope.kinds.clone();
            let writer =
                backup::read_tenant(&settings, &self.client, printer, WriterMode::Preview).await?;
            compared = writer
                .compare(CompareRequest {
                    kinds: scope.kinds.clone(),
                    desired_tree: desired_tree.id(),
                })
                .await?;
        }
        let mut states = Vec::new();
        for entry in compared {
            states.push(Pending {
                kind: entry.kind,
                id: entry.id,
                desired: entry.desired.map(|f| (f.path, f.bytes)),
                live: entry.live.map(|f| (f.path, f.blob, f.bytes)),
            });
        }
        for (kind, id) in &scope.objects {
            let desired = find_file(repo, &desired_tree, kind, id)?
                .map(|(path, blob)| read_bytes(repo, blob).map(|bytes| (path, bytes)))
                .transpose()?;
            let live_id = id_map
                .get(&id.to_ascii_lowercase())
                .cloned()
                .unwrap_or_else(|| id.clone());
            let filter = self.filter(kind);
            let live = backup::read_one(&self.client, kind, &live_id, &filter)
                .await?
                .map(|doc| {
                    let bytes = backup::file_content(kind, &doc);
                    let blob =
                        Oid::hash_object(git2::ObjectType::Blob, &bytes).unwrap_or(Oid::ZERO_SHA1);
                    (layout::object_path(kind, &doc), blob, bytes)
                });
            let same = matches!((&desired, &live), (Some((_, d)), Some((_, _, l))) if d == l);
            if !same {
                // An object an earlier apply re-created is planned under its new ID.
                let id = if live.is_some() { live_id } else { id.clone() };
                states.push(Pending {
                    kind,
                    id,
                    desired,
                    live,
                });
            }
        }
        let states = pair_recreated(states, &id_map);

        // Everything else needs parsing: desired files are checked first, so a bad
        // hand edit is reported with its line before anything is planned.
        let mut objects = Vec::new();
        for pending in states {
            let desired = pending
                .desired
                .map(|(path, bytes)| {
                    check_desired(pending.kind, &path, &bytes, &self.filter(pending.kind))?;
                    parse(pending.kind, &path, &bytes, &id_map)
                })
                .transpose()?;
            let live = match pending.live {
                Some((path, blob, bytes)) => LiveState::Present {
                    version: parse(pending.kind, &path, &bytes, &BTreeMap::new())?,
                    blob: blob.to_string(),
                },
                None if desired.is_some() => LiveState::Gone,
                None => continue,
            };
            objects.push(ObjectState {
                kind: pending.kind,
                id: pending.id,
                desired,
                live,
            });
        }
        self.look_in_recycle_bins(&mut objects).await?;
        if !scope.kinds.is_empty() {
            add_referencing_objects(repo, &desired_tree, &scope.kinds, &mut objects, &id_map)?;
        }

        let config = &self.settings.config;
        let directory = lockout_facts(
            repo,
            &desired_tree,
            &objects,
            &config.safety.break_glass_accounts,
        )?;
        let named = scope
            .objects
            .iter()
            .map(|(_, id)| id.to_ascii_lowercase())
            .collect();
        let changes = ChangeSet::new(
            objects
                .iter()
                .filter_map(|o| {
                    // A deleted object is absent from the tenant, wherever it waits: the report
                    // shows it as added back.
                    let live = match &o.live {
                        LiveState::Present { version, .. } => Some(version.clone()),
                        LiveState::InRecycleBin { .. } | LiveState::Gone => None,
                    };
                    diff::compare(o.kind, &o.id, live, o.desired.clone())
                })
                .collect(),
        );
        let names = Names::for_changes(repo, &[&desired_tree], &changes);
        let desired = DesiredRevision {
            name: spec.at.clone(),
            commit: commit.id().to_string(),
        };
        let report = report::build(
            &changes,
            &names,
            &crate::audit::Links::new(),
            Some(Revision {
                name: "live tenant".into(),
                commit: None,
                date: None,
                subject: None,
            }),
            super::diff::revision(&spec.at, &commit),
        );
        let known_names = names
            .object_names()
            .map(|(id, name)| (id.to_string(), name.to_string()))
            .collect();
        let mut plan = plan::plan(PlanInput {
            tenant: self.settings.connection.tenant.clone(),
            desired,
            selection: spec.only.clone(),
            objects,
            directory,
            options: PlanOptions {
                prune: spec.prune,
                named,
                ca_report_only: spec.ca_report_only,
                kept_report_only: journal.report_only.clone(),
                graph_url: self.settings.connection.graph_url.clone(),
                max_deletes: config.safety.max_deletes,
            },
            names: known_names,
        });
        if scope.kinds.is_empty() {
            // References elsewhere are found by reading whole kinds, which --only skips.
            for entry in &plan.remapped {
                plan.notes.push(plan::Note {
                    kind: entry.kind.clone(),
                    id: entry.old_id.clone(),
                    name: entry.name.clone(),
                    text: "gets a new ID; references to it in objects outside --only are not rewritten: add their kinds to --only".into(),
                });
            }
        }
        Ok(Planned { plan, report })
    }

    fn filter(&self, kind: &Kind) -> normalize::PropertyFilter {
        self.settings
            .filters
            .get(kind.name)
            .cloned()
            .unwrap_or_default()
    }

    /// For every object the desired state has and the tenant lacks: is it in a recycle
    /// bin? A failed lookup fails the plan: it must never pass for "gone for good",
    /// which would re-create an object that could have kept its ID.
    async fn look_in_recycle_bins(&self, objects: &mut [ObjectState]) -> Result<(), UserError> {
        let missing: Vec<usize> = objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.desired.is_some() && o.live == LiveState::Gone)
            .map(|(i, _)| i)
            .collect();
        let lookups = missing.iter().map(|&i| {
            let kind = objects[i].kind;
            let id = objects[i].id.clone();
            let filter = self.filter(kind);
            async move {
                let Some(url) = kind.recycle_bin_url(&id) else {
                    return Ok((i, None));
                };
                match self.client.get_json(&url).await {
                    Ok(raw) => {
                        let doc = normalize::normalize(
                            kind,
                            raw,
                            normalize::RawRelationships::new(),
                            &filter,
                        )
                        .map_err(|e| {
                            UserError::new(format!(
                                "cannot read deleted {} {id}: malformed Graph response: {e}",
                                kind.singular
                            ))
                        })?;
                        Ok((
                            i,
                            Some(Version {
                                path: layout::object_path(kind, &doc),
                                content: doc.content,
                            }),
                        ))
                    }
                    Err(error) if error.kind == ErrorKind::NotFound => Ok((i, None)),
                    Err(error) => Err(UserError::new(format!(
                        "cannot look for deleted {} {id} in the recycle bin: {error}",
                        kind.singular
                    ))
                    .with_hint(error.hint().unwrap_or_else(|| {
                        format!(
                            "grant {} to the app registration; nothing was planned",
                            kind.write_permission
                        )
                    }))),
                }
            }
        });
        let found: Vec<(usize, Option<Version>)> = stream::iter(lookups)
            .buffer_unordered(self.settings.client.max_concurrency)
            .try_collect()
            .await?;
        for (i, version) in found {
            if let Some(version) = version {
                objects[i].live = LiveState::InRecycleBin { version };
            }
        }
        Ok(())
    }
}

/// The settings `plan` and `apply` run with: the repository's idgit.yaml, the flags and
/// the environment, resolved as for a backup.
pub fn resolve(args: &TargetArgs) -> Result<BackupSettings, UserError> {
    backup::resolve_reader(&args.repo, None, args.concurrency, &args.connection)
}

/// What `--only` selects: whole kinds, and single objects (kind, ID).
struct Scope {
    kinds: Vec<&'static Kind>,
    objects: Vec<(&'static Kind, String)>,
}

impl Scope {
    fn resolve(
        repo: &Repository,
        tree: &Tree<'_>,
        only: &[String],
        configured: &[&'static Kind],
    ) -> Result<Scope, UserError> {
        if only.is_empty() {
            return Ok(Scope {
                kinds: configured.to_vec(),
                objects: Vec::new(),
            });
        }
        let mut kinds: Vec<&'static Kind> = Vec::new();
        let mut objects: Vec<(&'static Kind, String)> = Vec::new();
        for text in only {
            let selector = selector::parse(text);
            match &selector {
                Selector::Kind(kind) => {
                    if !kinds.contains(kind) {
                        kinds.push(kind);
                    }
                }
                Selector::Object {
                    kind: Some(kind),
                    key,
                } if is_object_id(key) => {
                    // An ID may name an object the desired state lacks: one to delete.
                    match selector::resolve(repo, tree, &selector) {
                        Ok(found) => objects.extend(found.into_iter().map(|f| (f.kind, f.id))),
                        Err(_) => objects.push((kind, key.clone())),
                    }
                }
                _ => {
                    let found = selector::resolve(repo, tree, &selector).map_err(|e| {
                        let hint = "to delete an object the revision does not have, name it as KIND/<object-id>";
                        UserError::new(format!("--only {text}: {}", e.message)).with_hint(hint)
                    })?;
                    objects.extend(found.into_iter().map(|f| (f.kind, f.id)));
                }
            }
        }
        // Catalog order, so that the plan does not depend on the order of the flags.
        kinds.sort_by_key(|k| crate::catalog::KINDS.iter().position(|c| c.name == k.name));
        objects.retain(|(kind, _)| !kinds.contains(kind));
        objects.sort_by(|a, b| (a.0.name, &a.1).cmp(&(b.0.name, &b.1)));
        objects.dedup_by(|a, b| a.0.name == b.0.name && a.1 == b.1);
        Ok(Scope { kinds, objects })
    }
}

fn is_object_id(key: &str) -> bool {
    uuid::Uuid::parse_str(key).is_ok()
}

/// One object on its way to being planned: the raw files on both sides.
struct Pending {
    kind: &'static Kind,
    id: String,
    desired: Option<(String, Vec<u8>)>,
    live: Option<(String, Oid, Vec<u8>)>,
}

/// Pairs each re-created object's old ID in the desired state with the new object, as
/// the journal recorded it. Without this, a second plan would create it once more.
fn pair_recreated(states: Vec<Pending>, id_map: &BTreeMap<String, String>) -> Vec<Pending> {
    if id_map.is_empty() {
        return states;
    }
    let mut live_only: BTreeMap<String, Pending> = BTreeMap::new();
    let mut rest = Vec::new();
    for state in states {
        if state.desired.is_none() {
            live_only.insert(state.id.to_ascii_lowercase(), state);
        } else {
            rest.push(state);
        }
    }
    for state in &mut rest {
        if state.live.is_some() {
            continue;
        }
        let Some(new_id) = id_map.get(&state.id.to_ascii_lowercase()) else {
            continue;
        };
        if let Some(found) = live_only.remove(&new_id.to_ascii_lowercase()) {
            state.id = found.id;
            state.live = found.live;
        }
    }
    rest.extend(live_only.into_values());
    rest
}

/// Checks a desired file against its kind's schema: a hand edit with a wrong value is
/// reported with its line, before anything is planned.
fn check_desired(
    kind: &'static Kind,
    path: &str,
    bytes: &[u8],
    filter: &normalize::PropertyFilter,
) -> Result<(), UserError> {
    let findings = crate::validate::validate_bytes(kind, path, bytes, filter);
    let errors: Vec<&crate::validate::Finding> = findings.iter().filter(|f| f.is_error()).collect();
    match errors.first() {
        None => Ok(()),
        Some(first) => {
            let more = match errors.len() {
                1 => String::new(),
                n => format!(" (and {} more errors)", n - 1),
            };
            Err(UserError::new(format!("{first}{more}"))
                .with_hint("fix the file and commit it; `idgit validate` lists every problem; nothing was planned"))
        }
    }
}

/// Parses a stored file, pointing references to re-created objects at their new IDs.
fn parse(
    kind: &'static Kind,
    path: &str,
    bytes: &[u8],
    id_map: &BTreeMap<String, String>,
) -> Result<Version, UserError> {
    let content = history::parse_version(path, bytes)?.content;
    if !content.get("properties").is_some_and(Value::is_object) {
        return Err(
            UserError::new(format!("{path}:1: no `properties:` mapping")).with_hint(
                "an object file holds `properties:` and, for some kinds, `relationships:`",
            ),
        );
    }
    let content = normalize::canonicalize(kind, plan::body::remap(&content, id_map));
    Ok(Version {
        path: path.to_string(),
        content,
    })
}

/// Adds the unchanged objects whose references point at objects that will get new IDs
/// (re-created now, or by an earlier apply), so that the plan rewrites those references.
/// It reads every file of the kinds that can refer to others, but only when something
/// is re-created, which is rare.
fn add_referencing_objects(
    repo: &Repository,
    tree: &Tree<'_>,
    kinds: &[&'static Kind],
    objects: &mut Vec<ObjectState>,
    id_map: &BTreeMap<String, String>,
) -> Result<(), UserError> {
    // IDs that change: objects re-created now, and objects an earlier apply re-created
    // whose old files this revision still has (they were paired with the new objects).
    let mut old_ids: BTreeSet<String> = BTreeSet::new();
    for object in objects.iter() {
        let Some(desired) = &object.desired else {
            continue;
        };
        if object.live == LiveState::Gone {
            old_ids.insert(object.id.to_ascii_lowercase());
        }
        if let Some(file_id) = history::id_of_path(object.kind, &desired.path) {
            let file_id = file_id.to_ascii_lowercase();
            if file_id != object.id.to_ascii_lowercase() && id_map.contains_key(&file_id) {
                old_ids.insert(file_id);
            }
        }
    }
    if old_ids.is_empty() {
        return Ok(());
    }
    // Objects already planned, under their IDs and under the IDs of their desired files
    // (which differ for objects an earlier apply re-created).
    let mut known: BTreeSet<(&'static str, String)> = BTreeSet::new();
    for object in objects.iter() {
        known.insert((object.kind.name, object.id.to_ascii_lowercase()));
        if let Some(id) = object
            .desired
            .as_ref()
            .and_then(|d| history::id_of_path(object.kind, &d.path))
        {
            known.insert((object.kind.name, id.to_ascii_lowercase()));
        }
    }
    let mut added = Vec::new();
    for kind in kinds
        .iter()
        .filter(|k| !k.references.is_empty() || !k.relationships.is_empty())
    {
        for (id, path, blob) in files_of(repo, tree, kind) {
            if known.contains(&(kind.name, id.to_ascii_lowercase())) {
                continue;
            }
            let bytes = read_bytes(repo, blob)?;
            let text = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
            if !old_ids.iter().any(|old| text.contains(old.as_str())) {
                continue;
            }
            // Unchanged: the live file is this very blob.
            let live = parse(kind, &path, &bytes, &BTreeMap::new())?;
            let desired = parse(kind, &path, &bytes, id_map)?;
            added.push(ObjectState {
                kind,
                id,
                desired: Some(desired),
                live: LiveState::Present {
                    version: live,
                    blob: blob.to_string(),
                },
            });
        }
    }
    objects.extend(added);
    Ok(())
}

/// What the lockout guard needs: break-glass accounts as IDs, which excluded users are
/// disabled, and who is in the excluded groups, all from the desired state.
fn lockout_facts(
    repo: &Repository,
    tree: &Tree<'_>,
    objects: &[ObjectState],
    break_glass: &[String],
) -> Result<lockout::Directory, UserError> {
    let mut directory = lockout::Directory::default();
    let policies: Vec<&Value> = objects
        .iter()
        .filter(|o| o.kind.name == "conditional-access-policies")
        .filter_map(|o| o.desired.as_ref().map(|d| &d.content))
        .collect();
    if policies.is_empty() {
        return Ok(directory);
    }
    let users = crate::catalog::kind("users").expect("users is a kind");
    let groups = crate::catalog::kind("groups").expect("groups is a kind");
    for account in break_glass {
        if is_object_id(account) {
            directory.break_glass.push(account.to_ascii_lowercase());
            continue;
        }
        // A user principal name: the file name's slug comes from it.
        let slug = layout::slugify(account);
        let found = files_of(repo, tree, users)
            .into_iter()
            .find(|(_, path, _)| {
                path.rsplit('/')
                    .next()
                    .is_some_and(|name| name.starts_with(&format!("{slug}.")))
            });
        match found {
            Some((id, _, _)) => directory.break_glass.push(id.to_ascii_lowercase()),
            None => {
                return Err(UserError::new(format!(
                    "safety.breakGlassAccounts in idgit.yaml names {account}, which is not a user in the desired state"
                ))
                .with_hint("name the emergency accounts by object ID or user principal name, as backed up"))
            }
        }
    }
    let list =
        |policy: &Value, key: &str| ids_at(policy, &format!("/properties/conditions/users/{key}"));
    for policy in policies {
        for user in list(policy, "excludeUsers") {
            if let Some((path, blob)) = find_file(repo, tree, users, &user)? {
                let version = parse(users, &path, &read_bytes(repo, blob)?, &BTreeMap::new())?;
                if version.content.pointer("/properties/accountEnabled")
                    == Some(&Value::Bool(false))
                {
                    directory.disabled_users.insert(user);
                }
            }
        }
        for group in list(policy, "excludeGroups") {
            if let Some((path, blob)) = find_file(repo, tree, groups, &group)? {
                let version = parse(groups, &path, &read_bytes(repo, blob)?, &BTreeMap::new())?;
                let members = ids_at(&version.content, "/relationships/members");
                directory
                    .group_members
                    .insert(group, members.into_iter().collect());
            }
        }
    }
    Ok(directory)
}

/// The strings of the array at a JSON pointer, lower-cased: object IDs to compare.
fn ids_at(value: &Value, pointer: &str) -> Vec<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

/// Every object file of a kind in a tree: (ID, path, blob).
fn files_of(repo: &Repository, tree: &Tree<'_>, kind: &'static Kind) -> Vec<(String, String, Oid)> {
    match kind.shape {
        Shape::Singleton { file, id, .. } => tree
            .get_path(std::path::Path::new(file))
            .map(|e| vec![(id.to_string(), file.to_string(), e.id())])
            .unwrap_or_default(),
        Shape::Collection { dir, .. } => {
            let Ok(entry) = tree.get_path(std::path::Path::new(dir)) else {
                return Vec::new();
            };
            let Ok(subtree) = repo.find_tree(entry.id()) else {
                return Vec::new();
            };
            subtree
                .iter()
                .filter_map(|e| {
                    let name = e.name().ok()?;
                    let id = layout::id_from_file_name(name)?;
                    Some((id.to_string(), format!("{dir}/{name}"), e.id()))
                })
                .collect()
        }
    }
}

/// The file of one object in a tree, by ID.
fn find_file(
    repo: &Repository,
    tree: &Tree<'_>,
    kind: &'static Kind,
    id: &str,
) -> Result<Option<(String, Oid)>, UserError> {
    Ok(files_of(repo, tree, kind)
        .into_iter()
        .find(|(found, _, _)| found.eq_ignore_ascii_case(id))
        .map(|(_, path, blob)| (path, blob)))
}

fn read_bytes(repo: &Repository, blob: Oid) -> Result<Vec<u8>, UserError> {
    Ok(repo.find_blob(blob).map_err(git)?.content().to_vec())
}

pub fn open_store(dir: &std::path::Path) -> Result<Store, UserError> {
    match Store::open(dir) {
        Ok(Some(store)) => Ok(store),
        Ok(None) | Err(_) => Err(UserError::new(format!(
            "{} is not a backup repository",
            dir.display()
        ))
        .with_hint(format!(
            "run `idgit backup --repo {}` first, or pass --repo",
            dir.display()
        ))),
    }
}

/// Uncommitted edits are not part of a plan from HEAD: say so rather than surprise.
fn warn_uncommitted(store: &Store, printer: &Printer) {
    let paths: Vec<&str> = crate::catalog::KINDS
        .iter()
        .map(|k| k.repo_path())
        .collect();
    if store.ensure_clean(&paths).is_err() {
        printer.note("note: the work tree has uncommitted changes to object files; the plan uses the committed HEAD. Commit them to include them.");
    }
}

fn git(error: git2::Error) -> UserError {
    UserError::new(format!(
        "cannot read the backup repository: {}",
        error.message()
    ))
}
