//! Turns stored (compact) objects into what Graph would send.
//!
//! Graph writes every declared property of the type it serialises, nested complex values
//! included, with `null` for unset scalars and objects and `[]` for unset collections. Which
//! properties appear at the top level depends on `$select` and on the per-type default sets
//! (GRAPH-NOTES §1.0–§1.2).

use std::borrow::Cow;

use serde_json::Value;

use super::json::{Node, ObjectBuilder};
use super::schema::{schema, Property};

/// The user properties returned without `$select`, in the order Graph writes them (user-list).
pub(crate) const USER_DEFAULT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// The group properties returned without `$select` (GRAPH-NOTES §1.2); the Outlook-only ones
/// such as `allowExternalSenders` or `unseenCount` need an explicit `$select`.
pub(crate) const GROUP_DEFAULT: &[&str] = &[
    "id",
    "deletedDateTime",
    "classification",
    "createdDateTime",
    "description",
    "displayName",
    "expirationDateTime",
    "groupTypes",
    "isAssignableToRole",
    "mail",
    "mailEnabled",
    "mailNickname",
    "membershipRule",
    "membershipRuleProcessingState",
    "onPremisesDomainName",
    "onPremisesLastSyncDateTime",
    "onPremisesNetBiosName",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "preferredDataLocation",
    "preferredLanguage",
    "proxyAddresses",
    "renewedDateTime",
    "resourceBehaviorOptions",
    "resourceProvisioningOptions",
    "securityEnabled",
    "securityIdentifier",
    "theme",
    "visibility",
    "onPremisesProvisioningErrors",
];

/// Which top-level properties of an entity to write.
#[derive(Clone, Copy)]
pub(crate) enum Props<'q> {
    /// The type's default set: [`USER_DEFAULT`], [`GROUP_DEFAULT`], or everything.
    Default,
    /// `$select`ed names, written in the type's declaration order.
    Selected(&'q [String]),
}

#[derive(Clone, Copy)]
pub(crate) struct Shape<'q> {
    pub(crate) props: Props<'q>,
    /// Write `@odata.type` first: polymorphic collections and relationship lists.
    pub(crate) odata_type: bool,
    /// Null out `keyCredentials[].key`, which applications only return when `$select`ed.
    pub(crate) hide_key_blobs: bool,
}

/// One entity of declared type `declared` (the stored `@odata.type` wins for derived types).
pub(crate) fn entity<'a>(declared: &str, stored: &'a Value, shape: Shape<'_>) -> Node<'a> {
    let concrete = stored
        .get("@odata.type")
        .and_then(Value::as_str)
        .unwrap_or(declared);
    let Some(info) = schema().get(concrete) else {
        // Unknown to the model (a test inserted a type the generator does not cover):
        // serve it verbatim rather than inventing a shape.
        return Node::Borrowed(stored);
    };
    let mut out = ObjectBuilder::new();
    if shape.odata_type {
        out.push("@odata.type", Node::string(odata_type(concrete)));
    }
    for prop in top_level(&info.properties, shape.props, concrete) {
        let mut node = property(prop, stored.get(&prop.name));
        if shape.hide_key_blobs && prop.name == "keyCredentials" {
            null_out_key(&mut node);
        }
        out.push(prop.name.as_str(), node);
    }
    out.build()
}

/// `#microsoft.graph.x` for a short or already-qualified type name.
pub(crate) fn odata_type(type_name: &str) -> String {
    if type_name.starts_with('#') {
        type_name.to_string()
    } else {
        format!("#microsoft.graph.{type_name}")
    }
}

fn top_level<'p>(declared: &'p [Property], props: Props<'_>, type_name: &str) -> Vec<&'p Property> {
    let find = |name: &str| declared.iter().find(|p| p.name == name);
    match props {
        Props::Selected(names) => declared
            .iter()
            .filter(|p| names.contains(&p.name))
            .collect(),
        Props::Default => match default_list(type_name) {
            Some(list) => list.iter().filter_map(|n| find(n)).collect(),
            None => declared.iter().collect(),
        },
    }
}

fn default_list(type_name: &str) -> Option<&'static [&'static str]> {
    match type_name.trim_start_matches("#microsoft.graph.") {
        "user" => Some(USER_DEFAULT),
        "group" => Some(GROUP_DEFAULT),
        _ => None,
    }
}

/// A property value completed to its declared type.
pub(crate) fn property<'a>(prop: &Property, value: Option<&'a Value>) -> Node<'a> {
    match value {
        None | Some(Value::Null) if prop.is_collection() => Node::Owned(Value::Array(Vec::new())),
        None => Node::null(),
        Some(Value::Array(items)) if prop.is_collection() => Node::Array(
            items
                .iter()
                .map(|item| complex(item, prop.element_type()))
                .collect(),
        ),
        Some(v) => complex(v, prop.element_type()),
    }
}

