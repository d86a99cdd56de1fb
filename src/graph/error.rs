//! What can go wrong talking to Graph or the token endpoint.
//!
//! Messages name the request (method and path, never the query, which can be long) and
//! Graph's error code and request-id, which Microsoft support asks for. They never hold
//! a token or a secret: neither is ever put into a `GraphError`.

use std::fmt;

/// Why a Graph call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// No HTTP answer at all: DNS, refused connection, TLS, timeout.
    Unreachable,
    /// The token endpoint refused the credential, or the credential could not be had.
    Authentication {
        aadsts: Option<u32>,
        /// What to do, when it depends on the credential (a certificate's thumbprint, a
        /// federated token's subject); the code's general hint otherwise. Boxed as a thin
        /// pointer so that `GraphError`, returned everywhere, stays small.
        #[allow(clippy::box_collection)]
        hint: Option<Box<String>>,
    },
    /// Graph refused the token (401).
    Unauthorized,
    /// Graph refused the operation: a permission is missing (403).
    Forbidden,
    NotFound,
    /// Still throttled or unavailable after every retry.
    RetriesExhausted,
    /// The answer was not the JSON Graph promises.
    Malformed,
    /// `@odata.nextLink` led back to a page already read.
    PagingLoop,
    /// Any other HTTP error status.
    Status,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub kind: ErrorKind,
    /// `GET /v1.0/users`.
    pub request: String,
    pub status: Option<u16>,
    /// Graph's `error.code`, e.g. `Authorization_RequestDenied`.
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
}

impl GraphError {
    pub fn new(kind: ErrorKind, request: impl Into<String>, message: impl Into<String>) -> Self {
        GraphError {
            kind,
            request: request.into(),
            status: None,
            code: None,
            message: message.into(),
            request_id: None,
        }
    }

    /// What the user can do about it, where that does not depend on the caller.
    pub fn hint(&self) -> Option<String> {
        match &self.kind {
            ErrorKind::Unreachable => Some(
                "check the network and the endpoint settings (IDGIT_GRAPH_URL, AZURE_AUTHORITY_HOST or --cloud)"
                    .into(),
            ),
            ErrorKind::Authentication { hint: Some(hint), .. } => Some(hint.to_string()),
            ErrorKind::Authentication { aadsts, hint: None } => {
                Some(authentication_hint(*aadsts).into())
            }
            ErrorKind::Unauthorized => Some(
                "the access token was rejected: check that it is for this tenant and Graph, or let idgit get one from AZURE_CLIENT_ID/AZURE_CLIENT_SECRET"
                    .into(),
            ),
            ErrorKind::RetriesExhausted => {
                Some("Graph is throttling or unavailable; run again later".into())
            }
            ErrorKind::Malformed | ErrorKind::PagingLoop => Some(
                "this is a problem on the server side; run again, and report it with the request-id if it persists"
                    .into(),
            ),
            _ => None,
        }
    }
}

fn authentication_hint(aadsts: Option<u32>) -> &'static str {
    match aadsts {
        Some(7000215) => "check AZURE_CLIENT_SECRET: it must be the secret's value, not its ID",
        Some(7000222) => "the client secret has expired: create a new one and update AZURE_CLIENT_SECRET",
        Some(700016) => "check AZURE_CLIENT_ID and that the app is registered in tenant AZURE_TENANT_ID",
        Some(90002) | Some(900023) => "check AZURE_TENANT_ID: use the tenant's ID or a verified domain",
        Some(7000112) => "the app registration is disabled: enable it in the Entra admin center",
        Some(53003) => "a conditional access policy blocked the sign-in: exclude this workload identity or use an allowed location",
        _ => "check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET",
    }
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.request, self.message)?;
        match (self.status, &self.code) {
            (Some(status), Some(code)) => write!(f, " ({status} {code}")?,
            (Some(status), None) => write!(f, " ({status}")?,
            (None, Some(code)) => write!(f, " ({code}")?,
            (None, None) => {
                if let Some(id) = &self.request_id {
                    return write!(f, " (request-id {id})");
                }
                return Ok(());
            }
        }
        if let Some(id) = &self.request_id {
            write!(f, ", request-id {id}")?;
        }
        write!(f, ")")
    }
}

impl std::error::Error for GraphError {}
