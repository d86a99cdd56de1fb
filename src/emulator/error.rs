//! Graph-shaped error responses.
//!
//! Every error carries `{"error":{"code","message","innerError":{date,request-id,
//! client-request-id}}}` with the keys in that order, as the directory service writes them
//! (GRAPH-NOTES §2.6). Throttling adds the extra inner fields of the documented 429 sample
//! (§2.5).

use axum::http::StatusCode;

use super::json::{Node, ObjectBuilder};
use super::rng::NOW_GRAPH;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GraphError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// Seconds, exactly as a fault rule gives them; `None` sends no `Retry-After` header.
    pub(crate) retry_after: Option<String>,
}

impl GraphError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        GraphError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The directory's generic 400 (bad query option values, `$top` out of range, ...).
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    /// The OData layer's 400, used for URLs that do not resolve and disallowed options.
    pub(crate) fn odata_bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub(crate) fn unknown_segment(segment: &str) -> Self {
        Self::odata_bad_request(format!("Resource not found for the segment '{segment}'."))
    }

    pub(crate) fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    /// What the directory answers for a `$skiptoken` it cannot use.
    pub(crate) fn expired_page_token() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "Directory_ExpiredPageToken",
            "The specified page token value has expired and can no longer be included in your request.",
        )
    }

    pub(crate) fn invalid_object_id(id: &str) -> Self {
        Self::bad_request(format!("Invalid object identifier '{id}'."))
    }

    pub(crate) fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    pub(crate) fn unauthorized(message: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        )
    }

    pub(crate) fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, "NotImplemented", message)
    }

    /// An injected fault: the status with the code and message Graph pairs with it.
    pub(crate) fn from_status(status: u16, retry_after: Option<String>) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut err = match status.as_u16() {
            400 => Self::bad_request("Invalid request."),
            401 => Self::unauthorized("Lifetime validation failed, the token is expired."),
            403 => Self::forbidden(),
            404 => Self::not_found("00000000-0000-0000-0000-000000000000"),
            429 => Self::new(status, "TooManyRequests", "Please retry again later."),
            500 => Self::new(
                status,
                "generalException",
                "General exception while processing.",
            ),
            502 => Self::new(status, "BadGateway", "Bad gateway."),
            503 => Self::new(
                status,
                "ServiceUnavailable",
                "Service is unavailable. Please try again later.",
            ),
            504 => Self::new(status, "GatewayTimeout", "The request timed out."),
            _ => Self::new(status, "UnknownError", "An unknown error occurred."),
        };
        err.retry_after = retry_after;
        err
    }

    pub(crate) fn body(&self, ids: &RequestIds) -> Node<'static> {
        let mut inner = ObjectBuilder::new();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            inner.push("code", Node::string("429"));
        }
        inner.push("date", Node::string(NOW_GRAPH));
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            inner.push("message", Node::string("Please retry after"));
        }
        inner.push("request-id", Node::string(ids.request_id.clone()));
        inner.push(
            "client-request-id",
            Node::string(ids.client_request_id.clone()),
        );
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            inner.push("status", Node::string("429"));
        }
        let error = ObjectBuilder::new()
            .field("code", Node::string(self.code))
            .field("message", Node::string(self.message.clone()))
            .field("innerError", inner.build())
            .build();
        ObjectBuilder::new().field("error", error).build()
    }
}

/// Correlation ids sent in every Graph response's headers and error bodies.
#[derive(Debug, Clone)]
pub(crate) struct RequestIds {
    pub(crate) request_id: String,
    /// Echoes the caller's `client-request-id` header, as Graph does, or repeats `request_id`.
    pub(crate) client_request_id: String,
}
