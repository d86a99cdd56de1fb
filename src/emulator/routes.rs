//! Graph v1.0 read routes: URL → [`Route`] → JSON body.
//!
//! Request handling order follows the real service: authentication (401) is checked by the
//! caller, then the URL must resolve (400), then the app needs a permission for the resource
//! (403), then query options are validated (400/501), and only then are objects looked up
//! (404).

use std::collections::BTreeSet;
use std::ops::Bound;

use axum::http::{Method, StatusCode};
use serde_json::Value;

use super::auth::Auth;
use super::error::GraphError;
use super::json::{Node, ObjectBuilder};
use super::odata::{self, Query};
use super::recycle;
use super::render::{self, Props, Shape};
use super::schema::{schema, TypeInfo};
use super::store::{Kind, Relation, Tenant};
use super::writes;

/// Users properties that live outside the directory: Graph refuses them on the collection.
const USER_SINGLE_ONLY: &[&str] = &[
    "aboutMe",
    "birthday",
    "hireDate",
    "interests",
    "mySite",
    "pastProjects",
    "preferredName",
    "responsibilities",
    "schools",
    "skills",
    "mailboxSettings",
];

/// Graph's page-size ceiling for users when `signInActivity` is selected.
const SIGN_IN_ACTIVITY_MAX_PAGE: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Route {
    /// A collection: list it, or create in it.
    List(Kind),
    /// One object: get, update or delete it.
    Get(Kind, String),
    /// Members or owners: lists of directory objects.
    Related(Relation, String),
    /// `/{parent}/{id}/{members|owners}/$ref`: add a reference.
    AddRef(Relation, String),
    /// `/{parent}/{id}/{members|owners}/{relatedId}/$ref`: remove one.
    RemoveRef(Relation, String, String),
    AppRoleAssignedTo(String),
    /// `/servicePrincipals/{resourceId}/appRoleAssignedTo/{assignmentId}`.
    AppRoleAssignment(String, String),
    AuthenticationMethodsPolicy,
    /// `/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}`.
    AuthenticationMethodConfiguration(String),
    AuthorizationPolicy,
    DirectoryAudits,
    /// `/directory/deletedItems/microsoft.graph.{type}`; `None` without the cast, which
    /// Graph refuses.
    DeletedItems(Option<Kind>),
    /// `/directory/deletedItems/{id}`.
    DeletedItem(String),
    /// `/directory/deletedItems/{id}/restore`.
    RestoreDeletedItem(String),
    /// `/identity/conditionalAccess/deletedItems/{policies|namedLocations}`.
    DeletedPolicies(Kind),
    DeletedPolicy(Kind, String),
    RestorePolicy(Kind, String),
}

/// The route for `/{kind}/{id}/{segment}/...`, if Graph has that navigation and we serve it.
fn navigation(kind: Kind, id: &str, segment: &str, rest: &[String]) -> Option<Route> {
    let relation = match (kind, segment.to_ascii_lowercase().as_str()) {
        (Kind::Groups, "members") => Relation::GroupMembers,
        (Kind::Groups, "owners") => Relation::GroupOwners,
        (Kind::Applications, "owners") => Relation::AppOwners,
        (Kind::ServicePrincipals, "owners") => Relation::SpOwners,
        (Kind::ServicePrincipals, "approleassignedto") => {
            return match rest {
                [] => Some(Route::AppRoleAssignedTo(id.to_string())),
                [assignment] => Some(Route::AppRoleAssignment(id.to_string(), assignment.clone())),
                _ => None,
            }
        }
        _ => return None,
    };
    let id = id.to_string();
    match rest {
        [] => Some(Route::Related(relation, id)),
        [r] if r.eq_ignore_ascii_case("$ref") => Some(Route::AddRef(relation, id)),
        [related, r] if r.eq_ignore_ascii_case("$ref") => {
            Some(Route::RemoveRef(relation, id, related.clone()))
        }
        _ => None,
    }
}

/// `/directory/...`: the directory's recycle bin.
fn directory_route(segments: &[String], lower: &[&str]) -> Result<Route, GraphError> {
    match lower {
        ["directory", "deleteditems"] => Ok(Route::DeletedItems(None)),
        ["directory", "deleteditems", cast] if cast.starts_with("microsoft.graph.") => {
            let type_name = &cast["microsoft.graph.".len()..];
            Kind::DIRECTORY
                .into_iter()
                .find(|k| k.type_name().eq_ignore_ascii_case(type_name))
                .map(|k| Route::DeletedItems(Some(k)))
                .ok_or_else(|| GraphError::unknown_segment(&segments[2]))
        }
        ["directory", "deleteditems", _] => Ok(Route::DeletedItem(segments[2].clone())),
        ["directory", "deleteditems", _, "restore"] => {
            Ok(Route::RestoreDeletedItem(segments[2].clone()))
        }
        _ => Err(unknown_at(segments, lower)),
    }
}

