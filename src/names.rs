//! Names, not GUIDs: what reports show instead of object IDs.
//!
//! A reference is resolved from the snapshots on either side of a change (a deleted
//! group still has its name in the older one), then from the IDs that are the same in
//! every tenant (built-in role templates, Microsoft's first-party applications) and the
//! special values conditional access uses. An ID that resolves nowhere is reported as an
//! unknown reference: a policy that points at something deleted is itself a finding.

use std::collections::{BTreeMap, BTreeSet};

use git2::{Repository, Tree};
use serde_json::Value;

use crate::catalog::{self, Kind, RefTarget};
use crate::diff::{Change, ChangeSet};
use crate::history;

/// What an ID was resolved to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Name {
    pub display: String,
    /// The kind, for objects in the backup; `None` for well-known values.
    pub kind: Option<&'static str>,
}

/// Resolved names for the references in a change set.
#[derive(Debug, Default)]
pub struct Names {
    objects: BTreeMap<String, Name>,
    app_ids: BTreeMap<String, String>,
}

/// Special values of conditional access and authentication method targets.
const SPECIAL_VALUES: &[(&str, &str)] = &[
    ("All", "all"),
    ("None", "none"),
    ("GuestsOrExternalUsers", "guests or external users"),
    ("AllTrusted", "all trusted locations"),
    ("Office365", "Office 365"),
    ("MicrosoftAdminPortals", "Microsoft admin portals"),
    ("all_users", "all users"),
    ("00000000-0000-0000-0000-000000000000", "MFA trusted IPs"),
];

/// Built-in directory role templates: the same IDs in every tenant.
const ROLE_TEMPLATES: &[(&str, &str)] = &[
    (
        "62e90394-69f5-4237-9190-012177145e10",
        "Global Administrator",
    ),
    (
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Privileged Role Administrator",
    ),
    (
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
        "Privileged Authentication Administrator",
    ),
    (
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
        "Security Administrator",
    ),
    ("5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader"),
    ("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader"),
    (
        "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
        "Conditional Access Administrator",
    ),
    (
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
        "Application Administrator",
    ),
    (
        "158c047a-c907-4556-b7ef-446551a6b5f7",
        "Cloud Application Administrator",
    ),
    (
        "cf1c38e5-3621-4004-a7cb-879624dced7c",
        "Application Developer",
    ),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
    (
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Helpdesk Administrator",
    ),
    (
        "966707d0-3269-4727-9be2-8c3a10f19b9d",
        "Password Administrator",
    ),
    (
        "c4e39bd9-1100-46d3-8c65-fb160da0071f",
        "Authentication Administrator",
    ),
    (
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
        "Exchange Administrator",
    ),
    (
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
        "SharePoint Administrator",
    ),
    (
        "69091246-20e8-4a56-aa4d-066075b2a7a8",
        "Teams Administrator",
    ),
    (
        "3a2c62db-5318-420d-8d74-23affee5d9d5",
        "Intune Administrator",
    ),
    (
        "17315797-102d-40b4-93e0-432062caca18",
        "Compliance Administrator",
    ),
    (
        "b0f54661-2d74-4c50-afa3-1ec803f12efe",
        "Billing Administrator",
    ),
    (
        "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",
        "Hybrid Identity Administrator",
    ),
    ("88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers"),
    ("a0b1b346-4d3e-4e8b-98f8-753987be4970", "User"),
    ("10dae51f-b6af-4016-8d66-8c2a99b929b3", "Guest User"),
    (
        "2af84b1e-32c8-42b7-82bc-daa82404023b",
        "Restricted Guest User",
    ),
];

