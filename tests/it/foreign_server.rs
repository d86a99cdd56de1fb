//! `idgit backup` end to end against servers the project did not write: a `wiremock`
//! server answering with Microsoft's documented sample responses, and the standalone
//! `idgit emulator` process reached only through the documented settings.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{pin_git_environment, tree_files};

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/graph")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn page(items: Vec<Value>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "value": items }))
}

async fn mount(server: &MockServer, route: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(response)
        .mount(server)
        .await;
}

async fn mount_relationships(server: &MockServer, collection: &str, fixture: &Value) {
    let id = fixture["object"]["id"].as_str().unwrap();
    let relationships = fixture["relationships"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (name, items) in relationships {
        let route = format!("/v1.0/{collection}/{id}/{name}");
        mount(
            server,
            &route,
            page(items.as_array().cloned().unwrap_or_default()),
        )
        .await;
    }
    // Every other relationship of every object is empty.
    Mock::given(method("GET"))
        .and(path_regex(format!("^/v1.0/{collection}/[^/]+/[A-Za-z]+$")))
        .respond_with(page(vec![]))
        .mount(server)
        .await;
}

#[test]
fn backup_of_documented_graph_responses_served_by_wiremock() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/contoso.onmicrosoft.com/oauth2/v2.0/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "doc-token"
            })))
            .mount(&server)
            .await;
        let single = |name: &str| vec![fixture(name)["object"].clone()];
        // Relationship routes first: wiremock picks the first mounted match.
        mount_relationships(&server, "groups", &fixture("groups.json")).await;
        mount_relationships(&server, "applications", &fixture("applications.json")).await;
        mount_relationships(&server, "servicePrincipals", &fixture("service-principals.json")).await;
        mount(&server, "/v1.0/users", page(single("users.json"))).await;
        mount(&server, "/v1.0/groups", page(single("groups.json"))).await;
        mount(&server, "/v1.0/applications", page(single("applications.json"))).await;
        mount(&server, "/v1.0/servicePrincipals", page(single("service-principals.json"))).await;
        mount(&server, "/v1.0/identity/conditionalAccess/policies", page(single("conditional-access-policies.json")))
            .await;
        let locations = [fixture("named-locations.json"), fixture("named-locations-country.json")];
        mount(
            &server,
            "/v1.0/identity/conditionalAccess/namedLocations",
            page(locations.iter().map(|f| f["object"].clone()).collect()),
        )
        .await;
        let singleton = |name: &str| ResponseTemplate::new(200).set_body_json(fixture(name)["object"].clone());
        mount(&server, "/v1.0/policies/authenticationMethodsPolicy", singleton("authentication-methods-policy.json"))
            .await;
        mount(&server, "/v1.0/policies/authorizationPolicy", singleton("authorization-policy.json")).await;
        server
    });

    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("backup");
    let mut command = Command::new(env!("CARGO_BIN_EXE_idgit"));
    command
        .args(["backup", "--repo", repo.to_str().unwrap()])
        .env_remove("IDGIT_ACCESS_TOKEN")
        .env("AZURE_TENANT_ID", "contoso.onmicrosoft.com")
        .env("AZURE_CLIENT_ID", "00000000-0000-0000-0000-0000000000aa")
        .env("AZURE_CLIENT_SECRET", "doc-secret")
        .env("AZURE_AUTHORITY_HOST", server.uri())
        .env("IDGIT_GRAPH_URL", server.uri());
    pin_git_environment(&mut command, dir.path());
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Each file is exactly what the per-kind snapshot shows for the same documented response.
    let files = tree_files(&git2::Repository::open(&repo).unwrap());
    let snapshots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots");
    let mut expected = BTreeMap::new();
    for entry in std::fs::read_dir(snapshots).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("it__kinds__") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let body = text.splitn(3, "---\n").nth(2).unwrap();
        let (header, yaml) = body.split_once('\n').unwrap();
        expected.insert(
            header.trim_start_matches("# ").to_string(),
            format!("{}\n", yaml.trim_end()),
        );
    }
    assert_eq!(expected.len(), 9);
    for (path, yaml) in &expected {
        assert_eq!(files.get(path), Some(yaml), "{path}");
    }
    assert_eq!(
        files.len(),
        expected.len() + 1 + idgit::catalog::KINDS.len(),
        "plus idgit.yaml and the schemas: {:?}",
        files.keys()
    );
}

#[test]
fn backup_against_the_standalone_emulator_process() {
    let mut emulator = Command::new(env!("CARGO_BIN_EXE_idgit"))
        .args(["emulator", "--listen", "127.0.0.1:0", "--seed", "demo"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = emulator.stdout.take().unwrap();
    let envs = idgit::commands::emulator::read_printed_env(std::io::BufReader::new(stdout));
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("backup");
    let backup = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_idgit"));
        command
            .args(["backup", "--repo", repo.to_str().unwrap()])
            .env_remove("IDGIT_ACCESS_TOKEN");
        command.envs(envs.iter().map(|(k, v)| (k, v)));
        pin_git_environment(&mut command, dir.path());
        command.output().unwrap()
    };
    let first = backup();
    let second = backup();
    let _ = emulator.kill();
    let _ = emulator.wait();
    assert_eq!(envs.len(), 5, "{envs:?}");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(String::from_utf8_lossy(&second.stdout).contains("No changes since the last backup"));
    assert!(tree_files(&git2::Repository::open(&repo).unwrap()).len() > 50);
}
