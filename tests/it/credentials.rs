//! Secretless sign-in, against the emulator's verifying token endpoint: a certificate, a
//! GitHub Actions OIDC token, a workload identity token file and a managed identity each
//! get a token and run a backup; each is refused, in one line naming the credential, the
//! AADSTS code and what to do, when its key, subject or audience is wrong. No key,
//! assertion or token ever reaches stderr.

use std::path::PathBuf;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use idgit::emulator::{
    EmulatorConfig, FederatedCredential, Seed, AZURE_AD_TOKEN_EXCHANGE, DEFAULT_GITHUB_SUBJECT,
};

use crate::common::{Run, TestEnv};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/credentials")
        .join(name)
}

fn fixture_str(name: &str) -> String {
    fixture(name).display().to_string()
}

/// The app's IDs and the endpoints, without any credential.
fn app_env(env: &TestEnv) -> Vec<(String, String)> {
    env.credentials()
        .into_iter()
        .filter(|(name, _)| name != "AZURE_CLIENT_SECRET")
        .collect()
}

fn backup_with(env: &TestEnv, extra: &[(&str, String)], flags: &[&str]) -> Run {
    let mut vars = app_env(env);
    for (name, value) in extra {
        vars.retain(|(n, _)| n != name);
        vars.push((name.to_string(), value.clone()));
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let repo = env.repo();
    let mut args = vec!["backup", "--repo", repo.to_str().unwrap()];
    args.extend_from_slice(flags);
    env.idgit_with_env(&args, &vars)
}

/// The one error line, with the emulator's address, the tenant and the fixtures'
/// directory replaced.
fn error_line(run: &Run, env: &TestEnv) -> String {
    assert_eq!(run.code, 1, "{run:?}");
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    let host = env.emulator.base_url().trim_start_matches("http://");
    errors[0]
        .replace(env.emulator.base_url(), "[EMULATOR]")
        .replace(host, "[HOST]")
        .replace(env.emulator.tenant_id(), "[TENANT]")
        .replace(&fixture_str(""), "[FIXTURES]/")
        .replace(&env.dir.path().display().to_string(), "[TMP]")
}

fn assert_backed_up(run: &Run, env: &TestEnv) {
    assert_eq!(run.code, 0, "{run:?}");
    assert!(env.head().is_some(), "no commit");
    assert!(env.head_files().keys().any(|p| p.starts_with("users/")));
}

/// Nothing that proves identity appears on stderr: no PEM, no JWT (they all start with
/// `eyJ`), no emulator access token, none of the given values.
fn assert_no_secrets(run: &Run, secrets: &[&str]) {
    for needle in ["PRIVATE KEY", "eyJ", "emu.", "client_assertion="]
        .iter()
        .chain(secrets)
    {
        assert!(
            !run.stderr.contains(needle),
            "{needle:?} in stderr:\n{}",
            run.stderr
        );
        assert!(
            !run.stdout.contains(needle),
            "{needle:?} in stdout:\n{}",
            run.stdout
        );
    }
}

fn sha256_thumbprint(pem_file: &str) -> (String, String) {
    use rustls_pki_types::pem::PemObject;
    let der = rustls_pki_types::CertificateDer::from_pem_file(fixture(pem_file)).unwrap();
    let sha256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
    let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
    let hex: String = sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    (URL_SAFE_NO_PAD.encode(sha256), hex)
}

// --- certificate ---------------------------------------------------------------------

#[test]
fn certificate_signs_in_and_backs_up() {
    let env = TestEnv::demo();
    let pem = std::fs::read(fixture("app-cert.pem")).unwrap();
    env.emulator.register_certificate(&pem).unwrap();
    let run = backup_with(
        &env,
        &[("AZURE_CLIENT_CERTIFICATE_PATH", fixture_str("app-cert.pem"))],
        &["-vv"],
    );
    assert_backed_up(&run, &env);
    assert!(
        run.stderr.contains("acquired an access token"),
        "{}",
        run.stderr
    );
    let key = String::from_utf8(pem).unwrap();
    let key_body = key.lines().rev().nth(3).unwrap();
    assert_no_secrets(&run, &[key_body]);
}

#[test]
fn certificate_with_a_pkcs1_key_signs_in() {
    let env = TestEnv::demo();
    let pem = std::fs::read(fixture("app-cert-pkcs1.pem")).unwrap();
    env.emulator.register_certificate(&pem).unwrap();
    let run = backup_with(
        &env,
        &[(
            "AZURE_CLIENT_CERTIFICATE_PATH",
            fixture_str("app-cert-pkcs1.pem"),
        )],
        &[],
    );
    assert_backed_up(&run, &env);
}

#[test]
fn unregistered_certificate_is_refused_with_its_thumbprint() {
    let env = TestEnv::demo();
    env.emulator
        .register_certificate(&std::fs::read(fixture("app-cert.pem")).unwrap())
        .unwrap();
    let run = backup_with(
        &env,
        &[(
            "AZURE_CLIENT_CERTIFICATE_PATH",
            fixture_str("unregistered-cert.pem"),
        )],
        &["-vv"],
    );
    let (x5t_s256, thumbprint) = sha256_thumbprint("unregistered-cert.pem");
    assert_eq!(
        error_line(&run, &env),
        format!("error: POST [HOST]/[TENANT]/oauth2/v2.0/token: sign-in with the client certificate failed: AADSTS700027: Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '{x5t_s256}'] The certificate with identifier used to sign the client assertion is not registered on application. (401 invalid_client); hint: upload the certificate with thumbprint {thumbprint} to the app registration AZURE_CLIENT_ID (Certificates & secrets), or point AZURE_CLIENT_CERTIFICATE_PATH at one that is registered and not expired")
    );
    assert!(!env.repo().exists());
    assert_no_secrets(&run, &[]);
}

#[test]
fn certificate_for_the_wrong_tenant_is_refused() {
    let env = TestEnv::demo();
    env.emulator
        .register_certificate(&std::fs::read(fixture("app-cert.pem")).unwrap())
        .unwrap();
    let run = backup_with(
        &env,
        &[
            ("AZURE_CLIENT_CERTIFICATE_PATH", fixture_str("app-cert.pem")),
            ("AZURE_TENANT_ID", "fabrikam.onmicrosoft.com".into()),
        ],
        &[],
    );
    assert_eq!(
        error_line(&run, &env),
        "error: POST [HOST]/fabrikam.onmicrosoft.com/oauth2/v2.0/token: sign-in with the client certificate failed: AADSTS90002: Tenant 'fabrikam.onmicrosoft.com' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant. (400 invalid_request); hint: check AZURE_TENANT_ID: use the tenant's ID or a verified domain"
    );
}

#[test]
fn expired_certificate_is_refused_before_signing_in() {
    let env = TestEnv::demo();
    let run = backup_with(
        &env,
        &[(
            "AZURE_CLIENT_CERTIFICATE_PATH",
            fixture_str("expired-cert.pem"),
        )],
        &[],
    );
    let (_, thumbprint) = sha256_thumbprint("expired-cert.pem");
    assert_eq!(
        error_line(&run, &env),
        format!("error: the client certificate in AZURE_CLIENT_CERTIFICATE_PATH=[FIXTURES]/expired-cert.pem (thumbprint {thumbprint}) expired on 2021-01-01; hint: create a new certificate, upload it to the app registration and point AZURE_CLIENT_CERTIFICATE_PATH at it")
    );
}

#[test]
fn unreadable_certificate_files_say_why() {
    let env = TestEnv::demo();
    let missing = env.dir.path().join("missing.pem");
    let run = backup_with(
        &env,
        &[(
            "AZURE_CLIENT_CERTIFICATE_PATH",
            missing.display().to_string(),
        )],
        &[],
    );
    assert_eq!(
        error_line(&run, &env),
        "error: cannot use the client certificate AZURE_CLIENT_CERTIFICATE_PATH=[TMP]/missing.pem: cannot read it: No such file or directory (os error 2); hint: point AZURE_CLIENT_CERTIFICATE_PATH at a PEM file holding the app's certificate and its RSA private key"
    );
    let cert_only = env.dir.path().join("cert-only.pem");
    let pem = std::fs::read_to_string(fixture("app-cert.pem")).unwrap();
    std::fs::write(
        &cert_only,
        &pem[..pem.find("-----BEGIN PRIVATE KEY").unwrap()],
    )
    .unwrap();
    let run = backup_with(
        &env,
        &[(
            "AZURE_CLIENT_CERTIFICATE_PATH",
            cert_only.display().to_string(),
        )],
        &[],
    );
    assert_eq!(
        error_line(&run, &env),
        "error: cannot use the client certificate AZURE_CLIENT_CERTIFICATE_PATH=[TMP]/cert-only.pem: it holds no private key; hint: point AZURE_CLIENT_CERTIFICATE_PATH at a PEM file holding the app's certificate and its RSA private key"
    );
    let pfx = env.dir.path().join("cert.pfx");
    std::fs::write(&pfx, [0x30, 0x82, 0x0a, 0x00, 0x02, 0x01, 0x03]).unwrap();
    let run = backup_with(
        &env,
        &[
            ("AZURE_CLIENT_CERTIFICATE_PATH", pfx.display().to_string()),
            ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pfx-password".into()),
        ],
        &[],
    );
    assert_eq!(
        error_line(&run, &env),
        "error: cannot use the client certificate AZURE_CLIENT_CERTIFICATE_PATH=[TMP]/cert.pfx: it looks like a PFX/PKCS#12 file, which idgit does not read; hint: convert it to PEM with an unencrypted key, e.g. `openssl pkcs12 -in cert.pfx -nodes -out cert.pem` (then AZURE_CLIENT_CERTIFICATE_PASSWORD is not needed), and keep that file private"
    );
    assert_no_secrets(&run, &["pfx-password"]);
}

#[test]
fn certificate_without_the_app_ids_names_what_is_missing() {
    let env = TestEnv::demo();
    let run = env.idgit_with_env(
        &["backup", "--repo", "backup"],
        &[
            (
                "AZURE_CLIENT_CERTIFICATE_PATH",
                &fixture_str("app-cert.pem"),
            ),
            ("AZURE_TENANT_ID", env.emulator.tenant_id()),
        ],
    );
    assert_eq!(
        error_line(&run, &env),
        "error: AZURE_CLIENT_CERTIFICATE_PATH is set, but AZURE_CLIENT_ID not set; hint: set AZURE_TENANT_ID and AZURE_CLIENT_ID of the app registration idgit signs in as"
    );
}

// --- GitHub Actions OIDC -------------------------------------------------------------

#[test]
fn github_oidc_without_the_app_ids_names_what_is_missing() {
    let env = TestEnv::demo();
    let run = env.idgit_with_env(
        &["backup", "--repo", "backup"],
        &[
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                &env.emulator.github_request_url(),
            ),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                env.emulator.github_request_token(),
            ),
        ],
    );
    assert_eq!(
        error_line(&run, &env),
        "error: ACTIONS_ID_TOKEN_REQUEST_URL is set, but AZURE_TENANT_ID and AZURE_CLIENT_ID not set; hint: set AZURE_TENANT_ID and AZURE_CLIENT_ID of the app registration idgit signs in as"
    );
}

