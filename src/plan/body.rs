//! Request bodies: what a PATCH or POST may carry, built from normalized content. Pure.
//!
//! The rule that matters most: a body never carries a property Graph computes (the
//! catalog's `read_only`), one that changes on its own (`volatile`) or a secret. Graph
//! answers such bodies with 400, and a restore that "worked" by sending a computed
//! value would be lying about what it changed.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::catalog::{Kind, Prop};
use crate::diff::value::join;

/// A property a restore cannot write, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unwritable {
    pub path: String,
    pub reason: String,
}

/// Why a property path may not be written, if it may not. `create` allows the kind's
/// create-only properties.
pub fn unwritable_reason(kind: &Kind, path: &str, create: bool) -> Option<String> {
    if create && kind.create_only.contains(&path) {
        return None;
    }
    let find = |props: &[Prop]| props.iter().find(|p| p.path == path).map(|p| p.reason);
    if let Some(reason) = find(kind.secrets) {
        return Some(format!("never written: {reason}"));
    }
    if let Some(reason) = find(kind.read_only) {
        return Some(format!("read-only: {reason}"));
    }
    find(kind.volatile).map(|reason| format!("not restored: {reason}"))
}

/// Removes every unwritable property, at any depth, from a property map.
pub fn strip(kind: &Kind, properties: &Map<String, Value>, create: bool) -> Map<String, Value> {
    strip_map(kind, properties, "", create)
}

fn strip_map(
    kind: &Kind,
    map: &Map<String, Value>,
    prefix: &str,
    create: bool,
) -> Map<String, Value> {
    map.iter()
        .filter_map(|(key, value)| {
            let path = join(prefix, key);
            if key != "@odata.type" && unwritable_reason(kind, &path, create).is_some() {
                return None;
            }
            Some((key.clone(), strip_value(kind, value, &path, create)))
        })
        .collect()
}