/// `/identity/conditionalAccess/deletedItems/...`: the policies' own recycle bin.
fn policy_bin_route(segments: &[String], lower: &[&str]) -> Result<Route, GraphError> {
    let kind = match lower.get(3) {
        Some(&"policies") => Kind::ConditionalAccessPolicies,
        Some(&"namedlocations") => Kind::NamedLocations,
        Some(_) => return Err(GraphError::unknown_segment(&segments[3])),
        None => return Err(GraphError::unknown_segment(&segments[2])),
    };
    match &lower[4..] {
        [] => Ok(Route::DeletedPolicies(kind)),
        [_] => Ok(Route::DeletedPolicy(kind, segments[4].clone())),
        [_, "restore"] => Ok(Route::RestorePolicy(kind, segments[4].clone())),
        [_, extra, ..] => Err(GraphError::unknown_segment(extra)),
    }
}

/// Which application permissions a request needs: the read set for GET, the write set
/// otherwise. Any one permission of the set suffices; `ReadWrite` implies `Read`.
fn read_permissions(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Users => &["User.Read.All", "Directory.Read.All"],
        Kind::Groups => &[
            "Group.Read.All",
            "GroupMember.Read.All",
            "Directory.Read.All",
        ],
        Kind::Applications | Kind::ServicePrincipals => {
            &["Application.Read.All", "Directory.Read.All"]
        }
        Kind::ConditionalAccessPolicies | Kind::NamedLocations => {
            &["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"]
        }
    }
}

/// The permissions that allow creating, updating and deleting objects of a kind, and
/// restoring or purging them from the recycle bin.
pub(crate) fn write_permissions(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Users => &["User.ReadWrite.All"],
        Kind::Groups => &["Group.ReadWrite.All"],
        Kind::Applications | Kind::ServicePrincipals => &["Application.ReadWrite.All"],
        Kind::ConditionalAccessPolicies | Kind::NamedLocations => {
            &["Policy.ReadWrite.ConditionalAccess"]
        }
    }
}

/// Reading `/directory/deletedItems/{id}` before its kind is known: any kind's permission
/// gets past this gate, and the handler then checks the one for the object found.
pub(crate) const DELETED_ITEM_READ: &[&str] = &[
    "User.Read.All",
    "Group.Read.All",
    "Application.Read.All",
    "Directory.Read.All",
];
/// Restoring or purging `/directory/deletedItems/{id}`: see [`DELETED_ITEM_READ`].
pub(crate) const DELETED_ITEM_WRITE: &[&str] = &[
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "Application.ReadWrite.All",
];

impl Route {
    /// Resolves the path below `/v1.0/` (already split and percent-decoded).
    pub(crate) fn parse(segments: &[String]) -> Result<Route, GraphError> {
        let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
        let names: Vec<&str> = lower.iter().map(String::as_str).collect();
        let (kind, rest) = match names.as_slice() {
            [] => return Err(GraphError::bad_request("Invalid request.")),
            ["policies", "authenticationmethodspolicy"] => {
                return Ok(Route::AuthenticationMethodsPolicy)
            }
            ["policies", "authenticationmethodspolicy", "authenticationmethodconfigurations", _] => {
                return Ok(Route::AuthenticationMethodConfiguration(
                    segments[3].clone(),
                ))
            }
            ["policies", "authorizationpolicy"] => return Ok(Route::AuthorizationPolicy),
            ["auditlogs", "directoryaudits"] => return Ok(Route::DirectoryAudits),
            ["directory", ..] => return directory_route(segments, &names),
            ["identity", "conditionalaccess", "deleteditems", ..] => {
                return policy_bin_route(segments, &names)
            }
            ["identity", "conditionalaccess", "policies", ..] => {
                (Kind::ConditionalAccessPolicies, 3)
            }
            ["identity", "conditionalaccess", "namedlocations", ..] => (Kind::NamedLocations, 3),
            [first, ..] => match directory_kind(first) {
                Some(kind) => (kind, 1),
                None => return Err(unknown_at(segments, names.as_slice())),
            },
        };
        match &segments[rest..] {
            [] => Ok(Route::List(kind)),
            [id] => Ok(Route::Get(kind, id.clone())),
            [id, segment, tail @ ..] => navigation(kind, id, segment, tail).ok_or_else(|| {
                // Name the navigation if it is unknown, else the last segment after it,
                // which is where a path like `members/{id}/{extra}` stops fitting.
                let known = navigation(kind, id, segment, &[]).is_some();
                let unknown = match tail.last() {
                    Some(last) if known => last,
                    _ => segment,
                };
                GraphError::unknown_segment(unknown)
            }),
        }
    }