fn github_env(env: &TestEnv) -> Vec<(&'static str, String)> {
    vec![
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            env.emulator.github_request_url(),
        ),
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            env.emulator.github_request_token().to_string(),
        ),
    ]
}

#[test]
fn github_oidc_signs_in_and_backs_up() {
    let env = TestEnv::demo();
    env.emulator.trust_subject(DEFAULT_GITHUB_SUBJECT);
    // Every crate's trace output too (hyper, reqwest), not only idgit's debug lines.
    let mut vars = github_env(&env);
    vars.push(("RUST_LOG", "trace".into()));
    let run = backup_with(&env, &vars, &["-vv"]);
    assert_backed_up(&run, &env);
    assert_eq!(env.emulator.github_token_requests(), 1);
    assert_no_secrets(&run, &[env.emulator.github_request_token()]);
}

#[test]
fn github_oidc_with_an_unregistered_subject_shows_the_presented_subject() {
    let env = TestEnv::demo();
    env.emulator.trust_subject(DEFAULT_GITHUB_SUBJECT);
    env.emulator
        .set_github_subject("repo:octo-org/octo-repo:ref:refs/heads/main");
    let run = backup_with(&env, &github_env(&env), &["-vv"]);
    assert_eq!(
        error_line(&run, &env),
        "error: POST [HOST]/[TENANT]/oauth2/v2.0/token: sign-in with the GitHub Actions OIDC token failed: AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:octo-org/octo-repo:ref:refs/heads/main'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. (401 invalid_client); hint: the presented token's subject is 'repo:octo-org/octo-repo:ref:refs/heads/main': add a federated credential with exactly that subject (issuer '[EMULATOR]/_oidc') to the app registration AZURE_CLIENT_ID"
    );
    assert_no_secrets(&run, &[env.emulator.github_request_token()]);
}

