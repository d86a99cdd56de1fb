//! Settings, resolved in one place from flags, `idgit.yaml` and the environment, in that
//! order of precedence. Commands receive plain values and never read the environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::catalog::{self, Kind};
use crate::env;
use crate::error::UserError;
use crate::graph::{Credential, Secret};
use crate::normalize::PropertyFilter;

/// The repository's `idgit.yaml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Tenant ID or verified domain.
    pub tenant: Option<String>,
    /// National cloud: global, usgov, usgovdod, china.
    pub cloud: Option<String>,
    /// Kinds to back up; all when absent.
    pub kinds: Option<Vec<String>>,
    /// Per-kind property allow/deny lists, to keep personal data out of the history.
    #[serde(default)]
    pub properties: BTreeMap<String, PropertyRules>,
    #[serde(default)]
    pub safety: Safety,
    #[serde(default)]
    pub commit: CommitConfig,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PropertyRules {
    pub allow: Option<Vec<String>>,
    #[serde(default)]
    pub deny: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Safety {
    /// Refuse a backup in which a kind lost more than this fraction of its objects.
    pub max_shrink: f64,
    /// Kinds with fewer objects than this in the previous backup are not guarded: with
    /// three CA policies, deleting one is a third, and that is an ordinary change.
    pub shrink_guard_minimum: usize,
    /// Refuse an apply that deletes more objects than this.
    pub max_deletes: usize,
    /// Emergency accounts every all-users conditional access policy must exclude.
    pub break_glass_accounts: Vec<String>,
}

impl Default for Safety {
    fn default() -> Self {
        Safety {
            max_shrink: 0.2,
            shrink_guard_minimum: 10,
            max_deletes: 10,
            break_glass_accounts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CommitConfig {
    pub author_name: Option<String>,
    pub author_email: Option<String>,
}

pub const CONFIG_FILE: &str = "idgit.yaml";

/// The `idgit.yaml` written into a new backup repository, rendered from the tenant
/// template that `idgit init` will also use.
pub fn default_config_text(tenant: Option<&str>) -> String {
    let mut templates = minijinja::Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .trim_blocks(true)
        .build()
        .expect("a valid syntax configuration");
    templates.set_syntax(syntax);
    templates.add_filter("yaml", |value: String| {
        let line = crate::yaml::to_yaml(&serde_json::json!({ "v": value }));
        line.trim_end().trim_start_matches("v: ").to_string()
    });
    let context = minijinja::context! {
        tenant => tenant,
        cloud => "global",
        kinds => catalog::kind_names(),
    };
    templates
        .render_str(include_str!("../tenant-template/idgit.yaml"), context)
        .expect("the embedded template renders; a unit test renders it")
}

/// Reads `idgit.yaml` from a repository's work tree; `None` when there is none.
pub fn load_config(repo_dir: &Path) -> Result<Option<Config>, UserError> {
    let path = repo_dir.join(CONFIG_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(UserError::new(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    parse_config(&text).map(Some).map_err(|message| {
        UserError::new(format!("{}: {message}", path.display()))
            .with_hint("fix the file; `idgit.yaml` in a new repository shows every setting")
    })
}

pub fn parse_config(text: &str) -> Result<Config, String> {
    let value = crate::yaml::from_yaml(text).map_err(|e| e.to_string())?;
    let value = if value.is_null() {
        serde_json::json!({})
    } else {
        value
    };
    // The schema gives messages that name the setting; serde's would only say what
    // type it expected.
    if let Some(error) = config_schema().iter_errors(&value).next() {
        let location = error
            .instance_path()
            .to_string()
            .trim_start_matches('/')
            .replace('/', ".");
        let location = if location.is_empty() {
            "idgit.yaml".to_string()
        } else {
            location
        };
        return Err(format!("{location}: {error}"));
    }
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// The compiled schema of `idgit.yaml`, from `schemas/config.schema.json`.
fn config_schema() -> &'static jsonschema::Validator {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../schemas/config.schema.json"))
                .expect("schemas/config.schema.json is valid JSON; a unit test loads it");
        jsonschema::validator_for(&schema).expect("schemas/config.schema.json is a valid schema")
    })
}

/// A national cloud and its endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Cloud {
    Global,
    Usgov,
    Usgovdod,
    China,
}

impl Cloud {
    pub fn graph_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://graph.microsoft.com",
            Cloud::Usgov => "https://graph.microsoft.us",
            Cloud::Usgovdod => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    pub fn authority_host(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::Usgov | Cloud::Usgovdod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }

    fn parse(text: &str) -> Result<Cloud, UserError> {
        <Cloud as clap::ValueEnum>::from_str(text, true).map_err(|_| {
            UserError::new(format!("unknown cloud {text:?}"))
                .with_hint("use one of global, usgov, usgovdod, china")
        })
    }
}

/// Where and how to reach Graph.
#[derive(Debug, Clone)]
pub struct Connection {
    pub graph_url: String,
    pub credential: Credential,
    /// For messages: the tenant as configured, if known.
    pub tenant: Option<String>,
}

/// What the command line says about the connection.
#[derive(Debug, Clone, Default)]
pub struct ConnectionFlags {
    pub cloud: Option<Cloud>,
    pub tenant: Option<String>,
}

/// Resolves the connection from flags, `idgit.yaml` and the environment.
pub fn resolve_connection(
    flags: &ConnectionFlags,
    config: &Config,
) -> Result<Connection, UserError> {
    let cloud = match (&flags.cloud, &config.cloud) {
        (Some(cloud), _) => *cloud,
        (None, Some(text)) => Cloud::parse(text)?,
        (None, None) => Cloud::Global,
    };
    // Explicit endpoints are more specific than a cloud's defaults.
    let graph_url = env::var(env::IDGIT_GRAPH_URL).unwrap_or_else(|| cloud.graph_url().to_string());
    let authority_host =
        env::var(env::AZURE_AUTHORITY_HOST).unwrap_or_else(|| cloud.authority_host().to_string());
    check_url(&graph_url, env::IDGIT_GRAPH_URL)?;
    check_url(&authority_host, env::AZURE_AUTHORITY_HOST)?;
    let tenant = flags
        .tenant
        .clone()
        .or_else(|| config.tenant.clone())
        .or_else(|| env::var(env::AZURE_TENANT_ID));
    let credential = resolve_credential(authority_host, tenant.clone())?;
    Ok(Connection {
        graph_url,
        credential,
        tenant,
    })
}

/// The managed identity endpoint on every Azure VM; link-local, so it never leaves the host.
const IMDS_ENDPOINT: &str = "http://169.254.169.254";

/// How long the managed identity probe waits for a connection. The endpoint answers
/// within milliseconds where it exists; elsewhere the probe must not hold up the error.
const IMDS_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// The first credential the environment configures, in the documented order:
/// `IDGIT_ACCESS_TOKEN`, client secret, certificate, GitHub Actions OIDC, workload
/// identity token file, managed identity. The same order as the Azure SDK's
/// `DefaultAzureCredential`, with GitHub OIDC (which it lacks) before the token file.
fn resolve_credential(
    authority_host: String,
    tenant: Option<String>,
) -> Result<Credential, UserError> {
    if let Some(token) = env::var(env::IDGIT_ACCESS_TOKEN) {
        return Ok(Credential::AccessToken(Secret::new(token)));
    }
    let client_id = env::var(env::AZURE_CLIENT_ID);
    let app = tenant.clone().zip(client_id.clone());
    // A variable that picks an app credential without the app's IDs is a mistake to
    // point out, not a reason to try the next credential.
    let needs_app = |variable: &str| {
        let mut missing = Vec::new();
        if tenant.is_none() {
            missing.push(env::AZURE_TENANT_ID);
        }
        if client_id.is_none() {
            missing.push(env::AZURE_CLIENT_ID);
        }
        UserError::new(format!(
            "{variable} is set, but {} not set",
            missing.join(" and ")
        ))
        .with_hint(
            "set AZURE_TENANT_ID and AZURE_CLIENT_ID of the app registration idgit signs in as",
        )
    };
    if let Some(secret) = env::var(env::AZURE_CLIENT_SECRET) {
        let (tenant_id, client_id) = app.ok_or_else(|| needs_app(env::AZURE_CLIENT_SECRET))?;
        return Ok(Credential::ClientSecret {
            authority_host,
            tenant_id,
            client_id,
            secret: Secret::new(secret),
        });
    }
    if let Some(path) = env::var(env::AZURE_CLIENT_CERTIFICATE_PATH) {
        let (tenant_id, client_id) =
            app.ok_or_else(|| needs_app(env::AZURE_CLIENT_CERTIFICATE_PATH))?;
        let certificate = load_certificate(Path::new(&path))?;
        return Ok(Credential::Certificate {
            authority_host,
            tenant_id,
            client_id,
            certificate: std::sync::Arc::new(certificate),
        });
    }
    let github = env::var(env::ACTIONS_ID_TOKEN_REQUEST_URL)
        .zip(env::var(env::ACTIONS_ID_TOKEN_REQUEST_TOKEN));
    if let (Some((request_url, request_token)), Some((tenant_id, client_id))) =
        (github, app.clone())
    {
        check_url(&request_url, env::ACTIONS_ID_TOKEN_REQUEST_URL)?;
        return Ok(Credential::GitHubOidc {
            authority_host,
            tenant_id,
            client_id,
            request_url,
            request_token: Secret::new(request_token),
        });
    }
    if let Some(path) = env::var(env::AZURE_FEDERATED_TOKEN_FILE) {
        let (tenant_id, client_id) =
            app.ok_or_else(|| needs_app(env::AZURE_FEDERATED_TOKEN_FILE))?;
        return Ok(Credential::FederatedTokenFile {
            authority_host,
            tenant_id,
            client_id,
            path: PathBuf::from(path),
        });
    }
    let endpoint = env::var(env::IDGIT_IMDS_ENDPOINT)
        .unwrap_or_else(|| IMDS_ENDPOINT.to_string())
        .trim_end_matches('/')
        .to_string();
    check_imds_url(&endpoint)?;
    if imds_answers(&endpoint) {
        return Ok(Credential::ManagedIdentity {
            endpoint,
            client_id,
        });
    }
    // In a GitHub job with `id-token: write` and nothing else, OIDC was surely meant.
    if env::var(env::ACTIONS_ID_TOKEN_REQUEST_URL).is_some()
        && env::var(env::ACTIONS_ID_TOKEN_REQUEST_TOKEN).is_some()
    {
        return Err(needs_app(env::ACTIONS_ID_TOKEN_REQUEST_URL));
    }
    let mut missing = Vec::new();
    if tenant.is_none() {
        missing.push(env::AZURE_TENANT_ID);
    }
    if client_id.is_none() {
        missing.push(env::AZURE_CLIENT_ID);
    }
    missing.push(env::AZURE_CLIENT_SECRET);
    Err(UserError::new(format!(
        "no credentials for Graph: {} not set, and no managed identity endpoint answered at {}",
        missing.join(", "),
        crate::graph::auth::host_of(&endpoint)
    ))
    .with_hint("set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE for an app registration, or IDGIT_ACCESS_TOKEN; `idgit demo` needs none"))
}

/// Reads the certificate and its key now, so that a bad file stops idgit before it
/// connects anywhere. An expired certificate would only be refused by Entra, less clearly.
fn load_certificate(path: &Path) -> Result<crate::graph::ClientCertificate, UserError> {
    let name = env::AZURE_CLIENT_CERTIFICATE_PATH;
    let certificate = crate::graph::ClientCertificate::load(path).map_err(|e| {
        let hint = if e.0.contains("PFX") || e.0.contains("encrypted") {
            let password = if env::var(env::AZURE_CLIENT_CERTIFICATE_PASSWORD).is_some() {
                " (then AZURE_CLIENT_CERTIFICATE_PASSWORD is not needed)"
            } else {
                ""
            };
            format!("convert it to PEM with an unencrypted key, e.g. `openssl pkcs12 -in cert.pfx -nodes -out cert.pem`{password}, and keep that file private")
        } else {
            format!("point {name} at a PEM file holding the app's certificate and its RSA private key")
        };
        UserError::new(format!(
            "cannot use the client certificate {name}={}: {}",
            path.display(),
            e.0
        ))
        .with_hint(hint)
    })?;
    if let Some(not_after) = certificate.not_after() {
        if not_after < crate::graph::assertion::now_secs() {
            return Err(UserError::new(format!(
                "the client certificate in {name}={} (thumbprint {}) expired on {}",
                path.display(),
                certificate.thumbprint(),
                crate::graph::assertion::date(not_after)
            ))
            .with_hint("create a new certificate, upload it to the app registration and point AZURE_CLIENT_CERTIFICATE_PATH at it"));
        }
    }
    Ok(certificate)
}

/// IMDS is plain http by design, to a link-local address; tests point it at this machine.
fn check_imds_url(url: &str) -> Result<(), UserError> {
    if url == IMDS_ENDPOINT {
        return Ok(());
    }
    check_url(url, env::IDGIT_IMDS_ENDPOINT)
}

/// Whether something accepts connections at the managed identity endpoint. A TCP connect
/// is enough: where no IMDS exists the address does not answer at all.
fn imds_answers(endpoint: &str) -> bool {
    use std::net::{TcpStream, ToSocketAddrs};
    let authority = crate::graph::auth::host_of(endpoint);
    let default_port = if endpoint.starts_with("https://") {
        443
    } else {
        80
    };
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
    {
        authority.to_string()
    } else {
        format!("{authority}:{default_port}")
    };
    let Ok(addresses) = with_port.to_socket_addrs() else {
        return false;
    };
    let answered = addresses
        .into_iter()
        .any(|address| TcpStream::connect_timeout(&address, IMDS_PROBE_TIMEOUT).is_ok());
    tracing::debug!(endpoint, answered, "probed the managed identity endpoint");
    answered
}

/// Tokens and secrets travel to these URLs: https, or plain http to this machine only
/// (the emulator).
fn check_url(url: &str, name: &str) -> Result<(), UserError> {
    if url.starts_with("https://") {
        return Ok(());
    }
    if let Some(rest) = url.strip_prefix("http://") {
        let authority = rest.split('/').next().unwrap_or_default();
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => authority,
        };
        if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Ok(());
        }
        return Err(UserError::new(format!(
            "{name} uses plain http to another machine: {url:?}"
        ))
        .with_hint("use https; plain http is only allowed to 127.0.0.1, localhost or [::1]"));
    }
    Err(
        UserError::new(format!("{name} is not an https URL: {url:?}"))
            .with_hint("use a URL such as https://graph.microsoft.com"),
    )
}

/// One kind by name, with a hint listing the valid names.
pub fn parse_kind(name: &str) -> Result<&'static Kind, UserError> {
    catalog::kind(name.trim()).ok_or_else(|| {
        UserError::new(format!("unknown kind {name:?}")).with_hint(format!(
            "use one or more of: {}",
            catalog::kind_names().join(", ")
        ))
    })
}

/// The kinds to back up: `--kinds` wins over `idgit.yaml`; all kinds otherwise.
/// Always in catalog order, without duplicates.
pub fn resolve_kinds(
    flag: Option<&[String]>,
    config: &Config,
) -> Result<Vec<&'static Kind>, UserError> {
    let names: Option<Vec<String>> = flag
        .map(<[String]>::to_vec)
        .or_else(|| config.kinds.clone());
    let Some(names) = names else {
        return Ok(catalog::KINDS.iter().collect());
    };
    let mut chosen = Vec::new();
    for name in names
        .iter()
        .flat_map(|n| n.split(','))
        .filter(|n| !n.trim().is_empty())
    {
        chosen.push(parse_kind(name)?.name);
    }
    if chosen.is_empty() {
        return Err(UserError::new("no kinds to back up").with_hint(format!(
            "name at least one of: {}",
            catalog::kind_names().join(", ")
        )));
    }
    Ok(catalog::KINDS
        .iter()
        .filter(|k| chosen.contains(&k.name))
        .collect())
}

