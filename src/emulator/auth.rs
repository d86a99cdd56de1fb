//! The Entra token endpoint (client credentials with a secret, a certificate assertion or a
//! federated assertion), the managed identity endpoint (IMDS) and bearer-token checks.
//!
//! Tokens are opaque strings the emulator remembers. Permissions are not baked into tokens:
//! they are looked up when a Graph request arrives, so `set_permissions` also affects tokens
//! issued earlier. That is stricter than Entra (whose tokens carry their roles until they
//! expire) and lets a test revoke a permission without waiting for a new token.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

use super::error::GraphError;
use super::federation::{self, Federation};
use super::json::{Node, ObjectBuilder};
use super::odata;
use super::rng::{mix, Rng, NOW_AAD};

/// The tenant and the app registration that may sign in to it.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) tenant_id: String,
    pub(crate) domain: String,
    pub(crate) org_name: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
}

pub(crate) struct Auth {
    pub(crate) identity: Identity,
    /// The emulator's own address: tokens are for it, or for Graph's resource names.
    resource: String,
    permissions: Mutex<Vec<String>>,
    /// Issued tokens and when they stop being accepted (never, unless a test set a lifetime).
    tokens: Mutex<HashMap<String, Option<Instant>>>,
    token_lifetime: Mutex<Option<Duration>>,
    issued: AtomicU64,
    pub(crate) federation: Federation,
}

impl Auth {
    pub(crate) fn new(identity: Identity, permissions: Vec<String>, resource: &str) -> Auth {
        Auth {
            identity,
            resource: resource.trim_end_matches('/').to_string(),
            permissions: Mutex::new(permissions),
            tokens: Mutex::new(HashMap::new()),
            token_lifetime: Mutex::new(None),
            issued: AtomicU64::new(0),
            federation: Federation::new(resource),
        }
    }

    /// Tokens issued from now on are refused by Graph after `lifetime`, and say so in
    /// `expires_in`, so that tests see a long run outlive its token.
    pub(crate) fn set_token_lifetime(&self, lifetime: Option<Duration>) {
        *self
            .token_lifetime
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = lifetime;
    }

    fn lifetime(&self) -> Option<Duration> {
        *self
            .token_lifetime
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `expires_in` for a new token.
    fn expires_in(&self) -> u64 {
        self.lifetime().map_or(3599, |l| l.as_secs().max(1))
    }

    pub(crate) fn set_permissions(&self, perms: &[&str]) {
        let mut granted = self
            .permissions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *granted = perms.iter().map(|p| p.to_string()).collect();
    }

    /// Checks the `Authorization: Bearer` header of a Graph request.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Result<(), GraphError> {
        let value = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .trim();
        let bearer = value
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        match bearer {
            _ if value.is_empty() => Err(GraphError::unauthorized("Access token is empty.")),
            Some("") => Err(GraphError::unauthorized("Access token is empty.")),
            Some(token) => match self.known(token) {
                Some(None) => Ok(()),
                Some(Some(expiry)) if Instant::now() < expiry => Ok(()),
                Some(Some(_)) => Err(GraphError::unauthorized(
                    "Lifetime validation failed, the token is expired.",
                )),
                None => Err(GraphError::unauthorized(
                    "CompactToken parsing failed with error code: 80049217",
                )),
            },
            None => Err(GraphError::unauthorized(
                "CompactToken parsing failed with error code: 80049217",
            )),
        }
    }

    fn known(&self, token: &str) -> Option<Option<Instant>> {
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .copied()
    }

    /// Passes when any granted permission satisfies any of `accepted`.
    pub(crate) fn require(&self, accepted: &[&str]) -> Result<(), GraphError> {
        let granted = self
            .permissions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let ok = granted
            .iter()
            .any(|g| accepted.iter().any(|a| implies(g, a)));
        if ok {
            Ok(())
        } else {
            Err(GraphError::forbidden())
        }
    }

