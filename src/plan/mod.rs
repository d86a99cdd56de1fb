//! The planner: desired state and live state in, a plan out. Pure and deterministic.
//!
//! A plan is a closed list of actions, each with the exact Graph request it will send,
//! in the order they must run: named locations, users, groups, applications, service
//! principals, relationships, conditional access policies, tenant policies, and deletes
//! last. Reading either state is the caller's job (`commands::plan`); running the
//! actions is `apply`'s.
//!
//! How an object comes back depends on where it is:
//! - still live: PATCH the properties that differ;
//! - in a recycle bin: restore it, which keeps its ID, then PATCH what differs;
//! - gone for good: POST it anew. Graph gives it a new ID (and an application a new
//!   appId), which only exists once the POST has run, so every reference to the old ID
//!   in the plan is a placeholder (`${new-id:<old id>}`) that `apply` fills in.

pub mod body;
pub mod lockout;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalog::{self, Kind, RecycleBin, RelationshipItem};
use crate::diff::Version;

/// Version of the saved plan format; bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// The state Graph brings a restored or re-created conditional access policy back in
/// with `--ca-report-only`: evaluated and logged, never enforced.
pub const REPORT_ONLY: &str = "enabledForReportingButNotEnforced";

/// An object as the tenant has it now.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveState {
    /// Live, as a backup would store it; `blob` is the git blob ID of that file, the
    /// fingerprint a saved plan checks before it is applied.
    Present { version: Version, blob: String },
    /// Deleted, but in a recycle bin and restorable with its ID. `version` holds the
    /// properties the bin returned; its relationships are unknown.
    InRecycleBin { version: Version },
    /// Deleted for good, or never existed.
    Gone,
}

/// One object of the plan's scope, on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectState {
    pub kind: &'static Kind,
    pub id: String,
    pub desired: Option<Version>,
    pub live: LiveState,
}

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Delete objects that exist live but not in the desired state.
    pub prune: bool,
    /// Object IDs (lower case) the user named with `--only`: these may be deleted
    /// without `--prune`.
    pub named: BTreeSet<String>,
    /// Bring restored or re-created conditional access policies back in report-only mode.
    pub ca_report_only: bool,
    /// Policies an earlier apply restored in report-only mode, which stay so until an
    /// administrator enables them.
    pub kept_report_only: BTreeSet<String>,
    /// The service root (`https://graph.microsoft.com`), for `@odata.id` references.
    pub graph_url: String,
    /// More deletes than this are refused (a blocker), unless allowed.
    pub max_deletes: usize,
}

/// The revision whose state the plan restores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DesiredRevision {
    /// What the user named: `HEAD`, `HEAD~3`, a tag.
    pub name: String,
    pub commit: String,
}

pub struct PlanInput {
    /// The tenant the live state was read from, as configured (ID or domain).
    pub tenant: Option<String>,
    pub desired: DesiredRevision,
    /// The `--only` selectors as given, for the record.
    pub selection: Vec<String>,
    pub objects: Vec<ObjectState>,
    pub directory: lockout::Directory,
    pub options: PlanOptions,
    /// Names of objects outside the plan that its actions refer to (members, owners),
    /// by lower-case ID, for the descriptions.
    pub names: BTreeMap<String, String>,
}

