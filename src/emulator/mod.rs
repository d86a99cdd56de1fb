//! A faithful, in-process stand-in for Microsoft Graph v1.0 and the Entra token endpoint.
//!
//! Tests, the demo and the benchmarks run idgit against this server. It reproduces the Graph
//! behaviour idgit depends on (see `GRAPH-NOTES.md`), strictly: server-driven paging with
//! opaque skiptokens, reduced default property sets for users and groups, `$select`
//! validation, Graph-shaped errors with request ids, per-route permission checks and the
//! client-credentials token flow. A client that only works because the emulator is lenient
//! would fail against the real service, so leniency is treated as a bug.
//!
//! Writes follow Graph too: PATCH deep-merges and refuses read-only properties, POST creates
//! with server-set ids and timestamps, DELETE moves objects into a recycle bin that
//! `/directory/deletedItems` lists and restores from (security groups excepted), `$ref` adds
//! and removes members and owners. A restore can be tested end to end against it.
//!
//! Faults (throttling, 5xx, truncated bodies, slow responses, nextLink loops) are injected
//! per path with [`FaultRule`]s. The tenant is seeded deterministically ([`Seed`]); the same
//! seed always gives byte-identical responses for the same sequence of requests.
//!
//! The module is self-contained (no `crate::` imports outside it) so it can move into its own
//! crate later.
//!
//! Layout: `server` (HTTP pipeline) → `routes` (URL → response body; reads) → `render` (stored
//! object → Graph JSON, using the type model in `schema`) over `store` (the tenant and its
//! recycle bins). Writes go from `routes` to `writes` (POST, PATCH, DELETE, `$ref`, app role
//! assignments) and `recycle` (`deletedItems`: list, restore, purge), both checking bodies with
//! `validate` (read-only lists, required properties, value types, merge). `auth` is the token
//! endpoint and permission checks, `federation` the certificate and federated credential
//! checks with the GitHub OIDC stand-in (`jwt` parses and signs), `faults` the injection
//! rules, `seed` the tenants.

mod auth;
mod error;
mod faults;
mod federation;
mod json;
mod jwt;
mod odata;
mod recycle;
mod render;
mod rng;
mod routes;
mod schema;
mod seed;
mod server;
mod store;
#[cfg(test)]
mod tests;
mod validate;
#[cfg(test)]
mod write_tests;
mod writes;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::{Fault, FaultRule};
pub use federation::{FederatedCredential, AZURE_AD_TOKEN_EXCHANGE, DEFAULT_GITHUB_SUBJECT};
pub use store::{Deletion, Tenant};

use auth::Auth;
use server::AppState;

/// How long `shutdown` waits for open connections to finish before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub seed: Seed,
    /// The server-driven cap on page size: pages never exceed it, whatever `$top` asks for.
    pub max_page_size: usize,
    /// The page size when the request has no `$top`.
    pub default_page_size: usize,
    /// Added to every Graph response (not to token requests).
    pub latency: Duration,
    /// Delete Conditional Access policies and named locations permanently, as older tenants
    /// did, instead of into `/identity/conditionalAccess/deletedItems`.
    pub hard_delete_policies: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: Seed::Demo,
            max_page_size: 100,
            default_page_size: 100,
            latency: Duration::ZERO,
            hard_delete_policies: false,
        }
    }
}

/// The tenant an emulator starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// A small realistic "Contoso" tenant full of awkward values.
    Demo,
    /// A synthetic tenant with this many users and proportional other objects.
    Large { users: usize },
    /// Only the two singleton policies.
    Empty,
}

/// The user count `large` means when none is given.
const DEFAULT_LARGE_USERS: usize = 1000;

#[derive(Debug, thiserror::Error)]
#[error("unknown seed '{0}': expected demo, large, large:<users> or empty")]
pub struct ParseSeedError(String);

impl FromStr for Seed {
    type Err = ParseSeedError;

    /// `demo`, `empty`, `large` (1000 users) or `large:<users>`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.split_once(':') {
            None if lower == "demo" => Ok(Seed::Demo),
            None if lower == "empty" => Ok(Seed::Empty),
            None if lower == "large" => Ok(Seed::Large {
                users: DEFAULT_LARGE_USERS,
            }),
            Some(("large", n)) => n
                .parse()
                .map(|users| Seed::Large { users })
                .map_err(|_| ParseSeedError(s.to_string())),
            _ => Err(ParseSeedError(s.to_string())),
        }
    }
}

/// A running emulator. Dropping it stops the server abruptly; prefer [`EmulatorHandle::shutdown`].
pub struct EmulatorHandle {
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Seeds a tenant and serves it on `listen` (port 0 picks a free port).
pub async fn start(config: EmulatorConfig, listen: SocketAddr) -> std::io::Result<EmulatorHandle> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let base_url = format!("http://{}", reachable(listener.local_addr()?));
    let identity = seed::identity();
    let seed_identity = identity.clone();
    // Seeding a large tenant takes a moment of CPU; keep it off the async workers.
    let tenant = tokio::task::spawn_blocking(move || seed::build(config.seed, &seed_identity))
        .await
        .map_err(std::io::Error::other)?;
    let permissions = seed::DEFAULT_PERMISSIONS
        .iter()
        .chain(seed::DEFAULT_WRITE_PERMISSIONS)
        .map(|p| p.to_string())
        .collect();
    let state = Arc::new(AppState {
        tenant: Arc::new(Mutex::new(tenant)),
        auth: Auth::new(identity, permissions, &base_url),
        faults: Mutex::default(),
        graph_requests: AtomicU64::new(0),
        base_url,
        default_page_size: config.default_page_size,
        max_page_size: config.max_page_size,
        latency: config.latency,
        hard_delete_policies: config.hard_delete_policies,
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let app = server::router(Arc::clone(&state));
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        if let Err(err) = served {
            tracing::error!(%err, "Graph emulator stopped with an error");
        }
    });
    tracing::debug!(url = %state.base_url, seed = ?config.seed, "Graph emulator listening");
    Ok(EmulatorHandle {
        state,
        stop: Some(stop),
        task: Some(task),
    })
}

