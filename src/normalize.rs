//! Graph JSON to canonical content. Pure: no I/O, no clock, no randomness.
//!
//! Normalization removes differences of *form* so that only differences of *meaning*
//! reach git: annotation noise, volatile values, the order Graph happened to return
//! array items in, and the three spellings of "nothing" (`null`, `[]`, absent). Drift,
//! a real change, is never normalized away.
//!
//! The canonical content of one object is
//!
//! ```yaml
//! properties:       # Graph properties, cleaned
//!   displayName: ...
//! relationships:    # only for kinds that have them; always every relationship
//!   members: [...]
//! ```
//!
//! Relationships sit apart from the properties so that a restore never sends them as
//! properties of a PATCH.
//!
//! [`canonicalize`] is idempotent: canonicalizing canonical content changes nothing. A
//! property test holds it to that.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::catalog::{Kind, RelationshipItem};

/// Which properties of a kind the repository keeps, from `idgit.yaml`. Lets an
/// administrator keep personal data out of the history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertyFilter {
    /// When set, only these top-level properties (plus `id`) are kept.
    pub allow: Option<Vec<String>>,
    /// These top-level properties are dropped.
    pub deny: Vec<String>,
}

impl PropertyFilter {
    fn keeps(&self, name: &str) -> bool {
        if name == "id" || name == "@odata.type" {
            return true;
        }
        let allowed = self
            .allow
            .as_ref()
            .is_none_or(|allow| allow.iter().any(|a| a == name));
        allowed && !self.deny.iter().any(|d| d == name)
    }
}