/// Microsoft's first-party applications, by appId.
const FIRST_PARTY_APPS: &[(&str, &str)] = &[
    ("00000003-0000-0000-c000-000000000000", "Microsoft Graph"),
    (
        "00000002-0000-0ff1-ce00-000000000000",
        "Office 365 Exchange Online",
    ),
    (
        "00000003-0000-0ff1-ce00-000000000000",
        "Office 365 SharePoint Online",
    ),
    (
        "00000002-0000-0000-c000-000000000000",
        "Windows Azure Active Directory",
    ),
    (
        "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        "Windows Azure Service Management API",
    ),
    ("0000000a-0000-0000-c000-000000000000", "Microsoft Intune"),
    (
        "00000007-0000-0000-c000-000000000000",
        "Dynamics CRM Online",
    ),
    (
        "00000012-0000-0000-c000-000000000000",
        "Microsoft Rights Management Services",
    ),
    (
        "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
        "Microsoft Teams Services",
    ),
    ("499b84ac-1321-427f-aa17-267ca6975798", "Azure DevOps"),
];

fn lookup(table: &[(&str, &str)], id: &str) -> Option<String> {
    table
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(id))
        .map(|(_, v)| v.to_string())
}

/// The readable name of an object from its properties.
pub fn display_name(kind: &Kind, properties: &Value) -> Option<String> {
    if kind.name == "users" {
        if let Some(upn) = properties.get("userPrincipalName").and_then(Value::as_str) {
            return Some(upn.to_string());
        }
    }
    properties
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| kind.is_singleton().then(|| kind.title.to_string()))
}