fn strip_value(kind: &Kind, value: &Value, path: &str, create: bool) -> Value {
    match value {
        Value::Object(map) => Value::Object(strip_map(kind, map, path, create)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| strip_value(kind, item, path, create))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The PATCH body that turns `live` into `desired`: the top-level properties that
/// differ, each with its whole desired value. Within objects, keys that only the live
/// side has are sent as `null`, because Graph merges objects key by key and would
/// otherwise keep them. Arrays are replaced whole, as Graph does.
///
/// Differences in unwritable properties are returned apart, so that the plan can say
/// what it cannot restore instead of silently skipping it.
pub fn patch(
    kind: &Kind,
    live: &Map<String, Value>,
    desired: &Map<String, Value>,
    skip: &[&str],
) -> (Map<String, Value>, Vec<Unwritable>) {
    patch_at(kind, "", live, desired, skip)
}

/// [`patch`] for one item of a collection Graph updates item by item; paths in the
/// catalog are below `property`, and the item's `id` is never sent.
pub fn patch_nested(
    kind: &Kind,
    property: &str,
    live: &Map<String, Value>,
    desired: &Map<String, Value>,
) -> (Map<String, Value>, Vec<Unwritable>) {
    patch_at(kind, property, live, desired, &["id"])
}

fn patch_at(
    kind: &Kind,
    prefix: &str,
    live: &Map<String, Value>,
    desired: &Map<String, Value>,
    skip: &[&str],
) -> (Map<String, Value>, Vec<Unwritable>) {
    let mut body = Map::new();
    let mut unwritable = Vec::new();
    let keys: std::collections::BTreeSet<&String> = live.keys().chain(desired.keys()).collect();
    for key in keys {
        if key == "@odata.type" || skip.contains(&key.as_str()) {
            continue;
        }
        let (before, after) = (live.get(key), desired.get(key));
        if before == after {
            continue;
        }
        let path = join(prefix, key);
        if let Some(reason) = unwritable_reason(kind, &path, false) {
            unwritable.push(Unwritable {
                path: key.clone(),
                reason,
            });
            continue;
        }
        let value = match after {
            Some(after) => merge_value(kind, before, after, &path),
            None => cleared(before),
        };
        body.insert(key.clone(), value);
    }
    (body, unwritable)
}

/// The desired value of one property, with `null` for object keys only the live side has.
fn merge_value(kind: &Kind, before: Option<&Value>, after: &Value, path: &str) -> Value {
    match (before, after) {
        (Some(Value::Object(b)), Value::Object(a)) => {
            let mut out = Map::new();
            for (key, value) in a {
                let sub = join(path, key);
                if key != "@odata.type" && unwritable_reason(kind, &sub, false).is_some() {
                    continue;
                }
                out.insert(key.clone(), merge_value(kind, b.get(key), value, &sub));
            }
            for key in b.keys() {
                let sub = join(path, key);
                if !a.contains_key(key) && unwritable_reason(kind, &sub, false).is_none() {
                    out.insert(key.clone(), cleared(b.get(key)));
                }
            }
            Value::Object(out)
        }
        _ => strip_value(kind, after, path, false),
    }
}

/// The value that clears a property: `[]` for a collection, which Graph does not let
/// be null (normalized content treats the two alike), `null` for anything else.
fn cleared(before: Option<&Value>) -> Value {
    match before {
        Some(Value::Array(_)) => Value::Array(Vec::new()),
        _ => Value::Null,
    }
}

/// Replaces every string equal to a key of `map` (object IDs compare without case) with
/// its value, anywhere in `value`. Used to point references at re-created objects.
pub fn remap(value: &Value, map: &BTreeMap<String, String>) -> Value {
    if map.is_empty() {
        return value.clone();
    }
    match value {
        Value::String(s) => match map.get(&s.to_ascii_lowercase()) {
            Some(new) => Value::String(new.clone()),
            None => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(|v| remap(v, map)).collect()),
        Value::Object(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), remap(v, map)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn patch_sends_only_differing_writable_properties() {
        let users = catalog::kind("users").unwrap();
        let live = map(
            json!({"id": "1", "department": "Sales", "mail": "a@x", "createdDateTime": "2020"}),
        );
        let desired = map(
            json!({"id": "1", "department": "Finance", "mail": "a@x", "createdDateTime": "2019"}),
        );
        let (body, unwritable) = patch(users, &live, &desired, &[]);
        assert_eq!(Value::Object(body), json!({"department": "Finance"}));
        assert_eq!(unwritable.len(), 1);
        assert_eq!(unwritable[0].path, "createdDateTime");
        assert!(unwritable[0].reason.starts_with("read-only"));
    }

    #[test]
    fn nested_keys_only_live_has_are_cleared() {
        let ca = catalog::kind("conditional-access-policies").unwrap();
        let live = map(
            json!({"conditions": {"users": {"includeUsers": ["All"], "excludeUsers": ["u1"]}, "platforms": {"includePlatforms": ["all"]}}}),
        );
        let desired = map(json!({"conditions": {"users": {"includeUsers": ["All"]}}}));
        let (body, _) = patch(ca, &live, &desired, &[]);
        assert_eq!(
            Value::Object(body),
            json!({"conditions": {"users": {"includeUsers": ["All"], "excludeUsers": []}, "platforms": null}})
        );
    }

    #[test]
    fn strip_keeps_create_only_properties_for_a_create() {
        let sps = catalog::kind("service-principals").unwrap();
        let props = map(
            json!({"appId": "a", "appDisplayName": "x", "displayName": "d", "passwordCredentials": []}),
        );
        assert_eq!(
            Value::Object(strip(sps, &props, true)),
            json!({"appId": "a", "displayName": "d"})
        );
        assert_eq!(
            Value::Object(strip(sps, &props, false)),
            json!({"displayName": "d"})
        );
    }

    #[test]
    fn remap_replaces_whole_strings_only() {
        let mut m = BTreeMap::new();
        m.insert("aaaa".to_string(), "${new-id:aaaa}".to_string());
        let v = json!({"excludeUsers": ["AAAA", "bbbb"], "note": "aaaa-suffix"});
        assert_eq!(
            remap(&v, &m),
            json!({"excludeUsers": ["${new-id:aaaa}", "bbbb"], "note": "aaaa-suffix"})
        );
    }
}
