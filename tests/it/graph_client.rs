//! The Graph client against `wiremock`, a server the project did not write: the exact
//! requests it sends, which statuses it retries, and what its errors say.

use std::time::{Duration, Instant};

use idgit::graph::{ClientOptions, Credential, ErrorKind, GraphClient, Secret};
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn client(server: &MockServer, credential: Credential) -> GraphClient {
    let options = ClientOptions {
        graph_url: server.uri(),
        backoff_base: Duration::from_millis(10),
        max_attempts: 4,
        ..ClientOptions::default()
    };
    GraphClient::new(options, credential).unwrap()
}

fn token() -> Credential {
    Credential::AccessToken(Secret::new("test-token"))
}

#[test]
fn next_links_are_followed_exactly_as_given() {
    runtime().block_on(async {
        let server = MockServer::start().await;
        // Graph's skiptokens are opaque and percent-encoded; the client must not rebuild them.
        let next = format!(
            "{}/v1.0/users?$select=id&$skiptoken=X%274453707402000100000017%27",
            server.uri()
        );
        Mock::given(method("GET"))
            .and(path("/v1.0/users"))
            .and(query_param("$top", "999"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id)",
                "value": [{"id": "1"}],
                "@odata.nextLink": next,
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1.0/users"))
            .and(query_param("$skiptoken", "X'4453707402000100000017'"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [{"id": "2"}]})))
            .mount(&server)
            .await;
        let items = client(&server, token())
            .get_all("/users?$select=id&$top=999")
            .await
            .unwrap();
        assert_eq!(items, vec![json!({"id": "1"}), json!({"id": "2"})]);
        let requests = server.received_requests().await.unwrap();
        let sent = format!(
            "{}?{}",
            requests[1].url.path(),
            requests[1].url.query().unwrap_or_default()
        );
        assert_eq!(sent, next.trim_start_matches(&server.uri()));
        assert_eq!(
            requests[0].headers.get("authorization").unwrap(),
            "Bearer test-token"
        );
    });
}

#[test]
fn throttling_honours_fractional_retry_after() {
    runtime().block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v1.0/groups"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "0.3")
                    .set_body_json(json!({"error": {"code": "TooManyRequests", "message": "Please retry again later."}})),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1.0/groups"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
            .mount(&server)
            .await;
        let started = Instant::now();
        let page = client(&server, token()).get_page("/groups").await.unwrap();
        assert!(page.items.is_empty());
        // A lower bound only: the client may wait longer on a busy machine, never less.
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    });
}

#[test]
fn which_statuses_are_retried() {
    runtime().block_on(async {
        for (status, retried) in [
            (429, true),
            (503, true),
            (504, true),
            (500, true),
            (400, false),
            (403, false),
            (404, false),
        ] {
            let server = MockServer::start().await;
            Mock::given(method("GET"))
                .respond_with(
                    ResponseTemplate::new(status)
                        .set_body_json(json!({"error": {"code": "X", "message": "m"}})),
                )
                .mount(&server)
                .await;
            let error = client(&server, token())
                .get_json("/users")
                .await
                .unwrap_err();
            let attempts = server.received_requests().await.unwrap().len();
            assert_eq!(attempts, if retried { 4 } else { 1 }, "status {status}");
            assert_eq!(error.status, Some(status));
        }
    });
}

#[test]
fn errors_carry_code_and_request_id() {
    runtime().block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(403).insert_header("request-id", "abc-123").set_body_json(json!({
                "error": {
                    "code": "Authorization_RequestDenied",
                    "message": "Insufficient privileges to complete the operation.",
                    "innerError": {"date": "2026-11-28T10:00:00", "request-id": "abc-123", "client-request-id": "abc-123"}
                }
            })))
            .mount(&server)
            .await;
        let error = client(&server, token()).get_json("/groups?$select=id").await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::Forbidden);
        assert_eq!(
            error.to_string(),
            "GET /v1.0/groups: Insufficient privileges to complete the operation. (403 Authorization_RequestDenied, request-id abc-123)"
        );
    });
}

#[test]
fn client_secret_is_exchanged_and_renewed_when_graph_refuses_the_token() {
    runtime().block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/contoso.onmicrosoft.com/oauth2/v2.0/token"))
            .and(body_string_contains("grant_type=client_credentials"))
            .and(body_string_contains("client_id=app-id"))
            .and(body_string_contains("client_secret=s3cr%26t"))
            .and(body_string_contains(format!("scope={}", urlencoded(&format!("{}/.default", server.uri())))))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "token_type": "Bearer", "expires_in": 3599, "access_token": "issued-token"
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1.0/policies/authorizationPolicy"))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired."}})))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1.0/policies/authorizationPolicy"))
            .and(header("authorization", "Bearer issued-token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "authorizationPolicy"})))
            .mount(&server)
            .await;
        let credential = Credential::ClientSecret {
            authority_host: server.uri(),
            tenant_id: "contoso.onmicrosoft.com".into(),
            client_id: "app-id".into(),
            secret: Secret::new("s3cr&t"),
        };
        let policy = client(&server, credential).get_json("/policies/authorizationPolicy").await.unwrap();
        assert_eq!(policy["id"], "authorizationPolicy");
        let token_requests = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path().ends_with("/token"))
            .count();
        assert_eq!(token_requests, 2, "a refused token is replaced once");
    });
}

#[test]
fn token_endpoint_errors_show_the_aadsts_line_and_never_the_secret() {
    runtime().block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({
                "error": "invalid_request",
                "error_description": "AADSTS90002: Tenant 'nope' not found. Check to make sure you have the correct tenant ID.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 2026-11-28 10:00:00Z",
                "error_codes": [90002]
            })))
            .mount(&server)
            .await;
        let credential = Credential::ClientSecret {
            authority_host: server.uri(),
            tenant_id: "nope".into(),
            client_id: "app-id".into(),
            secret: Secret::new("top-secret-value"),
        };
        let error = client(&server, credential).sign_in().await.unwrap_err();
        let text = format!("{error} {error:?} {}", error.hint().unwrap());
        assert!(text.contains("AADSTS90002: Tenant 'nope' not found."), "{text}");
        assert!(!text.contains("Trace ID"));
        assert!(!text.contains("top-secret-value"));
        assert!(error.hint().unwrap().contains("AZURE_TENANT_ID"));
    });
}

fn urlencoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