impl Names {
    /// Every resolved object ID (lower case) and its display name.
    pub fn object_names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.objects
            .iter()
            .map(|(id, name)| (id.as_str(), name.display.as_str()))
    }

    /// The name of an ID found at a reference of the given target.
    pub fn resolve(&self, target: RefTarget, id: &str) -> Option<Name> {
        let well_known = |display: String| {
            Some(Name {
                display,
                kind: None,
            })
        };
        if let Some(display) = lookup(SPECIAL_VALUES, id) {
            return well_known(display);
        }
        match target {
            RefTarget::RoleTemplate => lookup(ROLE_TEMPLATES, id).and_then(well_known),
            RefTarget::AppId => self
                .app_ids
                .get(&id.to_ascii_lowercase())
                .cloned()
                .or_else(|| lookup(FIRST_PARTY_APPS, id))
                .and_then(well_known),
            RefTarget::Objects(_) => self.objects.get(&id.to_ascii_lowercase()).cloned(),
        }
    }

    /// Resolves every reference in `changes` from the trees on either side.
    pub fn for_changes(repo: &Repository, trees: &[&Tree<'_>], changes: &ChangeSet) -> Names {
        let mut wanted: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
        let mut want_app_ids = false;
        for change in &changes.changes {
            for field in &change.fields {
                let Some(reference) = reference_at(change.kind, &field.schema_path) else {
                    continue;
                };
                match reference {
                    RefTarget::AppId => want_app_ids = true,
                    RefTarget::Objects(kinds) => {
                        for id in ids_in(&field.change) {
                            for kind in kinds {
                                wanted.entry(kind).or_default().insert(id.clone());
                            }
                        }
                    }
                    RefTarget::RoleTemplate => {}
                }
            }
            for rel in &change.relationships {
                let Some(spec) = change
                    .kind
                    .relationships
                    .iter()
                    .find(|r| r.name == rel.name)
                else {
                    continue;
                };
                for item in rel.added.iter().chain(&rel.removed) {
                    let id = item
                        .as_str()
                        .or_else(|| item.get("principalId").and_then(Value::as_str));
                    if let Some(id) = id {
                        for kind in spec.targets {
                            wanted
                                .entry(kind)
                                .or_default()
                                .insert(id.to_ascii_lowercase());
                        }
                    }
                }
            }
        }
        let mut names = Names::default();
        for (kind_name, ids) in wanted {
            let Some(kind) = catalog::kind(kind_name) else {
                continue;
            };
            for tree in trees {
                let missing: BTreeSet<String> = ids
                    .iter()
                    .filter(|id| !names.objects.contains_key(*id))
                    .cloned()
                    .collect();
                if missing.is_empty() {
                    break;
                }
                for (id, (path, blob)) in history::find_objects(repo, tree, kind, &missing) {
                    if let Ok(version) = history::read_version(repo, &path, blob) {
                        let properties = version
                            .content
                            .get("properties")
                            .cloned()
                            .unwrap_or_default();
                        if let Some(display) = display_name(kind, &properties) {
                            names.objects.insert(
                                id.to_ascii_lowercase(),
                                Name {
                                    display,
                                    kind: Some(kind.name),
                                },
                            );
                        }
                    }
                }
            }
        }
        if want_app_ids {
            names.load_app_ids(repo, trees);
        }
        names
    }

    /// appId to name, from the service principals and applications on either side.
    /// Costs a read of each of them, so it is done only when a report needs it.
    fn load_app_ids(&mut self, repo: &Repository, trees: &[&Tree<'_>]) {
        for kind_name in ["service-principals", "applications"] {
            let Some(kind) = catalog::kind(kind_name) else {
                continue;
            };
            for tree in trees {
                for (path, blob) in history::list_objects(repo, tree, kind) {
                    let Ok(version) = history::read_version(repo, &path, blob) else {
                        continue;
                    };
                    let properties = version
                        .content
                        .get("properties")
                        .cloned()
                        .unwrap_or_default();
                    let (Some(app_id), Some(name)) = (
                        properties.get("appId").and_then(Value::as_str),
                        display_name(kind, &properties),
                    ) else {
                        continue;
                    };
                    self.app_ids
                        .entry(app_id.to_ascii_lowercase())
                        .or_insert(name);
                }
            }
        }
    }

    /// For tests and callers that know names already.
    pub fn insert(&mut self, id: &str, name: Name) {
        self.objects.insert(id.to_ascii_lowercase(), name);
    }
}

/// The reference declared at a catalog path, if any.
pub fn reference_at(kind: &Kind, schema_path: &str) -> Option<RefTarget> {
    kind.references
        .iter()
        .find(|r| r.path == schema_path)
        .map(|r| r.target)
        .or_else(|| {
            // Arrays of target objects (`includeTargets`) declare the reference on `.id`.
            let id_path = format!("{schema_path}.id");
            kind.references
                .iter()
                .find(|r| r.path == id_path)
                .map(|r| r.target)
        })
}

/// The IDs a field change mentions: scalar values, or the `id` of target objects.
pub fn ids_in(change: &Change) -> Vec<String> {
    let values: Vec<&Value> = match change {
        Change::Value { before, after } => vec![before, after],
        Change::Set { added, removed } => added.iter().chain(removed).collect(),
    };
    values
        .into_iter()
        .filter_map(|v| v.as_str().or_else(|| v.get("id").and_then(Value::as_str)))
        .map(str::to_ascii_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_ids_resolve_everywhere() {
        let names = Names::default();
        let role = names
            .resolve(
                RefTarget::RoleTemplate,
                "62E90394-69F5-4237-9190-012177145E10",
            )
            .unwrap();
        assert_eq!(role.display, "Global Administrator");
        let graph = names
            .resolve(RefTarget::AppId, "00000003-0000-0000-c000-000000000000")
            .unwrap();
        assert_eq!(graph.display, "Microsoft Graph");
        assert_eq!(
            names
                .resolve(RefTarget::Objects(&["users"]), "All")
                .unwrap()
                .display,
            "all"
        );
        assert_eq!(
            names.resolve(
                RefTarget::Objects(&["groups"]),
                "9f1c0000-0000-0000-0000-000000000001"
            ),
            None
        );
    }

    #[test]
    fn references_are_found_for_arrays_of_targets() {
        let policy = catalog::kind("authentication-methods-policy").unwrap();
        assert!(
            reference_at(policy, "authenticationMethodConfigurations.includeTargets").is_some()
        );
        let ca = catalog::kind("conditional-access-policies").unwrap();
        assert_eq!(
            reference_at(ca, "conditions.users.excludeGroups"),
            Some(RefTarget::Objects(&["groups"]))
        );
        assert_eq!(reference_at(ca, "state"), None);
    }
}