    /// Whether the route serves `method`; Graph answers 405 otherwise.
    pub(crate) fn allows(&self, method: &Method) -> bool {
        let allowed: &[Method] = match self {
            Route::List(_) | Route::AppRoleAssignedTo(_) => &[Method::GET, Method::POST],
            Route::Get(..) => &[Method::GET, Method::PATCH, Method::DELETE],
            Route::AddRef(..) | Route::RestoreDeletedItem(_) | Route::RestorePolicy(..) => {
                &[Method::POST]
            }
            Route::RemoveRef(..) => &[Method::DELETE],
            Route::AppRoleAssignment(..) | Route::DeletedItem(_) | Route::DeletedPolicy(..) => {
                &[Method::GET, Method::DELETE]
            }
            Route::AuthenticationMethodsPolicy
            | Route::AuthenticationMethodConfiguration(_)
            | Route::AuthorizationPolicy => &[Method::GET, Method::PATCH],
            Route::Related(..)
            | Route::DirectoryAudits
            | Route::DeletedItems(_)
            | Route::DeletedPolicies(_) => &[Method::GET],
        };
        allowed.contains(method)
    }

    /// Application permissions that allow `method` on the route (any one suffices; the
    /// `ReadWrite` variants imply the read ones).
    pub(crate) fn accepted_permissions(&self, method: &Method) -> &'static [&'static str] {
        let write = method != Method::GET;
        let kind = match self {
            Route::List(kind) | Route::Get(kind, _) => *kind,
            Route::Related(relation, _) => relation.parent(),
            Route::AddRef(relation, _) | Route::RemoveRef(relation, ..) => {
                return match relation.parent() {
                    Kind::Groups => &["Group.ReadWrite.All", "GroupMember.ReadWrite.All"],
                    other => write_permissions(other),
                }
            }
            Route::AppRoleAssignedTo(_) | Route::AppRoleAssignment(..) if write => {
                return &[
                    "Application.ReadWrite.All",
                    "AppRoleAssignment.ReadWrite.All",
                ]
            }
            Route::AppRoleAssignedTo(_) | Route::AppRoleAssignment(..) => Kind::ServicePrincipals,
            Route::AuthenticationMethodsPolicy | Route::AuthenticationMethodConfiguration(_) => {
                return if write {
                    &["Policy.ReadWrite.AuthenticationMethod"]
                } else {
                    &["Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod"]
                }
            }
            Route::AuthorizationPolicy => {
                return if write {
                    &["Policy.ReadWrite.Authorization"]
                } else {
                    &["Policy.Read.All", "Policy.ReadWrite.Authorization"]
                }
            }
            Route::DirectoryAudits => return &["AuditLog.Read.All"],
            Route::DeletedItems(Some(kind)) => *kind,
            Route::DeletedItems(None) => return DELETED_ITEM_READ,
            Route::DeletedItem(_) | Route::RestoreDeletedItem(_) => {
                return if write {
                    DELETED_ITEM_WRITE
                } else {
                    DELETED_ITEM_READ
                }
            }
            Route::DeletedPolicies(kind)
            | Route::DeletedPolicy(kind, _)
            | Route::RestorePolicy(kind, _) => *kind,
        };
        if write {
            write_permissions(kind)
        } else {
            read_permissions(kind)
        }
    }
}

fn directory_kind(segment: &str) -> Option<Kind> {
    [
        Kind::Users,
        Kind::Groups,
        Kind::Applications,
        Kind::ServicePrincipals,
    ]
    .into_iter()
    .find(|k| k.name().eq_ignore_ascii_case(segment))
}

/// The 400 for a path that does not resolve, naming the first segment that does not.
fn unknown_at(segments: &[String], lower: &[&str]) -> GraphError {
    let known_prefix = match lower {
        ["identity", "conditionalaccess", ..] => 2,
        ["identity", ..] | ["policies", ..] => 1,
        _ => 0,
    };
    let segment = segments
        .get(known_prefix)
        .or(segments.last())
        .map(String::as_str)
        .unwrap_or_default();
    GraphError::unknown_segment(segment)
}

/// Everything a handler needs to know about the request besides the tenant.
pub(crate) struct Request<'r> {
    pub(crate) base_url: &'r str,
    /// The path as the client sent it (still percent-encoded), for `@odata.nextLink`.
    pub(crate) raw_path: &'r str,
    pub(crate) raw_query: Option<&'r str>,
    pub(crate) query: Query,
    pub(crate) default_page_size: usize,
    pub(crate) max_page_size: usize,
    /// The `ConsistencyLevel: eventual` header that advanced queries (`$count`) need.
    pub(crate) eventual: bool,
    /// Fault injection: point `@odata.nextLink` at this very page.
    pub(crate) loop_next_link: bool,
    pub(crate) method: &'r Method,
    /// The request body as sent; only writes read it.
    pub(crate) body: &'r [u8],
    /// Delete Conditional Access policies and named locations permanently, as older tenants
    /// do, instead of into their recycle bin.
    pub(crate) hard_delete_policies: bool,
}

