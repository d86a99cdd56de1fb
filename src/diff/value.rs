//! Structural difference of two normalized property trees. Pure.
//!
//! Objects are compared key by key. Arrays are sets in normalized content (see the
//! catalog), so an array difference is the items added and removed, never positional
//! noise; arrays of objects with an identity key (an app role's `id`) are matched by it,
//! and their inner changes reported under `path[key]`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// One changed field.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldChange {
    /// Dotted path, with `[key]` for a matched array element: `appRoles[3f2c…].isEnabled`.
    pub path: String,
    /// The catalog path without element keys, for looking up references and rules.
    #[serde(skip)]
    pub schema_path: String,
    #[serde(flatten)]
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Change {
    /// A value set, cleared or replaced. `null` means absent.
    Value { before: Value, after: Value },
    /// Items added to and removed from a set.
    Set {
        added: Vec<Value>,
        removed: Vec<Value>,
    },
}

/// The differences between two property maps.
pub fn diff(before: &Value, after: &Value, array_keys: &[(&str, &str)]) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    walk(before, after, "", "", array_keys, &mut changes);
    changes
}

fn walk(
    before: &Value,
    after: &Value,
    path: &str,
    schema_path: &str,
    array_keys: &[(&str, &str)],
    out: &mut Vec<FieldChange>,
) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for key in keys {
                let null = Value::Null;
                walk(
                    b.get(key).unwrap_or(&null),
                    a.get(key).unwrap_or(&null),
                    &join(path, key),
                    &join(schema_path, key),
                    array_keys,
                    out,
                );
            }
        }
        (Value::Array(_), _) | (_, Value::Array(_))
            if !matches!(before, Value::Object(_)) && !matches!(after, Value::Object(_)) =>
        {
            let empty = Vec::new();
            let b = before.as_array().unwrap_or(&empty);
            let a = after.as_array().unwrap_or(&empty);
            let key = array_keys
                .iter()
                .find(|(p, _)| *p == schema_path)
                .map(|(_, k)| *k);
            match key {
                Some(key) => keyed_arrays(b, a, key, path, schema_path, array_keys, out),
                None => set_change(b, a, path, schema_path, out),
            }
        }
        _ => out.push(FieldChange {
            path: path.to_string(),
            schema_path: schema_path.to_string(),
            change: Change::Value {
                before: before.clone(),
                after: after.clone(),
            },
        }),
    }
}

fn set_change(
    before: &[Value],
    after: &[Value],
    path: &str,
    schema_path: &str,
    out: &mut Vec<FieldChange>,
) {
    let added: Vec<Value> = after
        .iter()
        .filter(|v| !before.contains(v))
        .cloned()
        .collect();
    let removed: Vec<Value> = before
        .iter()
        .filter(|v| !after.contains(v))
        .cloned()
        .collect();
    push_set(added, removed, path, schema_path, out);
}

/// Records a set change, if anything was added or removed.
fn push_set(
    added: Vec<Value>,
    removed: Vec<Value>,
    path: &str,
    schema_path: &str,
    out: &mut Vec<FieldChange>,
) {
    if !added.is_empty() || !removed.is_empty() {
        out.push(FieldChange {
            path: path.to_string(),
            schema_path: schema_path.to_string(),
            change: Change::Set { added, removed },
        });
    }
}

fn keyed_arrays(
    before: &[Value],
    after: &[Value],
    key: &str,
    path: &str,
    schema_path: &str,
    array_keys: &[(&str, &str)],
    out: &mut Vec<FieldChange>,
) {
    let index = |items: &[Value]| -> BTreeMap<String, Value> {
        items
            .iter()
            .map(|item| {
                let id = match item.get(key) {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => item.to_string(),
                };
                (id, item.clone())
            })
            .collect()
    };
    let b = index(before);
    let a = index(after);
    let added: Vec<Value> = a
        .iter()
        .filter(|(k, _)| !b.contains_key(*k))
        .map(|(_, v)| v.clone())
        .collect();
    let removed: Vec<Value> = b
        .iter()
        .filter(|(k, _)| !a.contains_key(*k))
        .map(|(_, v)| v.clone())
        .collect();
    push_set(added, removed, path, schema_path, out);
    for (id, item) in &a {
        if let Some(previous) = b.get(id) {
            walk(
                previous,
                item,
                &format!("{path}[{id}]"),
                schema_path,
                array_keys,
                out,
            );
        }
    }
}

/// A dotted property path: `conditions.users` + `excludeGroups`.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_sets_and_keyed_elements() {
        let before = json!({
            "state": "enabled",
            "conditions": {"users": {"excludeGroups": ["a", "b"]}},
            "appRoles": [{"id": "r1", "isEnabled": true}, {"id": "r2"}],
        });
        let after = json!({
            "state": "disabled",
            "conditions": {"users": {"excludeGroups": ["b", "c"]}},
            "appRoles": [{"id": "r1", "isEnabled": false}, {"id": "r3"}],
            "description": "new",
        });
        let changes = diff(&before, &after, &[("appRoles", "id")]);
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "appRoles",
                "appRoles[r1].isEnabled",
                "conditions.users.excludeGroups",
                "description",
                "state"
            ]
        );
        assert_eq!(
            changes[2].change,
            Change::Set {
                added: vec![json!("c")],
                removed: vec![json!("a")]
            }
        );
        assert_eq!(changes[1].schema_path, "appRoles.isEnabled");
        assert_eq!(
            changes[3].change,
            Change::Value {
                before: Value::Null,
                after: json!("new")
            }
        );
    }

    #[test]
    fn an_array_appearing_is_a_set_of_additions() {
        let changes = diff(&json!({}), &json!({"tags": ["x"]}), &[]);
        assert_eq!(
            changes[0].change,
            Change::Set {
                added: vec![json!("x")],
                removed: vec![]
            }
        );
        assert!(diff(&json!({"a": [1]}), &json!({"a": [1]}), &[]).is_empty());
    }
}