/// A complex value with every declared property of its (possibly derived) type; anything
/// that is not a complex-typed object passes through unchanged.
fn complex<'a>(value: &'a Value, declared: &str) -> Node<'a> {
    let Value::Object(map) = value else {
        return Node::Borrowed(value);
    };
    let tag = map.get("@odata.type");
    let concrete = tag.and_then(Value::as_str).unwrap_or(declared);
    let Some(info) = schema().get(concrete).filter(|t| t.complex) else {
        return Node::Borrowed(value);
    };
    let mut out = ObjectBuilder::new();
    if let Some(tag) = tag {
        out.push("@odata.type", Node::Borrowed(tag));
    }
    for prop in &info.properties {
        out.push(prop.name.as_str(), property(prop, map.get(&prop.name)));
    }
    out.build()
}

fn null_out_key(node: &mut Node<'_>) {
    let Node::Array(items) = node else { return };
    for item in items {
        if let Node::Object(fields) = item {
            for (name, value) in fields.iter_mut() {
                if name == "key" {
                    *value = Node::null();
                }
            }
        }
    }
}

/// `/policies/authenticationMethodsPolicy`: the policy with its configurations expanded, each
/// configuration carrying `@odata.type` and its own expanded `includeTargets`, plus the
/// context annotations Graph writes for expanded navigation properties.
pub(crate) fn auth_methods_policy<'a>(stored: &'a Value, base_url: &str) -> Node<'a> {
    let metadata = format!("{base_url}/v1.0/$metadata");
    let mut out = ObjectBuilder::new();
    out.push(
        "@odata.context",
        Node::string(format!("{metadata}#authenticationMethodsPolicy")),
    );
    if let Node::Object(fields) = entity("authenticationMethodsPolicy", stored, ALL) {
        for (k, v) in fields {
            out.push(k, v);
        }
    }
    let configs = stored
        .get("authenticationMethodConfigurations")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    out.push(
        "authenticationMethodConfigurations@odata.context",
        Node::string(format!(
            "{metadata}#policies/authenticationMethodsPolicy/authenticationMethodConfigurations"
        )),
    );
    out.push(
        "authenticationMethodConfigurations",
        Node::Array(
            configs
                .iter()
                .map(|c| method_config(c, &metadata))
                .collect(),
        ),
    );
    out.build()
}

/// One method configuration with `@odata.type` and its expanded `includeTargets`.
pub(crate) fn method_config<'a>(config: &'a Value, metadata: &str) -> Node<'a> {
    let shape = Shape {
        odata_type: true,
        ..ALL
    };
    let Node::Object(mut fields) = entity("authenticationMethodConfiguration", config, shape)
    else {
        return Node::Borrowed(config);
    };
    let Some(targets) = config.get("includeTargets") else {
        return Node::Object(fields);
    };
    let id = config.get("id").and_then(Value::as_str).unwrap_or_default();
    let tag = config
        .get("@odata.type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim_start_matches('#');
    fields.push((
        Cow::Borrowed("includeTargets@odata.context"),
        Node::string(format!(
            "{metadata}#policies/authenticationMethodsPolicy/authenticationMethodConfigurations('{id}')/{tag}/includeTargets"
        )),
    ));
    fields.push((Cow::Borrowed("includeTargets"), Node::Borrowed(targets)));
    Node::Object(fields)
}

/// Every property, no annotations: service principals, policies, CA objects.
pub(crate) const ALL: Shape<'static> = Shape {
    props: Props::Default,
    odata_type: false,
    hide_key_blobs: false,
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(node: Node<'_>) -> String {
        String::from_utf8(node.to_vec().expect("serialises")).expect("utf8")
    }

    #[test]
    fn user_default_set_puts_id_last_and_fills_nulls() {
        let stored = json!({"id": "u1", "displayName": "A", "city": "X"});
        let out = text(entity("user", &stored, ALL));
        assert!(out.starts_with(r#"{"businessPhones":[],"displayName":"A","givenName":null"#));
        assert!(out.ends_with(r#""userPrincipalName":null,"id":"u1"}"#));
        assert!(!out.contains("city"));
    }

    #[test]
    fn nested_complex_values_are_completed_with_derived_types() {
        let stored = json!({
            "@odata.type": "#microsoft.graph.ipNamedLocation",
            "id": "n1",
            "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "10.0.0.0/8"}]
        });
        let shape = Shape {
            odata_type: true,
            ..ALL
        };
        let out = text(entity("namedLocation", &stored, shape));
        assert!(out.starts_with(r##"{"@odata.type":"#microsoft.graph.ipNamedLocation","id":"n1""##));
        assert!(out.contains(r##""ipRanges":[{"@odata.type":"#microsoft.graph.iPv4CidrRange","cidrAddress":"10.0.0.0/8"}]"##));
        assert!(out.contains(r#""isTrusted":null"#));
    }

    #[test]
    fn selected_properties_follow_declaration_order() {
        let stored = json!({"id": "g", "displayName": "G", "unseenCount": 3});
        let select = vec!["unseenCount".to_string(), "displayName".to_string()];
        let shape = Shape {
            props: Props::Selected(&select),
            ..ALL
        };
        assert_eq!(
            text(entity("group", &stored, shape)),
            r#"{"displayName":"G","unseenCount":3}"#
        );
    }
}
