//! Every environment variable idgit reads, in one place.
//!
//! The connection variables follow the Azure SDK's `EnvironmentCredential`, so a machine
//! already set up for Azure tools needs nothing new.

/// Directory (tenant) ID or domain.
pub const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
/// Application (client) ID of the app registration idgit signs in as.
pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
/// Client secret of that app registration.
pub const AZURE_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
/// PEM file with the app's certificate and its unencrypted RSA private key.
pub const AZURE_CLIENT_CERTIFICATE_PATH: &str = "AZURE_CLIENT_CERTIFICATE_PATH";
/// Password of a PFX certificate. idgit reads unencrypted PEM only, and says so when a PFX
/// file comes with this password.
pub const AZURE_CLIENT_CERTIFICATE_PASSWORD: &str = "AZURE_CLIENT_CERTIFICATE_PASSWORD";
/// File holding a federated token (Kubernetes workload identity); read at each renewal.
pub const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
/// Set by GitHub Actions in jobs with `permissions: id-token: write`.
pub const ACTIONS_ID_TOKEN_REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
pub const ACTIONS_ID_TOKEN_REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
/// Instance metadata service for managed identity; default `http://169.254.169.254`.
pub const IDGIT_IMDS_ENDPOINT: &str = "IDGIT_IMDS_ENDPOINT";
/// Login endpoint; default `https://login.microsoftonline.com`.
pub const AZURE_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";
/// Graph service root; default `https://graph.microsoft.com`. idgit appends `/v1.0/...`.
pub const IDGIT_GRAPH_URL: &str = "IDGIT_GRAPH_URL";
/// A ready bearer token for Graph; skips the token endpoint.
pub const IDGIT_ACCESS_TOKEN: &str = "IDGIT_ACCESS_TOKEN";
/// Set by CI systems; switches progress to plain lines.
pub const CI: &str = "CI";
/// Disables colour, see <https://no-color.org>.
pub const NO_COLOR: &str = "NO_COLOR";
/// Log filter for `tracing`, e.g. `idgit=debug`.
pub const RUST_LOG: &str = "RUST_LOG";
/// Commit author and committer, as git reads them.
pub const GIT_AUTHOR_NAME: &str = "GIT_AUTHOR_NAME";
pub const GIT_AUTHOR_EMAIL: &str = "GIT_AUTHOR_EMAIL";
pub const GIT_AUTHOR_DATE: &str = "GIT_AUTHOR_DATE";
pub const GIT_COMMITTER_NAME: &str = "GIT_COMMITTER_NAME";
pub const GIT_COMMITTER_EMAIL: &str = "GIT_COMMITTER_EMAIL";
pub const GIT_COMMITTER_DATE: &str = "GIT_COMMITTER_DATE";

/// A non-empty environment variable.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