/// A successful response: its status and, unless it is 204 No Content, its JSON body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Option<Vec<u8>>,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, body: &Node<'_>) -> Result<Reply, GraphError> {
        let bytes = body.to_vec().map_err(|err| {
            tracing::error!(%err, "response did not serialise");
            GraphError::from_status(500, None)
        })?;
        Ok(Reply {
            status,
            body: Some(bytes),
        })
    }

    pub(crate) fn no_content() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
        }
    }
}

/// Serves a request whose route, method and permission the caller has already checked.
pub(crate) fn handle(
    route: &Route,
    req: &Request<'_>,
    tenant: &mut Tenant,
    auth: &Auth,
) -> Result<Reply, GraphError> {
    if req.query.filter.is_some() && *route != Route::DirectoryAudits {
        return Err(GraphError::not_implemented(
            "The idgit Graph emulator does not implement the query option '$filter' here.",
        ));
    }
    match route {
        Route::DeletedItems(_)
        | Route::DeletedItem(_)
        | Route::RestoreDeletedItem(_)
        | Route::DeletedPolicies(_)
        | Route::DeletedPolicy(..)
        | Route::RestorePolicy(..) => return recycle::handle(route, req, tenant, auth),
        _ if req.method != Method::GET => return writes::handle(route, req, tenant, auth),
        _ => {}
    }
    let tenant: &Tenant = tenant;
    let body = match route {
        Route::DirectoryAudits => directory_audits(req, tenant)?,
        Route::List(kind) => list(*kind, req, tenant, auth)?,
        Route::Get(kind, id) => get(*kind, id, req, tenant, auth)?,
        Route::Related(relation, id) => related(*relation, id, req, tenant)?,
        Route::AppRoleAssignedTo(id) => app_role_assigned_to(id, req, tenant)?,
        Route::AuthenticationMethodsPolicy => {
            if let Some(option) = req.query.present.first() {
                return Err(disallowed_option(option));
            }
            render::auth_methods_policy(&tenant.auth_methods_policy, req.base_url)
        }
        Route::AuthorizationPolicy => authorization_policy(req, tenant)?,
        Route::AuthenticationMethodConfiguration(id) => method_configuration(id, req, tenant)?,
        Route::AppRoleAssignment(sp, id) => app_role_assignment(sp, id, req, tenant)?,
        // Only their methods' handlers serve these (see above).
        Route::AddRef(..)
        | Route::RemoveRef(..)
        | Route::DeletedItems(_)
        | Route::DeletedItem(_)
        | Route::RestoreDeletedItem(_)
        | Route::DeletedPolicies(_)
        | Route::DeletedPolicy(..)
        | Route::RestorePolicy(..) => return Err(GraphError::method_not_allowed()),
    };
    Reply::json(StatusCode::OK, &body)
}

fn list<'t>(
    kind: Kind,
    req: &Request<'_>,
    tenant: &'t Tenant,
    auth: &Auth,
) -> Result<Node<'t>, GraphError> {
    check_collection_options(req, kind.is_directory_object())?;
    let select = select_for(kind, &req.query, auth, true)?;
    let shape = shape_for(kind, select.as_deref());
    let objects = tenant.objects(kind);
    let skip = match (&req.query.after, req.query.skip) {
        (None, Some(n)) => n,
        _ => 0,
    };
    let items = after(objects, req.query.after.as_deref())
        .skip(skip)
        .map(|(id, v)| (id.as_str(), render::entity(kind.type_name(), v, shape)));
    let mut size = page_size(req);
    if select
        .as_ref()
        .is_some_and(|s| s.iter().any(|p| p == "signInActivity"))
    {
        size = size.min(SIGN_IN_ACTIVITY_MAX_PAGE);
    }
    let page = Page::take(items, size);
    let context = context_url(req, kind.path(), select.as_deref(), "");
    Ok(page.envelope(req, context, Some(objects.len())))
}

fn get<'t>(
    kind: Kind,
    id: &str,
    req: &Request<'_>,
    tenant: &'t Tenant,
    auth: &Auth,
) -> Result<Node<'t>, GraphError> {
    if let Some(option) = req.query.first_option_except(&["$select"]) {
        return Err(GraphError::odata_bad_request(format!(
            "Query option '{option}' is not allowed on a single entity."
        )));
    }
    let select = select_for(kind, &req.query, auth, false)?;
    let stored = lookup(kind, id, tenant)?;
    let shape = shape_for(kind, select.as_deref());
    let context = context_url(req, kind.path(), select.as_deref(), "/$entity");
    Ok(with_context(
        context,
        render::entity(kind.type_name(), stored, shape),
    ))
}

