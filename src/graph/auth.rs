//! Getting an access token for Graph.
//!
//! Two credentials are supported: a ready token (`IDGIT_ACCESS_TOKEN`) and an app
//! registration's client secret, exchanged at the v2.0 token endpoint with the client
//! credentials grant. Tokens are cached and renewed a few minutes before they expire, so
//! a backup that runs for hours never sends an expired one.

use std::fmt;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use super::error::{ErrorKind, GraphError};

/// A value that must never be printed: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How idgit proves who it is.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A bearer token obtained elsewhere.
    AccessToken(Secret),
    /// Client credentials grant with a client secret.
    ClientSecret {
        authority_host: String,
        tenant_id: String,
        client_id: String,
        secret: Secret,
    },
}

impl Credential {
    /// A short name for messages: "client secret", "access token".
    pub fn describe(&self) -> &'static str {
        match self {
            Credential::AccessToken(_) => "access token from IDGIT_ACCESS_TOKEN",
            Credential::ClientSecret { .. } => "client secret",
        }
    }
}

/// Renew this long before expiry, so that a request never carries a token that expires
/// while it is in flight or queued behind throttling.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

struct CachedToken {
    token: Secret,
    expires: Instant,
}

/// Hands out valid tokens for one credential and one scope.
pub struct TokenSource {
    credential: Credential,
    scope: String,
    http: reqwest::Client,
    cache: Mutex<Option<CachedToken>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct TokenErrorResponse {
    error: Option<String>,
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u32>,
}

impl TokenSource {
    /// `graph_root` is the service root, e.g. `https://graph.microsoft.com`; the scope is
    /// its `/.default`.
    pub fn new(credential: Credential, graph_root: &str, http: reqwest::Client) -> Self {
        let scope = format!("{}/.default", graph_root.trim_end_matches('/'));
        TokenSource {
            credential,
            scope,
            http,
            cache: Mutex::new(None),
        }
    }

    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// A token valid for at least a few more minutes.
    pub async fn token(&self) -> Result<Secret, GraphError> {
        let (authority_host, tenant_id, client_id, secret) = match &self.credential {
            Credential::AccessToken(token) => return Ok(token.clone()),
            Credential::ClientSecret {
                authority_host,
                tenant_id,
                client_id,
                secret,
            } => (authority_host, tenant_id, client_id, secret),
        };
        // Holding the lock while fetching makes concurrent callers wait for one fetch
        // instead of stampeding the token endpoint.
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref() {
            if cached.expires > Instant::now() + RENEW_BEFORE {
                return Ok(cached.token.clone());
            }
        }
        let fetched = self
            .fetch(authority_host, tenant_id, client_id, secret)
            .await;
        match (fetched, cache.as_ref()) {
            (Ok(cached), _) => {
                let token = cached.token.clone();
                *cache = Some(cached);
                Ok(token)
            }
            // A renewal that fails while the old token is still good for a while must
            // not end a long backup: try again at the next request.
            (Err(error), Some(cached))
                if cached.expires > Instant::now() + Duration::from_secs(30) =>
            {
                tracing::warn!(%error, "could not renew the access token; using the current one");
                Ok(cached.token.clone())
            }
            (Err(error), _) => Err(error),
        }
    }

    async fn fetch(
        &self,
        authority_host: &str,
        tenant_id: &str,
        client_id: &str,
        secret: &Secret,
    ) -> Result<CachedToken, GraphError> {
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            authority_host.trim_end_matches('/'),
            urlencode_segment(tenant_id)
        );
        let request_name = format!(
            "POST {}/{}/oauth2/v2.0/token",
            host_of(authority_host),
            tenant_id
        );
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret.expose()),
            ("scope", self.scope.as_str()),
        ];
        let response = self.http.post(&url).form(&form).send().await.map_err(|e| {
            GraphError::new(
                ErrorKind::Unreachable,
                &request_name,
                format!("cannot reach the login endpoint: {}", transport_reason(&e)),
            )
        })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| {
            GraphError::new(ErrorKind::Unreachable, &request_name, transport_reason(&e))
        })?;
        if !status.is_success() {
            return Err(token_error(&request_name, status.as_u16(), &body));
        }
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|_| {
            GraphError::new(
                ErrorKind::Malformed,
                &request_name,
                "the login endpoint answered with something that is not a token response",
            )
        })?;
        // The lifetime comes from the network: clamp it, so that a silly value neither
        // overflows the clock nor makes every request fetch a new token.
        let lifetime = parsed
            .expires_in
            .as_ref()
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .unwrap_or(3599)
            .clamp(RENEW_BEFORE.as_secs() + 60, 24 * 3600);
        tracing::debug!(lifetime, "acquired an access token");
        Ok(CachedToken {
            token: Secret::new(parsed.access_token),
            expires: Instant::now() + Duration::from_secs(lifetime),
        })
    }

    /// Forget the cached token, after Graph refused it.
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }
}

fn token_error(request: &str, status: u16, body: &[u8]) -> GraphError {
    let parsed: Option<TokenErrorResponse> = serde_json::from_slice(body).ok();
    let (code, description, aadsts) = match parsed {
        Some(p) => {
            // The description carries trace and correlation IDs after the first line;
            // keep the first line, which holds the AADSTS code and the reason.
            let first_line = p
                .error_description
                .as_deref()
                .and_then(|d| d.lines().next())
                .unwrap_or("")
                .trim()
                .to_string();
            let aadsts = p
                .error_codes
                .first()
                .copied()
                .or_else(|| parse_aadsts(&first_line));
            (p.error, first_line, aadsts)
        }
        None => (None, String::new(), None),
    };
    let message = if description.is_empty() {
        format!("the login endpoint refused the client secret (HTTP {status})")
    } else {
        format!("sign-in with the client secret failed: {description}")
    };
    GraphError {
        kind: ErrorKind::Authentication { aadsts },
        request: request.to_string(),
        status: Some(status),
        code,
        message,
        request_id: None,
    }
}

fn parse_aadsts(text: &str) -> Option<u32> {
    let rest = &text[text.find("AADSTS")? + 6..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The tenant goes into the URL path; a domain or GUID needs no escaping, but a typo
/// with a slash or space must not change the path.
fn urlencode_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

pub(crate) fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

/// A transport error's reason without the URL (reqwest's Display includes it).
pub(crate) fn transport_reason(error: &reqwest::Error) -> String {
    let mut reason = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "connection failed".to_string()
    } else {
        "transport error".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        reason = format!("{reason}: {inner}");
        source = inner.source();
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret} {secret:?}"), "*** Secret(***)");
        let credential = Credential::ClientSecret {
            authority_host: "https://login.microsoftonline.com".into(),
            tenant_id: "t".into(),
            client_id: "c".into(),
            secret,
        };
        assert!(!format!("{credential:?}").contains("hunter2"));
    }

    #[test]
    fn token_errors_keep_the_aadsts_line_only() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 3","error_codes":[7000215]}"#;
        let err = token_error("POST login/t/oauth2/v2.0/token", 401, body);
        assert_eq!(
            err.kind,
            ErrorKind::Authentication {
                aadsts: Some(7000215)
            }
        );
        assert_eq!(
            err.message,
            "sign-in with the client secret failed: AADSTS7000215: Invalid client secret provided."
        );
        assert!(err.hint().unwrap().contains("not its ID"));
    }

    #[test]
    fn aadsts_codes_parse_from_text() {
        assert_eq!(
            parse_aadsts("AADSTS90002: Tenant 'x' not found."),
            Some(90002)
        );
        assert_eq!(parse_aadsts("nothing"), None);
    }
}
