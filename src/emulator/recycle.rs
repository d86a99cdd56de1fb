//! The recycle bins: `/directory/deletedItems` for users, groups, applications and service
//! principals, and `/identity/conditionalAccess/deletedItems` for policies and named locations.
//!
//! Listing the directory bin needs a type cast (`…/deletedItems/microsoft.graph.user`), as in
//! Graph. Items carry `@odata.type` and `deletedDateTime`. A restore (POST, no body) answers
//! 200 with the object, which keeps its id, its `appId` and its links; `DELETE` on a deleted
//! item removes it for good.
//!
//! Permissions follow the object found: restoring a user needs `User.ReadWrite.All`, an
//! application `Application.ReadWrite.All`, so by-id routes check once more after the lookup.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use super::auth::Auth;
use super::error::GraphError;
use super::json::{Node, ObjectBuilder};
use super::render::{self, Props, Shape};
use super::routes::{
    after, check_collection_options, context_url, disallowed_option, page_size, resolve, shape_for,
    with_context, write_permissions, Page, Reply, Request, Route,
};
use super::store::{original_upn, Kind, Tenant};
use super::writes::{duplicate_service_principal, duplicate_upn};

pub(crate) fn handle(
    route: &Route,
    req: &Request<'_>,
    tenant: &mut Tenant,
    auth: &Auth,
) -> Result<Reply, GraphError> {
    let method = req.method;
    match route {
        Route::DeletedItems(None) => Err(GraphError::bad_request(
            "Listing deleted items needs a type cast, for example /directory/deletedItems/microsoft.graph.user.",
        )),
        Route::DeletedItems(Some(kind)) => list(*kind, req, tenant, true),
        Route::DeletedPolicies(kind) => list(*kind, req, tenant, false),
        Route::DeletedItem(id) => {
            let kind = directory_bin(tenant, id)?;
            if method == Method::DELETE {
                auth.require(write_permissions(kind))?;
                return purge(kind, id, tenant);
            }
            auth.require(read_permissions(kind))?;
            get(kind, id, req, tenant)
        }
        Route::DeletedPolicy(kind, id) if method == Method::DELETE => purge(*kind, id, tenant),
        Route::DeletedPolicy(kind, id) => get(*kind, id, req, tenant),
        Route::RestoreDeletedItem(id) => {
            let kind = directory_bin(tenant, id)?;
            auth.require(write_permissions(kind))?;
            restore(kind, id, req, tenant)
        }
        Route::RestorePolicy(kind, id) => restore(*kind, id, req, tenant),
        _ => Err(GraphError::method_not_allowed()),
    }
}

/// Reading a deleted object needs the read permission of its kind; membership-only
/// permissions (`GroupMember.Read.All`) do not reach the recycle bin.
fn read_permissions(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Users => &["User.Read.All", "Directory.Read.All"],
        Kind::Groups => &["Group.Read.All", "Directory.Read.All"],
        _ => &["Application.Read.All", "Directory.Read.All"],
    }
}

/// The directory kind whose bin holds `id`, or 404.
fn directory_bin(tenant: &Tenant, id: &str) -> Result<Kind, GraphError> {
    tenant
        .bin_of(id)
        .filter(|k| k.is_directory_object())
        .ok_or_else(|| GraphError::not_found(id))
}

fn deleted<'t>(kind: Kind, id: &str, tenant: &'t Tenant) -> Result<&'t Value, GraphError> {
    tenant
        .deleted(kind)
        .get(&id.to_ascii_lowercase())
        .ok_or_else(|| GraphError::not_found(id))
}

/// How a deleted object is served: `@odata.type` first, then what a GET of the live object
/// would show, with `deletedDateTime` always included.
fn shape(kind: Kind, select: Option<&[String]>) -> Shape<'_> {
    Shape {
        odata_type: true,
        ..shape_for(kind, select)
    }
}

fn render_deleted<'a>(kind: Kind, stored: &'a Value, shape: Shape<'_>) -> Node<'a> {
    let Node::Object(fields) = render::entity(kind.type_name(), stored, shape) else {
        return Node::Borrowed(stored);
    };
    let selected = matches!(shape.props, Props::Selected(_));
    let has_deleted = fields.iter().any(|(k, _)| k == "deletedDateTime");
    let mut out = ObjectBuilder::new();
    for (k, v) in fields {
        out.push(k, v);
    }
    if !has_deleted && !selected {
        let value = stored
            .get("deletedDateTime")
            .map_or_else(Node::null, Node::Borrowed);
        out.push("deletedDateTime", value);
    }
    out.build()
}

