//! The semantic change engine: two versions of the normalized objects in, a change set
//! out. Pure: reading the versions from git is `history`, rendering is `report`.
//!
//! Objects are matched by object ID, so a rename is a change, not a removal and an
//! addition. Property changes are field-level (`value::diff`); relationship changes are
//! members, owners or assignments added and removed.

pub mod value;

use serde_json::Value;

use crate::catalog::Kind;
pub use value::{Change, FieldChange};

/// One version of one object: where it was stored and its normalized content.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub path: String,
    /// `{"properties": {...}, "relationships": {...}}`.
    pub content: Value,
}

/// How an object changed between two snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    Added,
    Changed,
    Removed,
}

/// Items added to and removed from one relationship.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RelationshipChange {
    pub name: String,
    pub added: Vec<Value>,
    pub removed: Vec<Value>,
}

/// One object that differs.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectChange {
    pub kind: &'static Kind,
    pub id: String,
    pub action: Action,
    pub before: Option<Version>,
    pub after: Option<Version>,
    pub fields: Vec<FieldChange>,
    pub relationships: Vec<RelationshipChange>,
}

impl ObjectChange {
    /// The newest version's properties.
    pub fn properties(&self) -> &Value {
        let version = self.after.as_ref().or(self.before.as_ref());
        version
            .and_then(|v| v.content.get("properties"))
            .unwrap_or(&Value::Null)
    }
}

/// Compares two versions of one object; `None` when they mean the same.
pub fn compare(
    kind: &'static Kind,
    id: &str,
    before: Option<Version>,
    after: Option<Version>,
) -> Option<ObjectChange> {
    let action = match (&before, &after) {
        (None, None) => return None,
        (None, Some(_)) => Action::Added,
        (Some(_), None) => Action::Removed,
        (Some(b), Some(a)) if b.content == a.content && b.path == a.path => return None,
        (Some(_), Some(_)) => Action::Changed,
    };
    let part = |version: &Option<Version>, name: &str| {
        version
            .as_ref()
            .and_then(|v| v.content.get(name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let fields = value::diff(
        &part(&before, "properties"),
        &part(&after, "properties"),
        kind.array_keys,
    );
    let relationships = relationship_changes(
        &part(&before, "relationships"),
        &part(&after, "relationships"),
    );
    Some(ObjectChange {
        kind,
        id: id.to_string(),
        action,
        before,
        after,
        fields,
        relationships,
    })
}

fn relationship_changes(before: &Value, after: &Value) -> Vec<RelationshipChange> {
    let names: std::collections::BTreeSet<&String> = before
        .as_object()
        .into_iter()
        .chain(after.as_object())
        .flat_map(|m| m.keys())
        .collect();
    names
        .into_iter()
        .filter_map(|name| {
            let items = |side: &Value| {
                side.get(name)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            };
            let (b, a) = (items(before), items(after));
            let added: Vec<Value> = a.iter().filter(|v| !b.contains(v)).cloned().collect();
            let removed: Vec<Value> = b.iter().filter(|v| !a.contains(v)).cloned().collect();
            (!added.is_empty() || !removed.is_empty()).then(|| RelationshipChange {
                name: name.clone(),
                added,
                removed,
            })
        })
        .collect()
}

/// All object changes between two snapshots, in catalog order, then by object ID.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeSet {
    pub changes: Vec<ObjectChange>,
}

impl ChangeSet {
    pub fn new(mut changes: Vec<ObjectChange>) -> Self {
        let order = |kind: &Kind| {
            crate::catalog::KINDS
                .iter()
                .position(|k| k.name == kind.name)
        };
        changes.sort_by(|a, b| (order(a.kind), &a.id).cmp(&(order(b.kind), &b.id)));
        ChangeSet { changes }
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;
    use serde_json::json;

    fn version(path: &str, content: Value) -> Option<Version> {
        Some(Version {
            path: path.into(),
            content,
        })
    }

    #[test]
    fn a_rename_is_a_change_and_relationships_are_sets() {
        let groups = catalog::kind("groups").unwrap();
        let before = version(
            "groups/sales.g1.yaml",
            json!({"properties": {"displayName": "Sales"}, "relationships": {"members": ["u1", "u2"], "owners": []}}),
        );
        let after = version(
            "groups/sales-emea.g1.yaml",
            json!({"properties": {"displayName": "Sales EMEA"}, "relationships": {"members": ["u2", "u3"], "owners": []}}),
        );
        let change = compare(groups, "g1", before, after).unwrap();
        assert_eq!(change.action, Action::Changed);
        assert_eq!(change.fields.len(), 1);
        assert_eq!(
            change.relationships,
            vec![RelationshipChange {
                name: "members".into(),
                added: vec![json!("u3")],
                removed: vec![json!("u1")]
            }]
        );
    }

    #[test]
    fn identical_versions_are_no_change() {
        let users = catalog::kind("users").unwrap();
        let v = version("users/a.1.yaml", json!({"properties": {"id": "1"}}));
        assert_eq!(compare(users, "1", v.clone(), v), None);
        let added = compare(
            users,
            "1",
            None,
            version("users/a.1.yaml", json!({"properties": {"id": "1"}})),
        );
        assert_eq!(added.unwrap().action, Action::Added);
    }
}