#[test]
fn github_oidc_with_the_wrong_audience_is_refused() {
    let env = TestEnv::demo();
    env.emulator.add_federated_credential(FederatedCredential {
        issuer: env.emulator.oidc_issuer().to_string(),
        subject: DEFAULT_GITHUB_SUBJECT.into(),
        audiences: vec!["api://SomethingElse".into()],
    });
    let run = backup_with(&env, &github_env(&env), &[]);
    assert_eq!(
        error_line(&run, &env),
        "error: POST [HOST]/[TENANT]/oauth2/v2.0/token: sign-in with the GitHub Actions OIDC token failed: AADSTS700212: No matching federated identity record found for presented assertion audience 'api://AzureADTokenExchange'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. (401 invalid_client); hint: the federated credential on the app registration AZURE_CLIENT_ID must list audience 'api://AzureADTokenExchange' (api://AzureADTokenExchange is the usual one)"
    );
}

#[test]
fn github_oidc_with_an_untrusted_issuer_is_refused() {
    let env = TestEnv::demo();
    env.emulator.add_federated_credential(FederatedCredential {
        issuer: "https://token.actions.githubusercontent.com".into(),
        subject: DEFAULT_GITHUB_SUBJECT.into(),
        audiences: vec![AZURE_AD_TOKEN_EXCHANGE.into()],
    });
    let run = backup_with(&env, &github_env(&env), &[]);
    let line = error_line(&run, &env);
    assert!(line.contains("AADSTS700211: No matching federated identity record found for presented assertion issuer '[EMULATOR]/_oidc'."), "{line}");
    assert!(line.ends_with("hint: add a federated credential to the app registration AZURE_CLIENT_ID with issuer '[EMULATOR]/_oidc'"), "{line}");
}

