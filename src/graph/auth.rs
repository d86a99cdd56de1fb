//! Getting an access token for Graph.
//!
//! Credentials, in the order `settings::resolve_connection` tries them: a ready token
//! (`IDGIT_ACCESS_TOKEN`); an app registration's client secret; its certificate, proven
//! with a signed JWT assertion; a GitHub Actions OIDC token or a workload identity token
//! file, exchanged through a federated identity credential; and the managed identity of
//! the Azure machine idgit runs on (IMDS). The app credentials use the v2.0 token
//! endpoint's client credentials grant.
//!
//! Tokens are cached and renewed a few minutes before they expire, so a backup that runs
//! for hours never sends an expired one. Each renewal starts from scratch: a new
//! assertion, a new GitHub token, a fresh read of the token file (it is rotated).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use super::assertion::{self, ClientCertificate};
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

/// The assertion type of certificate and federated sign-in alike.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The audience Entra expects on federated tokens from GitHub.
pub const AZURE_AD_TOKEN_EXCHANGE: &str = "api://AzureADTokenExchange";

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
    /// Client credentials grant with an assertion signed by the app's certificate.
    Certificate {
        authority_host: String,
        tenant_id: String,
        client_id: String,
        certificate: Arc<ClientCertificate>,
    },
    /// A GitHub Actions OIDC token, fetched for each renewal, as a federated assertion.
    GitHubOidc {
        authority_host: String,
        tenant_id: String,
        client_id: String,
        /// `ACTIONS_ID_TOKEN_REQUEST_URL`; it already carries a query.
        request_url: String,
        request_token: Secret,
    },
    /// A federated token read from a file (Kubernetes workload identity) at each renewal.
    FederatedTokenFile {
        authority_host: String,
        tenant_id: String,
        client_id: String,
        path: PathBuf,
    },
    /// The machine's managed identity, from the instance metadata service.
    ManagedIdentity {
        /// `http://169.254.169.254`, or `IDGIT_IMDS_ENDPOINT`.
        endpoint: String,
        /// A user-assigned identity's client ID; the system-assigned one when `None`.
        client_id: Option<String>,
    },
}

impl Credential {
    /// A short name for messages: "client secret", "access token".
    pub fn describe(&self) -> &'static str {
        match self {
            Credential::AccessToken(_) => "access token from IDGIT_ACCESS_TOKEN",
            Credential::ClientSecret { .. } => "client secret",
            Credential::Certificate { .. } => "client certificate",
            Credential::GitHubOidc { .. } => "GitHub Actions OIDC token",
            Credential::FederatedTokenFile { .. } => "federated token file",
            Credential::ManagedIdentity { .. } => "managed identity",
        }
    }
}