/// A plan, as shown and as saved with `--out`. `schemas/plan.schema.json` documents it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub format_version: u32,
    /// A fingerprint of the desired revision, the actions and the live state they were
    /// planned against. The apply journal records progress under it.
    pub plan_id: String,
    /// The tenant the plan was made against; apply refuses another.
    pub tenant: Option<String>,
    pub desired: DesiredRevision,
    pub selection: Vec<String>,
    pub prune: bool,
    pub ca_report_only: bool,
    pub actions: Vec<PlannedAction>,
    /// The live state each touched object had when planned; a saved plan is refused
    /// when it has moved since.
    pub preconditions: Vec<Precondition>,
    /// Objects to be re-created, whose new IDs replace the old ones in references.
    pub remapped: Vec<Remap>,
    /// Objects that exist live but not in the desired state, left alone.
    pub kept: Vec<ObjectRef>,
    /// What the plan cannot do, or what someone must do afterwards.
    pub notes: Vec<Note>,
    /// Reasons to refuse the apply, each with the flag that overrides it.
    pub blockers: Vec<Blocker>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub kind: String,
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub kind: String,
    pub id: String,
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blocker {
    pub text: String,
    /// The `apply` flag that accepts the risk.
    pub allowed_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Precondition {
    pub kind: String,
    pub id: String,
    /// Git blob ID of the object's file as read when planning; `None`: not live.
    pub live_blob: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Remap {
    pub kind: String,
    pub old_id: String,
    pub name: String,
    /// What stands for the new ID in requests until the object exists.
    pub placeholder: String,
    /// Actions whose requests use the new ID.
    pub used_by: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ActionType {
    /// Restore from a recycle bin; the ID is kept.
    Undelete,
    /// POST anew; Graph assigns a new ID.
    Recreate,
    /// PATCH the properties that differ.
    Update,
    AddRelationship,
    RemoveRelationship,
    Delete,
}

impl ActionType {
    pub fn verb(self) -> &'static str {
        match self {
            ActionType::Undelete => "undelete",
            ActionType::Recreate => "recreate",
            ActionType::Update => "update",
            ActionType::AddRelationship => "add",
            ActionType::RemoveRelationship => "remove",
            ActionType::Delete => "delete",
        }
    }
}

/// One Graph request, exactly as `apply` sends it (after filling in placeholders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub method: String,
    /// Relative to the version root: `/users/{id}`.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedAction {
    /// 1-based position; `dependsOn` refers to it.
    pub number: usize,
    pub action: ActionType,
    pub kind: String,
    pub object_id: String,
    pub name: String,
    /// What it does, in words: `set department, jobTitle`, `add member "Alice"`.
    pub description: String,
    pub request: Request,
    /// Actions that must have succeeded first.
    #[serde(default)]
    pub depends_on: Vec<usize>,
    /// For a re-create: the old ID whose new ID this action yields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creates: Option<String>,
    /// For a re-created application: its old appId, which references use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creates_app_id: Option<String>,
    /// A re-created user needs a password; apply sets a random one it never shows or
    /// stores, and the user must reset it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sets_random_password: bool,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}

/// The placeholder for the new ID of a re-created object.
pub fn new_id_placeholder(old_id: &str) -> String {
    format!("${{new-id:{old_id}}}")
}

/// The placeholder for the new appId of a re-created application, by its old object ID.
pub fn new_app_id_placeholder(old_object_id: &str) -> String {
    format!("${{new-appid:{old_object_id}}}")
}

/// The placeholder for an app role assignment's ID, which Graph assigns and a backup
/// does not store: `apply` looks it up by principal and role.
pub fn assignment_placeholder(principal_id: &str, app_role_id: &str) -> String {
    format!("${{assignment:{principal_id}:{app_role_id}}}")
}

/// Builds the plan.
pub fn plan(input: PlanInput) -> Plan {
    let mut planner = Planner::new(&input);
    let mut objects: Vec<&ObjectState> = input.objects.iter().collect();
    objects.sort_by_key(|o| (kind_position(o.kind), o.id.to_ascii_lowercase()));
    for object in objects {
        planner.object(object);
    }
    planner.finish(input)
}

struct Draft {
    sort: (u8, usize, u8, String, usize),
    action: PlannedAction,
    /// Text whose object IDs the action depends on, beyond its own request: a restore
    /// brings back the references of the restored object.
    references: String,
}

struct Planner {
    options: PlanOptions,
    directory: lockout::Directory,
    /// Old ID (lower case) → placeholder, for objects and application appIds.
    remap: BTreeMap<String, String>,
    remapped: Vec<Remap>,
    /// Re-created applications' old appIds, by object ID (lower case).
    old_app_ids: BTreeMap<String, String>,
    names: BTreeMap<String, String>,
    drafts: Vec<Draft>,
    preconditions: BTreeMap<(String, String), Option<String>>,
    kept: Vec<ObjectRef>,
    notes: Vec<Note>,
    blockers: Vec<Blocker>,
    deletes: usize,
}

impl Planner {
    fn new(input: &PlanInput) -> Self {
        let mut remap = BTreeMap::new();
        let mut remapped = Vec::new();
        let mut old_app_ids = BTreeMap::new();
        let mut names = input.names.clone();
        for object in &input.objects {
            let props = object
                .desired
                .as_ref()
                .map(properties)
                .or(match &object.live {
                    LiveState::Present { version, .. } | LiveState::InRecycleBin { version } => {
                        Some(properties(version))
                    }
                    LiveState::Gone => None,
                });
            if let Some(name) = props
                .and_then(|p| crate::names::display_name(object.kind, &Value::Object(p.clone())))
            {
                names.insert(object.id.to_ascii_lowercase(), name);
            }
            if object.live != LiveState::Gone || object.kind.is_singleton() {
                continue;
            }
            let Some(desired) = &object.desired else {
                continue;
            };
            let placeholder = new_id_placeholder(&object.id);
            remap.insert(object.id.to_ascii_lowercase(), placeholder.clone());
            if object.kind.name == "applications" {
                if let Some(app_id) = properties(desired).get("appId").and_then(Value::as_str) {
                    remap.insert(
                        app_id.to_ascii_lowercase(),
                        new_app_id_placeholder(&object.id),
                    );
                    old_app_ids.insert(object.id.to_ascii_lowercase(), app_id.to_string());
                }
            }
            remapped.push(Remap {
                kind: object.kind.name.to_string(),
                old_id: object.id.clone(),
                name: String::new(),
                placeholder,
                used_by: Vec::new(),
            });
        }
        for entry in &mut remapped {
            entry.name = names
                .get(&entry.old_id.to_ascii_lowercase())
                .cloned()
                .unwrap_or_else(|| entry.old_id.clone());
        }
        Planner {
            options: input.options.clone(),
            directory: input.directory.clone(),
            remap,
            remapped,
            old_app_ids,
            names,
            drafts: Vec::new(),
            preconditions: BTreeMap::new(),
            kept: Vec::new(),
            notes: Vec::new(),
            blockers: Vec::new(),
            deletes: 0,
        }
    }

    fn name_of(&self, id: &str) -> String {
        self.names
            .get(&id.to_ascii_lowercase())
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    fn note(&mut self, kind: &Kind, id: &str, text: impl Into<String>) {
        self.notes.push(Note {
            kind: kind.name.into(),
            id: id.into(),
            name: self.name_of(id),
            text: text.into(),
        });
    }

    fn object(&mut self, object: &ObjectState) {
        let kind = object.kind;
        let id = &object.id;
        let desired = object.desired.as_ref().map(|v| {
            let content = body::remap(&v.content, &self.remap);
            self.with_policy_state(kind, id, &object.live, content)
        });
        let before = self.drafts.len();
        match (&desired, &object.live) {
            (Some(desired), LiveState::Present { version, .. }) => {
                self.update(
                    kind,
                    id,
                    properties(version),
                    desired_properties(desired),
                    false,
                );
                self.relationships(kind, id, id, relationships(&version.content), desired);
            }
            (Some(desired), LiveState::InRecycleBin { version }) => {
                let url = kind.recycle_bin.item_url(id).unwrap_or_default() + "/restore";
                self.push(
                    kind,
                    id,
                    ActionType::Undelete,
                    "restore from the recycle bin, keeping its ID".into(),
                    Request {
                        method: "POST".into(),
                        url,
                        body: None,
                    },
                );
                if let Some(draft) = self.drafts.last_mut() {
                    draft.references = desired.to_string().to_ascii_lowercase();
                }
                self.update(
                    kind,
                    id,
                    properties(version),
                    desired_properties(desired),
                    true,
                );
                if !kind.relationships.is_empty() {
                    self.relationships(kind, id, id, &Map::new(), desired);
                }
            }
            (Some(desired), LiveState::Gone) => {
                if kind.is_singleton() {
                    self.note(
                        kind,
                        id,
                        "Graph did not return this policy; it cannot be created",
                    );
                } else {
                    self.recreate(kind, id, desired);
                }
            }
            (None, LiveState::Present { version, .. }) => {
                let name = self.name_of(id);
                if kind.is_singleton() {
                    // A singleton missing from the desired state was not backed up.
                } else if self.options.prune
                    || self.options.named.contains(&id.to_ascii_lowercase())
                {
                    self.deletes += 1;
                    let how = match kind.recycle_bin {
                        RecycleBin::Directory
                            if kind.name == "groups" && !is_unified(properties(version)) =>
                        {
                            "delete for good (Graph does not keep deleted security groups)"
                        }
                        RecycleBin::None => "delete",
                        _ => "delete (to the recycle bin)",
                    };
                    self.push(
                        kind,
                        id,
                        ActionType::Delete,
                        how.into(),
                        Request {
                            method: "DELETE".into(),
                            url: format!("{}/{id}", kind.graph_path()),
                            body: None,
                        },
                    );
                } else {
                    self.kept.push(ObjectRef {
                        kind: kind.name.into(),
                        id: id.clone(),
                        name,
                    });
                }
            }
            (None, _) => {}
        }
        if self.drafts.len() > before {
            let blob = match &object.live {
                LiveState::Present { blob, .. } => Some(blob.clone()),
                _ => None,
            };
            self.preconditions
                .insert((kind.name.to_string(), id.clone()), blob);
        }
    }

    /// The desired content with the state a conditional access policy must come back in.
    fn with_policy_state(
        &mut self,
        kind: &Kind,
        id: &str,
        live: &LiveState,
        mut content: Value,
    ) -> Value {
        if kind.name != "conditional-access-policies" {
            return content;
        }
        let restored = !matches!(live, LiveState::Present { .. });
        let kept = self
            .options
            .kept_report_only
            .contains(&id.to_ascii_lowercase())
            && matches!(live, LiveState::Present { version, .. }
                if properties(version).get("state").and_then(Value::as_str) == Some(REPORT_ONLY));
        let state = content.pointer("/properties/state").and_then(Value::as_str);
        if state != Some("enabled") || !((restored && self.options.ca_report_only) || kept) {
            return content;
        }
        if let Some(props) = content.get_mut("properties").and_then(Value::as_object_mut) {
            props.insert("state".into(), Value::String(REPORT_ONLY.into()));
        }
        let text = if kept {
            "stays in report-only mode, as an earlier apply with --ca-report-only restored it; enable it after review"
        } else {
            "comes back in report-only mode (--ca-report-only); enable it after review"
        };
        self.note(kind, id, text);
        content
    }

    fn update(
        &mut self,
        kind: &'static Kind,
        id: &str,
        live: &Map<String, Value>,
        desired: &Map<String, Value>,
        assume_missing_unchanged: bool,
    ) {
        let live_for_diff;
        let desired_for_diff;
        let (live, desired) = if assume_missing_unchanged {
            // The recycle bin returns fewer properties than a list does: a property it
            // did not return is taken as unchanged, and the re-plan after apply checks.
            desired_for_diff = desired
                .iter()
                .filter(|(k, _)| live.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Map<_, _>>();
            live_for_diff = live.clone();
            (&live_for_diff, &desired_for_diff)
        } else {
            (live, desired)
        };
        let (mut patch, unwritable) = body::patch(kind, live, desired, kind.patched_per_item);
        for item in unwritable {
            let text = if item.path == "passwordCredentials" || item.path == "keyCredentials" {
                format!(
                    "{} differ: rotate required; credentials are never written",
                    item.path
                )
            } else {
                format!("{} differs but is {}; not restored", item.path, item.reason)
            };
            self.note(kind, id, text);
        }
        if kind.name == "users"
            && live.get("onPremisesSyncEnabled") == Some(&Value::Bool(true))
            && !patch.is_empty()
        {
            let keys: Vec<&str> = patch.keys().map(String::as_str).collect();
            self.note(kind, id, format!(
                "synced from on-premises Active Directory: change {} there; Graph refuses these edits",
                keys.join(", ")
            ));
            patch.clear();
        }
        if !patch.is_empty() {
            if kind.polymorphic.contains(&"") {
                if let Some(t) = desired.get("@odata.type").or(live.get("@odata.type")) {
                    patch.insert("@odata.type".into(), t.clone());
                }
            }
            let keys: Vec<&str> = patch
                .keys()
                .filter(|k| *k != "@odata.type")
                .map(String::as_str)
                .collect();
            let url = match kind.shape {
                catalog::Shape::Singleton { path, .. } => path.to_string(),
                catalog::Shape::Collection { path, .. } => format!("{path}/{id}"),
            };
            self.push(
                kind,
                id,
                ActionType::Update,
                format!("set {}", keys.join(", ")),
                Request {
                    method: "PATCH".into(),
                    url,
                    body: Some(Value::Object(patch)),
                },
            );
        }
        for property in kind.patched_per_item {
            self.update_items(
                kind,
                id,
                property,
                live.get(*property),
                desired.get(*property),
            );
        }
    }

    /// Items of a collection Graph updates one by one (authentication method
    /// configurations), matched by ID.
    fn update_items(
        &mut self,
        kind: &'static Kind,
        id: &str,
        property: &str,
        live: Option<&Value>,
        desired: Option<&Value>,
    ) {
        let items = |v: Option<&Value>| -> BTreeMap<String, Map<String, Value>> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|item| {
                            let map = item.as_object()?;
                            let key = map.get("id")?.as_str()?.to_ascii_lowercase();
                            Some((key, map.clone()))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let (live, desired) = (items(live), items(desired));
        for (key, want) in &desired {
            let Some(have) = live.get(key) else {
                self.note(
                    kind,
                    id,
                    format!("{property} item {key} is missing live and cannot be added by idgit"),
                );
                continue;
            };
            if have == want {
                continue;
            }
            let (mut patch, unwritable) = body::patch_nested(kind, property, have, want);
            for item in unwritable {
                self.note(
                    kind,
                    id,
                    format!(
                        "{property}[{key}].{} differs but is {}; not restored",
                        item.path, item.reason
                    ),
                );
            }
            if patch.is_empty() {
                continue;
            }
            if let Some(t) = want.get("@odata.type").or(have.get("@odata.type")) {
                patch.insert("@odata.type".into(), t.clone());
            }
            let item_id = want.get("id").and_then(Value::as_str).unwrap_or(key);
            let keys: Vec<&str> = patch
                .keys()
                .filter(|k| *k != "@odata.type")
                .map(String::as_str)
                .collect();
            let url = format!("{}/{property}/{item_id}", kind.graph_path());
            self.push(
                kind,
                id,
                ActionType::Update,
                format!("set {item_id}: {}", keys.join(", ")),
                Request {
                    method: "PATCH".into(),
                    url,
                    body: Some(Value::Object(patch)),
                },
            );
        }
        for key in live.keys().filter(|k| !desired.contains_key(*k)) {
            self.note(
                kind,
                id,
                format!("{property} item {key} exists live only and cannot be removed by idgit"),
            );
        }
    }

    fn recreate(&mut self, kind: &'static Kind, id: &str, desired: &Value) {
        let props = desired_properties(desired);
        let mut body = body::strip(kind, props, true);
        body.remove("id");
        let mut sets_random_password = false;
        match kind.name {
            "users" => {
                sets_random_password = true;
                self.note(kind, id, "re-created without credentials: apply sets a random password it never shows; reset it and have the user register MFA again. Licenses are not restored");
            }
            "applications" => {
                let secrets = props
                    .get("passwordCredentials")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let mut text =
                    "re-created with a new appId: clients that use the old appId must be updated"
                        .to_string();
                if secrets > 0 {
                    text.push_str(&format!(
                        "; rotate required: {secrets} client secret(s) cannot be restored"
                    ));
                }
                self.note(kind, id, text);
            }
            _ => {}
        }
        let name = self.name_of(id);
        self.push(
            kind,
            id,
            ActionType::Recreate,
            "create anew: Graph assigns a new ID".to_string(),
            Request {
                method: "POST".into(),
                url: kind.graph_path().to_string(),
                body: Some(Value::Object(body)),
            },
        );
        if let Some(draft) = self.drafts.last_mut() {
            draft.action.creates = Some(id.to_string());
            draft.action.creates_app_id = self.old_app_ids.get(&id.to_ascii_lowercase()).cloned();
            draft.action.sets_random_password = sets_random_password;
            draft.action.name = name;
        }
        let owner = new_id_placeholder(id);
        self.relationships(kind, id, &owner, &Map::new(), desired);
    }

    /// Relationship items to add and remove. `owner` is the ID to put in URLs: the
    /// object's ID, or its placeholder when it is re-created.
    fn relationships(
        &mut self,
        kind: &'static Kind,
        id: &str,
        owner: &str,
        live: &Map<String, Value>,
        desired: &Value,
    ) {
        let empty = Map::new();
        let desired = desired
            .get("relationships")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for rel in kind.relationships {
            let items = |side: &Map<String, Value>| -> Vec<Value> {
                side.get(rel.name)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            };
            let (have, want) = (items(live), items(desired));
            let base = format!("{}/{owner}/{}", kind.graph_path(), rel.segment);
            for item in want.iter().filter(|v| !have.contains(v)) {
                let (description, request) = match rel.item {
                    RelationshipItem::ObjectId => {
                        let target = item.as_str().unwrap_or_default();
                        (
                            format!(
                                "add {} {}",
                                singular(rel.name),
                                quoted(&self.name_of(target))
                            ),
                            Request {
                                method: "POST".into(),
                                url: format!("{base}/$ref"),
                                body: Some(serde_json::json!({
                                    "@odata.id": format!("{}/v1.0/directoryObjects/{target}", self.options.graph_url.trim_end_matches('/'))
                                })),
                            },
                        )
                    }
                    RelationshipItem::AppRoleAssignment => {
                        let (principal, role) = assignment(item);
                        (
                            format!(
                                "assign app role {role} to {}",
                                quoted(&self.name_of(principal))
                            ),
                            Request {
                                method: "POST".into(),
                                url: base.clone(),
                                body: Some(serde_json::json!({
                                    "principalId": principal,
                                    "resourceId": owner,
                                    "appRoleId": role,
                                })),
                            },
                        )
                    }
                };
                self.push(kind, id, ActionType::AddRelationship, description, request);
            }
            for item in have.iter().filter(|v| !want.contains(v)) {
                let (description, url) = match rel.item {
                    RelationshipItem::ObjectId => {
                        let target = item.as_str().unwrap_or_default();
                        (
                            format!(
                                "remove {} {}",
                                singular(rel.name),
                                quoted(&self.name_of(target))
                            ),
                            format!("{base}/{target}/$ref"),
                        )
                    }
                    RelationshipItem::AppRoleAssignment => {
                        let (principal, role) = assignment(item);
                        (
                            format!(
                                "remove app role {role} from {}",
                                quoted(&self.name_of(principal))
                            ),
                            format!("{base}/{}", assignment_placeholder(principal, role)),
                        )
                    }
                };
                self.push(
                    kind,
                    id,
                    ActionType::RemoveRelationship,
                    description,
                    Request {
                        method: "DELETE".into(),
                        url,
                        body: None,
                    },
                );
            }
        }
    }

    fn push(
        &mut self,
        kind: &'static Kind,
        id: &str,
        action: ActionType,
        description: String,
        request: Request,
    ) {
        let position = kind_position(kind);
        let phase = match action {
            ActionType::Delete => 8,
            ActionType::AddRelationship | ActionType::RemoveRelationship => 5,
            _ if kind.name == "conditional-access-policies" => 6,
            _ if kind.is_singleton() => 7,
            _ => position as u8,
        };
        // Deletes run in reverse dependency order: a policy goes before the named
        // location it uses.
        let within = if action == ActionType::Delete {
            usize::MAX - position
        } else {
            position
        };
        let step = match action {
            ActionType::Undelete | ActionType::Recreate => 0,
            ActionType::Update => 1,
            ActionType::RemoveRelationship => 2,
            _ => 3,
        };
        let sequence = self.drafts.len();
        self.drafts.push(Draft {
            sort: (phase, within, step, id.to_ascii_lowercase(), sequence),
            action: PlannedAction {
                number: 0,
                action,
                kind: kind.name.into(),
                object_id: id.into(),
                name: self.name_of(id),
                description,
                request,
                depends_on: Vec::new(),
                creates: None,
                creates_app_id: None,
                sets_random_password: false,
            },
            references: String::new(),
        });
    }

    fn finish(mut self, input: PlanInput) -> Plan {
        if self.deletes > self.options.max_deletes {
            self.blockers.push(Blocker {
                text: format!(
                    "the plan deletes {} objects, more than safety.maxDeletes ({}) in idgit.yaml",
                    self.deletes, self.options.max_deletes
                ),
                allowed_by: "--allow-mass-delete".into(),
            });
        }
        self.drafts.sort_by(|a, b| a.sort.cmp(&b.sort));
        let references: Vec<String> = self.drafts.iter().map(|d| d.references.clone()).collect();
        let mut actions: Vec<PlannedAction> = self.drafts.into_iter().map(|d| d.action).collect();
        for (i, action) in actions.iter_mut().enumerate() {
            action.number = i + 1;
        }
        // Which objects come into existence in this plan, and by which action.
        let arriving: Vec<(String, usize)> = actions
            .iter()
            .filter(|a| matches!(a.action, ActionType::Undelete | ActionType::Recreate))
            .map(|a| (a.object_id.to_ascii_lowercase(), a.number))
            .collect();
        for (action, references) in actions.iter_mut().zip(&references) {
            let text = format!(
                "{} {} {references}",
                action.request.url,
                action
                    .request
                    .body
                    .as_ref()
                    .map(Value::to_string)
                    .unwrap_or_default()
            )
            .to_ascii_lowercase();
            let own = action.object_id.to_ascii_lowercase();
            let mut depends: BTreeSet<usize> = BTreeSet::new();
            for (id, number) in &arriving {
                if *number != action.number
                    && *number < action.number
                    && (own == *id || text.contains(id.as_str()))
                {
                    depends.insert(*number);
                }
            }
            action.depends_on = depends.into_iter().collect();
        }
        for entry in &mut self.remapped {
            entry.used_by = actions
                .iter()
                .filter(|a| a.creates.as_deref() != Some(entry.old_id.as_str()))
                .filter(|a| {
                    let text = format!(
                        "{} {}",
                        a.request.url,
                        a.request
                            .body
                            .as_ref()
                            .map(Value::to_string)
                            .unwrap_or_default()
                    );
                    text.contains(&entry.placeholder)
                        || text.contains(&new_app_id_placeholder(&entry.old_id))
                })
                .map(|a| a.number)
                .collect();
        }
        // The lockout guard looks at every policy state this plan would put in place.
        for object in &input.objects {
            if object.kind.name != "conditional-access-policies" {
                continue;
            }
            let touched = actions.iter().any(|a| {
                a.object_id == object.id
                    && a.action != ActionType::Delete
                    && a.kind == object.kind.name
            });
            let Some(desired) = &object.desired else {
                continue;
            };
            if !touched {
                continue;
            }
            let mut props = Value::Object(desired_properties(&desired.content).clone());
            let forced = actions.iter().any(|a| {
                a.object_id == object.id
                    && a.request
                        .body
                        .as_ref()
                        .and_then(|b| b.get("state"))
                        .and_then(Value::as_str)
                        == Some(REPORT_ONLY)
            });
            if forced {
                props["state"] = Value::String(REPORT_ONLY.into());
            }
            if let Some(reason) = lockout::check(&props, &self.directory) {
                let name = self
                    .names
                    .get(&object.id.to_ascii_lowercase())
                    .cloned()
                    .unwrap_or_else(|| object.id.clone());
                self.blockers.push(Blocker {
                    text: format!("conditional access policy {}: {reason}", quoted(&name)),
                    allowed_by: "--allow-lockout".into(),
                });
            }
        }
        let preconditions: Vec<Precondition> = self
            .preconditions
            .into_iter()
            .map(|((kind, id), live_blob)| Precondition {
                kind,
                id,
                live_blob,
            })
            .collect();
        let mut plan = Plan {
            format_version: FORMAT_VERSION,
            plan_id: String::new(),
            tenant: input.tenant,
            desired: input.desired,
            selection: input.selection,
            prune: input.options.prune,
            ca_report_only: input.options.ca_report_only,
            actions,
            preconditions,
            remapped: self.remapped,
            kept: self.kept,
            notes: self.notes,
            blockers: self.blockers,
        };
        plan.plan_id = fingerprint(&plan);
        plan
    }
}

/// A short, stable fingerprint of what the plan does and what it was planned against.
pub fn fingerprint(plan: &Plan) -> String {
    let material = serde_json::json!({
        "tenant": plan.tenant,
        "desired": plan.desired,
        "actions": plan.actions,
        "preconditions": plan.preconditions,
    });
    let bytes = material.to_string();
    git2::Oid::hash_object(git2::ObjectType::Blob, bytes.as_bytes())
        .map(|oid| oid.to_string()[..16].to_string())
        .unwrap_or_default()
}

fn kind_position(kind: &Kind) -> usize {
    catalog::KINDS
        .iter()
        .position(|k| k.name == kind.name)
        .unwrap_or(usize::MAX / 2)
}

fn properties(version: &Version) -> &Map<String, Value> {
    desired_properties(&version.content)
}

fn desired_properties(content: &Value) -> &Map<String, Value> {
    part(content, "properties")
}

fn relationships(content: &Value) -> &Map<String, Value> {
    part(content, "relationships")
}

/// `properties` or `relationships` of a file's content; empty when absent.
fn part<'a>(content: &'a Value, name: &str) -> &'a Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    content
        .get(name)
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

/// An app role assignment's principal and role.
fn assignment(item: &Value) -> (&str, &str) {
    let field = |name| item.get(name).and_then(Value::as_str).unwrap_or_default();
    (field("principalId"), field("appRoleId"))
}

fn is_unified(props: &Map<String, Value>) -> bool {
    props
        .get("groupTypes")
        .and_then(Value::as_array)
        .is_some_and(|types| types.iter().any(|t| t.as_str() == Some("Unified")))
}

fn singular(relationship: &str) -> &str {
    match relationship {
        "members" => "member",
        "owners" => "owner",
        other => other,
    }
}

fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

#[cfg(test)]
mod tests;
