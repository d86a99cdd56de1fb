//! The Graph type model, read from the generated `graph_types.json`.
//!
//! Graph serialises every declared property of an entity or complex type, with `null` (or `[]`
//! for collections) when unset. The emulator stores objects compactly (only the values that are
//! set) and relies on this model to fill in the rest when serving, so `$select` and the default
//! property sets behave like the real service.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

static SCHEMA: OnceLock<Schema> = OnceLock::new();

/// The process-wide schema. The JSON is embedded at compile time and covered by tests, so a
/// parse failure is a build defect, reported once, and leaves an empty model rather than a
/// panic inside a request.
pub(crate) fn schema() -> &'static Schema {
    SCHEMA.get_or_init(|| {
        Schema::parse(include_str!("../graph_types.json")).unwrap_or_else(|err| {
            tracing::error!(%err, "graph_types.json does not parse; serving without a type model");
            Schema::default()
        })
    })
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Property {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) ty: String,
}

impl Property {
    pub(crate) fn is_collection(&self) -> bool {
        self.ty.starts_with("Collection(")
    }

    /// The element type without `Collection(...)` and without the `graph.` namespace.
    pub(crate) fn element_type(&self) -> &str {
        let inner = self
            .ty
            .strip_prefix("Collection(")
            .and_then(|t| t.strip_suffix(')'))
            .unwrap_or(&self.ty);
        inner.strip_prefix("graph.").unwrap_or(inner)
    }
}

#[derive(Debug, Deserialize)]
struct RawType {
    kind: String,
    base: Option<String>,
    #[serde(default)]
    properties: Vec<Property>,
}

#[derive(Debug)]
pub(crate) struct TypeInfo {
    pub(crate) complex: bool,
    /// Every property, the base chain's first, `id` leading when the type has one.
    pub(crate) properties: Vec<Property>,
}

impl TypeInfo {
    /// Case-insensitive lookup, as `$select` needs.
    pub(crate) fn property_ci(&self, name: &str) -> Option<&Property> {
        self.properties
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Default)]
pub(crate) struct Schema {
    types: HashMap<String, TypeInfo>,
}

impl Schema {
    fn parse(text: &str) -> Result<Schema, serde_json::Error> {
        let raw: HashMap<String, RawType> = serde_json::from_str(text)?;
        let types = raw
            .iter()
            .filter(|(_, t)| t.kind == "EntityType" || t.kind == "ComplexType")
            .map(|(name, t)| {
                let info = TypeInfo {
                    complex: t.kind == "ComplexType",
                    properties: flatten(&raw, name),
                };
                (name.clone(), info)
            })
            .collect();
        Ok(Schema { types })
    }

    /// A type by its short name (`user`) or `@odata.type` form (`#microsoft.graph.user`).
    pub(crate) fn get(&self, name: &str) -> Option<&TypeInfo> {
        let short = name
            .strip_prefix("#microsoft.graph.")
            .or_else(|| name.strip_prefix("graph."))
            .unwrap_or(name);
        self.types.get(short)
    }
}

/// Walks the base chain so that `user` gets `id` (entity) and `deletedDateTime`
/// (directoryObject). `id` goes first because Graph writes it first for almost every type;
/// the rest keeps base-before-derived declaration order, deliberately not alphabetical, so the
/// client's normaliser has real ordering work to do.
fn flatten(raw: &HashMap<String, RawType>, name: &str) -> Vec<Property> {
    let mut chain = Vec::new();
    let mut current = Some(name);
    while let Some(type_name) = current {
        let Some(t) = raw.get(type_name) else { break };
        chain.push(t);
        current = t.base.as_deref();
        if chain.len() > 16 {
            break; // a cycle would be a generator bug; never loop forever
        }
    }
    let mut props: Vec<Property> = Vec::new();
    for t in chain.iter().rev() {
        for p in &t.properties {
            if !props.iter().any(|q| q.name == p.name) {
                props.push(p.clone());
            }
        }
    }
    if let Some(pos) = props.iter().position(|p| p.name == "id") {
        let id = props.remove(pos);
        props.insert(0, id);
    }
    props
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_inherits_id_and_deleted_date_time() {
        let user = schema().get("user").expect("user type");
        let names: Vec<&str> = user.properties.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(&names[..2], ["id", "deletedDateTime"]);
        assert!(names.contains(&"userPrincipalName"));
        assert!(!user.complex);
    }

    #[test]
    fn derived_named_location_has_base_and_own_properties() {
        let ip = schema()
            .get("#microsoft.graph.ipNamedLocation")
            .expect("ip");
        assert!(ip.property_ci("displayName").is_some());
        assert!(ip
            .property_ci("ipRanges")
            .is_some_and(|p| p.is_collection()));
        assert_eq!(
            ip.property_ci("ipRanges").map(|p| p.element_type()),
            Some("ipRange")
        );
        assert!(schema().get("iPv4CidrRange").is_some_and(|t| t.complex));
    }
}