pub(crate) fn lookup<'t>(
    kind: Kind,
    id: &str,
    tenant: &'t Tenant,
) -> Result<&'t Value, GraphError> {
    let key = lookup_key(kind, id, tenant)?;
    tenant
        .objects(kind)
        .get(&key)
        .ok_or_else(|| GraphError::not_found(id))
}

/// The store key of a live object addressed by `id` (or, for users, by user principal name).
pub(crate) fn lookup_key(kind: Kind, id: &str, tenant: &Tenant) -> Result<String, GraphError> {
    if kind == Kind::Users {
        return tenant
            .user_by_key(id)
            .map(|(key, _)| key.clone())
            .ok_or_else(|| GraphError::not_found(id));
    }
    if kind.is_directory_object() && uuid::Uuid::parse_str(id).is_err() {
        return Err(GraphError::invalid_object_id(id));
    }
    let key = id.to_ascii_lowercase();
    if tenant.objects(kind).contains_key(&key) {
        Ok(key)
    } else {
        Err(GraphError::not_found(id))
    }
}

fn related<'t>(
    relation: Relation,
    id: &str,
    req: &Request<'_>,
    tenant: &'t Tenant,
) -> Result<Node<'t>, GraphError> {
    check_collection_options(req, true)?;
    let types = [
        "user",
        "group",
        "servicePrincipal",
        "application",
        "directoryObject",
    ];
    let select = resolve(&req.query, &types, "directoryObject")?;
    let parent_id = lookup_parent(relation.parent(), id, tenant)?;
    let ids: &BTreeSet<String> = match relation {
        Relation::GroupMembers => tenant.group_members.get(&parent_id),
        Relation::GroupOwners => tenant.group_owners.get(&parent_id),
        Relation::AppOwners => tenant.app_owners.get(&parent_id),
        Relation::SpOwners => tenant.sp_owners.get(&parent_id),
    }
    .unwrap_or(&EMPTY);
    let resolved = |after: Option<&str>| {
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        ids.range::<str, _>((start, Bound::Unbounded))
            .filter_map(|id| {
                tenant
                    .directory_object(id)
                    .map(|(t, v)| (id.as_str(), t, v))
            })
    };
    let items = resolved(req.query.after.as_deref()).map(|(id, type_name, v)| {
        let shape = Shape {
            odata_type: true,
            ..shape_for_type(type_name, select.as_deref())
        };
        (id, render::entity(type_name, v, shape))
    });
    let page = Page::take(items, page_size(req));
    // Counting resolves every member, so only do it when `$count` asks.
    let total = req.query.count.then(|| resolved(None).count());
    let context = context_url(req, "directoryObjects", select.as_deref(), "");
    Ok(page.envelope(req, context, total))
}

static EMPTY: BTreeSet<String> = BTreeSet::new();

fn app_role_assigned_to<'t>(
    id: &str,
    req: &Request<'_>,
    tenant: &'t Tenant,
) -> Result<Node<'t>, GraphError> {
    check_collection_options(req, true)?;
    let select = resolve(&req.query, &["appRoleAssignment"], "appRoleAssignment")?;
    let parent_id = lookup_parent(Kind::ServicePrincipals, id, tenant)?;
    let mut assignments: Vec<(&str, &Value)> = tenant
        .app_role_assigned_to
        .get(&parent_id)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|a| a.get("id").and_then(Value::as_str).map(|id| (id, a)))
        .collect();
    assignments.sort_by(|a, b| a.0.cmp(b.0));
    let total = assignments.len();
    let shape = shape_for_type("appRoleAssignment", select.as_deref());
    let after = req.query.after.as_deref();
    let items = assignments
        .into_iter()
        .filter(|(aid, _)| after.is_none_or(|last| *aid > last))
        .map(|(aid, v)| (aid, render::entity("appRoleAssignment", v, shape)));
    let page = Page::take(items, page_size(req));
    let path = format!("servicePrincipals('{id}')/appRoleAssignedTo");
    let context = context_url(req, &path, select.as_deref(), "");
    Ok(page.envelope(req, context, Some(total)))
}

fn lookup_parent(kind: Kind, id: &str, tenant: &Tenant) -> Result<String, GraphError> {
    lookup_key(kind, id, tenant)
}

