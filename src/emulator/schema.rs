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
    /// CSDL's `Nullable`, true unless the model says otherwise.
    #[serde(default = "nullable_by_default")]
    pub(crate) nullable: bool,
}

fn nullable_by_default() -> bool {
    true
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
    #[serde(default)]
    navigation: Vec<String>,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default, rename = "abstract")]
    is_abstract: bool,
}

#[derive(Debug)]
pub(crate) struct TypeInfo {
    pub(crate) complex: bool,
    /// Abstract types (`ipRange`, `authenticationMethodConfiguration`) cannot be instantiated:
    /// a value of one needs an `@odata.type` naming a concrete derived type.
    pub(crate) is_abstract: bool,
    /// Every property, the base chain's first, `id` leading when the type has one.
    pub(crate) properties: Vec<Property>,
    /// Navigation property names, the base chain's included.
    pub(crate) navigation: Vec<String>,
    /// The type itself and its ancestors, nearest first: `[user, directoryObject, entity]`.
    lineage: Vec<String>,
}

impl TypeInfo {
    /// Case-insensitive lookup, as `$select` needs.
    pub(crate) fn property_ci(&self, name: &str) -> Option<&Property> {
        self.properties
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Exact lookup, as request bodies need.
    pub(crate) fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// The type's own short name (`user`).
    pub(crate) fn name(&self) -> &str {
        self.lineage.first().map_or("", String::as_str)
    }

    /// Whether a value of this type may stand where `ancestor` is declared.
    pub(crate) fn is_a(&self, ancestor: &str) -> bool {
        self.lineage.iter().any(|t| t == short_name(ancestor))
    }
}

#[derive(Debug, Default)]
pub(crate) struct Schema {
    types: HashMap<String, TypeInfo>,
    /// Enum type name → its members.
    enums: HashMap<String, Vec<String>>,
}

impl Schema {
    fn parse(text: &str) -> Result<Schema, serde_json::Error> {
        let raw: HashMap<String, RawType> = serde_json::from_str(text)?;
        let types = raw
            .iter()
            .filter(|(_, t)| t.kind == "EntityType" || t.kind == "ComplexType")
            .map(|(name, t)| {
                let chain = base_chain(&raw, name);
                let info = TypeInfo {
                    complex: t.kind == "ComplexType",
                    is_abstract: t.is_abstract,
                    properties: flatten(&chain),
                    navigation: chain
                        .iter()
                        .flat_map(|(_, t)| t.navigation.iter().cloned())
                        .collect(),
                    lineage: chain.iter().map(|(n, _)| n.to_string()).collect(),
                };
                (name.clone(), info)
            })
            .collect();
        let enums = raw
            .iter()
            .filter(|(_, t)| t.kind == "EnumType")
            .map(|(name, t)| (name.clone(), t.members.clone()))
            .collect();
        Ok(Schema { types, enums })
    }

    /// A type by its short name (`user`) or `@odata.type` form (`#microsoft.graph.user`).
    pub(crate) fn get(&self, name: &str) -> Option<&TypeInfo> {
        self.types.get(short_name(name))
    }

    /// The members of an enum type, by short or qualified name.
    pub(crate) fn enum_members(&self, name: &str) -> Option<&[String]> {
        self.enums.get(short_name(name)).map(Vec::as_slice)
    }
}

/// `user` for `user`, `graph.user`, `microsoft.graph.user` and `#microsoft.graph.user`.
pub(crate) fn short_name(name: &str) -> &str {
    let name = name.strip_prefix('#').unwrap_or(name);
    name.strip_prefix("microsoft.graph.")
        .or_else(|| name.strip_prefix("graph."))
        .unwrap_or(name)
}

/// The type and its bases, nearest first.
fn base_chain<'r>(raw: &'r HashMap<String, RawType>, name: &'r str) -> Vec<(&'r str, &'r RawType)> {
    let mut chain = Vec::new();
    let mut current = Some(name);
    while let Some(type_name) = current {
        let Some(t) = raw.get(type_name) else { break };
        chain.push((type_name, t));
        current = t.base.as_deref();
        if chain.len() > 16 {
            break; // a cycle would be a generator bug; never loop forever
        }
    }
    chain
}

/// Walks the base chain so that `user` gets `id` (entity) and `deletedDateTime`
/// (directoryObject). `id` goes first because Graph writes it first for almost every type;
/// the rest keeps base-before-derived declaration order, deliberately not alphabetical, so the
/// client's normaliser has real ordering work to do.
fn flatten(chain: &[(&str, &RawType)]) -> Vec<Property> {
    let mut props: Vec<Property> = Vec::new();
    for (_, t) in chain.iter().rev() {
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

    #[test]
    fn knows_lineage_abstractness_navigation_and_enums() {
        let v4 = schema().get("iPv4CidrRange").expect("v4");
        assert!(v4.is_a("ipRange") && v4.is_a("#microsoft.graph.iPv4CidrRange"));
        assert!(!v4.is_a("iPv6CidrRange"));
        assert!(schema().get("ipRange").is_some_and(|t| t.is_abstract));
        let fido = schema()
            .get("fido2AuthenticationMethodConfiguration")
            .expect("fido2");
        assert_eq!(fido.name(), "fido2AuthenticationMethodConfiguration");
        assert!(fido.navigation.iter().any(|n| n == "includeTargets"));
        assert!(fido.property("state").is_some() && fido.property("State").is_none());
        let states = schema()
            .enum_members("graph.conditionalAccessPolicyState")
            .expect("enum");
        assert!(states
            .iter()
            .any(|m| m == "enabledForReportingButNotEnforced"));
        let ca = schema().get("conditionalAccessPolicy").expect("ca");
        assert!(!ca.property("conditions").expect("conditions").nullable);
        assert!(ca.property("description").expect("description").nullable);
    }
}
