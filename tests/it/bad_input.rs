//! Every failure ends in one line that says what to do, exit status 1, and an untouched
//! repository. The messages are snapshotted: they are part of the interface.

use idgit::emulator::{Fault, FaultRule};

use crate::common::{repo_state, Run, TestEnv};

fn assert_one_line_error(run: &Run) {
    assert_eq!(run.code, 1, "{run:?}");
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

fn error_line(run: &Run, env: &TestEnv) -> String {
    assert_one_line_error(run);
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    line.replace(&env.dir.path().display().to_string(), "[TMP]")
        .replace(env.emulator.base_url(), "[EMULATOR]")
}

fn with_backup(env: &TestEnv) -> Vec<String> {
    assert_eq!(env.backup(&[]).code, 0);
    repo_state(&env.repo())
}

#[test]
fn unreachable_login_endpoint() {
    let env = TestEnv::demo();
    let run = env.idgit_with_env(
        &["backup", "--repo", "backup"],
        &[
            ("AZURE_TENANT_ID", "contoso.onmicrosoft.com"),
            ("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001"),
            ("AZURE_CLIENT_SECRET", "not-used"),
            ("AZURE_AUTHORITY_HOST", "http://127.0.0.1:9"),
            ("IDGIT_GRAPH_URL", "http://127.0.0.1:9"),
        ],
    );
    let line = error_line(&run, &env);
    assert!(line.starts_with("error: POST 127.0.0.1:9/contoso.onmicrosoft.com/oauth2/v2.0/token: cannot reach the login endpoint: connection failed"), "{line}");
    assert!(
        line.contains("hint: check the network and the endpoint settings"),
        "{line}"
    );
    assert!(!env.repo().exists(), "a repository was created");
}

#[test]
fn unreachable_graph() {
    let env = TestEnv::demo();
    let run = env.idgit_with_env(
        &["backup", "--repo", "backup"],
        &[
            ("IDGIT_ACCESS_TOKEN", "some-token"),
            ("IDGIT_GRAPH_URL", "http://127.0.0.1:9"),
        ],
    );
    let line = error_line(&run, &env);
    assert!(
        line.contains("cannot reach Graph: connection failed"),
        "{line}"
    );
    assert!(!run.stderr.contains("some-token"));
}

#[test]
fn bad_secret_shows_the_aadsts_code() {
    let env = TestEnv::demo();
    let before = with_backup(&env);
    let mut envs = env.credentials();
    for (name, value) in &mut envs {
        if name == "AZURE_CLIENT_SECRET" {
            *value = "wrong-secret-value".into();
        }
    }
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let repo = env.repo();
    let run = env.idgit_with_env(&["backup", "--repo", repo.to_str().unwrap()], &envs);
    let line = error_line(&run, &env);
    assert!(line.contains("AADSTS7000215"), "{line}");
    assert!(line.contains("hint: check AZURE_CLIENT_SECRET"), "{line}");
    assert!(!run.stderr.contains("wrong-secret-value"));
    assert_eq!(repo_state(&repo), before);
}

#[test]
fn missing_permission_names_the_graph_permission() {
    let env = TestEnv::demo();
    let before = with_backup(&env);
    env.emulator
        .set_permissions(&["User.Read.All", "Application.Read.All", "Policy.Read.All"]);
    let run = env.backup(&[]);
    let line = error_line(&run, &env);
    assert!(
        line.starts_with("error: cannot read groups: GET /v1.0/groups: "),
        "{line}"
    );
    assert!(
        line.contains("403 Authorization_RequestDenied, request-id "),
        "{line}"
    );
    assert!(
        line.contains("hint: grant the application permission Group.Read.All"),
        "{line}"
    );
    assert_eq!(repo_state(&env.repo()), before);
}

#[test]
fn malformed_graph_response() {
    let env = TestEnv::demo();
    let before = with_backup(&env);
    env.emulator.add_fault(FaultRule {
        path_contains: "/v1.0/applications".into(),
        fault: Fault::TruncatedJson,
        times: u32::MAX,
        skip: 0,
    });
    let run = env.backup(&[]);
    let line = error_line(&run, &env);
    assert!(line.starts_with("error: cannot read applications: GET /v1.0/applications: Graph answered with malformed JSON"), "{line}");
    assert_eq!(repo_state(&env.repo()), before);
}

#[test]
fn paging_loop() {
    let env = TestEnv::demo();
    let before = with_backup(&env);
    env.emulator.add_fault(FaultRule {
        path_contains: "/v1.0/users".into(),
        fault: Fault::NextLinkLoop,
        times: u32::MAX,
        skip: 0,
    });
    let run = env.backup(&[]);
    let line = error_line(&run, &env);
    assert!(
        line.contains("@odata.nextLink leads back to a page already read"),
        "{line}"
    );
    assert_eq!(repo_state(&env.repo()), before);
}

#[test]
fn repo_path_is_a_file() {
    let env = TestEnv::demo();
    let file = env.dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let run = env.idgit(&["backup", "--repo", file.to_str().unwrap()]);
    assert_eq!(
        error_line(&run, &env),
        "error: [TMP]/not-a-dir is a file, not a directory; hint: point --repo at a directory; it is created if it does not exist"
    );
}

#[test]
fn uncommitted_changes_to_backup_files() {
    let env = TestEnv::demo();
    let before = with_backup(&env);
    let users = env.repo().join("users");
    let file = std::fs::read_dir(&users)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&file, "properties: {}\n").unwrap();
    let run = env.backup(&[]);
    let line = error_line(&run, &env);
    assert!(
        line.contains("has uncommitted changes to backup files (users/"),
        "{line}"
    );
    assert!(
        line.ends_with(
            "hint: commit or discard them (git stash, or git checkout -- .) and run again"
        ),
        "{line}"
    );
    assert_eq!(repo_state(&env.repo()), before);
}

