//! Change sets as reports: a view model that holds every decision (names, wording,
//! security findings), and renderers that only lay it out (`render`). Pure.
//!
//! The JSON format is the view model serialized; `schemas/diff.schema.json` documents
//! it and a test validates every rendered report against it.

pub mod render;

use serde::Serialize;
use serde_json::Value;

use crate::catalog::{Kind, RefTarget};
use crate::diff::{Action, Change, ChangeSet, FieldChange, ObjectChange};
use crate::names::{self, Names};

/// Version of the JSON report format; bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// A revision a report compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    /// What the user named (`HEAD~1`), or a description (`live tenant`).
    pub name: String,
    pub commit: Option<String>,
    /// ISO 8601, UTC.
    pub date: Option<String>,
    pub subject: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub format_version: u32,
    pub from: Option<Revision>,
    pub to: Revision,
    pub summary: Vec<KindSummary>,
    pub objects: Vec<ObjectReport>,
    /// Security-relevant changes, one line each, for a pull request or a job summary
    /// to draw attention to.
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KindSummary {
    pub kind: &'static str,
    pub title: &'static str,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub kind: &'static str,
    pub id: String,
    pub name: String,
    pub text: String,
}

/// One changed object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReport {
    pub kind: &'static str,
    /// "conditional access policy".
    pub noun: String,
    pub id: String,
    pub name: String,
    pub action: Action,
    pub path: String,
    /// Set when the file moved (a rename).
    pub previous_path: Option<String>,
    /// The reviewer's sentence: `Conditional access policy "X": state enabled → disabled`.
    pub sentence: String,
    pub security: Vec<String>,
    /// Who changed it, from the audit log noted at backup time.
    pub changed_by: Vec<crate::audit::Actor>,
    pub fields: Vec<FieldReport>,
}

/// One changed field or relationship.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldReport {
    /// Dotted path (`conditions.users.excludeGroups`) or `relationships.members`.
    pub path: String,
    /// Words for the path: "excluded groups".
    pub label: String,
    /// "enabled → disabled", `+ "Break Glass Accounts"`.
    pub text: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub added: Vec<Item>,
    pub removed: Vec<Item>,
}

/// A set item, with the name of the object it refers to when it is a reference.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub value: Value,
    /// Resolved name, when the value refers to something.
    pub name: Option<String>,
    /// A reference that resolves nowhere: it points at something deleted.
    pub unknown_reference: bool,
    /// For an app role assignment: the role's value or name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_role: Option<String>,
}

