//! Request bodies of writes, checked the way the directory checks them.
//!
//! The rules a restore trips over most live here, in one place: which properties are
//! read-only ([`Resource::read_only`]), which may only be set when creating, which a create
//! must carry, and whether each value fits its declared type in the type model. A body that
//! breaks a rule is refused whole with a 400 naming the property, before anything changes:
//! Graph never applies half a PATCH.
//!
//! Messages follow what the directory and the OData layer say where that is known
//! (GRAPH-NOTES §1.0, §2.6); where Graph's exact text is unknown they say plainly what is
//! wrong, always quoting the property.

use serde_json::{Map, Value};

use super::error::GraphError;
use super::schema::{schema, short_name, Property, TypeInfo};
use super::store::Kind;

/// What a request body is written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    User,
    Group,
    Application,
    ServicePrincipal,
    ConditionalAccessPolicy,
    NamedLocation,
    AuthorizationPolicy,
    AuthenticationMethodsPolicy,
    AuthenticationMethodConfiguration,
}

/// POST or PATCH: some properties may be set on one and not the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    Create,
    Update,
}

impl Resource {
    pub(crate) fn of(kind: Kind) -> Resource {
        match kind {
            Kind::Users => Resource::User,
            Kind::Groups => Resource::Group,
            Kind::Applications => Resource::Application,
            Kind::ServicePrincipals => Resource::ServicePrincipal,
            Kind::ConditionalAccessPolicies => Resource::ConditionalAccessPolicy,
            Kind::NamedLocations => Resource::NamedLocation,
        }
    }