#[test]
fn github_oidc_request_failing_names_the_http_status() {
    let env = TestEnv::demo();
    env.emulator.trust_subject(DEFAULT_GITHUB_SUBJECT);
    let run = backup_with(
        &env,
        &[
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                env.emulator.github_request_url(),
            ),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                "stale-request-token".into(),
            ),
        ],
        &["-vv"],
    );
    assert_eq!(
        error_line(&run, &env),
        "error: GET [HOST]/_github/idtoken: the GitHub Actions OIDC token request failed (HTTP 401); hint: give the workflow job `permissions: id-token: write`; the request token in ACTIONS_ID_TOKEN_REQUEST_TOKEN is only valid during its job"
    );
    assert_no_secrets(&run, &["stale-request-token"]);
}

/// Tokens that expire after 600 milliseconds, and a backup slow enough to outlive
/// several: each renewal fetches a new GitHub token and the backup completes.
#[test]
fn github_oidc_tokens_are_renewed_during_a_long_run() {
    let env = TestEnv::new(EmulatorConfig {
        seed: Seed::Demo,
        latency: Duration::from_millis(40),
        max_page_size: 2,
        default_page_size: 2,
        ..EmulatorConfig::default()
    });
    env.emulator.trust_subject(DEFAULT_GITHUB_SUBJECT);
    env.emulator
        .set_token_lifetime(Some(Duration::from_millis(600)));
    let run = backup_with(&env, &github_env(&env), &["-vv"]);
    assert_backed_up(&run, &env);
    let requests = env.emulator.github_token_requests();
    assert!(requests >= 2, "only {requests} GitHub token requests");
    assert_no_secrets(&run, &[env.emulator.github_request_token()]);
}