#[test]
fn no_credentials() {
    let env = TestEnv::demo();
    let run = env.idgit_with_env(&["backup", "--repo", "backup"], &[]);
    assert_eq!(
        error_line(&run, &env),
        "error: no credentials for Graph: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET not set, and no managed identity endpoint answered at 127.0.0.1:9; hint: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE for an app registration, or IDGIT_ACCESS_TOKEN; `idgit demo` needs none"
    );
}

#[test]
fn unknown_kind() {
    let env = TestEnv::demo();
    let run = env.backup(&["--kinds", "users,people"]);
    let line = error_line(&run, &env);
    assert!(line.starts_with("error: unknown kind \"people\"; hint: use one or more of: named-locations, users, groups"), "{line}");
}

#[test]
fn broken_config_file() {
    let env = TestEnv::demo();
    std::fs::create_dir_all(env.repo()).unwrap();
    std::fs::write(
        env.repo().join("idgit.yaml"),
        "safety:\n  maxShrink: lots\n",
    )
    .unwrap();
    let run = env.backup(&[]);
    let line = error_line(&run, &env);
    assert!(
        line.starts_with("error: [TMP]/backup/idgit.yaml: "),
        "{line}"
    );
    assert!(
        line.contains("maxShrink") || line.contains("invalid type"),
        "{line}"
    );
}

#[test]
fn bad_flag_values_are_refused_by_the_parser() {
    let env = TestEnv::demo();
    let run = env.backup(&["--concurrency", "0"]);
    // Not clap's usual 2, which means "changes found" for idgit.
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("--concurrency"));
}

#[test]
fn repo_inside_a_backup_repository() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let users = env.repo().join("users");
    let run = env.idgit(&["backup", "--repo", users.to_str().unwrap()]);
    let line = error_line(&run, &env);
    assert!(
        line.starts_with("error: [TMP]/backup/users is inside the backup repository [TMP]/backup/"),
        "{line}"
    );
    assert!(line.contains("hint: use --repo [TMP]/backup/"), "{line}");
}

#[test]
fn plain_http_to_another_machine_is_refused() {
    let env = TestEnv::demo();
    let run = env.idgit_with_env(
        &["backup", "--repo", "backup"],
        &[
            ("IDGIT_ACCESS_TOKEN", "t"),
            ("IDGIT_GRAPH_URL", "http://graph.example.com"),
        ],
    );
    let line = error_line(&run, &env);
    assert!(
        line.contains("IDGIT_GRAPH_URL uses plain http to another machine"),
        "{line}"
    );
}

/// The token is asked for the Graph service idgit talks to; a login endpoint that does
/// not know that service refuses it, with the AADSTS code.
#[test]
fn token_for_an_unknown_resource() {
    let env = TestEnv::demo();
    let mut envs = env.credentials();
    for (name, value) in &mut envs {
        if name == "IDGIT_GRAPH_URL" {
            *value = "http://127.0.0.1:9".into();
        }
    }
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = env.idgit_with_env(&["backup", "--repo", "backup"], &envs);
    let line = error_line(&run, &env);
    assert!(
        line.contains(
            "AADSTS500011: The resource principal named http://127.0.0.1:9 was not found"
        ),
        "{line}"
    );
}
