//! Graph v1.0 write routes: POST (create), PATCH (update), DELETE, `$ref` links and app role
//! assignments.
//!
//! Each handler validates the whole request before it changes anything, so a refused write
//! leaves the tenant exactly as it was. Successes answer like Graph: 201 with the created
//! object, 204 No Content for updates, deletes and links (except the authentication methods
//! policy, whose PATCH answers 200 with the policy).
//!
//! Choices where Graph is ambiguous or its text unknown (see also `validate`):
//! * Removing a link that does not exist answers 404 `Request_ResourceNotFound` naming the
//!   related id, as `DELETE …/members/{id}/$ref` does for a non-member.
//! * A malformed `@odata.id` and a reference to an object that cannot be linked there (an
//!   application as a group member) both get the directory's "Unsupported referenced-object
//!   resource identifier" 400.
//! * Deleting an application leaves its service principal alone.

use axum::http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::auth::Auth;
use super::error::GraphError;
use super::render;
use super::routes::{
    context_url, is_configuration, lookup_key, shape_for, shape_for_type, with_context, Reply,
    Request, Route,
};
use super::seed::{
    security_identifier, with_application_defaults, with_service_principal_defaults, DOMAIN,
    MAIL_DOMAIN,
};
use super::store::{is_unified, Kind, Relation, Tenant};
use super::validate::{
    body_type, check_body, check_required, merge, parse_body, read_only_error, required_error,
    Resource, Write,
};

/// The app role id that grants an app's default access, valid on every resource.
const DEFAULT_ACCESS_ROLE: &str = "00000000-0000-0000-0000-000000000000";

pub(crate) fn handle(
    route: &Route,
    req: &Request<'_>,
    tenant: &mut Tenant,
    auth: &Auth,
) -> Result<Reply, GraphError> {
    let method = req.method;
    match route {
        Route::List(kind) if method == Method::POST => create(*kind, req, tenant, auth),
        Route::Get(kind, id) if method == Method::PATCH => update(*kind, id, req, tenant),
        Route::Get(kind, id) if method == Method::DELETE => delete(*kind, id, req, tenant),
        Route::AddRef(relation, id) => add_ref(*relation, id, req, tenant),
        Route::RemoveRef(relation, id, related) => remove_ref(*relation, id, related, tenant),
        Route::AppRoleAssignedTo(id) if method == Method::POST => assign(id, req, tenant),
        Route::AppRoleAssignment(id, assignment) if method == Method::DELETE => {
            unassign(id, assignment, tenant)
        }
        Route::AuthorizationPolicy if method == Method::PATCH => {
            update_singleton(Resource::AuthorizationPolicy, req, tenant)
        }
        Route::AuthenticationMethodsPolicy if method == Method::PATCH => {
            update_singleton(Resource::AuthenticationMethodsPolicy, req, tenant)
        }
        Route::AuthenticationMethodConfiguration(id) if method == Method::PATCH => {
            update_method_configuration(id, req, tenant)
        }
        _ => Err(GraphError::method_not_allowed()),
    }
}

/// `POST /{collection}`: 201 with the object as a GET would return it.
fn create(
    kind: Kind,
    req: &Request<'_>,
    tenant: &mut Tenant,
    auth: &Auth,
) -> Result<Reply, GraphError> {
    let body = parse_body(req.body)?;
    let resource = Resource::of(kind);
    let info = body_type(&body, resource, None)?;
    check_body(&body, resource, info, Write::Create)?;
    check_required(&body, resource, info)?;
    let mut object = match kind {
        Kind::Users => {
            check_unique_upn(tenant, &body, None)?;
            Map::new()
        }
        Kind::ServicePrincipals => service_principal_from_app(tenant, &body, auth)?,
        _ => Map::new(),
    };
    let id = tenant.mint_guid();
    let now = tenant.tick();
    object.insert("id".into(), json!(id));
    if resource.needs_odata_type() {
        object.insert("@odata.type".into(), json!(render::odata_type(info.name())));
    }
    merge(&mut object, &without_write_only(&body, resource));
    let object = server_set(kind, info.name(), object, &id, &now, tenant);
    let key = id.to_ascii_lowercase();
    tenant.objects_mut(kind).insert(key.clone(), object);

    let stored = &tenant.objects(kind)[&key];
    let context = context_url(req, kind.path(), None, "/$entity");
    let entity = render::entity(kind.type_name(), stored, shape_for(kind, None));
    Reply::json(StatusCode::CREATED, &with_context(context, entity))
}