/// Builds the report for a change set; `actors` says who changed which object, where
/// the audit log was recorded.
pub fn build(
    changes: &ChangeSet,
    names: &Names,
    actors: &crate::audit::Links,
    from: Option<Revision>,
    to: Revision,
) -> Report {
    let mut summary: Vec<KindSummary> = Vec::new();
    let mut objects = Vec::new();
    let mut findings = Vec::new();
    for change in &changes.changes {
        let entry = match summary.iter_mut().find(|s| s.kind == change.kind.name) {
            Some(entry) => entry,
            None => {
                summary.push(KindSummary {
                    kind: change.kind.name,
                    title: change.kind.title,
                    added: 0,
                    changed: 0,
                    removed: 0,
                });
                summary.last_mut().expect("just pushed")
            }
        };
        match change.action {
            Action::Added => entry.added += 1,
            Action::Changed => entry.changed += 1,
            Action::Removed => entry.removed += 1,
        }
        let mut object = object_report(change, names);
        object.changed_by = actors
            .get(&change.id.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default();
        for text in &object.security {
            findings.push(Finding {
                kind: object.kind,
                id: object.id.clone(),
                name: object.name.clone(),
                text: format!(
                    "{} {}: {text}",
                    capitalize(&object.noun),
                    quote(&object.name)
                ),
            });
        }
        objects.push(object);
    }
    Report {
        format_version: FORMAT_VERSION,
        from,
        to,
        summary,
        objects,
        findings,
    }
}

fn object_report(change: &ObjectChange, names: &Names) -> ObjectReport {
    let kind = change.kind;
    let name = names::display_name(kind, change.properties()).unwrap_or_else(|| change.id.clone());
    let mut fields: Vec<FieldReport> = change
        .fields
        .iter()
        .map(|f| field_report(kind, f, names))
        .collect();
    for rel in &change.relationships {
        let target = kind
            .relationships
            .iter()
            .find(|r| r.name == rel.name)
            .map_or(RefTarget::Objects(&[]), |r| RefTarget::Objects(r.targets));
        let roles = app_role_names(change.properties());
        let with_role = |v: &Value| {
            let mut item = item(v, Some(target), names);
            item.app_role = v.get("appRoleId").and_then(Value::as_str).map(|id| {
                roles
                    .get(&id.to_ascii_lowercase())
                    .cloned()
                    .unwrap_or_else(|| id.to_string())
            });
            item
        };
        let added: Vec<Item> = rel.added.iter().map(with_role).collect();
        let removed: Vec<Item> = rel.removed.iter().map(with_role).collect();
        fields.push(FieldReport {
            path: format!("relationships.{}", rel.name),
            label: label(&format!("relationships.{}", rel.name)),
            text: set_text(&added, &removed),
            before: None,
            after: None,
            added,
            removed,
        });
    }
    let noun = noun(kind);
    let details: Vec<String> = fields
        .iter()
        .map(|f| format!("{} {}", f.label, f.text))
        .collect();
    let sentence = match change.action {
        Action::Added => format!("{} {} added", capitalize(&noun), quote(&name)),
        Action::Removed => format!("{} {} removed", capitalize(&noun), quote(&name)),
        Action::Changed => format!(
            "{} {}: {}",
            capitalize(&noun),
            quote(&name),
            details.join("; ")
        ),
    };
    let before_path = change.before.as_ref().map(|v| v.path.clone());
    let path = change
        .after
        .as_ref()
        .or(change.before.as_ref())
        .map(|v| v.path.clone())
        .unwrap_or_default();
    ObjectReport {
        kind: kind.name,
        noun,
        id: change.id.clone(),
        name,
        action: change.action,
        previous_path: before_path.filter(|p| *p != path),
        path,
        sentence,
        security: security_findings(change),
        changed_by: Vec::new(),
        fields: if change.action == Action::Changed {
            fields
        } else {
            Vec::new()
        },
    }
}

/// App role ID to its value (or name), from an application's or service principal's
/// `appRoles`; the all-zero ID is the default access every assignment may use.
fn app_role_names(properties: &Value) -> std::collections::BTreeMap<String, String> {
    let mut roles: std::collections::BTreeMap<String, String> = properties
        .get("appRoles")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|role| {
            let id = role.get("id")?.as_str()?.to_ascii_lowercase();
            let name = role
                .get("value")
                .or_else(|| role.get("displayName"))?
                .as_str()?
                .to_string();
            Some((id, name))
        })
        .collect();
    roles.insert(
        "00000000-0000-0000-0000-000000000000".into(),
        "default access".into(),
    );
    roles
}

fn field_report(kind: &Kind, field: &FieldChange, names: &Names) -> FieldReport {
    let target = names::reference_at(kind, &field.schema_path);
    let label = label(&field.path);
    match &field.change {
        Change::Value { before, after } => {
            let show = |v: &Value| match (target, v.as_str()) {
                (Some(t), Some(id)) => item(v, Some(t), names).display_or(id),
                _ => value_text(v),
            };
            FieldReport {
                path: field.path.clone(),
                label,
                text: format!("{} → {}", show(before), show(after)),
                before: Some(before.clone()),
                after: Some(after.clone()),
                added: Vec::new(),
                removed: Vec::new(),
            }
        }
        Change::Set { added, removed } => {
            let added: Vec<Item> = added.iter().map(|v| item(v, target, names)).collect();
            let removed: Vec<Item> = removed.iter().map(|v| item(v, target, names)).collect();
            FieldReport {
                path: field.path.clone(),
                label,
                text: set_text(&added, &removed),
                before: None,
                after: None,
                added,
                removed,
            }
        }
    }
}