    fn issue_token(&self) -> String {
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        let mut rng = Rng::new(mix(n ^ 0x7043_4B45_4E53_414C));
        let token = format!("emu.{}", URL_SAFE_NO_PAD.encode(rng.bytes::<32>()));
        let expiry = self.lifetime().map(|l| Instant::now() + l);
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token.clone(), expiry);
        token
    }

    /// `POST /{tenant}/oauth2/v2.0/token`, client-credentials grant with a client secret or a
    /// client assertion.
    pub(crate) fn token_endpoint(
        &self,
        tenant: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Response {
        match self.check_token_request(tenant, headers, body) {
            Ok(()) => {
                let body = ObjectBuilder::new()
                    .field("token_type", Node::string("Bearer"))
                    .field("expires_in", Node::Owned(self.expires_in().into()))
                    .field("ext_expires_in", Node::Owned(self.expires_in().into()))
                    .field("access_token", Node::string(self.issue_token()))
                    .build();
                json_response(StatusCode::OK, &body)
            }
            Err(err) => {
                let n = self.issued.fetch_add(1, Ordering::Relaxed);
                err.into_response(n)
            }
        }
    }

    fn check_token_request(
        &self,
        tenant: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), AadError> {
        let id = &self.identity;
        if !tenant.eq_ignore_ascii_case(&id.tenant_id) && !tenant.eq_ignore_ascii_case(&id.domain) {
            return Err(AadError::unknown_tenant(tenant));
        }
        let form = Form::parse(body, headers);
        let grant = form.required("grant_type")?;
        if grant != "client_credentials" {
            return Err(AadError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{grant}'."),
            ));
        }
        let client_id = form.required("client_id")?;
        let scope = form.required("scope")?;
        if scope.split(' ').count() != 1 || !scope.ends_with("/.default") {
            return Err(AadError::new(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                70011,
                format!("The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."),
            ));
        }
        // Entra knows Graph by its URL and its appId; the emulator also by its own URL.
        let resource = scope.trim_end_matches("/.default").trim_end_matches('/');
        let known = [
            self.resource.as_str(),
            "https://graph.microsoft.com",
            "00000003-0000-0000-c000-000000000000",
        ];
        if !known.iter().any(|k| k.eq_ignore_ascii_case(resource)) {
            return Err(AadError::new(
                StatusCode::BAD_REQUEST,
                "invalid_resource",
                500011,
                format!("The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", id.org_name),
            ));
        }
        if !client_id.eq_ignore_ascii_case(&id.client_id) {
            return Err(AadError::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", id.org_name),
            ));
        }
        if let Some(assertion) = form.get("client_assertion") {
            let kind = form.get("client_assertion_type").unwrap_or_default();
            if kind != federation::JWT_BEARER {
                return Err(AadError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    50027,
                    format!(
                        "Invalid client_assertion_type '{kind}': expected '{}'.",
                        federation::JWT_BEARER
                    ),
                ));
            }
            // A certificate assertion's audience is this token endpoint, under either name
            // of the tenant.
            let token_urls = [&id.tenant_id, &id.domain]
                .map(|t| format!("{}/{t}/oauth2/v2.0/token", self.resource));
            return self
                .federation
                .check_assertion(assertion, client_id, &token_urls)
                .map_err(|r| AadError::new(StatusCode::UNAUTHORIZED, r.error, r.code, r.message));
        }
        self.check_secret(&form, client_id)
    }

    fn check_secret(&self, form: &Form, client_id: &str) -> Result<(), AadError> {
        match form.get("client_secret") {
            Some(secret) if secret == self.identity.client_secret => Ok(()),
            Some(_) => Err(AadError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
            )),
            None => Err(AadError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".to_string(),
            )),
        }
    }
}

impl Auth {
    /// `GET /metadata/identity/oauth2/token`: the instance metadata service hands the
    /// machine's managed identity a token. Here that identity is the backup app itself;
    /// a user-assigned identity is chosen with `client_id`, and only the app's is known.
    pub(crate) fn imds_token(&self, headers: &HeaderMap, query: Option<&str>) -> Response {
        let params: HashMap<String, String> = odata::pairs(query.unwrap_or("")).collect();
        let metadata = headers
            .get("metadata")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let refuse = |error: &str, description: &str| {
            let body = ObjectBuilder::new()
                .field("error", Node::string(error))
                .field("error_description", Node::string(description))
                .build();
            json_response(StatusCode::BAD_REQUEST, &body)
        };
        if !metadata {
            return refuse("invalid_request", "Required metadata header not specified");
        }
        if params.get("api-version").is_none_or(String::is_empty) {
            return refuse(
                "invalid_request",
                "Required query variable 'api-version' is missing",
            );
        }
        let Some(resource) = params.get("resource").filter(|r| !r.is_empty()) else {
            return refuse(
                "invalid_request",
                "Required query variable 'resource' is missing",
            );
        };
        let resource = resource.trim_end_matches('/');
        let known = [self.resource.as_str(), "https://graph.microsoft.com"];
        if !known.iter().any(|k| k.eq_ignore_ascii_case(resource)) {
            return refuse(
                "invalid_resource",
                "AADSTS500011: The resource principal was not found in the tenant.",
            );
        }
        if let Some(client_id) = params.get("client_id") {
            if !client_id.eq_ignore_ascii_case(&self.identity.client_id) {
                return refuse("invalid_request", "Identity not found");
            }
        }
        // IMDS sends every number as a string.
        let expires_in = self.expires_in();
        let now = federation::now_secs();
        let body = ObjectBuilder::new()
            .field("access_token", Node::string(self.issue_token()))
            .field("refresh_token", Node::string(""))
            .field("expires_in", Node::string(expires_in.to_string()))
            .field(
                "expires_on",
                Node::string((now + expires_in as i64).to_string()),
            )
            .field("not_before", Node::string(now.to_string()))
            .field("resource", Node::string(resource))
            .field("token_type", Node::string("Bearer"))
            .build();
        json_response(StatusCode::OK, &body)
    }
}