/// `GET /servicePrincipals/{id}/appRoleAssignedTo/{assignmentId}`.
fn app_role_assignment<'t>(
    sp: &str,
    id: &str,
    req: &Request<'_>,
    tenant: &'t Tenant,
) -> Result<Node<'t>, GraphError> {
    if let Some(option) = req.query.first_option_except(&["$select"]) {
        return Err(disallowed_option(option));
    }
    let select = resolve(&req.query, &["appRoleAssignment"], "appRoleAssignment")?;
    let parent = lookup_parent(Kind::ServicePrincipals, sp, tenant)?;
    let assignment = tenant
        .app_role_assigned_to
        .get(&parent)
        .and_then(|list| list.iter().find(|a| a["id"] == id))
        .ok_or_else(|| GraphError::not_found(id))?;
    let shape = shape_for_type("appRoleAssignment", select.as_deref());
    let path = format!("servicePrincipals('{sp}')/appRoleAssignedTo");
    let context = context_url(req, &path, select.as_deref(), "/$entity");
    Ok(with_context(
        context,
        render::entity("appRoleAssignment", assignment, shape),
    ))
}

/// `GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}`.
fn method_configuration<'t>(
    id: &str,
    req: &Request<'_>,
    tenant: &'t Tenant,
) -> Result<Node<'t>, GraphError> {
    if let Some(option) = req.query.present.first() {
        return Err(disallowed_option(option));
    }
    let config = method_configurations(&tenant.auth_methods_policy)
        .iter()
        .find(|c| is_configuration(c, id))
        .ok_or_else(|| GraphError::not_found(id))?;
    let context = format!(
        "{}/v1.0/$metadata#policies/authenticationMethodsPolicy/authenticationMethodConfigurations/$entity",
        req.base_url
    );
    Ok(with_context(
        context,
        render::method_config(config, &format!("{}/v1.0/$metadata", req.base_url)),
    ))
}

/// The policy's inline method configurations.
pub(crate) fn method_configurations(policy: &Value) -> &[Value] {
    policy
        .get("authenticationMethodConfigurations")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Configuration ids are fixed names matched case-insensitively: `Fido2` is `fido2`.
pub(crate) fn is_configuration(config: &Value, id: &str) -> bool {
    config
        .get("id")
        .and_then(Value::as_str)
        .is_some_and(|c| c.eq_ignore_ascii_case(id))
}

fn authorization_policy<'t>(req: &Request<'_>, tenant: &'t Tenant) -> Result<Node<'t>, GraphError> {
    if let Some(option) = req.query.first_option_except(&["$select"]) {
        return Err(disallowed_option(option));
    }
    let select = resolve(&req.query, &["authorizationPolicy"], "authorizationPolicy")?;
    let shape = shape_for_type("authorizationPolicy", select.as_deref());
    let context = context_url(
        req,
        "policies/authorizationPolicy",
        select.as_deref(),
        "/$entity",
    );
    let entity = render::entity("authorizationPolicy", &tenant.authorization_policy, shape);
    Ok(with_context(context, entity))
}

/// `/auditLogs/directoryAudits`, optionally `$filter=activityDateTime ge <time>`: the
/// only filter idgit sends. Timestamps are ISO 8601 UTC, so they compare as text.
fn directory_audits<'t>(req: &Request<'_>, tenant: &'t Tenant) -> Result<Node<'t>, GraphError> {
    let since = match req.query.filter.as_deref() {
        None => None,
        Some(filter) => {
            let parts: Vec<&str> = filter.split_whitespace().collect();
            match parts.as_slice() {
                [field, "ge", value] if field.eq_ignore_ascii_case("activityDateTime") => {
                    Some(value.trim_matches('\'').to_string())
                }
                _ => {
                    return Err(GraphError::bad_request(format!(
                        "Invalid filter clause: {filter}"
                    )))
                }
            }
        }
    };
    let items = after(&tenant.directory_audits, req.query.after.as_deref())
        .filter(|(_, entry)| {
            let time = entry
                .get("activityDateTime")
                .and_then(Value::as_str)
                .unwrap_or("");
            since.as_deref().is_none_or(|since| time >= since)
        })
        .map(|(id, entry)| (id.as_str(), Node::Borrowed(entry)));
    let page = Page::take(items, page_size(req));
    let context = format!("{}/v1.0/$metadata#auditLogs/directoryAudits", req.base_url);
    Ok(page.envelope(req, context, None))
}

/// The OData web API's refusal of a query option a route does not enable.
pub(crate) fn disallowed_option(option: &str) -> GraphError {
    let name = option.trim_start_matches('$');
    let mut pascal = name.to_string();
    if let Some(first) = pascal.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    GraphError::odata_bad_request(format!(
        "The query specified in the URI is not valid. Query option '{pascal}' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings."
    ))
}

/// Options valid on collections; `$skip` and a plain `$count` are refused on directory
/// objects, as the directory does.
pub(crate) fn check_collection_options(
    req: &Request<'_>,
    directory: bool,
) -> Result<(), GraphError> {
    if directory && req.query.skip.is_some() {
        return Err(GraphError::bad_request(
            "'$skip' is not supported by the service.",
        ));
    }
    if directory && req.query.count && !req.eventual {
        return Err(GraphError::bad_request(
            "$count is not currently supported.",
        ));
    }
    Ok(())
}

/// `$select` for a top-level collection or entity, with the users-only rules: the
/// collection refuses non-directory properties (501) and `signInActivity` needs
/// `AuditLog.Read.All` (403).
fn select_for(
    kind: Kind,
    query: &Query,
    auth: &Auth,
    collection: bool,
) -> Result<Option<Vec<String>>, GraphError> {
    let types = match kind {
        Kind::NamedLocations => vec!["namedLocation", "ipNamedLocation", "countryNamedLocation"],
        other => vec![other.type_name()],
    };
    let select = resolve(query, &types, kind.type_name())?;
    let Some(names) = select.as_deref().filter(|_| kind == Kind::Users) else {
        return Ok(select);
    };
    if collection && names.iter().any(|n| USER_SINGLE_ONLY.contains(&n.as_str())) {
        return Err(GraphError::not_implemented(
            "This operation target is not yet supported.",
        ));
    }
    if names.iter().any(|n| n == "signInActivity") {
        auth.require(&["AuditLog.Read.All"])?;
    }
    Ok(select)
}

pub(crate) fn resolve(
    query: &Query,
    type_names: &[&str],
    label: &str,
) -> Result<Option<Vec<String>>, GraphError> {
    let Some(names) = &query.select else {
        return Ok(None);
    };
    let types: Vec<&TypeInfo> = type_names.iter().filter_map(|t| schema().get(t)).collect();
    odata::resolve_select(names, &types, &format!("microsoft.graph.{label}")).map(Some)
}

pub(crate) fn shape_for(kind: Kind, select: Option<&[String]>) -> Shape<'_> {
    Shape {
        odata_type: kind == Kind::NamedLocations,
        ..shape_for_type(kind.type_name(), select)
    }
}

