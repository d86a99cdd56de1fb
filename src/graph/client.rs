//! The Graph HTTP client: bounded concurrency, retries that honour `Retry-After`, and
//! paging that follows `@odata.nextLink` exactly as given.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::Semaphore;

use super::auth::{transport_reason, Credential, TokenSource};
use super::error::{ErrorKind, GraphError};

/// Tuning of the client. The defaults suit a real tenant; tests shorten the delays.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Service root without the version, e.g. `https://graph.microsoft.com`.
    pub graph_url: String,
    /// Requests in flight at once. Graph's per-app budgets make more pointless.
    pub max_concurrency: usize,
    /// Attempts per request, the first one included.
    pub max_attempts: u32,
    /// First backoff when Graph sends no `Retry-After`; doubles per attempt.
    pub backoff_base: Duration,
    /// Upper bound for any single wait, `Retry-After` included.
    pub backoff_cap: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            graph_url: "https://graph.microsoft.com".into(),
            max_concurrency: 8,
            max_attempts: 7,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(120),
            timeout: Duration::from_secs(120),
        }
    }
}

/// One page of a collection.
#[derive(Debug, Default)]
pub struct Page {
    pub items: Vec<Value>,
    pub next_link: Option<String>,
}

/// A Graph client. Cheap to clone; clones share the connection pool, the token cache
/// and the concurrency bound.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// `https://graph.microsoft.com/v1.0`
    root: String,
    tokens: TokenSource,
    permits: Semaphore,
    options: ClientOptions,
    requests: AtomicU64,
    /// Whether Graph has answered any request yet.
    answered: std::sync::atomic::AtomicBool,
}