fn item(value: &Value, target: Option<RefTarget>, names: &Names) -> Item {
    let id = value
        .as_str()
        .or_else(|| value.get("principalId").and_then(Value::as_str))
        .or_else(|| value.get("id").and_then(Value::as_str));
    match (target, id) {
        (Some(target), Some(id)) => {
            let resolved = names.resolve(target, id);
            Item {
                value: value.clone(),
                unknown_reference: resolved.is_none(),
                name: resolved.map(|n| n.display),
                app_role: None,
            }
        }
        _ => Item {
            value: value.clone(),
            name: None,
            unknown_reference: false,
            app_role: None,
        },
    }
}

impl Item {
    fn display_or(&self, id: &str) -> String {
        match (&self.name, self.unknown_reference) {
            (Some(name), _) => quote(name),
            (None, true) => format!("unknown reference {id}"),
            (None, false) => value_text(&self.value),
        }
    }

    fn text(&self) -> String {
        match self.value.as_str() {
            Some(id) => self.display_or(id),
            None => {
                let principal = self.value.get("principalId").and_then(Value::as_str);
                let role = self
                    .app_role
                    .as_deref()
                    .map(|r| format!(" (role {})", quote(r)))
                    .unwrap_or_default();
                match (principal, &self.name) {
                    (Some(_), Some(name)) => format!("{}{role}", quote(name)),
                    (Some(id), None) => format!("unknown reference {id}{role}"),
                    _ => value_text(&self.value),
                }
            }
        }
    }
}

fn set_text(added: &[Item], removed: &[Item]) -> String {
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!(
            "+ {}",
            added
                .iter()
                .map(Item::text)
                .collect::<Vec<_>>()
                .join(", + ")
        ));
    }
    if !removed.is_empty() {
        parts.push(format!(
            "− {}",
            removed
                .iter()
                .map(Item::text)
                .collect::<Vec<_>>()
                .join(", − ")
        ));
    }
    parts.join(", ")
}

/// A value for a sentence: strings quoted, nothing as "(none)", structures compact.
fn value_text(value: &Value) -> String {
    match value {
        Value::Null => "(none)".into(),
        Value::String(s) => quote(s),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        other => {
            let text = other.to_string();
            if text.chars().count() > 80 {
                format!("{}…", text.chars().take(79).collect::<String>())
            } else {
                text
            }
        }
    }
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace(['\n', '\r'], " "))
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "conditional access policy" from "conditional access policies".
pub fn noun(kind: &Kind) -> String {
    if kind.is_singleton() {
        return kind.title.to_string();
    }
    match kind.title.strip_suffix("ies") {
        Some(stem) => format!("{stem}y"),
        None => kind
            .title
            .strip_suffix('s')
            .unwrap_or(kind.title)
            .to_string(),
    }
}