/// What the service fills in on create: timestamps, ids and the values it derives.
fn server_set(
    kind: Kind,
    type_name: &str,
    mut object: Map<String, Value>,
    id: &str,
    now: &str,
    tenant: &mut Tenant,
) -> Value {
    let fields = &mut object;
    match kind {
        Kind::Users => {
            set_default(fields, "createdDateTime", json!(now));
            set_default(fields, "securityIdentifier", json!(security_identifier(id)));
            set_default(fields, "userType", json!("Member"));
        }
        Kind::Groups => {
            set_default(fields, "createdDateTime", json!(now));
            set_default(fields, "renewedDateTime", json!(now));
            set_default(fields, "securityIdentifier", json!(security_identifier(id)));
            if is_unified(fields) {
                let nick = fields
                    .get("mailNickname")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let mail = format!("{nick}@{MAIL_DOMAIN}");
                fields.insert(
                    "proxyAddresses".into(),
                    json!([format!("SMTP:{mail}"), format!("smtp:{nick}@{DOMAIN}")]),
                );
                fields.insert("mail".into(), json!(mail));
                set_default(fields, "visibility", json!("Public"));
            }
        }
        Kind::Applications => {
            let app_id = tenant.mint_guid();
            set_default(fields, "appId", json!(app_id));
            set_default(fields, "createdDateTime", json!(now));
            set_default(fields, "publisherDomain", json!(DOMAIN));
            set_default(
                fields,
                "signInAudience",
                json!("AzureADandPersonalMicrosoftAccount"),
            );
            return with_application_defaults(Value::Object(object));
        }
        Kind::ServicePrincipals => {
            set_default(fields, "createdDateTime", json!(now));
            return with_service_principal_defaults(Value::Object(object));
        }
        Kind::ConditionalAccessPolicies => {
            // A new policy has no modification time until its first update.
            set_default(fields, "createdDateTime", json!(now));
        }
        Kind::NamedLocations => {
            set_default(fields, "createdDateTime", json!(now));
            set_default(fields, "modifiedDateTime", json!(now));
            if type_name == "ipNamedLocation" {
                set_default(fields, "isTrusted", json!(false));
            } else {
                set_default(fields, "includeUnknownCountriesAndRegions", json!(false));
                set_default(fields, "countryLookupMethod", json!("clientIpAddress"));
            }
        }
    }
    Value::Object(object)
}

/// Sets `key` unless the body already did.
fn set_default(object: &mut Map<String, Value>, key: &str, value: Value) {
    object.entry(key).or_insert(value);
}