/// What proves the app's identity in a client credentials request.
enum Proof {
    Secret(Secret),
    Assertion(Secret),
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
    /// The v1-style resource for IMDS: the Graph root without `/.default`.
    resource: String,
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
        let resource = graph_root.trim_end_matches('/').to_string();
        // IMDS lives on the host itself: a proxy from HTTP_PROXY could never reach it,
        // and a machine without IMDS must fail fast rather than wait for the full timeout.
        let http = match &credential {
            Credential::ManagedIdentity { .. } => reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(2))
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or(http),
            _ => http,
        };
        TokenSource {
            credential,
            scope: format!("{resource}/.default"),
            resource,
            http,
            cache: Mutex::new(None),
        }
    }

    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// A token valid for at least a few more minutes.
    pub async fn token(&self) -> Result<Secret, GraphError> {
        if let Credential::AccessToken(token) = &self.credential {
            return Ok(token.clone());
        }
        // Holding the lock while fetching makes concurrent callers wait for one fetch
        // instead of stampeding the token endpoint.
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref() {
            if cached.expires > Instant::now() + RENEW_BEFORE {
                return Ok(cached.token.clone());
            }
        }
        let fetched = self.fetch().await;
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

    async fn fetch(&self) -> Result<CachedToken, GraphError> {
        match &self.credential {
            Credential::AccessToken(token) => Ok(CachedToken {
                token: token.clone(),
                expires: Instant::now() + Duration::from_secs(24 * 3600),
            }),
            Credential::ClientSecret {
                authority_host,
                tenant_id,
                client_id,
                secret,
            } => {
                let proof = Proof::Secret(secret.clone());
                self.exchange(authority_host, tenant_id, client_id, proof)
                    .await
            }
            Credential::Certificate {
                authority_host,
                tenant_id,
                client_id,
                certificate,
            } => {
                let url = token_url(authority_host, tenant_id);
                let proof = Proof::Assertion(certificate.assertion(client_id, &url));
                self.exchange(authority_host, tenant_id, client_id, proof)
                    .await
            }
            Credential::GitHubOidc {
                authority_host,
                tenant_id,
                client_id,
                request_url,
                request_token,
            } => {
                let token = self.github_token(request_url, request_token).await?;
                let proof = Proof::Assertion(token);
                self.exchange(authority_host, tenant_id, client_id, proof)
                    .await
            }
            Credential::FederatedTokenFile {
                authority_host,
                tenant_id,
                client_id,
                path,
            } => {
                // Read at every renewal: the file is replaced before the token in it expires.
                let token = tokio::fs::read_to_string(path).await.map_err(|e| {
                    credential_error(
                        format!("read {}", path.display()),
                        format!("cannot read the federated token file: {e}"),
                        "check AZURE_FEDERATED_TOKEN_FILE: it names the file where the workload identity token is projected, which must exist while idgit runs",
                    )
                })?;
                let token = token.trim();
                if token.is_empty() {
                    return Err(credential_error(
                        format!("read {}", path.display()),
                        "the federated token file is empty",
                        "check AZURE_FEDERATED_TOKEN_FILE: the workload identity token should be projected into it",
                    ));
                }
                let proof = Proof::Assertion(Secret::new(token));
                self.exchange(authority_host, tenant_id, client_id, proof)
                    .await
            }
            Credential::ManagedIdentity {
                endpoint,
                client_id,
            } => self.managed_identity(endpoint, client_id.as_deref()).await,
        }
    }

    /// The client credentials grant at the v2.0 token endpoint.
    async fn exchange(
        &self,
        authority_host: &str,
        tenant_id: &str,
        client_id: &str,
        proof: Proof,
    ) -> Result<CachedToken, GraphError> {
        let url = token_url(authority_host, tenant_id);
        let request_name = format!(
            "POST {}/{}/oauth2/v2.0/token",
            host_of(authority_host),
            tenant_id
        );
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("scope", self.scope.as_str()),
        ];
        match &proof {
            Proof::Secret(secret) => form.push(("client_secret", secret.expose())),
            Proof::Assertion(assertion) => {
                form.push(("client_assertion_type", JWT_BEARER));
                form.push(("client_assertion", assertion.expose()));
            }
        }
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
            let assertion = match &proof {
                Proof::Assertion(assertion) => Some(assertion),
                Proof::Secret(_) => None,
            };
            return Err(token_error(
                &request_name,
                status.as_u16(),
                &body,
                &self.credential,
                assertion,
            ));
        }
        self.parse_token(&request_name, &body)
    }

    fn parse_token(&self, request_name: &str, body: &[u8]) -> Result<CachedToken, GraphError> {
        let parsed: TokenResponse = serde_json::from_slice(body).map_err(|_| {
            GraphError::new(
                ErrorKind::Malformed,
                request_name,
                "the login endpoint answered with something that is not a token response",
            )
        })?;
        // The lifetime comes from the network: clamp it, so that a silly value neither
        // overflows the clock nor makes every request fetch a new token. IMDS sends it
        // as a string.
        let lifetime = parsed
            .expires_in
            .as_ref()
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .unwrap_or(3599)
            .clamp(RENEW_BEFORE.as_secs() + 60, 24 * 3600);
        tracing::debug!(
            lifetime,
            credential = self.credential.describe(),
            "acquired an access token"
        );
        Ok(CachedToken {
            token: Secret::new(parsed.access_token),
            expires: Instant::now() + Duration::from_secs(lifetime),
        })
    }

    /// `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=api://AzureADTokenExchange`, as GitHub's
    /// toolkit does: the URL already has a query.
    async fn github_token(
        &self,
        request_url: &str,
        request_token: &Secret,
    ) -> Result<Secret, GraphError> {
        let separator = if request_url.contains('?') { '&' } else { '?' };
        let url = format!(
            "{request_url}{separator}audience={}",
            urlencode_segment(AZURE_AD_TOKEN_EXCHANGE)
        );
        let request_name = format!("GET {}", path_of(request_url));
        let hint = "give the workflow job `permissions: id-token: write`; the request token in ACTIONS_ID_TOKEN_REQUEST_TOKEN is only valid during its job";
        let response = self
            .http
            .get(&url)
            .header(
                "authorization",
                format!("bearer {}", request_token.expose()),
            )
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| {
                credential_error(
                    &request_name,
                    format!(
                        "the GitHub Actions OIDC token request failed: {}",
                        transport_reason(&e)
                    ),
                    hint,
                )
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(credential_error(
                &request_name,
                format!(
                    "the GitHub Actions OIDC token request failed (HTTP {})",
                    status.as_u16()
                ),
                hint,
            ));
        }
        #[derive(Deserialize)]
        struct OidcResponse {
            value: Option<String>,
        }
        let value = response
            .json::<OidcResponse>()
            .await
            .ok()
            .and_then(|r| r.value)
            .filter(|v| !v.is_empty());
        value.map(Secret::new).ok_or_else(|| {
            GraphError::new(
                ErrorKind::Malformed,
                &request_name,
                "the GitHub Actions OIDC token response has no value",
            )
        })
    }

    /// A token from the instance metadata service. Its numbers are strings.
    async fn managed_identity(
        &self,
        endpoint: &str,
        client_id: Option<&str>,
    ) -> Result<CachedToken, GraphError> {
        let url = format!(
            "{}/metadata/identity/oauth2/token",
            endpoint.trim_end_matches('/')
        );
        let request_name = format!("GET {}/metadata/identity/oauth2/token", host_of(endpoint));
        let mut query = vec![
            ("api-version", "2018-02-01"),
            ("resource", self.resource.as_str()),
        ];
        if let Some(client_id) = client_id {
            query.push(("client_id", client_id));
        }
        let response = self
            .http
            .get(&url)
            .query(&query)
            .header("Metadata", "true")
            .send()
            .await
            .map_err(|e| {
                credential_error(
                    &request_name,
                    format!("the managed identity endpoint did not answer: {}", transport_reason(&e)),
                    "managed identity works on Azure resources only; elsewhere set AZURE_CLIENT_ID, AZURE_TENANT_ID and a secret, certificate or federated token",
                )
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| {
            GraphError::new(ErrorKind::Unreachable, &request_name, transport_reason(&e))
        })?;
        if !status.is_success() {
            let reason = serde_json::from_slice::<TokenErrorResponse>(&body)
                .ok()
                .and_then(|e| e.error_description.or(e.error))
                .and_then(|d| d.lines().next().map(str::to_string))
                .unwrap_or_default();
            let hint = if client_id.is_some() {
                "check that the user-assigned identity named by AZURE_CLIENT_ID is attached to this resource"
            } else {
                "check that this resource has a managed identity, or set AZURE_CLIENT_ID to a user-assigned one"
            };
            let mut error = credential_error(
                &request_name,
                format!("sign-in with the managed identity failed: {reason}"),
                hint,
            );
            error.status = Some(status.as_u16());
            return Err(error);
        }
        self.parse_token(&request_name, &body)
    }

    /// Forget the cached token, after Graph refused it.
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }
}