    /// The declared (base) type in the model.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Resource::User => "user",
            Resource::Group => "group",
            Resource::Application => "application",
            Resource::ServicePrincipal => "servicePrincipal",
            Resource::ConditionalAccessPolicy => "conditionalAccessPolicy",
            Resource::NamedLocation => "namedLocation",
            Resource::AuthorizationPolicy => "authorizationPolicy",
            Resource::AuthenticationMethodsPolicy => "authenticationMethodsPolicy",
            Resource::AuthenticationMethodConfiguration => "authenticationMethodConfiguration",
        }
    }

    /// Polymorphic resources: every body must name its concrete derived type.
    pub(crate) fn needs_odata_type(self) -> bool {
        matches!(
            self,
            Resource::NamedLocation | Resource::AuthenticationMethodConfiguration
        )
    }

    /// Properties the service computes or manages through other APIs. A body that sets one
    /// is refused, on create and update alike. These mirror idgit's catalog, which strips
    /// them before writing, so a restore that forgets to strip one fails here as it would
    /// against Graph.
    pub(crate) fn read_only(self) -> &'static [&'static str] {
        match self {
            Resource::User => &[
                "id",
                "createdDateTime",
                "creationType",
                "securityIdentifier",
                "externalUserState",
                "externalUserStateChangeDateTime",
                "assignedLicenses",
                "assignedPlans",
                "provisionedPlans",
                "licenseAssignmentStates",
                "imAddresses",
                "proxyAddresses",
                "legalAgeGroupClassification",
                "isManagementRestricted",
                "onPremisesDistinguishedName",
                "onPremisesDomainName",
                "onPremisesSamAccountName",
                "onPremisesSecurityIdentifier",
                "onPremisesSyncEnabled",
                "onPremisesUserPrincipalName",
                "onPremisesProvisioningErrors",
                "serviceProvisioningErrors",
                "signInActivity",
                "lastPasswordChangeDateTime",
                "signInSessionsValidFromDateTime",
                "onPremisesLastSyncDateTime",
                "deletedDateTime",
            ],
            Resource::Group => &[
                "id",
                "createdDateTime",
                "mail",
                "proxyAddresses",
                "securityIdentifier",
                "assignedLicenses",
                "licenseProcessingState",
                "isArchived",
                "isManagementRestricted",
                "uniqueName",
                "resourceProvisioningOptions",
                "onPremisesDomainName",
                "onPremisesNetBiosName",
                "onPremisesSamAccountName",
                "onPremisesSecurityIdentifier",
                "onPremisesSyncEnabled",
                "onPremisesProvisioningErrors",
                "serviceProvisioningErrors",
                "renewedDateTime",
                "expirationDateTime",
                "onPremisesLastSyncDateTime",
                "deletedDateTime",
            ],
            Resource::Application => &[
                "id",
                "appId",
                "createdDateTime",
                "publisherDomain",
                "applicationTemplateId",
                "uniqueName",
                "disabledByMicrosoftStatus",
                "certification",
                "verifiedPublisher",
                "createdByAppId",
                // Secrets are added with addPassword, which returns the secret once.
                "passwordCredentials",
                "deletedDateTime",
            ],
            Resource::ServicePrincipal => &[
                "id",
                "appDisplayName",
                "appOwnerOrganizationId",
                "applicationTemplateId",
                "servicePrincipalType",
                "signInAudience",
                "resourceSpecificApplicationPermissions",
                "passwordCredentials",
                "deletedDateTime",
            ],
            Resource::ConditionalAccessPolicy => &[
                "id",
                "createdDateTime",
                "modifiedDateTime",
                "deletedDateTime",
                "templateId",
            ],
            Resource::NamedLocation => &[
                "id",
                "createdDateTime",
                "modifiedDateTime",
                "deletedDateTime",
            ],
            Resource::AuthorizationPolicy => &["id", "deletedDateTime"],
            Resource::AuthenticationMethodsPolicy => &[
                "id",
                "displayName",
                "description",
                "lastModifiedDateTime",
                "policyVersion",
            ],
            Resource::AuthenticationMethodConfiguration => &["id"],
        }
    }

    /// Properties a create may set but an update may not: they are fixed for the object's life.
    pub(crate) fn create_only(self) -> &'static [&'static str] {
        match self {
            Resource::Group => &["isAssignableToRole"],
            Resource::ServicePrincipal => &["appId"],
            _ => &[],
        }
    }

    /// Properties a create must carry (named locations add their type's own, see
    /// [`required_on_create`]).
    fn required(self) -> &'static [&'static str] {
        match self {
            Resource::User => &[
                "accountEnabled",
                "displayName",
                "mailNickname",
                "passwordProfile",
                "userPrincipalName",
            ],
            Resource::Group => &[
                "displayName",
                "mailEnabled",
                "mailNickname",
                "securityEnabled",
            ],
            Resource::Application => &["displayName"],
            Resource::ServicePrincipal => &["appId"],
            Resource::ConditionalAccessPolicy => &["displayName", "state", "conditions"],
            Resource::NamedLocation => &["displayName"],
            _ => &[],
        }
    }

    /// Accepted in bodies but never stored or returned.
    pub(crate) fn write_only(self) -> &'static [&'static str] {
        match self {
            Resource::User => &["passwordProfile"],
            _ => &[],
        }
    }

    /// Navigation properties a body may carry inline: a method configuration's targets.
    fn inline_navigation(self) -> &'static [&'static str] {
        match self {
            Resource::AuthenticationMethodConfiguration => &["includeTargets"],
            _ => &[],
        }
    }

    /// The name Graph's value errors use: `of resource 'User'`.
    fn label(self) -> String {
        let name = self.type_name();
        let mut label = name.to_string();
        if let Some(first) = label.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        label
    }
}

/// `Property 'X' is read-only and cannot be set.`, the directory's refusal.
pub(crate) fn read_only_error(property: &str) -> GraphError {
    GraphError::bad_request(format!(
        "Property '{property}' is read-only and cannot be set."
    ))
}

/// The directory's refusal of a create that lacks a required property.
pub(crate) fn required_error(property: &str) -> GraphError {
    GraphError::bad_request(format!(
        "Property {property} value is required but is empty or missing."
    ))
}

/// The OData layer's refusal of a polymorphic value without `@odata.type`.
pub(crate) fn missing_type_error() -> GraphError {
    GraphError::bad_request(
        "A value without a type name was found and no expected type is available. When the model is specified, each value in the payload must have a type which can be either specified in the payload, explicitly by the caller or implicitly inferred from the parent value.",
    )
}

