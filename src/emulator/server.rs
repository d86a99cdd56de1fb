//! The HTTP layer: routing, the per-request pipeline (latency, faults, auth, handler) and the
//! headers every Graph response carries.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;

use super::auth::Auth;
use super::error::{GraphError, RequestIds};
use super::faults::{Fault, FaultBook};
use super::odata::{self, Query};
use super::rng::{mix, Rng};
use super::routes::{self, Reply, Request, Route};
use super::store::Tenant;

/// What Graph sends as the content type of OData JSON.
const ODATA_JSON: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

pub(crate) struct AppState {
    pub(crate) tenant: Arc<Mutex<Tenant>>,
    pub(crate) auth: Auth,
    pub(crate) faults: Mutex<FaultBook>,
    pub(crate) graph_requests: AtomicU64,
    pub(crate) base_url: String,
    pub(crate) default_page_size: usize,
    pub(crate) max_page_size: usize,
    pub(crate) latency: Duration,
    pub(crate) hard_delete_policies: bool,
}

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/metadata/identity/oauth2/token", get(imds_token))
        .route("/_github/idtoken", get(github_token))
        .route("/v1.0", any(graph))
        .route("/v1.0/{*rest}", any(graph))
        .fallback(unknown_version)
        .with_state(state)
}

async fn token(
    State(state): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.auth.token_endpoint(&tenant, &headers, &body)
}

async fn imds_token(State(state): State<Arc<AppState>>, uri: Uri, headers: HeaderMap) -> Response {
    state.auth.imds_token(&headers, uri.query())
}

/// The GitHub Actions OIDC stand-in: `ACTIONS_ID_TOKEN_REQUEST_URL` points here.
async fn github_token(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let audience = odata::pairs(uri.query().unwrap_or(""))
        .find(|(name, _)| name == "audience")
        .map(|(_, value)| value);
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let (status, body) = state
        .auth
        .federation
        .github_token(authorization, audience.as_deref());
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// Anything outside `/v1.0` and the token endpoint: Graph names the unknown version.
async fn unknown_version(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let ids = state.next_ids(&headers);
    let version = uri
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let err = GraphError::odata_bad_request(format!("Invalid version: {version}"));
    error_response(&err, &ids)
}

async fn graph(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ids = state.next_ids(&headers);
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let fault = state
        .faults
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take(uri.path());
    let call = Call {
        state: &state,
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
    };
    match fault {
        None => to_response(call.serve(false), &ids),
        Some(Fault::Status {
            status,
            retry_after,
        }) => {
            // The Conditional Access service throttles without Retry-After (GRAPH-NOTES §1.5).
            let no_hint = status == 429 && is_conditional_access(uri.path());
            let retry_after = retry_after.filter(|_| !no_hint);
            error_response(&GraphError::from_status(status, retry_after), &ids)
        }
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            to_response(call.serve(false), &ids)
        }
        Some(Fault::NextLinkLoop) => to_response(call.serve(true), &ids),
        Some(Fault::TruncatedJson) => truncated(call.serve(false), &ids),
    }
}

impl AppState {
    /// Counts the Graph request and derives its ids from the count, so a sequential client
    /// sees the same ids on every run.
    fn next_ids(&self, headers: &HeaderMap) -> RequestIds {
        let n = self.graph_requests.fetch_add(1, Ordering::Relaxed);
        let request_id = Rng::new(mix(n ^ 0x5245_5155_4553_5449)).guid();
        let client_request_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map_or_else(|| request_id.clone(), String::from);
        RequestIds {
            request_id,
            client_request_id,
        }
    }
}

fn is_conditional_access(path: &str) -> bool {
    path.to_ascii_lowercase()
        .contains("/identity/conditionalaccess/")
}

struct Call<'r> {
    state: &'r AppState,
    method: &'r Method,
    uri: &'r Uri,
    headers: &'r HeaderMap,
    body: &'r [u8],
}

impl Call<'_> {
    /// Authentication (401), the route (400), the method (405) and the permission (403),
    /// in that order, then the handler.
    fn serve(&self, loop_next_link: bool) -> Result<Reply, GraphError> {
        let state = self.state;
        state.auth.authenticate(self.headers)?;
        let raw_path = self.uri.path();
        let segments: Vec<String> = raw_path
            .trim_start_matches("/v1.0")
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| odata::decode(s, false))
            .collect();
        let route = Route::parse(&segments)?;
        if !route.allows(self.method) {
            return Err(GraphError::method_not_allowed());
        }
        state
            .auth
            .require(route.accepted_permissions(self.method))?;
        let req = Request {
            base_url: &state.base_url,
            raw_path,
            raw_query: self.uri.query(),
            query: Query::parse(self.uri.query())?,
            default_page_size: state.default_page_size,
            max_page_size: state.max_page_size,
            eventual: self
                .headers
                .get("consistencylevel")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("eventual")),
            loop_next_link,
            method: self.method,
            body: self.body,
            hard_delete_policies: state.hard_delete_policies,
        };
        let mut tenant = state.tenant.lock().unwrap_or_else(PoisonError::into_inner);
        routes::handle(&route, &req, &mut tenant, &state.auth)
    }
}

fn to_response(result: Result<Reply, GraphError>, ids: &RequestIds) -> Response {
    match result {
        Ok(Reply { status, body: None }) => {
            let mut response = status.into_response();
            add_ids(response.headers_mut(), ids);
            response
        }
        Ok(Reply {
            status,
            body: Some(body),
        }) => with_headers((status, body).into_response(), ODATA_JSON, ids),
        Err(err) => error_response(&err, ids),
    }
}

/// The first half of whatever the request would have returned, with its status (a write
/// has still happened). A read's 200 keeps looking successful, which is the point.
fn truncated(result: Result<Reply, GraphError>, ids: &RequestIds) -> Response {
    let (status, mut body) = match result {
        Ok(reply) => (reply.status, reply.body.unwrap_or_default()),
        Err(err) => (StatusCode::OK, err.body(ids).to_vec().unwrap_or_default()),
    };
    body.truncate(body.len() / 2);
    with_headers((status, body).into_response(), ODATA_JSON, ids)
}

pub(crate) fn error_response(err: &GraphError, ids: &RequestIds) -> Response {
    let body = err.body(ids).to_vec().unwrap_or_default();
    let mut response = with_headers((err.status, body).into_response(), "application/json", ids);
    let headers = response.headers_mut();
    if let Some(seconds) = err.retry_after.as_deref() {
        if let Ok(value) = HeaderValue::from_str(seconds) {
            headers.insert(header::RETRY_AFTER, value);
        }
    }
    if err.status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
            ),
        );
    }
    response
}

fn with_headers(mut response: Response, content_type: &'static str, ids: &RequestIds) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    add_ids(headers, ids);
    response
}

fn add_ids(headers: &mut HeaderMap, ids: &RequestIds) {
    for (name, value) in [
        ("request-id", &ids.request_id),
        ("client-request-id", &ids.client_request_id),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}