/// Property filters per kind from `idgit.yaml`.
pub fn property_filters(config: &Config) -> BTreeMap<&'static str, PropertyFilter> {
    config
        .properties
        .iter()
        .filter_map(|(name, rules)| {
            let kind = catalog::kind(name)?;
            Some((
                kind.name,
                PropertyFilter {
                    allow: rules.allow.clone(),
                    deny: rules.deny.clone(),
                },
            ))
        })
        .collect()
}

/// Who a commit is by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub email: String,
    /// Seconds since the epoch and offset in minutes; `None` means now.
    pub time: Option<(i64, i32)>,
}

/// The author: `--author`, then `idgit.yaml`, then git's environment variables, then the
/// repository's git config, then `idgit`.
pub fn resolve_author(
    flag: Option<&str>,
    config: &Config,
    git_config: Option<(String, String)>,
) -> Result<Identity, UserError> {
    let time = env::var(env::GIT_AUTHOR_DATE)
        .map(|d| parse_git_date(&d))
        .transpose()?;
    if let Some(text) = flag {
        let (name, email) = parse_author(text)?;
        return Ok(Identity { name, email, time });
    }
    let name = config
        .commit
        .author_name
        .clone()
        .or_else(|| env::var(env::GIT_AUTHOR_NAME))
        .or_else(|| git_config.as_ref().map(|(n, _)| n.clone()))
        .unwrap_or_else(|| "idgit".into());
    let email = config
        .commit
        .author_email
        .clone()
        .or_else(|| env::var(env::GIT_AUTHOR_EMAIL))
        .or_else(|| git_config.as_ref().map(|(_, e)| e.clone()))
        .unwrap_or_else(|| "idgit@localhost".into());
    Ok(Identity { name, email, time })
}