fn unknown_property(property: &str, type_name: &str) -> GraphError {
    GraphError::bad_request(format!(
        "The property '{property}' does not exist on type 'microsoft.graph.{type_name}'. Make sure to only use property names that are defined by the type or mark the type as open type."
    ))
}

fn unresolved_type(tag: &str) -> GraphError {
    GraphError::bad_request(format!(
        "A type named '{tag}' could not be resolved by the model. When a model is available, each type name must resolve to a valid type."
    ))
}

/// A body's `@odata.type` that names a real type of the wrong family.
pub(crate) fn incompatible_type(tag: &str, expected: &str) -> GraphError {
    GraphError::bad_request(format!(
        "The type '{tag}' is not compatible with the expected type '#microsoft.graph.{}'.",
        short_name(expected)
    ))
}

/// A request body: it must be one JSON object.
pub(crate) fn parse_body(bytes: &[u8]) -> Result<Map<String, Value>, GraphError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(GraphError::odata_bad_request(
            "Empty Payload. JSON content expected.",
        ));
    }
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(GraphError::odata_bad_request(
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )),
    }
}

/// The concrete type a body writes: its `@odata.type` when it has one (which must be the
/// resource's type or derived from it), else the resource's declared type. Polymorphic
/// resources need the annotation, and `existing` (the stored object's type, on update) must
/// match it: an update cannot turn an IP location into a country location.
pub(crate) fn body_type(
    body: &Map<String, Value>,
    resource: Resource,
    existing: Option<&str>,
) -> Result<&'static TypeInfo, GraphError> {
    let declared = resource.type_name();
    let info = match body.get("@odata.type") {
        None if resource.needs_odata_type() => return Err(missing_type_error()),
        None => schema().get(existing.unwrap_or(declared)),
        Some(Value::String(tag)) => {
            let info = schema().get(tag).ok_or_else(|| unresolved_type(tag))?;
            let concrete = !resource.needs_odata_type() || info.name() != declared;
            if !info.is_a(declared) || !concrete {
                return Err(incompatible_type(tag, declared));
            }
            if let Some(existing) = existing.filter(|e| short_name(e) != info.name()) {
                return Err(incompatible_type(tag, existing));
            }
            Some(info)
        }
        Some(_) => return Err(invalid_value("@odata.type", resource)),
    };
    info.ok_or_else(|| {
        tracing::error!(declared, "type model lacks a writable type");
        GraphError::from_status(500, None)
    })
}

/// Checks every property of a body: annotations, read-only and create-only properties,
/// properties the type does not have, and each value against its declared type.
pub(crate) fn check_body(
    body: &Map<String, Value>,
    resource: Resource,
    info: &TypeInfo,
    write: Write,
) -> Result<(), GraphError> {
    for (key, value) in body {
        if key == "@odata.type" {
            continue; // resolved by `body_type`
        }
        if let Some((_, annotation)) = key.split_once('@') {
            if annotation == "odata.bind" {
                return Err(GraphError::not_implemented(
                    "The idgit Graph emulator does not implement '@odata.bind'; add relationships with $ref.",
                ));
            }
            continue; // other instance annotations carry no data
        }
        let create_only = write == Write::Update && resource.create_only().contains(&key.as_str());
        if resource.read_only().contains(&key.as_str()) || create_only {
            return Err(read_only_error(key));
        }
        match info.property(key) {
            Some(prop) => check_value(prop, value, key, resource)?,
            None if resource.inline_navigation().contains(&key.as_str())
                && info.navigation.iter().any(|n| n == key) =>
            {
                if !value
                    .as_array()
                    .is_some_and(|a| a.iter().all(Value::is_object))
                {
                    return Err(invalid_value(key, resource));
                }
            }
            None if info.navigation.iter().any(|n| n == key) => {
                return Err(GraphError::bad_request(format!(
                    "The navigation property '{key}' cannot be set in this request body; change it through its own URL ($ref for links)."
                )))
            }
            None => return Err(unknown_property(key, info.name())),
        }
    }
    Ok(())
}