pub(crate) fn shape_for_type<'q>(type_name: &str, select: Option<&'q [String]>) -> Shape<'q> {
    let selected_keys = select.is_some_and(|s| s.iter().any(|p| p == "keyCredentials"));
    Shape {
        props: select.map_or(Props::Default, Props::Selected),
        odata_type: false,
        hide_key_blobs: type_name == "application" && !selected_keys,
    }
}

pub(crate) fn page_size(req: &Request<'_>) -> usize {
    let wanted = req.query.top.unwrap_or(req.default_page_size);
    wanted.min(req.max_page_size).max(1)
}

pub(crate) fn after<'m>(
    objects: &'m std::collections::BTreeMap<String, Value>,
    last: Option<&str>,
) -> impl Iterator<Item = (&'m String, &'m Value)> {
    let start = last.map_or(Bound::Unbounded, Bound::Excluded);
    objects.range::<str, _>((start, Bound::Unbounded))
}

/// `{base}/v1.0/$metadata#users(displayName,id)/$entity`.
pub(crate) fn context_url(
    req: &Request<'_>,
    path: &str,
    select: Option<&[String]>,
    suffix: &str,
) -> String {
    let projection = select
        .map(|s| format!("({})", s.join(",")))
        .unwrap_or_default();
    format!("{}/v1.0/$metadata#{path}{projection}{suffix}", req.base_url)
}

pub(crate) fn with_context(context: String, entity: Node<'_>) -> Node<'_> {
    let mut out = ObjectBuilder::new().field("@odata.context", Node::string(context));
    if let Node::Object(fields) = entity {
        for (k, v) in fields {
            out.push(k, v);
        }
    }
    out.build()
}

/// One page of a collection, cut from an id-ordered iterator.
pub(crate) struct Page<'a> {
    items: Vec<Node<'a>>,
    /// The id of the last item served, when more items follow.
    resume_after: Option<String>,
}

impl<'a> Page<'a> {
    pub(crate) fn take<I>(mut items: I, size: usize) -> Page<'a>
    where
        I: Iterator<Item = (&'a str, Node<'a>)>,
    {
        let mut page = Vec::with_capacity(size.min(1000));
        let mut last = None;
        for (id, node) in items.by_ref().take(size) {
            page.push(node);
            last = Some(id);
        }
        let more = items.next().is_some();
        Page {
            items: page,
            resume_after: last.filter(|_| more).map(String::from),
        }
    }

    /// `@odata.context`, `@odata.count` (first page only), `@odata.nextLink`, `value`.
    pub(crate) fn envelope(
        self,
        req: &Request<'_>,
        context: String,
        total: Option<usize>,
    ) -> Node<'a> {
        let mut out = ObjectBuilder::new().field("@odata.context", Node::string(context));
        if req.query.count && req.query.after.is_none() {
            if let Some(total) = total {
                out.push("@odata.count", Node::Owned(total.into()));
            }
        }
        let next = if req.loop_next_link {
            Some(self_link(req))
        } else {
            self.resume_after.map(|last| next_link(req, &last))
        };
        if let Some(link) = next {
            out.push("@odata.nextLink", Node::string(link));
        }
        out.push("value", Node::Array(self.items));
        out.build()
    }
}