/// A new service principal starts as a copy of its application's registration.
fn service_principal_from_app(
    tenant: &Tenant,
    body: &Map<String, Value>,
    auth: &Auth,
) -> Result<Map<String, Value>, GraphError> {
    let app_id = body
        .get("appId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let taken = tenant
        .objects(Kind::ServicePrincipals)
        .values()
        .any(|sp| same_str(sp.get("appId"), app_id));
    let local = tenant
        .objects(Kind::Applications)
        .values()
        .find(|a| same_str(a.get("appId"), app_id));
    let app = match (local, super::seed::microsoft_service_principal(app_id)) {
        (_, _) if taken => return Err(duplicate_service_principal(app_id)),
        (Some(app), _) => app,
        // Microsoft's own applications live in Microsoft's tenant; any tenant can
        // instantiate them by appId.
        (None, Some(template)) => {
            let mut map = template.as_object().cloned().unwrap_or_default();
            map.retain(|_, v| !v.is_null());
            return Ok(map);
        }
        (None, None) => {
            return Err(GraphError::bad_request(format!(
                "The appId '{app_id}' of the service principal does not reference a valid application object."
            )))
        }
    };
    let app_id = app["appId"].clone();
    let mut names = vec![app_id.clone()];
    names.extend(
        app["identifierUris"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    let sp = json!({
        "accountEnabled": true,
        "appDisplayName": app["displayName"],
        "appDescription": app["description"],
        "appId": app_id,
        "appOwnerOrganizationId": auth.identity.tenant_id,
        "appRoleAssignmentRequired": false,
        "appRoles": app["appRoles"],
        "displayName": app["displayName"],
        "homepage": app["web"]["homePageUrl"],
        "oauth2PermissionScopes": app["api"]["oauth2PermissionScopes"],
        "publisherName": auth.identity.org_name,
        "replyUrls": app["web"]["redirectUris"],
        "servicePrincipalNames": names,
        "servicePrincipalType": "Application",
        "signInAudience": app["signInAudience"],
    });
    let mut map = sp.as_object().cloned().unwrap_or_default();
    map.retain(|_, v| !v.is_null());
    Ok(map)
}

pub(crate) fn duplicate_service_principal(app_id: &str) -> GraphError {
    GraphError::bad_request(format!(
        "The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use."
    ))
}

pub(crate) fn duplicate_upn() -> GraphError {
    GraphError::bad_request(
        "Another object with the same value for property userPrincipalName already exists.",
    )
}

/// User principal names are unique among live users, compared case-insensitively.
fn check_unique_upn(
    tenant: &Tenant,
    body: &Map<String, Value>,
    except: Option<&str>,
) -> Result<(), GraphError> {
    let Some(upn) = body.get("userPrincipalName").and_then(Value::as_str) else {
        return Ok(());
    };
    match tenant.user_by_key(upn) {
        Some((key, _)) if Some(key.as_str()) != except => Err(duplicate_upn()),
        _ => Ok(()),
    }
}

fn without_write_only(body: &Map<String, Value>, resource: Resource) -> Map<String, Value> {
    let mut body = body.clone();
    for name in resource.write_only() {
        body.remove(*name);
    }
    body
}

/// `PATCH /{collection}/{id}`: a partial update, 204.
fn update(
    kind: Kind,
    id: &str,
    req: &Request<'_>,
    tenant: &mut Tenant,
) -> Result<Reply, GraphError> {
    let body = parse_body(req.body)?;
    let key = lookup_key(kind, id, tenant)?;
    let resource = Resource::of(kind);
    let stored = &tenant.objects(kind)[&key];
    let existing = stored.get("@odata.type").and_then(Value::as_str);
    let info = body_type(&body, resource, existing)?;
    check_body(&body, resource, info, Write::Update)?;
    if kind == Kind::Users {
        check_unique_upn(tenant, &body, Some(&key))?;
    }
    let now = tenant.tick();
    let changes = without_write_only(&body, resource);
    if let Some(Value::Object(object)) = tenant.objects_mut(kind).get_mut(&key) {
        merge(object, &changes);
        if !kind.is_directory_object() {
            object.insert("modifiedDateTime".into(), json!(now));
        }
    }
    if let Some(name) = changes.get("displayName").and_then(Value::as_str) {
        follow_rename(tenant, kind, &key, name);
    }
    Ok(Reply::no_content())
}

/// Names Graph copies from an object into others: a service principal's `appDisplayName`,
/// and the names in app role assignments.
fn follow_rename(tenant: &mut Tenant, kind: Kind, key: &str, name: &str) {
    if kind == Kind::Applications {
        let app_id = tenant.objects(Kind::Applications)[key]["appId"].clone();
        for sp in tenant.objects_mut(Kind::ServicePrincipals).values_mut() {
            if sp.get("appId") == Some(&app_id) {
                sp["appDisplayName"] = json!(name);
            }
        }
    }
    for (resource, assignments) in tenant.app_role_assigned_to.iter_mut() {
        for a in assignments {
            if same_str(a.get("principalId"), key) {
                a["principalDisplayName"] = json!(name);
            }
            if resource == key {
                a["resourceDisplayName"] = json!(name);
            }
        }
    }
}

/// `DELETE /{collection}/{id}`: into the recycle bin or, for security groups (and policies
/// when so configured), permanently. 204.
fn delete(
    kind: Kind,
    id: &str,
    req: &Request<'_>,
    tenant: &mut Tenant,
) -> Result<Reply, GraphError> {
    let key = lookup_key(kind, id, tenant)?;
    if req.hard_delete_policies && !kind.is_directory_object() {
        tenant.purge(kind, &key);
    } else {
        tenant.delete(kind.name(), &key);
    }
    Ok(Reply::no_content())
}

/// `PATCH /policies/authorizationPolicy` (204) and `/policies/authenticationMethodsPolicy`
/// (200 with the policy, as documented).
fn update_singleton(
    resource: Resource,
    req: &Request<'_>,
    tenant: &mut Tenant,
) -> Result<Reply, GraphError> {
    let body = parse_body(req.body)?;
    let info = body_type(&body, resource, None)?;
    check_body(&body, resource, info, Write::Update)?;
    let now = tenant.tick();
    let policy = match resource {
        Resource::AuthenticationMethodsPolicy => &mut tenant.auth_methods_policy,
        _ => &mut tenant.authorization_policy,
    };
    if let Value::Object(object) = policy {
        merge(object, &body);
        if resource == Resource::AuthenticationMethodsPolicy {
            object.insert("lastModifiedDateTime".into(), json!(now));
        }
    }
    if resource != Resource::AuthenticationMethodsPolicy {
        return Ok(Reply::no_content());
    }
    let body = render::auth_methods_policy(&tenant.auth_methods_policy, req.base_url);
    Reply::json(StatusCode::OK, &body)
}

/// `PATCH …/authenticationMethodConfigurations/{id}`: the body must name the
/// configuration's own derived type. 204.
fn update_method_configuration(
    id: &str,
    req: &Request<'_>,
    tenant: &mut Tenant,
) -> Result<Reply, GraphError> {
    let body = parse_body(req.body)?;
    let resource = Resource::AuthenticationMethodConfiguration;
    let configs = tenant
        .auth_methods_policy
        .get_mut("authenticationMethodConfigurations")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| GraphError::not_found(id))?;
    let config = configs
        .iter_mut()
        .find(|c| is_configuration(c, id))
        .ok_or_else(|| GraphError::not_found(id))?;
    let existing = config.get("@odata.type").and_then(Value::as_str);
    let info = body_type(&body, resource, existing)?;
    check_body(&body, resource, info, Write::Update)?;
    if let Value::Object(object) = config {
        merge(object, &body);
    }
    let now = tenant.tick();
    tenant.auth_methods_policy["lastModifiedDateTime"] = json!(now);
    Ok(Reply::no_content())
}

/// `POST /{parent}/{id}/{members|owners}/$ref` with `{"@odata.id": ".../directoryObjects/{id}"}`.
fn add_ref(
    relation: Relation,
    id: &str,
    req: &Request<'_>,
    tenant: &mut Tenant,
) -> Result<Reply, GraphError> {
    let parent = lookup_key(relation.parent(), id, tenant)?;
    let body = parse_body(req.body)?;
    let target = reference_target(&body, relation)?;
    let kind = tenant
        .directory_kind_of(&target)
        .ok_or_else(|| GraphError::not_found(&target))?;
    let linkable = match relation {
        Relation::GroupMembers => &[Kind::Users, Kind::Groups, Kind::ServicePrincipals][..],
        _ => &[Kind::Users, Kind::ServicePrincipals][..],
    };
    if !linkable.contains(&kind) {
        return Err(unsupported_reference(relation));
    }
    if tenant
        .links(relation)
        .get(&parent)
        .is_some_and(|set| set.contains(&target))
    {
        return Err(GraphError::bad_request(format!(
            "One or more added object references already exist for the following modified properties: '{}'.",
            relation.property()
        )));
    }
    tenant.tick();
    tenant
        .links_mut(relation)
        .entry(parent)
        .or_default()
        .insert(target);
    Ok(Reply::no_content())
}

/// The object id in a `$ref` body: the last segment of an `@odata.id` URL that addresses a
/// directory object (`…/directoryObjects/{id}`, or the typed `…/users/{id}` forms).
fn reference_target(body: &Map<String, Value>, relation: Relation) -> Result<String, GraphError> {
    let url = body
        .get("@odata.id")
        .and_then(Value::as_str)
        .ok_or_else(|| unsupported_reference(relation))?;
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let (Some(id), Some(collection)) = (segments.next(), segments.next()) else {
        return Err(unsupported_reference(relation));
    };
    let collections = ["directoryObjects", "users", "groups", "servicePrincipals"];
    let addressed = collections
        .iter()
        .any(|c| c.eq_ignore_ascii_case(collection));
    if !addressed || uuid::Uuid::parse_str(id).is_err() {
        return Err(unsupported_reference(relation));
    }
    Ok(id.to_ascii_lowercase())
}

fn unsupported_reference(relation: Relation) -> GraphError {
    GraphError::bad_request(format!(
        "Unsupported referenced-object resource identifier for link property '{}'.",
        relation.property()
    ))
}

/// `DELETE /{parent}/{id}/{members|owners}/{relatedId}/$ref`: 204, or 404 when not linked.
fn remove_ref(
    relation: Relation,
    id: &str,
    related: &str,
    tenant: &mut Tenant,
) -> Result<Reply, GraphError> {
    let parent = lookup_key(relation.parent(), id, tenant)?;
    let removed = tenant
        .links_mut(relation)
        .get_mut(&parent)
        .is_some_and(|set| set.remove(&related.to_ascii_lowercase()));
    if !removed {
        return Err(GraphError::not_found(related));
    }
    tenant.tick();
    Ok(Reply::no_content())
}

/// `POST /servicePrincipals/{resourceId}/appRoleAssignedTo` with `{principalId, resourceId,
/// appRoleId}`: 201 with the assignment.
fn assign(id: &str, req: &Request<'_>, tenant: &mut Tenant) -> Result<Reply, GraphError> {
    let resource_key = lookup_key(Kind::ServicePrincipals, id, tenant)?;
    let body = parse_body(req.body)?;
    let [principal_id, resource_id, role_id] = assignment_fields(&body)?;
    if resource_id != resource_key {
        return Err(GraphError::bad_request(format!(
            "The resourceId '{resource_id}' does not match the service principal '{id}' in the request URL."
        )));
    }
    let principal_kind = tenant
        .directory_kind_of(&principal_id)
        .filter(|k| *k != Kind::Applications)
        .ok_or_else(|| GraphError::not_found(&principal_id))?;
    let resource = &tenant.objects(Kind::ServicePrincipals)[&resource_key];
    let role_exists = role_id == DEFAULT_ACCESS_ROLE
        || resource["appRoles"]
            .as_array()
            .is_some_and(|roles| roles.iter().any(|r| same_str(r.get("id"), &role_id)));
    if !role_exists {
        return Err(GraphError::bad_request(format!(
            "Permission being assigned was not found on application '{}'.",
            resource["appId"].as_str().unwrap_or(id)
        )));
    }
    let assignments = tenant.app_role_assigned_to.get(&resource_key);
    let duplicate = assignments.is_some_and(|list| {
        list.iter().any(|a| {
            same_str(a.get("principalId"), &principal_id) && same_str(a.get("appRoleId"), &role_id)
        })
    });
    if duplicate {
        return Err(GraphError::bad_request(
            "Permission being assigned already exists on the object",
        ));
    }
    let resource_name = resource["displayName"].clone();
    let principal_name = tenant.objects(principal_kind)[&principal_id]["displayName"].clone();
    let principal_type = match principal_kind {
        Kind::Users => "User",
        Kind::Groups => "Group",
        _ => "ServicePrincipal",
    };
    let assignment = json!({
        "id": tenant.mint_assignment_id(),
        "appRoleId": role_id,
        "createdDateTime": tenant.tick(),
        "principalDisplayName": principal_name,
        "principalId": principal_id,
        "principalType": principal_type,
        "resourceDisplayName": resource_name,
        "resourceId": resource_key,
    });
    let list = tenant.app_role_assigned_to.entry(resource_key).or_default();
    list.push(assignment);
    let stored = list.last().unwrap_or(&Value::Null);
    let path = format!("servicePrincipals('{id}')/appRoleAssignedTo");
    let context = context_url(req, &path, None, "/$entity");
    let entity = render::entity(
        "appRoleAssignment",
        stored,
        shape_for_type("appRoleAssignment", None),
    );
    Reply::json(StatusCode::CREATED, &with_context(context, entity))
}

/// `principalId`, `resourceId` and `appRoleId` of an assignment body, lower-case; the server
/// sets every other property.
fn assignment_fields(body: &Map<String, Value>) -> Result<[String; 3], GraphError> {
    const SETTABLE: [&str; 3] = ["principalId", "resourceId", "appRoleId"];
    for key in body.keys().filter(|k| !k.starts_with('@')) {
        if !SETTABLE.contains(&key.as_str()) {
            let declared = super::schema::schema()
                .get("appRoleAssignment")
                .is_some_and(|t| t.property(key).is_some());
            return Err(if declared {
                read_only_error(key)
            } else {
                GraphError::bad_request(format!(
                    "The property '{key}' does not exist on type 'microsoft.graph.appRoleAssignment'. Make sure to only use property names that are defined by the type or mark the type as open type."
                ))
            });
        }
    }
    let field = |name: &str| -> Result<String, GraphError> {
        let value = body
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| required_error(name))?;
        uuid::Uuid::parse_str(value).map_err(|_| {
            GraphError::bad_request(format!(
                "Invalid value specified for property '{name}' of resource 'AppRoleAssignment'."
            ))
        })?;
        Ok(value.to_ascii_lowercase())
    };
    Ok([
        field(SETTABLE[0])?,
        field(SETTABLE[1])?,
        field(SETTABLE[2])?,
    ])
}

/// `DELETE /servicePrincipals/{resourceId}/appRoleAssignedTo/{assignmentId}`: 204.
fn unassign(id: &str, assignment: &str, tenant: &mut Tenant) -> Result<Reply, GraphError> {
    let resource_key = lookup_key(Kind::ServicePrincipals, id, tenant)?;
    let list = tenant.app_role_assigned_to.get_mut(&resource_key);
    let found = list.and_then(|list| {
        let position = list.iter().position(|a| a["id"] == assignment)?;
        Some(list.remove(position))
    });
    if found.is_none() {
        return Err(GraphError::not_found(assignment));
    }
    tenant.tick();
    Ok(Reply::no_content())
}

fn same_str(value: Option<&Value>, expected: &str) -> bool {
    value
        .and_then(Value::as_str)
        .is_some_and(|v| v.eq_ignore_ascii_case(expected))
}