impl GraphClient {
    pub fn new(options: ClientOptions, credential: Credential) -> Result<Self, GraphError> {
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            // A redirect would carry the token, or the client secret in a form body, to
            // wherever it points. Graph does not redirect these requests.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("idgit/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GraphError::new(ErrorKind::Unreachable, "client setup", e.to_string()))?;
        let graph_url = options.graph_url.trim_end_matches('/').to_string();
        let tokens = TokenSource::new(credential, &graph_url, http.clone());
        Ok(GraphClient {
            inner: Arc::new(Inner {
                http,
                root: format!("{graph_url}/v1.0"),
                tokens,
                permits: Semaphore::new(options.max_concurrency.max(1)),
                options,
                requests: AtomicU64::new(0),
                answered: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }

    pub fn credential(&self) -> &Credential {
        self.inner.tokens.credential()
    }

    /// HTTP requests sent to Graph so far, retries included.
    pub fn request_count(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// Makes sure a token can be had, so that a bad credential fails before any reading.
    pub async fn sign_in(&self) -> Result<(), GraphError> {
        self.inner.tokens.token().await.map(|_| ())
    }

    /// An absolute URL for a path relative to the version root (`/users?$top=999`).
    /// Absolute URLs (nextLinks) are returned unchanged.
    pub fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            format!("{}{}", self.inner.root, path_or_url)
        }
    }

    /// GET a JSON object.
    pub async fn get_json(&self, path_or_url: &str) -> Result<Value, GraphError> {
        self.send("GET", path_or_url, None)
            .await
            .map(|body| body.unwrap_or(Value::Null))
    }

    /// Sends one request; the answer's JSON body, or `None` for `204 No Content`.
    ///
    /// Reads are retried on throttling and server errors. Writes are retried only when
    /// Graph says it did not take the request (429, 503): a POST that failed with a
    /// 500 may have created the object, and sending it again would create a second.
    pub async fn send(
        &self,
        method: &str,
        path_or_url: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>, GraphError> {
        let url = self.url(path_or_url);
        let request = describe(method, &url);
        // Links come from the server; the token goes only to the configured service.
        if !url.starts_with(&format!("{}/", self.inner.root)) {
            return Err(GraphError::new(
                ErrorKind::Malformed,
                request,
                format!(
                    "Graph sent a link to another service ({}); it was not followed",
                    super::auth::host_of(&url)
                ),
            ));
        }
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| {
            GraphError::new(ErrorKind::Malformed, request.clone(), "unknown HTTP method")
        })?;
        let mut attempt = 0;
        let mut token_refreshed = false;
        loop {
            attempt += 1;
            let outcome = self.send_once(&method, &url, body, &request).await;
            let retry_after = match outcome {
                Ok(value) => return Ok(value),
                Err(Failure::Final(error)) => return Err(error),
                Err(Failure::TokenRejected(error)) => {
                    // A token can expire or be revoked mid-run; one fresh token is worth a try.
                    if token_refreshed || matches!(self.credential(), Credential::AccessToken(_)) {
                        return Err(error);
                    }
                    token_refreshed = true;
                    self.inner.tokens.invalidate().await;
                    continue;
                }
                Err(Failure::Retry { error, retry_after }) => {
                    let safe_to_repeat = method == reqwest::Method::GET
                        || matches!(error.status, Some(429) | Some(503));
                    if attempt >= self.inner.options.max_attempts || !safe_to_repeat {
                        return Err(exhausted(error, attempt));
                    }
                    retry_after
                }
            };
            let wait = retry_after
                .unwrap_or_else(|| self.backoff(attempt))
                .min(self.inner.options.backoff_cap);
            tracing::info!(%request, attempt, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// GET one page of a collection.
    pub async fn get_page(&self, path_or_url: &str) -> Result<Page, GraphError> {
        let url = self.url(path_or_url);
        let body = self.get_json(&url).await?;
        parse_page(body).map_err(|message| {
            GraphError::new(ErrorKind::Malformed, describe("GET", &url), message)
        })
    }

    /// Every item of a (small) collection, following `@odata.nextLink` to the end.
    pub async fn get_all(&self, path_or_url: &str) -> Result<Vec<Value>, GraphError> {
        let mut items = Vec::new();
        let mut pages = Pager::new(self.url(path_or_url));
        while let Some(url) = pages.next_url()? {
            let page = self.get_page(&url).await?;
            items.extend(page.items);
            pages.advance(page.next_link);
        }
        Ok(items)
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.inner.options.backoff_base.as_secs_f64()
            * 2f64.powi(attempt.saturating_sub(1) as i32);
        // Jitter spreads the retries of parallel requests so they do not hit Graph at
        // the same instant again. It needs no quality, only variety.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let spread = u64::from(nanos / 1000)
            ^ self
                .inner
                .requests
                .load(Ordering::Relaxed)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let jitter = 0.5 + (spread % 1000) as f64 / 2000.0;
        Duration::from_secs_f64((base * jitter).min(self.inner.options.backoff_cap.as_secs_f64()))
    }

    async fn send_once(
        &self,
        method: &reqwest::Method,
        url: &str,
        body: Option<&Value>,
        request: &str,
    ) -> Result<Option<Value>, Failure> {
        let token = self.inner.tokens.token().await.map_err(Failure::Final)?;
        let _permit = self.inner.permits.acquire().await.map_err(|_| {
            Failure::Final(GraphError::new(
                ErrorKind::Unreachable,
                request,
                "client is shutting down",
            ))
        })?;
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let mut builder = self
            .inner
            .http
            .request(method.clone(), url)
            .header(AUTHORIZATION, bearer(&token))
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            builder = builder.json(body);
        }
        let response = builder.send().await;
        let response = match response {
            Ok(response) => response,
            Err(error) => {
                let refused = error.is_connect();
                let error = GraphError::new(
                    ErrorKind::Unreachable,
                    request,
                    format!("cannot reach Graph: {}", transport_reason(&error)),
                );
                // A service that never answered is misconfigured: say so at once. One that
                // answered before and refuses now (a restart, a proxy) may come back.
                let answered_before = self.inner.answered.load(Ordering::Relaxed);
                return Err(if refused && !answered_before {
                    Failure::Final(error)
                } else {
                    Failure::Retry {
                        error,
                        retry_after: None,
                    }
                });
            }
        };
        self.inner.answered.store(true, Ordering::Relaxed);
        let status = response.status();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => {
                let error = GraphError::new(
                    ErrorKind::Unreachable,
                    request,
                    format!("the answer broke off: {}", transport_reason(&error)),
                );
                return Err(Failure::Retry {
                    error,
                    retry_after: None,
                });
            }
        };
        if status.is_success() {
            if body.is_empty() || status == StatusCode::NO_CONTENT {
                return Ok(None);
            }
            return serde_json::from_slice::<Value>(&body)
                .map(Some)
                .map_err(|e| {
                    let mut error = GraphError::new(
                        ErrorKind::Malformed,
                        request,
                        format!("Graph answered with malformed JSON ({e})"),
                    );
                    error.request_id = header(&headers, "request-id");
                    // A truncated body is usually a broken connection: worth another try.
                    Failure::Retry {
                        error,
                        retry_after: None,
                    }
                });
        }
        let error = status_error(request, status, &headers, &body);
        // A 404 is often the answer the caller wanted ("is it in the recycle bin?"); the
        // caller decides whether it is a failure.
        if status == StatusCode::NOT_FOUND {
            tracing::debug!(%request, request_id = error.request_id.as_deref().unwrap_or(""), "not found");
        } else {
            tracing::warn!(
                %request,
                status = status.as_u16(),
                code = error.code.as_deref().unwrap_or(""),
                request_id = error.request_id.as_deref().unwrap_or(""),
                "Graph request failed"
            );
        }
        Err(match status {
            StatusCode::TOO_MANY_REQUESTS
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
            | StatusCode::BAD_GATEWAY
            | StatusCode::INTERNAL_SERVER_ERROR => Failure::Retry {
                retry_after: parse_retry_after(&headers),
                error,
            },
            StatusCode::UNAUTHORIZED => Failure::TokenRejected(error),
            _ => Failure::Final(error),
        })
    }
}

/// The Authorization header, marked sensitive so that no debug output shows it.
fn bearer(token: &super::auth::Secret) -> reqwest::header::HeaderValue {
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("Bearer invalid"));
    value.set_sensitive(true);
    value
}

enum Failure {
    Retry {
        error: GraphError,
        retry_after: Option<Duration>,
    },
    TokenRejected(GraphError),
    Final(GraphError),
}

fn exhausted(mut error: GraphError, attempts: u32) -> GraphError {
    if error.kind != ErrorKind::Malformed {
        error.kind = ErrorKind::RetriesExhausted;
    }
    error.message = format!("{} (gave up after {attempts} attempts)", error.message);
    error
}

/// More pages than any tenant has (999 objects each): a server that keeps inventing
/// new links is broken.
const MAX_PAGES: usize = 1_000_000;

/// Follows `@odata.nextLink` and refuses a link that leads back to a page already read,
/// which would otherwise loop for ever.
pub struct Pager {
    next: Option<String>,
    seen: HashSet<String>,
}

impl Pager {
    pub fn new(first_url: String) -> Self {
        Pager {
            next: Some(first_url),
            seen: HashSet::new(),
        }
    }

    /// The URL to fetch next, or `None` after the last page.
    pub fn next_url(&mut self) -> Result<Option<String>, GraphError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        if !self.seen.insert(url.clone()) || self.seen.len() > MAX_PAGES {
            return Err(GraphError::new(
                ErrorKind::PagingLoop,
                describe("GET", &url),
                "Graph's @odata.nextLink leads back to a page already read",
            ));
        }
        Ok(Some(url))
    }

    pub fn advance(&mut self, next_link: Option<String>) {
        self.next = next_link;
    }
}

fn parse_page(body: Value) -> Result<Page, String> {
    let Value::Object(mut map) = body else {
        return Err("Graph answered with JSON that is not an object".into());
    };
    let items = match map.remove("value") {
        Some(Value::Array(items)) => items,
        _ => return Err("Graph's answer has no \"value\" array".into()),
    };
    let next_link = match map.remove("@odata.nextLink") {
        None | Some(Value::Null) => None,
        Some(Value::String(link)) => Some(link),
        Some(_) => return Err("Graph's @odata.nextLink is not a string".into()),
    };
    Ok(Page { items, next_link })
}

fn status_error(request: &str, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> GraphError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let code = error
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    let inner = error.and_then(|e| e.get("innerError").or_else(|| e.get("innererror")));
    let request_id = header(headers, "request-id").or_else(|| {
        inner
            .and_then(|i| i.get("request-id"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let kind = match status {
        StatusCode::UNAUTHORIZED => ErrorKind::Unauthorized,
        StatusCode::FORBIDDEN => ErrorKind::Forbidden,
        StatusCode::NOT_FOUND => ErrorKind::NotFound,
        _ => ErrorKind::Status,
    };
    GraphError {
        kind,
        request: request.to_string(),
        status: Some(status.as_u16()),
        code,
        message,
        request_id,
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `Retry-After` in seconds; Graph sends integers and fractions (`2.128`). An HTTP date
/// or garbage falls back to exponential backoff.
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let seconds: f64 = text.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

/// `GET /v1.0/users`: the request without host or query, for messages.
pub fn describe(method: &str, url: &str) -> String {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = without_scheme
        .find('/')
        .map_or("/", |i| &without_scheme[i..]);
    let path = path.split('?').next().unwrap_or(path);
    format!("{method} {path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_integers_and_fractions() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "2.128".parse().unwrap());
        assert_eq!(
            parse_retry_after(&headers),
            Some(Duration::from_millis(2128))
        );
        headers.insert(RETRY_AFTER, "10".parse().unwrap());
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(10)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(parse_retry_after(&headers), None);
        headers.insert(RETRY_AFTER, "-1".parse().unwrap());
        assert_eq!(parse_retry_after(&headers), None);
    }

    #[test]
    fn requests_are_described_without_query() {
        assert_eq!(
            describe(
                "GET",
                "https://graph.microsoft.com/v1.0/users?$select=id&$skiptoken=x"
            ),
            "GET /v1.0/users"
        );
    }

    #[test]
    fn pager_refuses_loops() {
        let mut pager = Pager::new("a".into());
        assert_eq!(pager.next_url().unwrap().as_deref(), Some("a"));
        pager.advance(Some("a".into()));
        assert_eq!(pager.next_url().unwrap_err().kind, ErrorKind::PagingLoop);
    }

    #[test]
    fn pages_need_a_value_array() {
        assert!(parse_page(serde_json::json!({"value": [], "@odata.nextLink": "n"})).is_ok());
        assert!(parse_page(serde_json::json!({"values": []})).is_err());
        assert!(parse_page(serde_json::json!([])).is_err());
    }
}