/// The request's own URL, absolute.
fn self_link(req: &Request<'_>) -> String {
    match req.raw_query {
        Some(q) => format!("{}{}?{q}", req.base_url, req.raw_path),
        None => format!("{}{}", req.base_url, req.raw_path),
    }
}

/// The original URL with every query option kept as sent, and the skiptoken replaced.
fn next_link(req: &Request<'_>, last_id: &str) -> String {
    let mut parts: Vec<&str> = req
        .raw_query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let name = odata::decode(p.split('=').next().unwrap_or(""), true);
            !name.eq_ignore_ascii_case("$skiptoken")
        })
        .collect();
    let token = format!("$skiptoken={}", odata::encode_skiptoken(last_id));
    parts.push(&token);
    format!("{}{}?{}", req.base_url, req.raw_path, parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str) -> Result<Route, GraphError> {
        let segments: Vec<String> = path.split('/').map(String::from).collect();
        Route::parse(&segments)
    }

    #[test]
    fn resolves_known_routes_case_insensitively() {
        assert_eq!(parse("Users").ok(), Some(Route::List(Kind::Users)));
        assert_eq!(
            parse("identity/conditionalAccess/namedLocations/x").ok(),
            Some(Route::Get(Kind::NamedLocations, "x".into()))
        );
        assert_eq!(
            parse("servicePrincipals/a/appRoleAssignedTo").ok(),
            Some(Route::AppRoleAssignedTo("a".into()))
        );
        assert_eq!(
            parse("policies/authorizationPolicy").ok(),
            Some(Route::AuthorizationPolicy)
        );
        assert_eq!(
            parse("groups/g/Members/u/$ref").ok(),
            Some(Route::RemoveRef(
                Relation::GroupMembers,
                "g".into(),
                "u".into()
            ))
        );
        assert_eq!(
            parse("applications/a/owners/$ref").ok(),
            Some(Route::AddRef(Relation::AppOwners, "a".into()))
        );
        assert_eq!(
            parse("policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2")
                .ok(),
            Some(Route::AuthenticationMethodConfiguration("Fido2".into()))
        );
        assert_eq!(
            parse("directory/deletedItems/microsoft.graph.servicePrincipal").ok(),
            Some(Route::DeletedItems(Some(Kind::ServicePrincipals)))
        );
        assert_eq!(
            parse("directory/deletedItems/x/restore").ok(),
            Some(Route::RestoreDeletedItem("x".into()))
        );
        assert_eq!(
            parse("identity/conditionalAccess/deletedItems/namedLocations/n/restore").ok(),
            Some(Route::RestorePolicy(Kind::NamedLocations, "n".into()))
        );
    }

    #[test]
    fn methods_and_permissions_depend_on_the_route() {
        let users = Route::List(Kind::Users);
        assert!(users.allows(&Method::POST) && !users.allows(&Method::DELETE));
        assert!(!Route::AuthorizationPolicy.allows(&Method::DELETE));
        assert_eq!(
            users.accepted_permissions(&Method::POST),
            ["User.ReadWrite.All"]
        );
        let add = Route::AddRef(Relation::GroupMembers, "g".into());
        assert!(add
            .accepted_permissions(&Method::POST)
            .contains(&"GroupMember.ReadWrite.All"));
        assert_eq!(
            Route::AuthenticationMethodConfiguration("x".into())
                .accepted_permissions(&Method::PATCH),
            ["Policy.ReadWrite.AuthenticationMethod"]
        );
    }

    #[test]
    fn names_the_segment_that_does_not_resolve() {
        let msg = |p: &str| parse(p).err().map(|e| e.message);
        assert_eq!(
            msg("widgets").as_deref(),
            Some("Resource not found for the segment 'widgets'.")
        );
        assert_eq!(
            msg("users/1/manager").as_deref(),
            Some("Resource not found for the segment 'manager'.")
        );
        assert_eq!(
            msg("identity/bogus").as_deref(),
            Some("Resource not found for the segment 'bogus'.")
        );
        assert_eq!(
            msg("applications/1/members").as_deref(),
            Some("Resource not found for the segment 'members'.")
        );
        assert_eq!(
            msg("groups/1/members/2/3").as_deref(),
            Some("Resource not found for the segment '3'.")
        );
        assert_eq!(
            msg("directory/deletedItems/microsoft.graph.device").as_deref(),
            Some("Resource not found for the segment 'microsoft.graph.device'.")
        );
    }
}