// --- workload identity token file ----------------------------------------------------

const WORKLOAD_SUBJECT: &str = "system:serviceaccount:identity:idgit-backup";

fn write_token(env: &TestEnv, token: &str) -> String {
    let path = env.dir.path().join("azure-identity-token");
    std::fs::write(&path, token).unwrap();
    path.display().to_string()
}

#[test]
fn workload_identity_file_signs_in_and_backs_up() {
    let env = TestEnv::demo();
    env.emulator.trust_subject(WORKLOAD_SUBJECT);
    let token = env
        .emulator
        .mint_oidc_token(WORKLOAD_SUBJECT, AZURE_AD_TOKEN_EXCHANGE, 3600);
    let path = write_token(&env, &token);
    let run = backup_with(&env, &[("AZURE_FEDERATED_TOKEN_FILE", path)], &["-vv"]);
    assert_backed_up(&run, &env);
    assert_no_secrets(&run, &[&token]);
}

/// The file is rotated: a renewal reads it again and presents the new token. Here the
/// rotated token is for a subject the app does not trust, so the renewal's refusal proves
/// that the new file was read rather than the first token reused.
#[test]
fn workload_identity_file_is_read_again_at_each_renewal() {
    let env = TestEnv::new(EmulatorConfig {
        seed: Seed::Demo,
        latency: Duration::from_millis(40),
        max_page_size: 2,
        default_page_size: 2,
        ..EmulatorConfig::default()
    });
    env.emulator.trust_subject(WORKLOAD_SUBJECT);
    env.emulator
        .set_token_lifetime(Some(Duration::from_millis(600)));
    let first = env
        .emulator
        .mint_oidc_token(WORKLOAD_SUBJECT, AZURE_AD_TOKEN_EXCHANGE, 3600);
    let path = write_token(&env, &first);
    let rotated = env.emulator.mint_oidc_token(
        "system:serviceaccount:identity:rotated",
        AZURE_AD_TOKEN_EXCHANGE,
        3600,
    );
    let run = std::thread::scope(|scope| {
        scope.spawn(|| {
            // Rotate once Graph has seen the first token, i.e. after the first sign-in.
            let give_up = std::time::Instant::now() + Duration::from_secs(20);
            while env.emulator.request_count() == 0 && std::time::Instant::now() < give_up {
                std::thread::sleep(Duration::from_millis(5));
            }
            std::fs::write(&path, &rotated).unwrap();
        });
        backup_with(&env, &[("AZURE_FEDERATED_TOKEN_FILE", path.clone())], &[])
    });
    let line = error_line(&run, &env);
    assert!(
        line.contains("AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:identity:rotated'."),
        "{line}"
    );
    assert_no_secrets(&run, &[&first, &rotated]);
}