fn list(
    kind: Kind,
    req: &Request<'_>,
    tenant: &Tenant,
    directory: bool,
) -> Result<Reply, GraphError> {
    check_collection_options(req, directory)?;
    let select = select(kind, req)?;
    let shape = shape(kind, select.as_deref());
    let objects = tenant.deleted(kind);
    let skip = match (&req.query.after, req.query.skip) {
        (None, Some(n)) => n,
        _ => 0,
    };
    let items = after(objects, req.query.after.as_deref())
        .skip(skip)
        .map(|(id, v)| (id.as_str(), render_deleted(kind, v, shape)));
    let page = Page::take(items, page_size(req));
    let path = if directory {
        "directoryObjects".to_string()
    } else {
        format!(
            "identity/conditionalAccess/deletedItems/{}",
            bin_segment(kind)
        )
    };
    let context = context_url(req, &path, select.as_deref(), "");
    Reply::json(
        StatusCode::OK,
        &page.envelope(req, context, Some(objects.len())),
    )
}

fn bin_segment(kind: Kind) -> &'static str {
    match kind {
        Kind::NamedLocations => "namedLocations",
        _ => "policies",
    }
}

fn select(kind: Kind, req: &Request<'_>) -> Result<Option<Vec<String>>, GraphError> {
    let types = match kind {
        Kind::NamedLocations => vec!["namedLocation", "ipNamedLocation", "countryNamedLocation"],
        other => vec![other.type_name()],
    };
    resolve(&req.query, &types, kind.type_name())
}

fn get(kind: Kind, id: &str, req: &Request<'_>, tenant: &Tenant) -> Result<Reply, GraphError> {
    if let Some(option) = req.query.first_option_except(&["$select"]) {
        return Err(disallowed_option(option));
    }
    let select = select(kind, req)?;
    let stored = deleted(kind, id, tenant)?;
    let path = if kind.is_directory_object() {
        "directoryObjects".to_string()
    } else {
        format!(
            "identity/conditionalAccess/deletedItems/{}",
            bin_segment(kind)
        )
    };
    let context = context_url(req, &path, select.as_deref(), "/$entity");
    let entity = render_deleted(kind, stored, shape(kind, select.as_deref()));
    Reply::json(StatusCode::OK, &with_context(context, entity))
}

/// `DELETE …/deletedItems/{id}`: gone for good. 204.
fn purge(kind: Kind, id: &str, tenant: &mut Tenant) -> Result<Reply, GraphError> {
    deleted(kind, id, tenant)?;
    tenant.purge(kind, &id.to_ascii_lowercase());
    Ok(Reply::no_content())
}

/// `POST …/deletedItems/{id}/restore`: 200 with the restored object. A user whose name a
/// live user took meanwhile, or a service principal whose app got a new one, cannot come
/// back, as in Graph.
fn restore(
    kind: Kind,
    id: &str,
    req: &Request<'_>,
    tenant: &mut Tenant,
) -> Result<Reply, GraphError> {
    let key = id.to_ascii_lowercase();
    let stored = deleted(kind, id, tenant)?;
    match kind {
        Kind::Users => {
            let upn = original_upn(&key, stored);
            if upn.is_some_and(|upn| tenant.user_by_key(&upn).is_some()) {
                return Err(duplicate_upn());
            }
        }
        Kind::ServicePrincipals => {
            let app_id = stored
                .get("appId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let taken = tenant
                .objects(Kind::ServicePrincipals)
                .values()
                .any(|sp| sp.get("appId").and_then(Value::as_str) == Some(app_id));
            if taken {
                return Err(duplicate_service_principal(app_id));
            }
        }
        _ => {}
    }
    tenant.tick();
    let restored = tenant
        .restore_from_bin(kind, &key)
        .ok_or_else(|| GraphError::not_found(id))?;
    let (path, shape) = if kind.is_directory_object() {
        ("directoryObjects", shape(kind, None))
    } else {
        (kind.path(), shape_for(kind, None))
    };
    let context = context_url(req, path, None, "/$entity");
    let entity = render::entity(kind.type_name(), restored, shape);
    Reply::json(StatusCode::OK, &with_context(context, entity))
}