/// The committer: git's committer variables, else the author.
pub fn resolve_committer(author: &Identity) -> Result<Identity, UserError> {
    let time = env::var(env::GIT_COMMITTER_DATE)
        .map(|d| parse_git_date(&d))
        .transpose()?;
    Ok(Identity {
        name: env::var(env::GIT_COMMITTER_NAME).unwrap_or_else(|| author.name.clone()),
        email: env::var(env::GIT_COMMITTER_EMAIL).unwrap_or_else(|| author.email.clone()),
        time: time.or(author.time),
    })
}

fn parse_author(text: &str) -> Result<(String, String), UserError> {
    let parsed = text
        .trim()
        .strip_suffix('>')
        .and_then(|rest| rest.split_once('<'));
    match parsed {
        Some((name, email)) if !name.trim().is_empty() && email.contains('@') => {
            Ok((name.trim().to_string(), email.trim().to_string()))
        }
        _ => Err(UserError::new(format!(
            "--author {text:?} is not of the form \"Name <email>\""
        ))
        .with_hint("for example --author \"Backup Bot <backup@contoso.com>\"")),
    }
}

/// git's internal date format, `<seconds> <+hhmm>`, or `@<seconds>`.
pub fn parse_git_date(text: &str) -> Result<(i64, i32), UserError> {
    let error = || {
        UserError::new(format!("cannot read the date {text:?}"))
            .with_hint("use git's internal format, e.g. \"1767225600 +0000\"")
    };
    let text = text.trim().trim_start_matches('@');
    let (secs, offset) = text.split_once(' ').unwrap_or((text, "+0000"));
    let secs: i64 = secs.parse().map_err(|_| error())?;
    let sign = match offset.chars().next() {
        Some('-') => -1,
        Some('+') => 1,
        _ => return Err(error()),
    };
    let digits = &offset[1..];
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error());
    }
    let hours: i32 = digits[..2].parse().map_err(|_| error())?;
    let minutes: i32 = digits[2..].parse().map_err(|_| error())?;
    Ok((secs, sign * (hours * 60 + minutes)))
}