fn token_url(authority_host: &str, tenant_id: &str) -> String {
    format!(
        "{}/{}/oauth2/v2.0/token",
        authority_host.trim_end_matches('/'),
        urlencode_segment(tenant_id)
    )
}

/// A failure getting the credential itself (before or instead of the token endpoint).
fn credential_error(
    request: impl Into<String>,
    message: impl Into<String>,
    hint: &str,
) -> GraphError {
    GraphError::new(
        ErrorKind::Authentication {
            aadsts: None,
            hint: Some(Box::new(hint.to_string())),
        },
        request,
        message,
    )
}

fn token_error(
    request: &str,
    status: u16,
    body: &[u8],
    credential: &Credential,
    assertion: Option<&Secret>,
) -> GraphError {
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
    let name = credential.describe();
    let message = if description.is_empty() {
        format!("the login endpoint refused the {name} (HTTP {status})")
    } else {
        format!("sign-in with the {name} failed: {description}")
    };
    let claim = |claim: &str| {
        assertion
            .and_then(|a| assertion::unverified_claim(a.expose(), claim))
            .unwrap_or_else(|| "?".into())
    };
    GraphError {
        kind: ErrorKind::Authentication {
            aadsts,
            hint: credential_hint(credential, aadsts, &claim).map(Box::new),
        },
        request: request.to_string(),
        status: Some(status),
        code,
        message,
        request_id: None,
    }
}

