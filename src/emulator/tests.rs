//! End-to-end tests: a real server on 127.0.0.1:0, driven with reqwest.

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;

pub(super) struct Env {
    pub(super) emu: EmulatorHandle,
    pub(super) http: reqwest::Client,
    pub(super) token: String,
}

pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) text: String,
}

impl Reply {
    pub(super) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub(super) fn items(&self) -> Vec<Value> {
        self.json()["value"].as_array().cloned().unwrap_or_default()
    }

    pub(super) fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub(super) async fn env_with(config: EmulatorConfig) -> Env {
    let emu = start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start");
    let http = reqwest::Client::new();
    let reply = token_request(&http, &emu, emu.tenant_id(), &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let token = reply.json()["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    Env { emu, http, token }
}

pub(super) async fn env() -> Env {
    env_with(EmulatorConfig::default()).await
}

/// Posts a client-credentials request; `overrides` replace the correct form fields.
pub(super) async fn token_request(
    http: &reqwest::Client,
    emu: &EmulatorHandle,
    tenant: &str,
    overrides: &[(&str, &str)],
) -> Reply {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", emu.client_id()),
        ("client_secret", emu.client_secret()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    for (k, v) in overrides {
        form.retain(|(name, _)| name != k);
        form.push((k, v));
    }
    let url = format!("{}/{tenant}/oauth2/v2.0/token", emu.base_url());
    send(http.post(url).form(&form)).await
}

pub(super) async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    Reply {
        status,
        headers,
        text,
    }
}

impl Env {
    pub(super) fn url(&self, path: &str) -> String {
        format!("{}/v1.0{path}", self.emu.base_url())
    }

    pub(super) async fn get(&self, path: &str) -> Reply {
        self.get_url(&self.url(path)).await
    }

    pub(super) async fn get_url(&self, url: &str) -> Reply {
        send(self.http.get(url).bearer_auth(&self.token)).await
    }

    /// Follows `@odata.nextLink` to the end; returns every item and the pages' sizes.
    pub(super) async fn get_all(&self, path: &str) -> (Vec<Value>, Vec<usize>) {
        let mut url = self.url(path);
        let mut items = Vec::new();
        let mut sizes = Vec::new();
        loop {
            let reply = self.get_url(&url).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            let page = reply.items();
            sizes.push(page.len());
            items.extend(page);
            match reply.json()["@odata.nextLink"].as_str() {
                Some(next) => url = next.to_string(),
                None => return (items, sizes),
            }
            assert!(sizes.len() < 1000, "paging does not end");
        }
    }

    /// The id of the first object in `path` whose `key` equals `value`.
    pub(super) async fn find(&self, path: &str, key: &str, value: &str) -> String {
        let (items, _) = self.get_all(path).await;
        items
            .iter()
            .find(|o| o[key] == value)
            .and_then(|o| o["id"].as_str())
            .unwrap_or_else(|| panic!("no {key}={value} in {path}"))
            .to_string()
    }
}

pub(super) fn keys(object: &Value) -> Vec<&str> {
    object
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

pub(super) fn status_fault(
    path: &str,
    status: u16,
    retry_after: Option<&str>,
    times: u32,
) -> FaultRule {
    FaultRule {
        path_contains: path.to_string(),
        fault: Fault::Status {
            status,
            retry_after: retry_after.map(String::from),
        },
        times,
        skip: 0,
    }
}

#[tokio::test]
async fn token_endpoint_issues_tokens_for_the_registered_app() {
    let env = env().await;
    let reply = token_request(&env.http, &env.emu, "contoso.onmicrosoft.com", &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    assert!(reply
        .text
        .starts_with(r#"{"token_type":"Bearer","expires_in":3599"#));
    assert_eq!(
        env.emu.request_count(),
        0,
        "token requests are not Graph requests"
    );
}

#[tokio::test]
async fn token_endpoint_rejects_bad_requests_like_entra() {
    let env = env().await;
    let (http, emu) = (&env.http, &env.emu);
    // (tenant, form overrides, status, error, AADSTS code)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16, &'a str, u64);
    let cases: [Case<'_>; 5] = [
        (
            "fabrikam.onmicrosoft.com",
            &[],
            400,
            "invalid_request",
            90002,
        ),
        (
            emu.tenant_id(),
            &[("client_id", "11111111-1111-1111-1111-111111111111")],
            400,
            "unauthorized_client",
            700016,
        ),
        (
            emu.tenant_id(),
            &[("client_secret", "wrong")],
            401,
            "invalid_client",
            7000215,
        ),
        (
            emu.tenant_id(),
            &[("scope", "https://graph.microsoft.com/User.Read")],
            400,
            "invalid_scope",
            70011,
        ),
        (
            emu.tenant_id(),
            &[("grant_type", "password")],
            400,
            "unsupported_grant_type",
            70003,
        ),
    ];
    for (tenant, overrides, status, error, code) in cases {
        let reply = token_request(http, emu, tenant, overrides).await;
        assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
        let body = reply.json();
        assert_eq!(body["error"], error);
        assert_eq!(body["error_codes"], json!([code]));
        let description = body["error_description"].as_str().unwrap_or_default();
        assert!(
            description.starts_with(&format!("AADSTS{code}: ")),
            "{description}"
        );
        assert!(
            description.contains("\r\nTrace ID: ") && description.contains("\r\nCorrelation ID: ")
        );
        assert!(description.contains("\r\nTimestamp: "));
        for field in ["timestamp", "trace_id", "correlation_id"] {
            assert!(body[field].is_string(), "{field}");
        }
    }
    let wrong = token_request(http, emu, emu.tenant_id(), &[("client_secret", "wrong")]).await;
    assert!(wrong.json()["error_description"].as_str().unwrap_or_default().starts_with(
        "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID"
    ));
}

#[tokio::test]
async fn graph_requires_a_token_from_this_emulator() {
    let env = env().await;
    let anonymous = send(env.http.get(env.url("/users"))).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.error_code(), "InvalidAuthenticationToken");
    let forged = send(
        env.http
            .get(env.url("/users"))
            .bearer_auth("eyJhbGciOi.forged.token"),
    )
    .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(env.get("/users").await.status, StatusCode::OK);
    assert_eq!(env.emu.request_count(), 3);
}

#[tokio::test]
async fn errors_have_graph_shape_and_request_ids() {
    let env = env().await;
    let reply = send(
        env.http
            .get(env.url("/widgets"))
            .bearer_auth(&env.token)
            .header("client-request-id", "7b0c3c6e-0000-4000-8000-000000000001"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let body = reply.json();
    assert_eq!(keys(&body), ["error"]);
    assert_eq!(
        body["error"]["message"],
        "Resource not found for the segment 'widgets'."
    );
    let inner = &body["error"]["innerError"];
    assert_eq!(
        inner["client-request-id"],
        "7b0c3c6e-0000-4000-8000-000000000001"
    );
    assert_eq!(
        reply.header("client-request-id"),
        Some("7b0c3c6e-0000-4000-8000-000000000001")
    );
    assert_eq!(inner["request-id"].as_str(), reply.header("request-id"));
    assert!(inner["date"].is_string());
    // Keys in Graph's order: code, message, innerError{date, request-id, client-request-id}.
    assert!(reply
        .text
        .starts_with(r#"{"error":{"code":"BadRequest","message":"#));
    assert!(reply.text.contains(r#""innerError":{"date":"#));

    let ok = env.get("/users?$top=1").await;
    assert!(ok.header("request-id").is_some() && ok.header("client-request-id").is_some());
    assert_eq!(env.get("/users").await.status, StatusCode::OK);
    let put = send(env.http.put(env.url("/users")).bearer_auth(&env.token)).await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    let post = send(env.http.post(env.url("/users")).bearer_auth(&env.token)).await;
    assert_eq!(post.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        post.json()["error"]["message"],
        "Empty Payload. JSON content expected."
    );
}

#[tokio::test]
async fn pages_are_capped_by_the_server_and_linked_until_the_end() {
    let env = env_with(EmulatorConfig {
        max_page_size: 10,
        ..EmulatorConfig::default()
    })
    .await;
    let first = env.get("/users?$select=id,displayName&$top=50").await;
    let body = first.json();
    assert_eq!(first.items().len(), 10, "server caps $top");
    let next = body["@odata.nextLink"].as_str().expect("nextLink");
    assert!(next.starts_with(&format!(
        "{}/v1.0/users?$select=id,displayName&$top=50&$skiptoken=",
        env.emu.base_url()
    )));
    let last_id = first.items()[9]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!next.contains(&last_id), "skiptoken must be opaque");

    let (items, sizes) = env.get_all("/users?$select=id,displayName&$top=50").await;
    assert_eq!(sizes, [10, 10, 10, 10, 10, 10, 5]);
    let ids: Vec<&str> = items.iter().filter_map(|u| u["id"].as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(ids, sorted, "ordered by id, no repeats");

    let (_, sizes) = env.get_all("/users?$top=7").await;
    assert_eq!(sizes, [7, 7, 7, 7, 7, 7, 7, 7, 7, 2]);
    let (_, sizes) = env.get_all("/groups").await;
    assert_eq!(sizes, [8], "a single page has no nextLink");
}

#[tokio::test]
async fn paging_options_are_validated() {
    let env = env().await;
    for (path, status, code) in [
        ("/users?$top=1000", 400, "Request_BadRequest"),
        ("/users?$top=0", 400, "Request_BadRequest"),
        ("/users?$skip=5", 400, "Request_BadRequest"),
        ("/groups?$skip=5", 400, "Request_BadRequest"),
        ("/users?$skiptoken=MTIz", 400, "Directory_ExpiredPageToken"),
        ("/users?$count=true", 400, "Request_BadRequest"),
        (
            "/users?$filter=startswith(displayName,'A')",
            501,
            "NotImplemented",
        ),
    ] {
        let reply = env.get(path).await;
        assert_eq!(reply.status.as_u16(), status, "{path}: {}", reply.text);
        assert_eq!(reply.error_code(), code, "{path}");
    }
    assert_eq!(
        env.get("/identity/conditionalAccess/namedLocations?$skip=1")
            .await
            .items()
            .len(),
        2
    );
    let counted = send(
        env.http
            .get(env.url("/users?$count=true&$top=5"))
            .bearer_auth(&env.token)
            .header("ConsistencyLevel", "eventual"),
    )
    .await;
    assert_eq!(counted.json()["@odata.count"], 65);
}

#[tokio::test]
async fn select_returns_exactly_the_selected_properties() {
    let env = env().await;
    let reply = env.get("/users?$select=displayName,GivenName").await;
    let body = reply.json();
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/v1.0/$metadata#users(displayName,givenName)",
            env.emu.base_url()
        )
    );
    for user in reply.items() {
        assert_eq!(
            keys(&user),
            ["displayName", "givenName"],
            "no id unless selected"
        );
    }
    let unknown = env.get("/users?$select=displayName,shoeSize").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.error_code(), "Request_BadRequest");
    assert_eq!(
        unknown.json()["error"]["message"],
        "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'."
    );
    let skills = env.get("/users?$select=id,skills").await;
    assert_eq!(skills.status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(skills.error_code(), "NotImplemented");
    assert_eq!(
        skills.json()["error"]["message"],
        "This operation target is not yet supported."
    );

    let id = reply.items().len();
    assert_eq!(id, 65);
    let bg = env
        .find(
            "/users?$select=id,userPrincipalName",
            "userPrincipalName",
            "bg01@contoso.onmicrosoft.com",
        )
        .await;
    let single = env
        .get(&format!("/users/{bg}?$select=skills,postalCode"))
        .await;
    assert_eq!(single.status, StatusCode::OK, "{}", single.text);
    assert_eq!(
        single.text,
        format!(
            r#"{{"@odata.context":"{}/v1.0/$metadata#users(skills,postalCode)/$entity","postalCode":null,"skills":[]}}"#,
            env.emu.base_url()
        )
    );
}

#[tokio::test]
async fn default_property_sets_match_graph() {
    let env = env().await;
    for user in env.get("/users").await.items() {
        assert_eq!(
            keys(&user).len(),
            render::USER_DEFAULT.len(),
            "users without $select: {:?}",
            keys(&user)
        );
        assert!(user.get("@odata.type").is_none());
    }
    let groups = env.get("/groups").await.items();
    for group in &groups {
        assert_eq!(keys(group).len(), render::GROUP_DEFAULT.len());
        for hidden in [
            "allowExternalSenders",
            "autoSubscribeNewMembers",
            "hideFromAddressLists",
            "hideFromOutlookClients",
            "isSubscribedByMail",
            "unseenCount",
        ] {
            assert!(group.get(hidden).is_none(), "{hidden}");
        }
    }
    let outlook = env
        .get("/groups?$select=displayName,hideFromOutlookClients")
        .await
        .items();
    assert!(outlook.iter().any(|g| g["hideFromOutlookClients"] == false));

    let apps = env.get("/applications").await.items();
    let tracker = apps
        .iter()
        .find(|a| a["displayName"] == "Launch Tracker")
        .expect("tracker");
    assert!(tracker["keyCredentials"][0]["key"].is_null());
    assert!(tracker["keyCredentials"][0]["keyId"].is_string());
    assert!(tracker["notes"].is_null() && tracker["web"]["logoutUrl"].is_null());
    let with_keys = env
        .get("/applications?$select=displayName,keyCredentials")
        .await
        .items();
    let tracker = with_keys
        .iter()
        .find(|a| a["displayName"] == "Launch Tracker")
        .expect("tracker");
    assert!(tracker["keyCredentials"][0]["key"]
        .as_str()
        .is_some_and(|k| k.len() > 100));

    // Every declared property of the type, set or not.
    let sps = env.get("/servicePrincipals").await.items();
    let declared = schema::schema()
        .get("servicePrincipal")
        .map_or(0, |t| t.properties.len());
    assert!(sps.iter().all(|sp| keys(sp).len() == declared));
    let hr = env
        .get("/applications?$select=displayName,passwordCredentials")
        .await
        .items();
    let secret = hr
        .iter()
        .find_map(|a| a["passwordCredentials"].get(0).cloned())
        .expect("secret");
    assert!(secret["hint"].is_string() && secret["secretText"].is_null());
}

#[tokio::test]
async fn throttling_faults_with_and_without_retry_after() {
    let env = env().await;
    env.emu
        .add_fault(status_fault("/v1.0/users", 429, Some("0.05"), 1));
    let throttled = env.get("/users").await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.header("retry-after"), Some("0.05"));
    let error = &throttled.json()["error"];
    assert_eq!(error["code"], "TooManyRequests");
    assert_eq!(error["message"], "Please retry again later.");
    assert_eq!(error["innerError"]["status"], "429");
    assert_eq!(
        env.get("/users").await.status,
        StatusCode::OK,
        "rule spent after one use"
    );

    env.emu
        .add_fault(status_fault("/v1.0/groups", 429, None, 1));
    let bare = env.get("/groups").await;
    assert_eq!(bare.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(bare.header("retry-after"), None);

    env.emu
        .add_fault(status_fault("", 429, Some("2"), u32::MAX));
    let ca = env.get("/identity/conditionalAccess/policies").await;
    assert_eq!(ca.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(ca.header("retry-after"), None, "CA never sends Retry-After");
    assert_eq!(
        env.get("/applications").await.header("retry-after"),
        Some("2")
    );
    env.emu.clear_faults();
    assert_eq!(env.get("/applications").await.status, StatusCode::OK);
}

#[tokio::test]
async fn server_error_and_broken_response_faults() {
    let env = env().await;
    env.emu.add_fault(FaultRule {
        skip: 1,
        ..status_fault("/groups", 503, Some("1"), 1)
    });
    assert_eq!(env.get("/groups").await.status, StatusCode::OK, "skipped");
    let unavailable = env.get("/groups").await;
    assert_eq!(unavailable.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(unavailable.error_code(), "ServiceUnavailable");
    assert_eq!(unavailable.header("retry-after"), Some("1"));
    for (status, code) in [
        (500, "generalException"),
        (504, "GatewayTimeout"),
        (403, "Authorization_RequestDenied"),
    ] {
        env.emu.add_fault(status_fault("/groups", status, None, 1));
        let reply = env.get("/groups").await;
        assert_eq!(
            (reply.status.as_u16(), reply.error_code().as_str()),
            (status, code)
        );
    }

    let rule = |fault| FaultRule {
        path_contains: "/users".into(),
        fault,
        times: 1,
        skip: 0,
    };
    env.emu.add_fault(rule(Fault::TruncatedJson));
    let cut = env.get("/users").await;
    assert_eq!(cut.status, StatusCode::OK);
    assert!(cut
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    assert!(serde_json::from_str::<Value>(&cut.text).is_err());

    env.emu.add_fault(rule(Fault::NextLinkLoop));
    let url = env.url("/users?$top=5");
    let looped = env.get_url(&url).await;
    assert_eq!(looped.json()["@odata.nextLink"], url.as_str());

    env.emu
        .add_fault(rule(Fault::Delay(Duration::from_millis(150))));
    let started = Instant::now();
    assert_eq!(env.get("/users").await.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn missing_permissions_give_403() {
    let env = env().await;
    env.emu.set_permissions(&["User.Read.All"]);
    let denied = env.get("/groups").await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(denied.error_code(), "Authorization_RequestDenied");
    assert_eq!(
        denied.json()["error"]["message"],
        "Insufficient privileges to complete the operation."
    );
    assert_eq!(env.get("/users").await.status, StatusCode::OK);
    assert_eq!(
        env.get("/users?$select=id,signInActivity").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        env.get("/identity/conditionalAccess/policies").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        env.get("/policies/authorizationPolicy").await.status,
        StatusCode::FORBIDDEN
    );

    env.emu
        .set_permissions(&["Directory.ReadWrite.All", "Policy.Read.All"]);
    for path in [
        "/groups",
        "/applications",
        "/servicePrincipals",
        "/identity/conditionalAccess/namedLocations",
    ] {
        assert_eq!(env.get(path).await.status, StatusCode::OK, "{path}");
    }
    env.emu.set_permissions(&["GroupMember.Read.All"]);
    assert_eq!(env.get("/groups").await.status, StatusCode::OK);
}

#[tokio::test]
async fn relationships_are_typed_directory_objects() {
    let env = env().await;
    let oncall = env
        .find(
            "/groups?$select=id,displayName",
            "displayName",
            "Ops: on-call",
        )
        .await;
    let members = env.get(&format!("/groups/{oncall}/members")).await;
    assert_eq!(
        members.json()["@odata.context"],
        format!("{}/v1.0/$metadata#directoryObjects", env.emu.base_url())
    );
    let types: Vec<String> = members
        .items()
        .iter()
        .map(|m| m["@odata.type"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        types.contains(&"#microsoft.graph.group".to_string()),
        "nested group: {types:?}"
    );
    assert!(types.contains(&"#microsoft.graph.user".to_string()));

    let platform = env
        .find(
            "/groups?$select=id,displayName",
            "displayName",
            "Platform Engineers",
        )
        .await;
    let (ids_only, sizes) = env
        .get_all(&format!("/groups/{platform}/members?$select=id&$top=2"))
        .await;
    assert_eq!(sizes, [2, 2, 1]);
    assert!(ids_only.iter().all(|m| keys(m) == ["@odata.type", "id"]));
    assert!(ids_only
        .iter()
        .any(|m| m["@odata.type"] == "#microsoft.graph.servicePrincipal"));

    let owners = env.get(&format!("/groups/{platform}/owners")).await.items();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0]["@odata.type"], "#microsoft.graph.user");
    assert_eq!(keys(&owners[0]).len(), render::USER_DEFAULT.len() + 1);

    let missing = env
        .get("/groups/0d6b1a2e-9c4b-4c7e-8f51-3a1b2c3d4e5f/members")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json()["error"]["message"],
        "Resource '0d6b1a2e-9c4b-4c7e-8f51-3a1b2c3d4e5f' does not exist or one of its queried reference-property objects are not present."
    );
    for app in env.get("/applications?$select=id").await.items() {
        let id = app["id"].as_str().unwrap_or_default();
        assert!(!env
            .get(&format!("/applications/{id}/owners"))
            .await
            .items()
            .is_empty());
    }
}

#[tokio::test]
async fn app_role_assignments_list_principals() {
    let env = env().await;
    let graph = env
        .find(
            "/servicePrincipals?$select=id,appId",
            "appId",
            "00000003-0000-0000-c000-000000000000",
        )
        .await;
    let assignments = env
        .get(&format!("/servicePrincipals/{graph}/appRoleAssignedTo"))
        .await
        .items();
    assert_eq!(assignments.len(), 6);
    for a in &assignments {
        for field in [
            "id",
            "appRoleId",
            "createdDateTime",
            "principalDisplayName",
            "principalId",
            "principalType",
            "resourceDisplayName",
            "resourceId",
        ] {
            assert!(a[field].is_string(), "{field} in {a}");
        }
        assert!(a["deletedDateTime"].is_null() && a.get("@odata.type").is_none());
        assert!(uuid::Uuid::parse_str(a["id"].as_str().unwrap_or_default()).is_err());
        assert_eq!(a["resourceId"], graph.as_str());
    }
    let hr = env
        .find(
            "/servicePrincipals?$select=id,displayName",
            "displayName",
            "Contoso HR Portal",
        )
        .await;
    let kinds: Vec<Value> = env
        .get(&format!(
            "/servicePrincipals/{hr}/appRoleAssignedTo?$select=principalType"
        ))
        .await
        .items();
    assert!(
        kinds.contains(&json!({"principalType": "User"}))
            && kinds.contains(&json!({"principalType": "Group"}))
    );
}

#[tokio::test]
async fn singleton_policies() {
    let env = env().await;
    let methods = env.get("/policies/authenticationMethodsPolicy").await;
    assert_eq!(methods.status, StatusCode::OK);
    let body = methods.json();
    assert_eq!(body["id"], "authenticationMethodsPolicy");
    let configs = body["authenticationMethodConfigurations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(configs.len(), 6);
    assert!(configs.iter().all(|c| c["@odata.type"]
        .as_str()
        .is_some_and(|t| t.starts_with("#microsoft.graph."))));
    assert!(configs
        .iter()
        .any(|c| c["includeTargets"][0]["id"] == "all_users"));
    assert_eq!(
        env.get("/policies/authenticationMethodsPolicy?$select=id")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let authz = env.get("/policies/authorizationPolicy").await;
    let body = authz.json();
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/v1.0/$metadata#policies/authorizationPolicy/$entity",
            env.emu.base_url()
        )
    );
    assert_eq!(body["id"], "authorizationPolicy");
    assert!(body.get("value").is_none());
    assert_eq!(
        body["defaultUserRolePermissions"]["allowedToCreateApps"],
        false
    );
}

#[tokio::test]
async fn conditional_access_and_named_locations() {
    let env = env().await;
    let locations = env
        .get("/identity/conditionalAccess/namedLocations")
        .await
        .items();
    assert_eq!(locations.len(), 3);
    for location in &locations {
        assert_eq!(keys(location)[0], "@odata.type");
        for range in location["ipRanges"].as_array().into_iter().flatten() {
            assert!(
                range["@odata.type"] == "#microsoft.graph.iPv4CidrRange"
                    || range["@odata.type"] == "#microsoft.graph.iPv6CidrRange"
            );
        }
    }
    let country = locations
        .iter()
        .find(|l| l["@odata.type"] == "#microsoft.graph.countryNamedLocation")
        .expect("country");
    assert!(country["countriesAndRegions"]
        .as_array()
        .is_some_and(|c| c.len() == 4));
    assert!(country.get("ipRanges").is_none());

    let policies = env.get("/identity/conditionalAccess/policies").await;
    assert!(policies.json()["@odata.context"]
        .as_str()
        .is_some_and(|c| c.ends_with("#identity/conditionalAccess/policies")));
    let policies = policies.items();
    assert_eq!(policies.len(), 5);
    let states: Vec<&str> = policies
        .iter()
        .filter_map(|p| p["state"].as_str())
        .collect();
    for state in ["enabled", "disabled", "enabledForReportingButNotEnforced"] {
        assert!(states.contains(&state));
    }
    let text = serde_json::to_string(&policies).unwrap_or_default();
    for magic in [
        "\"All\"",
        "\"None\"",
        "\"GuestsOrExternalUsers\"",
        "\"AllTrusted\"",
        "\"Office365\"",
        "62e90394-69f5-4237-9190-012177145e10",
    ] {
        assert!(text.contains(magic), "{magic}");
    }
    // Unset complex values come back null, unset collections [].
    let any = &policies[0];
    assert!(any.get("@odata.type").is_none());
    assert!(
        any["conditions"]["users"]["includeGuestsOrExternalUsers"].is_null()
            || any["conditions"]["users"]["includeGuestsOrExternalUsers"].is_object()
    );
    assert!(any["conditions"]["signInRiskLevels"].is_array());
}

#[tokio::test]
async fn single_objects_and_lookup_errors() {
    let env = env().await;
    let users = env.get("/users?$select=id,userPrincipalName").await.items();
    let id = users[0]["id"].as_str().unwrap_or_default();
    let single = env.get(&format!("/users/{}", id.to_uppercase())).await;
    assert_eq!(single.status, StatusCode::OK);
    assert_eq!(
        single.json()["@odata.context"],
        format!("{}/v1.0/$metadata#users/$entity", env.emu.base_url())
    );
    let by_upn = env
        .get("/users/siobhan.obrien@contoso.com?$select=surname")
        .await;
    assert_eq!(by_upn.json()["surname"], "O'Brien");

    let bad_id = env.get("/groups/not-a-guid").await;
    assert_eq!(
        (bad_id.status, bad_id.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "Request_BadRequest")
    );
    let gone = env
        .get("/groups/0d6b1a2e-9c4b-4c7e-8f51-3a1b2c3d4e5f")
        .await;
    assert_eq!(
        (gone.status, gone.error_code().as_str()),
        (StatusCode::NOT_FOUND, "Request_ResourceNotFound")
    );
    assert_eq!(
        env.get("/users/nobody@contoso.com").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        env.get("/users/x/manager").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        env.get(&format!("/users/{id}?$top=1")).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn tests_can_change_the_tenant_directly() {
    let env = env().await;
    let id = "0d6b1a2e-9c4b-4c7e-8f51-3a1b2c3d4e5f";
    let tenant = env.emu.tenant();
    tenant.lock().expect("lock").insert(
        "groups",
        json!({"id": id, "displayName": "Added", "groupTypes": []}),
    );
    let added = env.get(&format!("/groups/{id}")).await.json();
    assert_eq!(added["displayName"], "Added");
    assert!(
        added["mailEnabled"].is_null(),
        "unset properties are served as null"
    );
    tenant.lock().expect("lock").remove("groups", id);
    assert_eq!(
        env.get(&format!("/groups/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn demo_seed_carries_the_tricky_strings() {
    let env = env().await;
    let all = [
        env.get("/users?$select=displayName,surname,employeeId,postalCode,officeLocation,department,jobTitle,city,companyName,streetAddress,onPremisesExtensionAttributes").await.text,
        env.get("/groups?$select=displayName,description").await.text,
        env.get("/applications?$select=notes").await.text,
    ]
    .concat();
    for needle in [
        "🚀 Launch Team",
        "O'Brien",
        r#"\"Quoted\" Name"#,
        "Ops: on-call",
        r#""007""#,
        r#""01234""#,
        r#""yes""#,
        r#""no""#,
        r#""on""#,
        r#""off""#,
        r#""null""#,
        r#""~""#,
        r#""1e3""#,
        r#""0x1F""#,
        r#""12:30""#,
        r#""2024-01-01""#,
        r#""true""#,
        r#""Engineer ""#,
        r#"" Redmond""#,
        "#hashtag",
        "Zoë",
        "日本語",
        r#"\t"#,
        r#""companyName":"""#,
        r#"\n""#,
        r#"\n  "#,
    ] {
        assert!(all.contains(needle), "demo lacks {needle}");
    }
}

#[tokio::test]
async fn same_seed_gives_identical_bytes() {
    let a = env().await;
    let b = env().await;
    for path in [
        "/users?$top=3",
        "/groups",
        "/servicePrincipals",
        "/identity/conditionalAccess/policies",
        "/policies/authenticationMethodsPolicy",
    ] {
        let (ra, rb) = (a.get(path).await.text, b.get(path).await.text);
        let (na, nb) = (
            ra.replace(a.emu.base_url(), ""),
            rb.replace(b.emu.base_url(), ""),
        );
        assert_eq!(na, nb, "{path}");
    }
}

#[tokio::test]
async fn large_seed_scales_with_users() {
    let env = env_with(EmulatorConfig {
        seed: Seed::Large { users: 600 },
        ..EmulatorConfig::default()
    })
    .await;
    let (users, sizes) = env.get_all("/users?$select=id").await;
    assert_eq!((users.len(), sizes.len()), (600, 6));
    let (groups, _) = env.get_all("/groups?$select=id").await;
    assert_eq!(groups.len(), 120);
    assert_eq!(
        env.get("/identity/conditionalAccess/policies")
            .await
            .items()
            .len(),
        5
    );
    let group = groups[0]["id"].as_str().unwrap_or_default();
    let (members, _) = env
        .get_all(&format!("/groups/{group}/members?$select=id"))
        .await;
    assert!((10..=40).contains(&members.len()));
}

#[tokio::test]
async fn seed_names_parse() {
    assert_eq!("demo".parse::<Seed>().ok(), Some(Seed::Demo));
    assert_eq!("Empty".parse::<Seed>().ok(), Some(Seed::Empty));
    assert_eq!(
        "large".parse::<Seed>().ok(),
        Some(Seed::Large { users: 1000 })
    );
    assert_eq!(
        "large:50".parse::<Seed>().ok(),
        Some(Seed::Large { users: 50 })
    );
    assert!("huge".parse::<Seed>().is_err());
    let env = env_with(EmulatorConfig {
        seed: Seed::Empty,
        ..EmulatorConfig::default()
    })
    .await;
    assert!(env.get("/users").await.items().is_empty());
    assert_eq!(
        env.get("/policies/authorizationPolicy").await.status,
        StatusCode::OK
    );
    let vars = demo_credentials_env(&env.emu);
    assert!(vars.contains(&(
        "IDGIT_GRAPH_URL".to_string(),
        env.emu.base_url().to_string()
    )));
    assert_eq!(vars.len(), 5);
    env.emu.shutdown().await;
}