#[test]
fn expired_workload_identity_token_is_refused() {
    let env = TestEnv::demo();
    env.emulator.trust_subject(WORKLOAD_SUBJECT);
    let token = env
        .emulator
        .mint_oidc_token(WORKLOAD_SUBJECT, AZURE_AD_TOKEN_EXCHANGE, -3600);
    let path = write_token(&env, &token);
    let run = backup_with(&env, &[("AZURE_FEDERATED_TOKEN_FILE", path)], &[]);
    let line = error_line(&run, &env);
    assert!(
        line.starts_with("error: POST [HOST]/[TENANT]/oauth2/v2.0/token: sign-in with the federated token file failed: AADSTS700024: Client assertion is not within its valid time range."),
        "{line}"
    );
    assert!(line.ends_with("(401 invalid_client); hint: the token in AZURE_FEDERATED_TOKEN_FILE has expired or is not yet valid; check that it is renewed and this machine's clock"), "{line}");
    assert_no_secrets(&run, &[&token]);
}

#[test]
fn workload_identity_token_for_another_subject_is_refused() {
    let env = TestEnv::demo();
    env.emulator.trust_subject(WORKLOAD_SUBJECT);
    let token = env.emulator.mint_oidc_token(
        "system:serviceaccount:default:default",
        AZURE_AD_TOKEN_EXCHANGE,
        3600,
    );
    let path = write_token(&env, &token);
    let run = backup_with(&env, &[("AZURE_FEDERATED_TOKEN_FILE", path)], &[]);
    let line = error_line(&run, &env);
    assert!(line.contains("AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:default:default'."), "{line}");
    assert!(line.ends_with("hint: the presented token's subject is 'system:serviceaccount:default:default': add a federated credential with exactly that subject (issuer '[EMULATOR]/_oidc') to the app registration AZURE_CLIENT_ID"), "{line}");
}

#[test]
fn missing_token_file_names_the_file() {
    let env = TestEnv::demo();
    let path = env.dir.path().join("no-such-token").display().to_string();
    let run = backup_with(&env, &[("AZURE_FEDERATED_TOKEN_FILE", path)], &[]);
    assert_eq!(
        error_line(&run, &env),
        "error: read [TMP]/no-such-token: cannot read the federated token file: No such file or directory (os error 2); hint: check AZURE_FEDERATED_TOKEN_FILE: it names the file where the workload identity token is projected, which must exist while idgit runs"
    );
}

// --- managed identity ----------------------------------------------------------------

/// The emulator's IMDS answers like Azure's: only with `Metadata: true`, numbers as strings.
#[test]
fn emulator_imds_needs_the_metadata_header_and_sends_strings() {
    let env = TestEnv::demo();
    let url = format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource={}",
        env.emulator.base_url(),
        "https%3A%2F%2Fgraph.microsoft.com"
    );
    let (refused, granted) = env.runtime.block_on(async {
        let http = reqwest::Client::new();
        let refused = http.get(&url).send().await.unwrap();
        let refused = (refused.status().as_u16(), refused.text().await.unwrap());
        let granted = http
            .get(&url)
            .header("Metadata", "true")
            .send()
            .await
            .unwrap();
        let granted: serde_json::Value = granted.json().await.unwrap();
        (refused, granted)
    });
    assert_eq!(refused.0, 400);
    assert!(
        refused.1.contains("Required metadata header not specified"),
        "{}",
        refused.1
    );
    assert_eq!(granted["expires_in"], "3599");
    assert!(granted["expires_on"].is_string());
    assert_eq!(granted["resource"], "https://graph.microsoft.com");
    assert_eq!(granted["token_type"], "Bearer");
}

fn managed_identity_env(env: &TestEnv) -> Vec<(&'static str, String)> {
    vec![
        ("IDGIT_IMDS_ENDPOINT", env.emulator.base_url().to_string()),
        ("IDGIT_GRAPH_URL", env.emulator.base_url().to_string()),
    ]
}