/// The first required property a create body lacks (or sets to null or an empty string).
pub(crate) fn check_required(
    body: &Map<String, Value>,
    resource: Resource,
    info: &TypeInfo,
) -> Result<(), GraphError> {
    let own: &[&str] = match info.name() {
        "ipNamedLocation" => &["ipRanges"],
        "countryNamedLocation" => &["countriesAndRegions"],
        _ => &[],
    };
    let missing = resource
        .required()
        .iter()
        .chain(own)
        .find(|name| is_blank(body.get(**name)));
    if let Some(name) = missing {
        return Err(required_error(name));
    }
    if resource == Resource::ConditionalAccessPolicy {
        // A policy must say whom and what it applies to, and what it enforces.
        for part in ["applications", "users"] {
            if is_blank(body.get("conditions").and_then(|c| c.get(part))) {
                return Err(required_error(&format!("conditions.{part}")));
            }
        }
        if is_blank(body.get("grantControls")) && is_blank(body.get("sessionControls")) {
            return Err(required_error("grantControls"));
        }
    }
    Ok(())
}

fn is_blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    }
}

/// `Invalid value specified for property 'X' of resource 'User'.`
fn invalid_value(path: &str, resource: Resource) -> GraphError {
    GraphError::bad_request(format!(
        "Invalid value specified for property '{path}' of resource '{}'.",
        resource.label()
    ))
}

/// A property value against its declared type; `path` names it in errors (`conditions.users`).
fn check_value(
    prop: &Property,
    value: &Value,
    path: &str,
    resource: Resource,
) -> Result<(), GraphError> {
    match value {
        // `null` clears a property, unless the model says it can never be null.
        Value::Null if prop.nullable => Ok(()),
        Value::Null => Err(invalid_value(path, resource)),
        Value::Array(items) if prop.is_collection() => items
            .iter()
            .try_for_each(|item| check_element(prop.element_type(), item, path, resource)),
        _ if prop.is_collection() => Err(invalid_value(path, resource)),
        _ => check_element(prop.element_type(), value, path, resource),
    }
}

/// One value of a declared element type: `Edm.Boolean`, `Edm.Guid`, an enum or a complex type.
fn check_element(
    ty: &str,
    value: &Value,
    path: &str,
    resource: Resource,
) -> Result<(), GraphError> {
    let fits = match ty {
        "Edm.Boolean" => value.is_boolean(),
        "Edm.Int32" => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        "Edm.Int64" | "Edm.Int16" | "Edm.Byte" => value.is_i64() || value.is_u64(),
        "Edm.Double" | "Edm.Single" | "Edm.Decimal" => value.is_number(),
        "Edm.Guid" => value
            .as_str()
            .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok()),
        edm if edm.starts_with("Edm.") => value.is_string(),
        named => {
            if let Some(members) = schema().enum_members(named) {
                // Flags enums such as `guestOrExternalUserTypes` list members with commas.
                value.as_str().is_some_and(|s| {
                    s.split(',')
                        .all(|part| members.iter().any(|m| m == part.trim()))
                })
            } else if let Some(info) = schema().get(named).filter(|t| t.complex) {
                return match value {
                    Value::Object(map) => check_complex(info, map, path, resource),
                    _ => Err(invalid_value(path, resource)),
                };
            } else {
                true // a type the model does not describe: nothing to check against
            }
        }
    };
    if fits {
        Ok(())
    } else {
        Err(invalid_value(path, resource))
    }
}

/// A complex value: its `@odata.type` (required where the declared type is abstract, such
/// as `ipRange`) and each of its properties.
fn check_complex(
    declared: &TypeInfo,
    map: &Map<String, Value>,
    path: &str,
    resource: Resource,
) -> Result<(), GraphError> {
    let info = match map.get("@odata.type") {
        None if declared.is_abstract => return Err(missing_type_error()),
        None => declared,
        Some(Value::String(tag)) => {
            let info = schema().get(tag).ok_or_else(|| unresolved_type(tag))?;
            if !info.is_a(declared.name()) || info.is_abstract {
                return Err(incompatible_type(tag, declared.name()));
            }
            info
        }
        Some(_) => return Err(invalid_value(&format!("{path}.@odata.type"), resource)),
    };
    for (key, value) in map {
        if key.contains('@') {
            continue;
        }
        let prop = info
            .property(key)
            .ok_or_else(|| unknown_property(key, info.name()))?;
        check_value(prop, value, &format!("{path}.{key}"), resource)?;
    }
    Ok(())
}