/// Why a Graph object could not be normalized. Each is a malformed Graph response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    #[error("a {kind} object is not a JSON object")]
    NotAnObject { kind: &'static str },
    #[error("a {kind} object has no \"id\"")]
    MissingId { kind: &'static str },
    #[error("a {kind} object has an id that is not safe in a file name: {id:?}")]
    UnsafeId { kind: &'static str, id: String },
    #[error("a {kind} {relationship} item has no \"{field}\"")]
    BadRelationshipItem {
        kind: &'static str,
        relationship: &'static str,
        field: &'static str,
    },
}

/// One normalized object, ready to be laid out and written.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: String,
    /// `{"properties": {...}, "relationships": {...}}`.
    pub content: Value,
}

impl Document {
    pub fn properties(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.content
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }
}

/// Relationship items as Graph returned them, by relationship name.
pub type RawRelationships = BTreeMap<&'static str, Vec<Value>>;

/// Turns one Graph object and its relationships into a [`Document`].
pub fn normalize(
    kind: &'static Kind,
    raw: Value,
    relationships: RawRelationships,
    filter: &PropertyFilter,
) -> Result<Document, NormalizeError> {
    let Value::Object(mut properties) = raw else {
        return Err(NormalizeError::NotAnObject { kind: kind.name });
    };
    properties.retain(|name, _| filter.keeps(name));
    let id = object_id(kind, &properties)?;
    let mut rels = Map::new();
    for rel in kind.relationships {
        let items = relationships
            .get(rel.name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let projected = items
            .iter()
            .map(|item| project_relationship_item(kind, rel.name, rel.item, item))
            .collect::<Result<Vec<_>, _>>()?;
        rels.insert(rel.name.to_string(), Value::Array(projected));
    }
    let mut content = Map::new();
    content.insert("properties".into(), Value::Object(properties));
    if !kind.relationships.is_empty() {
        content.insert("relationships".into(), Value::Object(rels));
    }
    Ok(Document {
        id,
        content: canonicalize(kind, Value::Object(content)),
    })
}

/// The ID of a raw Graph object, checked to be safe in a URL path and a file name.
pub fn graph_id(kind: &'static Kind, raw: &Value) -> Result<String, NormalizeError> {
    match raw {
        Value::Object(properties) => object_id(kind, properties),
        _ => Err(NormalizeError::NotAnObject { kind: kind.name }),
    }
}

fn object_id(
    kind: &'static Kind,
    properties: &Map<String, Value>,
) -> Result<String, NormalizeError> {
    if let crate::catalog::Shape::Singleton { id, .. } = kind.shape {
        return Ok(id.to_string());
    }
    let id = properties
        .get("id")
        .and_then(Value::as_str)
        .ok_or(NormalizeError::MissingId { kind: kind.name })?;
    // The ID becomes part of a file name and a URL path: refuse anything that could
    // escape the kind's directory, be read differently on another file system, or
    // (with a dot) be split wrongly from the slug before it.
    let safe = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !safe {
        return Err(NormalizeError::UnsafeId {
            kind: kind.name,
            id: id.to_string(),
        });
    }
    Ok(id.to_string())
}

fn project_relationship_item(
    kind: &'static Kind,
    relationship: &'static str,
    item_kind: RelationshipItem,
    item: &Value,
) -> Result<Value, NormalizeError> {
    let field = |name: &'static str| {
        item.get(name).filter(|v| !v.is_null()).cloned().ok_or(
            NormalizeError::BadRelationshipItem {
                kind: kind.name,
                relationship,
                field: name,
            },
        )
    };
    Ok(match item_kind {
        RelationshipItem::ObjectId => field("id")?,
        RelationshipItem::AppRoleAssignment => {
            let mut map = Map::new();
            map.insert("appRoleId".into(), field("appRoleId")?);
            map.insert("principalId".into(), field("principalId")?);
            if let Some(principal_type) = item.get("principalType").filter(|v| !v.is_null()) {
                map.insert("principalType".into(), principal_type.clone());
            }
            Value::Object(map)
        }
    })
}

/// Puts content into canonical form. Idempotent.
pub fn canonicalize(kind: &Kind, content: Value) -> Value {
    let Value::Object(mut content) = content else {
        return content;
    };
    if let Some(props) = content.remove("properties") {
        let cleaned = clean_properties(kind, props);
        content.insert("properties".into(), cleaned);
    }
    if let Some(Value::Object(rels)) = content.remove("relationships") {
        let rels = rels
            .into_iter()
            .map(|(name, items)| {
                let mut items = match items {
                    Value::Array(items) => items,
                    Value::Null => Vec::new(),
                    other => vec![other],
                };
                items.sort_by(canonical_order);
                items.dedup();
                (name, Value::Array(items))
            })
            .collect();
        content.insert("relationships".into(), Value::Object(rels));
    }
    Value::Object(content)
}

fn clean_properties(kind: &Kind, props: Value) -> Value {
    let mut props = match props {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for prop in kind.volatile.iter().chain(kind.secrets) {
        remove_path(&mut props, prop.path);
    }
    // The kind's own type name on an object adds nothing; a derived type (an agent
    // identity among users, say) does, so it is kept.
    let root_type = props.remove("@odata.type");
    let keep_root_type = kind.polymorphic.contains(&"")
        || root_type
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|t| t != kind.base_odata_type());
    let mut cleaned = match clean_value(kind, "", Value::Object(props)) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if let Some(root_type) = root_type.filter(|t| keep_root_type && t.is_string()) {
        cleaned.insert("@odata.type".into(), root_type);
    }
    Value::Object(cleaned)
}

/// Removes a dotted path, stepping through arrays.
fn remove_path(map: &mut Map<String, Value>, path: &str) {
    match path.split_once('.') {
        None => {
            map.remove(path);
        }
        Some((head, rest)) => match map.get_mut(head) {
            Some(Value::Object(inner)) => remove_path(inner, rest),
            Some(Value::Array(items)) => {
                for item in items {
                    if let Value::Object(inner) = item {
                        remove_path(inner, rest);
                    }
                }
            }
            _ => {}
        },
    }
}

/// Cleans a value found at `path`; returns `Null` for "nothing" (null, `[]`, `{}`), which
/// the parent then drops.
fn clean_value(kind: &Kind, path: &str, value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let keep_type = kind.polymorphic.contains(&path);
            let cleaned: Map<String, Value> = map
                .into_iter()
                .filter(|(key, _)| !is_annotation(key) || (keep_type && key == "@odata.type"))
                .filter_map(|(key, value)| {
                    let child = clean_value(kind, &join(path, &key), value);
                    (!child.is_null()).then_some((key, child))
                })
                .collect();
            if cleaned.is_empty() {
                Value::Null
            } else {
                Value::Object(cleaned)
            }
        }
        Value::Array(items) => {
            let mut cleaned: Vec<Value> = items
                .into_iter()
                .map(|item| clean_value(kind, path, item))
                .filter(|item| !item.is_null())
                .collect();
            if cleaned.is_empty() {
                return Value::Null;
            }
            if !kind.ordered_arrays.contains(&path) {
                let key = kind
                    .array_keys
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, k)| *k);
                cleaned.sort_by(|a, b| keyed_order(key, a, b));
            }
            Value::Array(cleaned)
        }
        scalar => scalar,
    }
}