/// A `--repo` directory as given, made absolute for messages.
pub fn repo_dir(flag: Option<&Path>) -> PathBuf {
    let dir = flag
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::path::absolute(&dir).unwrap_or(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_parses_and_names_every_kind() {
        let config = parse_config(&default_config_text(Some("contoso.onmicrosoft.com"))).unwrap();
        assert_eq!(config.tenant.as_deref(), Some("contoso.onmicrosoft.com"));
        assert_eq!(config.kinds.unwrap().len(), catalog::KINDS.len());
        assert_eq!(config.safety, Safety::default());
        parse_config(&default_config_text(None)).unwrap();
    }

    #[test]
    fn config_errors_say_what_is_wrong() {
        let err = parse_config("kindz: [users]\n").unwrap_err();
        assert!(
            err.starts_with("idgit.yaml: Additional properties are not allowed ('kindz'"),
            "{err}"
        );
        let err = parse_config("safety: {maxShrink: 2, shrinkGuardMinimum: 1}\n").unwrap_err();
        assert!(
            err.starts_with("safety.maxShrink: 2 is greater than the maximum of 1"),
            "{err}"
        );
        let err = parse_config("properties: {people: {deny: [x]}}\n").unwrap_err();
        assert!(err.contains("people"), "{err}");
        let err = parse_config("kinds: [users, people]\n").unwrap_err();
        assert!(err.starts_with("kinds.1: "), "{err}");
        let err = parse_config("tenant: [\n").unwrap_err();
        assert!(err.contains("line"), "{err}");
    }

    #[test]
    fn the_example_configs_are_valid() {
        let example = include_str!("../examples/basic/idgit.yaml");
        let config = parse_config(example).unwrap();
        assert_eq!(
            property_filters(&config)["users"].deny,
            ["mobilePhone", "businessPhones", "faxNumber"]
        );
        let awkward = default_config_text(Some("tenant: with # odd 'chars'"));
        assert_eq!(
            parse_config(&awkward).unwrap().tenant.as_deref(),
            Some("tenant: with # odd 'chars'")
        );
    }

    #[test]
    fn kinds_resolve_in_catalog_order() {
        let flag = vec!["groups,users".to_string()];
        let kinds = resolve_kinds(Some(&flag), &Config::default()).unwrap();
        assert_eq!(
            kinds.iter().map(|k| k.name).collect::<Vec<_>>(),
            ["users", "groups"]
        );
        let err = resolve_kinds(Some(&["people".to_string()]), &Config::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("use one or more of: named-locations, users"),
            "{err}"
        );
    }

    #[test]
    fn secrets_only_travel_over_https_or_to_this_machine() {
        assert!(check_url("https://graph.microsoft.com", "X").is_ok());
        assert!(check_url("http://127.0.0.1:8734", "X").is_ok());
        assert!(check_url("http://localhost", "X").is_ok());
        let err = check_url("http://proxy.example.com:8080", "IDGIT_GRAPH_URL").unwrap_err();
        assert!(
            err.to_string().contains("plain http to another machine"),
            "{err}"
        );
        assert!(check_url("graph.microsoft.com", "X").is_err());
    }

    #[test]
    fn authors_and_dates() {
        assert_eq!(
            parse_author("Backup Bot <bot@contoso.com>").unwrap(),
            ("Backup Bot".into(), "bot@contoso.com".into())
        );
        assert!(parse_author("nobody").is_err());
        assert_eq!(
            parse_git_date("1767225600 +0130").unwrap(),
            (1767225600, 90)
        );
        assert_eq!(parse_git_date("@5 -0800").unwrap(), (5, -480));
        assert!(parse_git_date("yesterday").is_err());
    }
}