/// Applies a PATCH body to a stored object: complex values merge property by property (a
/// body that sets one nested field keeps its siblings), collections and primitives are
/// replaced, `null` removes the value (the renderer serves it as `null` or `[]` again).
/// Annotations other than a complex value's `@odata.type` are not stored.
pub(crate) fn merge(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (key, value) in patch {
        if key.contains('@') {
            continue;
        }
        match (value, target.get_mut(key)) {
            (Value::Null, _) => {
                target.remove(key);
            }
            (Value::Object(changes), Some(Value::Object(current)))
                if same_type(changes, current) =>
            {
                merge_nested(current, changes);
            }
            _ => {
                target.insert(key.clone(), value.clone());
            }
        }
    }
}

fn merge_nested(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    if let Some(tag) = patch.get("@odata.type") {
        target.insert("@odata.type".into(), tag.clone());
    }
    merge(target, patch);
}

/// A nested value that names a different derived type replaces the stored one.
fn same_type(changes: &Map<String, Value>, current: &Map<String, Value>) -> bool {
    match changes.get("@odata.type") {
        None => true,
        Some(tag) => current.get("@odata.type").is_none_or(|t| t == tag),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn check(resource: Resource, body: Value, write: Write) -> Result<(), String> {
        let body = map(body);
        let info = body_type(&body, resource, None).map_err(|e| e.message)?;
        check_body(&body, resource, info, write).map_err(|e| e.message)
    }

    #[test]
    fn read_only_properties_are_named() {
        let err = check(
            Resource::User,
            json!({"securityIdentifier": "S-1"}),
            Write::Update,
        );
        assert_eq!(
            err.unwrap_err(),
            "Property 'securityIdentifier' is read-only and cannot be set."
        );
        for (resource, read_only) in [
            (Resource::Group, "mail"),
            (Resource::Application, "appId"),
            (Resource::ServicePrincipal, "appDisplayName"),
            (Resource::ConditionalAccessPolicy, "templateId"),
            (Resource::AuthorizationPolicy, "id"),
            (Resource::AuthenticationMethodsPolicy, "policyVersion"),
        ] {
            assert!(resource.read_only().contains(&read_only), "{resource:?}");
        }
    }

    #[test]
    fn navigation_properties_are_not_written_inline() {
        let err = check(Resource::Group, json!({"members": []}), Write::Update).unwrap_err();
        assert!(
            err.starts_with("The navigation property 'members' cannot be set"),
            "{err}"
        );
        let err = check(
            Resource::AuthenticationMethodsPolicy,
            json!({"authenticationMethodConfigurations": []}),
            Write::Update,
        )
        .unwrap_err();
        assert!(
            err.contains("'authenticationMethodConfigurations'"),
            "{err}"
        );
    }

    #[test]
    fn create_only_properties_are_read_only_on_update() {
        let body = json!({"isAssignableToRole": true});
        assert!(check(Resource::Group, body.clone(), Write::Create).is_ok());
        assert_eq!(
            check(Resource::Group, body, Write::Update).unwrap_err(),
            "Property 'isAssignableToRole' is read-only and cannot be set."
        );
    }

    #[test]
    fn unknown_properties_and_wrong_types_are_refused() {
        assert_eq!(
            check(Resource::User, json!({"favouriteColour": "blue"}), Write::Update).unwrap_err(),
            "The property 'favouriteColour' does not exist on type 'microsoft.graph.user'. Make sure to only use property names that are defined by the type or mark the type as open type."
        );
        let wrong = [
            json!({"accountEnabled": "yes"}),
            json!({"businessPhones": "+1 555"}),
            json!({"businessPhones": null}),
            json!({"employeeOrgData": "x"}),
            json!({"employeeOrgData": {"costCenter": 7}}),
        ];
        for body in wrong {
            let err = check(Resource::User, body.clone(), Write::Update).unwrap_err();
            assert!(
                err.starts_with("Invalid value specified for property '"),
                "{body}: {err}"
            );
            assert!(err.ends_with("' of resource 'User'."), "{err}");
        }
        assert!(check(
            Resource::ConditionalAccessPolicy,
            json!({"state": "enabledForReportingButNotEnforced", "conditions": {"users": {"includeUsers": ["All"]}}}),
            Write::Update
        )
        .is_ok());
        assert!(check(
            Resource::ConditionalAccessPolicy,
            json!({"state": "on"}),
            Write::Update
        )
        .unwrap_err()
        .contains("'state'"));
        assert!(check(
            Resource::ConditionalAccessPolicy,
            json!({"conditions": {"users": {"includeUsers": ["All"], "bogus": 1}}}),
            Write::Update
        )
        .unwrap_err()
        .contains("'bogus' does not exist on type 'microsoft.graph.conditionalAccessUsers'"));
    }

    #[test]
    fn polymorphic_values_need_their_type() {
        let ip = json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x",
            "ipRanges": [{"cidrAddress": "10.0.0.0/8"}]});
        assert!(check(Resource::NamedLocation, ip, Write::Create)
            .unwrap_err()
            .starts_with("A value without a type name was found"));
        assert!(check(
            Resource::NamedLocation,
            json!({"displayName": "x"}),
            Write::Create
        )
        .unwrap_err()
        .starts_with("A value without a type name was found"));
        assert!(check(
            Resource::NamedLocation,
            json!({"@odata.type": "#microsoft.graph.namedLocation"}),
            Write::Create
        )
        .is_err());
        let typed = json!({"@odata.type": "#microsoft.graph.ipNamedLocation",
            "ipRanges": [{"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:db8::/32"}]});
        assert!(check(Resource::NamedLocation, typed.clone(), Write::Create).is_ok());
        let body = map(typed);
        assert!(body_type(
            &body,
            Resource::NamedLocation,
            Some("#microsoft.graph.countryNamedLocation")
        )
        .is_err());
        assert!(body_type(
            &body,
            Resource::NamedLocation,
            Some("#microsoft.graph.ipNamedLocation")
        )
        .is_ok());
    }

    #[test]
    fn required_properties_are_named() {
        let body = map(
            json!({"displayName": "A", "mailNickname": "a", "accountEnabled": true,
            "userPrincipalName": "a@contoso.com"}),
        );
        let info = schema().get("user").expect("user");
        assert_eq!(
            check_required(&body, Resource::User, info)
                .unwrap_err()
                .message,
            "Property passwordProfile value is required but is empty or missing."
        );
        let ca = map(json!({"displayName": "P", "state": "disabled",
            "conditions": {"applications": {"includeApplications": ["All"]}}}));
        let info = schema().get("conditionalAccessPolicy").expect("ca");
        assert!(check_required(&ca, Resource::ConditionalAccessPolicy, info)
            .unwrap_err()
            .message
            .contains("conditions.users"));
    }

    #[test]
    fn merge_is_deep_for_objects_and_replaces_collections() {
        let mut stored = map(json!({
            "displayName": "P",
            "conditions": {"users": {"includeUsers": ["All"], "excludeUsers": ["a"]}, "clientAppTypes": ["all"]},
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}
        }));
        merge(
            &mut stored,
            &map(json!({
                "conditions": {"users": {"excludeUsers": ["b", "c"]}},
                "grantControls": {"builtInControls": ["block"]},
                "displayName": null
            })),
        );
        assert_eq!(
            Value::Object(stored),
            json!({
                "conditions": {"users": {"includeUsers": ["All"], "excludeUsers": ["b", "c"]}, "clientAppTypes": ["all"]},
                "grantControls": {"operator": "OR", "builtInControls": ["block"]}
            })
        );
    }
}