/// A hint for the credential at hand; `None` leaves the general one for the code.
fn credential_hint(
    credential: &Credential,
    aadsts: Option<u32>,
    claim: &dyn Fn(&str) -> String,
) -> Option<String> {
    let federated = matches!(
        credential,
        Credential::GitHubOidc { .. } | Credential::FederatedTokenFile { .. }
    );
    let source = match credential {
        Credential::GitHubOidc { .. } => "the GitHub Actions OIDC token",
        _ => "the token in AZURE_FEDERATED_TOKEN_FILE",
    };
    match (credential, aadsts) {
        (Credential::ClientSecret { .. } | Credential::AccessToken(_), _) => None,
        (_, Some(90002 | 900023 | 700016 | 7000112 | 53003)) => None,
        (Credential::Certificate { certificate, .. }, Some(700027)) => Some(format!(
            "upload the certificate with thumbprint {} to the app registration AZURE_CLIENT_ID (Certificates & secrets), or point AZURE_CLIENT_CERTIFICATE_PATH at one that is registered and not expired",
            certificate.thumbprint()
        )),
        (Credential::Certificate { .. }, Some(700024)) => Some(
            "the certificate's assertion is outside its valid time range: check this machine's clock".into(),
        ),
        (_, Some(700211)) if federated => Some(format!(
            "add a federated credential to the app registration AZURE_CLIENT_ID with issuer '{}'",
            claim("iss")
        )),
        (_, Some(700212)) if federated => Some(format!(
            "the federated credential on the app registration AZURE_CLIENT_ID must list audience '{}' ({AZURE_AD_TOKEN_EXCHANGE} is the usual one)",
            claim("aud")
        )),
        (_, Some(700213)) if federated => Some(format!(
            "the presented token's subject is '{}': add a federated credential with exactly that subject (issuer '{}') to the app registration AZURE_CLIENT_ID",
            claim("sub"),
            claim("iss")
        )),
        (_, Some(700024)) if federated => Some(format!(
            "{source} has expired or is not yet valid; check that it is renewed and this machine's clock"
        )),
        (_, Some(700027)) if federated => Some(format!(
            "{source} does not verify with its issuer's signing keys: check that it is unmodified and from issuer '{}'",
            claim("iss")
        )),
        (Credential::Certificate { .. }, _) => Some(
            "check AZURE_TENANT_ID, AZURE_CLIENT_ID and that the certificate in AZURE_CLIENT_CERTIFICATE_PATH is registered on the app".into(),
        ),
        _ if federated => Some(format!(
            "check AZURE_TENANT_ID, AZURE_CLIENT_ID and the app's federated credential for {source}"
        )),
        _ => None,
    }
}

/// The path of a URL, without the query (it can carry IDs nobody needs in a log).
fn path_of(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    let rest = without_query
        .split_once("://")
        .map_or(without_query, |(_, rest)| rest);
    rest.to_string()
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
        let credential = Credential::ClientSecret {
            authority_host: "https://login.microsoftonline.com".into(),
            tenant_id: "t".into(),
            client_id: "c".into(),
            secret: Secret::new("s"),
        };
        let err = token_error(
            "POST login/t/oauth2/v2.0/token",
            401,
            body,
            &credential,
            None,
        );
        assert_eq!(
            err.kind,
            ErrorKind::Authentication {
                aadsts: Some(7000215),
                hint: None,
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