fn run_with(env: &TestEnv, vars: &[(&str, String)], flags: &[&str]) -> Run {
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let repo = env.repo();
    let mut args = vec!["backup", "--repo", repo.to_str().unwrap()];
    args.extend_from_slice(flags);
    env.idgit_with_env(&args, &vars)
}

#[test]
fn managed_identity_is_used_when_nothing_else_is_configured() {
    let env = TestEnv::demo();
    let run = run_with(&env, &managed_identity_env(&env), &["-vv"]);
    assert_backed_up(&run, &env);
    assert!(
        run.stderr.contains("probed the managed identity endpoint"),
        "{}",
        run.stderr
    );
    assert_no_secrets(&run, &[]);
}

#[test]
fn user_assigned_managed_identity_uses_azure_client_id() {
    let env = TestEnv::demo();
    let mut vars = managed_identity_env(&env);
    vars.push(("AZURE_CLIENT_ID", env.emulator.client_id().to_string()));
    assert_backed_up(&run_with(&env, &vars, &[]), &env);

    let env = TestEnv::demo();
    let mut vars = managed_identity_env(&env);
    vars.push((
        "AZURE_CLIENT_ID",
        "11111111-2222-3333-4444-555555555555".into(),
    ));
    let run = run_with(&env, &vars, &[]);
    assert_eq!(
        error_line(&run, &env),
        "error: GET [HOST]/metadata/identity/oauth2/token: sign-in with the managed identity failed: Identity not found (400); hint: check that the user-assigned identity named by AZURE_CLIENT_ID is attached to this resource"
    );
}

/// Secret before certificate before GitHub OIDC before the token file: each run has a
/// working credential and a broken later one, which must not be touched.
#[test]
fn credentials_are_tried_in_the_documented_order() {
    let env = TestEnv::demo();
    env.emulator
        .register_certificate(&std::fs::read(fixture("app-cert.pem")).unwrap())
        .unwrap();
    env.emulator.trust_subject(DEFAULT_GITHUB_SUBJECT);
    let missing = env.dir.path().join("missing").display().to_string();
    let broken_github = [
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            env.emulator.github_request_url(),
        ),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong".to_string()),
    ];
    let secret = [(
        "AZURE_CLIENT_SECRET",
        env.emulator.client_secret().to_string(),
    )];
    let certificate = [("AZURE_CLIENT_CERTIFICATE_PATH", fixture_str("app-cert.pem"))];
    let broken_certificate = [("AZURE_CLIENT_CERTIFICATE_PATH", missing.clone())];
    let broken_file = [("AZURE_FEDERATED_TOKEN_FILE", missing.clone())];
    let runs: [Vec<(&str, String)>; 3] = [
        [
            &secret[..],
            &broken_certificate,
            &broken_github,
            &broken_file,
        ]
        .concat(),
        [&certificate[..], &broken_github, &broken_file].concat(),
        [&github_env(&env)[..], &broken_file].concat(),
    ];
    for vars in runs {
        let run = backup_with(&env, &vars, &[]);
        assert_eq!(run.code, 0, "{vars:?}: {run:?}");
    }
    assert_eq!(env.emulator.github_token_requests(), 1);
}

#[test]
fn a_configured_credential_wins_over_managed_identity() {
    let env = TestEnv::demo();
    env.emulator
        .register_certificate(&std::fs::read(fixture("unregistered-cert.pem")).unwrap())
        .unwrap();
    let vars = [
        (
            "AZURE_CLIENT_CERTIFICATE_PATH",
            fixture_str("unregistered-cert.pem"),
        ),
        ("IDGIT_IMDS_ENDPOINT", env.emulator.base_url().to_string()),
    ];
    let run = backup_with(&env, &vars, &["-vv"]);
    assert_backed_up(&run, &env);
    assert!(
        !run.stderr.contains("probed the managed identity endpoint"),
        "{}",
        run.stderr
    );
}