/// An address clients can connect to: a wildcard listen address becomes loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`: Graph lives under `/v1.0/`, the token endpoint under
    /// `/{tenant}/oauth2/v2.0/token`, the managed identity endpoint (IMDS) under
    /// `/metadata/identity/oauth2/token` and the GitHub OIDC stand-in under `/_github/idtoken`.
    pub fn base_url(&self) -> &str {
        &self.state.base_url
    }

    pub fn tenant_id(&self) -> &str {
        &self.state.auth.identity.tenant_id
    }

    /// The backup app's client id (its `appId`).
    pub fn client_id(&self) -> &str {
        &self.state.auth.identity.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.state.auth.identity.client_secret
    }

    pub fn add_fault(&self, fault: FaultRule) {
        self.faults().add(fault);
    }

    pub fn clear_faults(&self) {
        self.faults().clear();
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, faults::FaultBook> {
        self.state
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Graph requests received so far, faulted ones included; token requests are not counted.
    pub fn request_count(&self) -> u64 {
        self.state.graph_requests.load(Ordering::Relaxed)
    }

    /// Replaces the app's granted application permissions. Checked on every request, so
    /// tokens issued earlier are affected too.
    pub fn set_permissions(&self, perms: &[&str]) {
        self.state.auth.set_permissions(perms);
    }

    /// Registers a certificate (PEM or DER) on the backup app; assertions signed with its
    /// key are accepted from now on.
    pub fn register_certificate(&self, cert: &[u8]) -> Result<(), String> {
        self.state.auth.federation.register_certificate(cert)
    }

    /// Adds a federated identity credential to the backup app.
    pub fn add_federated_credential(&self, credential: FederatedCredential) {
        self.state.auth.federation.add_credential(credential);
    }

    /// The `iss` of every token the emulator mints.
    pub fn oidc_issuer(&self) -> &str {
        &self.state.auth.federation.issuer
    }

    /// A federated credential that trusts the emulator's issuer for `subject`, with the
    /// audience GitHub and workload identity use for Entra.
    pub fn trust_subject(&self, subject: &str) {
        self.add_federated_credential(FederatedCredential {
            issuer: self.oidc_issuer().to_string(),
            subject: subject.to_string(),
            audiences: vec![AZURE_AD_TOKEN_EXCHANGE.to_string()],
        });
    }

    /// A token signed by the emulator's issuer, valid from now for `valid_for_secs`
    /// (negative: already expired), e.g. for `AZURE_FEDERATED_TOKEN_FILE`.
    pub fn mint_oidc_token(&self, subject: &str, audience: &str, valid_for_secs: i64) -> String {
        self.state
            .auth
            .federation
            .mint(subject, audience, valid_for_secs)
    }

    /// The subject the GitHub stand-in's tokens carry, like a workflow's environment.
    pub fn set_github_subject(&self, subject: &str) {
        self.state.auth.federation.set_github_subject(subject);
    }

    /// `ACTIONS_ID_TOKEN_REQUEST_URL` for the GitHub stand-in; it already has a query, so
    /// clients append `&audience=…` as GitHub's toolkit does.
    pub fn github_request_url(&self) -> String {
        format!("{}/_github/idtoken?api-version=2.0", self.base_url())
    }

    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN` for the GitHub stand-in.
    pub fn github_request_token(&self) -> &str {
        &self.state.auth.federation.github_request_token
    }

    /// Requests the GitHub stand-in has answered, refused ones included.
    pub fn github_token_requests(&self) -> u64 {
        self.state.auth.federation.github_requests()
    }

    /// Tokens issued from now on expire after `lifetime` (and say so in `expires_in`);
    /// `None` restores the default of tokens that stay valid.
    pub fn set_token_lifetime(&self, lifetime: Option<Duration>) {
        self.state.auth.set_token_lifetime(lifetime);
    }

    /// The live tenant; changes are visible to the next request.
    pub fn tenant(&self) -> Arc<Mutex<Tenant>> {
        Arc::clone(&self.state.tenant)
    }

    /// Stops accepting connections and waits briefly for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                tracing::warn!(
                    "Graph emulator connections still open after shutdown grace; aborting"
                );
                task.abort();
            }
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The environment a client needs to talk to this emulator with the backup app's secret.
pub fn demo_credentials_env(handle: &EmulatorHandle) -> Vec<(String, String)> {
    [
        ("AZURE_TENANT_ID", handle.tenant_id()),
        ("AZURE_CLIENT_ID", handle.client_id()),
        ("AZURE_CLIENT_SECRET", handle.client_secret()),
        ("AZURE_AUTHORITY_HOST", handle.base_url()),
        ("IDGIT_GRAPH_URL", handle.base_url()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}