/// Words for the paths reviewers meet most; other paths are shown as they are.
fn label(path: &str) -> String {
    const LABELS: &[(&str, &str)] = &[
        ("state", "state"),
        ("displayName", "name"),
        ("conditions.users.includeUsers", "included users"),
        ("conditions.users.excludeUsers", "excluded users"),
        ("conditions.users.includeGroups", "included groups"),
        ("conditions.users.excludeGroups", "excluded groups"),
        ("conditions.users.includeRoles", "included roles"),
        ("conditions.users.excludeRoles", "excluded roles"),
        (
            "conditions.applications.includeApplications",
            "included applications",
        ),
        (
            "conditions.applications.excludeApplications",
            "excluded applications",
        ),
        (
            "conditions.locations.includeLocations",
            "included locations",
        ),
        (
            "conditions.locations.excludeLocations",
            "excluded locations",
        ),
        ("conditions.clientAppTypes", "client app types"),
        ("grantControls.builtInControls", "grant controls"),
        ("grantControls.operator", "grant operator"),
        ("relationships.members", "members"),
        ("relationships.owners", "owners"),
        ("relationships.appRoleAssignedTo", "app role assignments"),
        ("passwordCredentials", "client secrets"),
        ("keyCredentials", "certificates"),
        ("ipRanges", "IP ranges"),
        ("countriesAndRegions", "countries and regions"),
        ("isTrusted", "trusted"),
        ("accountEnabled", "account enabled"),
    ];
    LABELS
        .iter()
        .find(|(p, _)| *p == path)
        .map_or_else(|| path.to_string(), |(_, l)| l.to_string())
}

/// The security-relevant parts of a change, in plain words.
pub fn security_findings(change: &ObjectChange) -> Vec<String> {
    let mut found = Vec::new();
    let set_added = |path: &str| {
        change.fields.iter().any(|f| {
            f.schema_path == path
                && matches!(&f.change, Change::Set { added, .. } if !added.is_empty())
        })
    };
    let value_change = |path: &str| {
        change.fields.iter().find_map(|f| match &f.change {
            Change::Value { before, after } if f.path == path => {
                Some((before.clone(), after.clone()))
            }
            _ => None,
        })
    };
    let rel_added = |name: &str| {
        change
            .relationships
            .iter()
            .any(|r| r.name == name && !r.added.is_empty())
    };
    match change.kind.name {
        "conditional-access-policies" => match change.action {
            Action::Removed => found.push("policy deleted".to_string()),
            Action::Added => {}
            Action::Changed => {
                if let Some((before, after)) = value_change("state") {
                    if before == "enabled" {
                        found.push(format!(
                            "no longer enforced (state {})",
                            after.as_str().unwrap_or("unset")
                        ));
                    }
                }
                for f in &change.fields {
                    let is_exclusion = f
                        .schema_path
                        .rsplit('.')
                        .next()
                        .is_some_and(|leaf| leaf.starts_with("exclude"));
                    if is_exclusion
                        && matches!(&f.change, Change::Set { added, .. } if !added.is_empty())
                    {
                        found.push(format!("exclusion added ({})", label(&f.path)));
                    }
                }
                if change.fields.iter().any(|f| {
                    f.schema_path == "grantControls.builtInControls"
                        && matches!(&f.change, Change::Set { removed, .. } if !removed.is_empty())
                }) {
                    found.push("grant control removed".to_string());
                }
            }
        },
        "applications" | "service-principals" => {
            if change.action == Action::Changed
                && (set_added("passwordCredentials") || set_added("keyCredentials"))
            {
                found.push("new credential".to_string());
            }
            if rel_added("owners") {
                found.push("owner added".to_string());
            }
            if rel_added("appRoleAssignedTo") {
                found.push("app role granted".to_string());
            }
        }
        "groups" => {
            let privileged =
                change.properties().get("isAssignableToRole") == Some(&Value::Bool(true));
            if privileged && (rel_added("members") || rel_added("owners")) {
                found.push("member or owner added to a role-assignable group".to_string());
            }
        }
        "named-locations"
            if value_change("isTrusted").is_some_and(|(_, after)| after == Value::Bool(true)) =>
        {
            found.push("location marked trusted".to_string());
        }
        "authorization-policy" if change.action == Action::Changed => {
            found.push("tenant-wide authorization settings changed".to_string());
        }
        "authentication-methods-policy"
            if change.fields.iter().any(|f| {
                f.schema_path.ends_with("excludeTargets")
                    && matches!(&f.change, Change::Set { added, .. } if !added.is_empty())
            }) =>
        {
            found.push("authentication method exclusion added".to_string());
        }
        _ => {}
    }
    found
}