/// OData control information (`@odata.context`, `@odata.nextLink`, `members@delta`, ...).
fn is_annotation(key: &str) -> bool {
    key.contains('@')
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn keyed_order(key: Option<&str>, a: &Value, b: &Value) -> Ordering {
    if let Some(key) = key {
        let ka = a.get(key).map(canonical_string).unwrap_or_default();
        let kb = b.get(key).map(canonical_string).unwrap_or_default();
        match ka.cmp(&kb) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    canonical_order(a, b)
}

/// Total order on JSON values: strings by their text, everything else by canonical JSON.
fn canonical_order(a: &Value, b: &Value) -> Ordering {
    canonical_string(a).cmp(&canonical_string(b))
}

fn canonical_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        // serde_json's map is a BTreeMap here, so serialization is key-sorted.
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;
    use proptest::prelude::*;
    use serde_json::json;

    fn users() -> &'static Kind {
        catalog::kind("users").unwrap()
    }

    #[test]
    fn drops_annotations_volatile_and_empty_values() {
        let raw = json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
            "id": "00000000-0000-0000-0000-000000000001",
            "displayName": "Adele",
            "signInActivity": {"lastSignInDateTime": "2026-01-01T00:00:00Z"},
            "businessPhones": [],
            "mobilePhone": null,
            "onPremisesExtensionAttributes": {"extensionAttribute1": null},
            "accountEnabled": false,
            "jobTitle": "",
        });
        let doc = normalize(
            users(),
            raw,
            RawRelationships::new(),
            &PropertyFilter::default(),
        )
        .unwrap();
        assert_eq!(
            doc.content,
            json!({"properties": {
                "accountEnabled": false,
                "displayName": "Adele",
                "id": "00000000-0000-0000-0000-000000000001",
                "jobTitle": "",
            }})
        );
    }

    #[test]
    fn sorts_set_like_arrays_and_keeps_polymorphic_types() {
        let kind = catalog::kind("named-locations").unwrap();
        let raw = json!({
            "@odata.type": "#microsoft.graph.ipNamedLocation",
            "id": "a",
            "ipRanges": [
                {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:db8::/32"},
                {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "198.51.100.0/24"},
            ],
        });
        let doc = normalize(
            kind,
            raw,
            RawRelationships::new(),
            &PropertyFilter::default(),
        )
        .unwrap();
        assert_eq!(
            doc.content["properties"],
            json!({
                "@odata.type": "#microsoft.graph.ipNamedLocation",
                "id": "a",
                "ipRanges": [
                    {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "198.51.100.0/24"},
                    {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:db8::/32"},
                ],
            })
        );
    }

    #[test]
    fn relationships_are_projected_sorted_and_always_present() {
        let kind = catalog::kind("service-principals").unwrap();
        let mut rels = RawRelationships::new();
        rels.insert(
            "appRoleAssignedTo",
            vec![
                json!({"id": "x1", "appRoleId": "r", "principalId": "p2", "principalType": "User",
                       "principalDisplayName": "B", "createdDateTime": "2026-01-01T00:00:00Z"}),
                json!({"id": "x2", "appRoleId": "r", "principalId": "p1", "principalType": "Group"}),
            ],
        );
        let doc = normalize(kind, json!({"id": "sp"}), rels, &PropertyFilter::default()).unwrap();
        assert_eq!(
            doc.content["relationships"],
            json!({
                "appRoleAssignedTo": [
                    {"appRoleId": "r", "principalId": "p1", "principalType": "Group"},
                    {"appRoleId": "r", "principalId": "p2", "principalType": "User"},
                ],
                "owners": [],
            })
        );
    }

    #[test]
    fn secrets_are_never_kept() {
        let kind = catalog::kind("applications").unwrap();
        let raw = json!({"id": "a", "passwordCredentials": [
            {"keyId": "k", "hint": "abc", "secretText": "super-secret"}]});
        let doc = normalize(
            kind,
            raw,
            RawRelationships::new(),
            &PropertyFilter::default(),
        )
        .unwrap();
        assert!(!doc.content.to_string().contains("super-secret"));
    }

    #[test]
    fn unsafe_ids_are_refused() {
        for id in ["../etc", "", ".hidden", "a/b", "a b", "a.b"] {
            let err = normalize(
                users(),
                json!({"id": id}),
                RawRelationships::new(),
                &PropertyFilter::default(),
            );
            assert!(matches!(err, Err(NormalizeError::UnsafeId { .. })), "{id}");
        }
        let err = normalize(
            users(),
            json!({"displayName": "x"}),
            RawRelationships::new(),
            &PropertyFilter::default(),
        );
        assert_eq!(err, Err(NormalizeError::MissingId { kind: "users" }));
    }

    #[test]
    fn filter_drops_denied_properties() {
        let filter = PropertyFilter {
            allow: None,
            deny: vec!["mobilePhone".into()],
        };
        let doc = normalize(
            users(),
            json!({"id": "u", "mobilePhone": "+1 555"}),
            RawRelationships::new(),
            &filter,
        )
        .unwrap();
        assert_eq!(doc.content, json!({"properties": {"id": "u"}}));
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-zA-Z0-9 :@#.\"'\\-]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-z@.]{1,6}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn canonicalize_is_idempotent(props in arb_json(), kind_index in 0..catalog::KINDS.len()) {
            let kind = &catalog::KINDS[kind_index];
            let content = json!({"properties": props, "relationships": {"members": [props.clone()]}});
            let once = canonicalize(kind, content);
            let twice = canonicalize(kind, once.clone());
            prop_assert_eq!(once, twice);
        }

        #[test]
        fn array_order_and_key_order_do_not_matter(mut items in prop::collection::vec("[a-z0-9-]{1,6}", 0..8)) {
            let kind = catalog::kind("conditional-access-policies").unwrap();
            let a = json!({"id": "p", "conditions": {"users": {"includeGroups": items.clone()}}});
            items.reverse();
            let b = json!({"conditions": {"users": {"includeGroups": items}}, "id": "p"});
            let na = normalize(kind, a, RawRelationships::new(), &PropertyFilter::default()).unwrap();
            let nb = normalize(kind, b, RawRelationships::new(), &PropertyFilter::default()).unwrap();
            prop_assert_eq!(na, nb);
        }
    }
}