/// `X.ReadWrite.Y` grants what `X.Read.Y` grants; names compare case-insensitively.
fn implies(granted: &str, required: &str) -> bool {
    granted.eq_ignore_ascii_case(required)
        || granted
            .to_ascii_lowercase()
            .replace(".readwrite.", ".read.")
            == required.to_ascii_lowercase()
}

/// The form body, with HTTP Basic client credentials (RFC 6749 §2.3.1) filled in when the body
/// does not carry them.
struct Form(HashMap<String, String>);

impl Form {
    fn parse(body: &[u8], headers: &HeaderMap) -> Form {
        let text = String::from_utf8_lossy(body);
        let mut fields: HashMap<String, String> = HashMap::new();
        for (k, v) in odata::pairs(&text) {
            fields.entry(k).or_insert(v);
        }
        if let Some((id, secret)) = basic_credentials(headers) {
            fields.entry("client_id".into()).or_insert(id);
            fields.entry("client_secret".into()).or_insert(secret);
        }
        Form(fields)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn required(&self, name: &str) -> Result<&str, AadError> {
        self.get(name).ok_or_else(|| {
            AadError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                format!("The request body must contain the following parameter: '{name}'."),
            )
        })
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((odata::decode(id, true), odata::decode(secret, true)))
}

/// An Entra sign-in error (GRAPH-NOTES §4.1).
#[derive(Debug)]
struct AadError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: String,
}

impl AadError {
    fn new(status: StatusCode, error: &'static str, code: u32, message: String) -> Self {
        AadError {
            status,
            error,
            code,
            message,
        }
    }

    fn unknown_tenant(tenant: &str) -> Self {
        let guid_like = uuid::Uuid::parse_str(tenant).is_ok();
        if !guid_like && !tenant.contains('.') {
            return Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900023,
                format!("Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain."),
            );
        }
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."),
        )
    }

    fn into_response(self, n: u64) -> Response {
        let mut rng = Rng::new(mix(n ^ 0x5452_4143_4549_4453));
        let trace_id = rng.guid();
        let correlation_id = rng.guid();
        let description = format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {NOW_AAD}",
            self.code, self.message
        );
        let body = ObjectBuilder::new()
            .field("error", Node::string(self.error))
            .field("error_description", Node::string(description))
            .field("error_codes", Node::Owned(serde_json::json!([self.code])))
            .field("timestamp", Node::string(NOW_AAD))
            .field("trace_id", Node::string(trace_id))
            .field("correlation_id", Node::string(correlation_id))
            .field(
                "error_uri",
                Node::string(format!(
                    "https://login.microsoftonline.com/error?code={}",
                    self.code
                )),
            )
            .build();
        json_response(self.status, &body)
    }
}

pub(crate) fn json_response(status: StatusCode, body: &Node<'_>) -> Response {
    match body.to_vec() {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, no-cache"),
            );
            response
        }
        Err(err) => {
            tracing::error!(%err, "token response did not serialise");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::implies;

    #[test]
    fn read_write_implies_read() {
        assert!(implies("User.ReadWrite.All", "User.Read.All"));
        assert!(implies("user.read.all", "User.Read.All"));
        assert!(!implies("User.Read.All", "User.ReadWrite.All"));
        assert!(!implies("Group.Read.All", "User.Read.All"));
    }
}
