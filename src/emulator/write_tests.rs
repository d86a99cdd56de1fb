//! End-to-end tests of the write routes: a real server, driven over HTTP.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::tests::{env, env_with, keys, send, status_fault, Env, Reply};
use super::validate::Resource;
use super::*;

const GRAPH: &str = "https://graph.microsoft.com/v1.0";
const NOBODY: &str = "0d6b1a2e-9c4b-4c7e-8f51-3a1b2c3d4e5f";

impl Env {
    async fn patch(&self, path: &str, body: Value) -> Reply {
        send(
            self.http
                .patch(self.url(path))
                .bearer_auth(&self.token)
                .json(&body),
        )
        .await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        send(
            self.http
                .post(self.url(path))
                .bearer_auth(&self.token)
                .json(&body),
        )
        .await
    }

    /// A POST without a body, as restore is called.
    async fn post_empty(&self, path: &str) -> Reply {
        send(self.http.post(self.url(path)).bearer_auth(&self.token)).await
    }

    async fn delete(&self, path: &str) -> Reply {
        send(self.http.delete(self.url(path)).bearer_auth(&self.token)).await
    }

    async fn user_id(&self, nick: &str) -> String {
        let reply = self.get(&format!("/users/{nick}@contoso.com")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.json()["id"].as_str().unwrap_or_default().to_string()
    }

    async fn group_id(&self, name: &str) -> String {
        self.find("/groups?$select=id,displayName", "displayName", name)
            .await
    }

    async fn related_ids(&self, path: &str) -> Vec<String> {
        let (items, _) = self.get_all(path).await;
        items
            .iter()
            .filter_map(|o| o["id"].as_str().map(String::from))
            .collect()
    }
}

fn ref_body(id: &str) -> Value {
    json!({"@odata.id": format!("{GRAPH}/directoryObjects/{id}")})
}

/// Asserts a Graph error: status, code and exact message.
#[track_caller]
fn assert_error(reply: &Reply, status: StatusCode, code: &str, message: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.error_code(), code, "{}", reply.text);
    assert_eq!(reply.json()["error"]["message"], message, "{}", reply.text);
    assert!(
        reply.text.contains(r#""innerError":{"date":"#) && reply.text.contains("client-request-id"),
        "{}",
        reply.text
    );
}

#[track_caller]
fn assert_no_content(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert!(reply.text.is_empty());
    assert!(reply.header("request-id").is_some());
}

fn not_found_message(id: &str) -> String {
    format!(
        "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
    )
}

#[tokio::test]
async fn patch_updates_what_the_next_get_returns() {
    let env = env().await;
    let id = env.user_id("megan.bowen").await;
    let reply = env
        .patch(
            &format!("/users/{id}"),
            json!({"jobTitle": "Head of Marketing", "officeLocation": null, "city": "Oslo"}),
        )
        .await;
    assert_no_content(&reply);
    let user = env
        .get(&format!(
            "/users/{id}?$select=jobTitle,officeLocation,city,displayName"
        ))
        .await
        .json();
    assert_eq!(user["jobTitle"], "Head of Marketing");
    assert_eq!(user["officeLocation"], Value::Null);
    assert_eq!(user["city"], "Oslo");
    assert_eq!(user["displayName"], "Megan Bowen");

    // Users can be addressed by user principal name for writes too.
    let by_upn = env
        .patch("/users/megan.bowen@contoso.com", json!({"city": "Bergen"}))
        .await;
    assert_no_content(&by_upn);
    assert_eq!(
        env.get(&format!("/users/{id}?$select=city")).await.json()["city"],
        "Bergen"
    );

    let missing = env
        .patch(&format!("/users/{NOBODY}"), json!({"city": "x"}))
        .await;
    assert_error(
        &missing,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &not_found_message(NOBODY),
    );
    let app = env
        .patch(&format!("/applications/{NOBODY}"), json!({"notes": "x"}))
        .await;
    assert_eq!(app.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn read_only_and_unknown_properties_are_refused_and_nothing_changes() {
    let env = env().await;
    let id = env.user_id("megan.bowen").await;
    let reply = env
        .patch(
            &format!("/users/{id}"),
            json!({"jobTitle": "Changed", "securityIdentifier": "S-1-5"}),
        )
        .await;
    assert_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        "Property 'securityIdentifier' is read-only and cannot be set.",
    );
    let user = env
        .get(&format!("/users/{id}?$select=jobTitle"))
        .await
        .json();
    assert_ne!(
        user["jobTitle"], "Changed",
        "a refused PATCH changes nothing"
    );

    let group = env.group_id("Break Glass Accounts").await;
    let role_assignable = env
        .patch(
            &format!("/groups/{group}"),
            json!({"isAssignableToRole": false}),
        )
        .await;
    assert_error(
        &role_assignable,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        "Property 'isAssignableToRole' is read-only and cannot be set.",
    );
    let sp = env
        .find(
            "/servicePrincipals?$select=id,displayName",
            "displayName",
            "Launch Tracker",
        )
        .await;
    let app_id = env
        .patch(
            &format!("/servicePrincipals/{sp}"),
            json!({"appId": NOBODY}),
        )
        .await;
    assert_eq!(
        app_id.json()["error"]["message"],
        "Property 'appId' is read-only and cannot be set."
    );

    let unknown = env
        .patch(&format!("/users/{id}"), json!({"favouriteColour": "teal"}))
        .await;
    assert_error(
        &unknown,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        "The property 'favouriteColour' does not exist on type 'microsoft.graph.user'. Make sure to only use property names that are defined by the type or mark the type as open type.",
    );
    let wrong_type = env
        .patch(&format!("/users/{id}"), json!({"accountEnabled": "false"}))
        .await;
    assert_error(
        &wrong_type,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        "Invalid value specified for property 'accountEnabled' of resource 'User'.",
    );
    let not_json = send(
        env.http
            .patch(env.url(&format!("/users/{id}")))
            .bearer_auth(&env.token)
            .header("content-type", "application/json")
            .body("{\"city\":"),
    )
    .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_json.error_code(), "BadRequest");
}

#[tokio::test]
async fn patch_merges_objects_and_replaces_collections() {
    let env = env().await;
    let (policies, _) = env.get_all("/identity/conditionalAccess/policies").await;
    let policy = policies
        .iter()
        .find(|p| p["displayName"] == "CA002: Block legacy authentication")
        .expect("CA002");
    let id = policy["id"].as_str().unwrap_or_default();
    let before = policy["conditions"]["users"].clone();
    let reply = env
        .patch(
            &format!("/identity/conditionalAccess/policies/{id}"),
            json!({"conditions": {"users": {"excludeUsers": [NOBODY]}}, "state": "disabled"}),
        )
        .await;
    assert_no_content(&reply);
    let after = env
        .get(&format!("/identity/conditionalAccess/policies/{id}"))
        .await
        .json();
    assert_eq!(after["state"], "disabled");
    assert_eq!(
        after["conditions"]["users"]["excludeUsers"],
        json!([NOBODY])
    );
    assert_eq!(
        after["conditions"]["users"]["includeUsers"], before["includeUsers"],
        "siblings survive a nested update"
    );
    assert_eq!(
        after["conditions"]["users"]["excludeGroups"],
        before["excludeGroups"]
    );
    assert_eq!(
        after["conditions"]["clientAppTypes"],
        policy["conditions"]["clientAppTypes"]
    );
    assert_eq!(after["createdDateTime"], policy["createdDateTime"]);
    assert!(after["modifiedDateTime"]
        .as_str()
        .is_some_and(|t| t.starts_with("2026-11-28T")));

    let reply = env
        .patch(
            "/policies/authorizationPolicy",
            json!({"defaultUserRolePermissions": {"allowedToCreateApps": true}}),
        )
        .await;
    assert_no_content(&reply);
    let policy = env.get("/policies/authorizationPolicy").await.json();
    let permissions = &policy["defaultUserRolePermissions"];
    assert_eq!(permissions["allowedToCreateApps"], true);
    assert_eq!(permissions["allowedToReadOtherUsers"], true);
    assert_eq!(
        permissions["permissionGrantPoliciesAssigned"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    let read_only = env
        .patch("/policies/authorizationPolicy", json!({"id": "x"}))
        .await;
    assert_eq!(read_only.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn authentication_methods_policy_and_its_configurations() {
    let env = env().await;
    let reply = env
        .patch(
            "/policies/authenticationMethodsPolicy",
            json!({"registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {"snoozeDurationInDays": 3}}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let policy = reply.json();
    let campaign = &policy["registrationEnforcement"]["authenticationMethodsRegistrationCampaign"];
    assert_eq!(campaign["snoozeDurationInDays"], 3);
    assert_eq!(campaign["state"], "default");
    assert_eq!(
        policy["authenticationMethodConfigurations"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
    let version = env
        .patch(
            "/policies/authenticationMethodsPolicy",
            json!({"policyVersion": "2.0"}),
        )
        .await;
    assert_error(
        &version,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        "Property 'policyVersion' is read-only and cannot be set.",
    );

    let path = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2";
    let fido2 = "#microsoft.graph.fido2AuthenticationMethodConfiguration";
    let untyped = env.patch(path, json!({"state": "disabled"})).await;
    assert_eq!(untyped.status, StatusCode::BAD_REQUEST);
    assert!(untyped.json()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("A value without a type name was found")));
    let wrong = env
        .patch(
            path,
            json!({"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "state": "disabled"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let reply = env
        .patch(
            path,
            json!({"@odata.type": fido2, "state": "disabled", "keyRestrictions": {"isEnforced": true},
                "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false}]}),
        )
        .await;
    assert_no_content(&reply);
    let config = env
        .get("/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2")
        .await
        .json();
    assert_eq!(config["@odata.type"], fido2);
    assert_eq!(config["id"], "Fido2");
    assert_eq!(config["state"], "disabled");
    assert_eq!(config["keyRestrictions"]["isEnforced"], true);
    assert_eq!(config["keyRestrictions"]["enforcementType"], "block");
    assert_eq!(config["includeTargets"][0]["id"], "all_users");
    let missing = env
        .patch(
            "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/carrierPigeon",
            json!({"@odata.type": fido2}),
        )
        .await;
    assert_error(
        &missing,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &not_found_message("carrierPigeon"),
    );
}

#[tokio::test]
async fn named_locations_need_their_derived_type() {
    let env = env().await;
    let path = "/identity/conditionalAccess/namedLocations";
    let untyped = env
        .post(path, json!({"displayName": "Lab", "ipRanges": []}))
        .await;
    assert_error(
        &untyped,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        "A value without a type name was found and no expected type is available. When the model is specified, each value in the payload must have a type which can be either specified in the payload, explicitly by the caller or implicitly inferred from the parent value.",
    );
    let untyped_range = env
        .post(
            path,
            json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "Lab",
                "ipRanges": [{"cidrAddress": "10.1.0.0/16"}]}),
        )
        .await;
    assert_eq!(untyped_range.status, StatusCode::BAD_REQUEST);
    let no_ranges = env
        .post(
            path,
            json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "Lab"}),
        )
        .await;
    assert_error(
        &no_ranges,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        "Property ipRanges value is required but is empty or missing.",
    );

    let created = env
        .post(
            path,
            json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "Lab",
                "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "10.1.0.0/16"}]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let location = created.json();
    assert_eq!(location["@odata.type"], "#microsoft.graph.ipNamedLocation");
    assert_eq!(location["isTrusted"], false);
    assert_eq!(location["createdDateTime"], location["modifiedDateTime"]);
    let id = location["id"].as_str().unwrap_or_default();
    assert!(uuid::Uuid::parse_str(id).is_ok());

    let item = format!("{path}/{id}");
    let untyped = env.patch(&item, json!({"isTrusted": true})).await;
    assert_eq!(untyped.status, StatusCode::BAD_REQUEST);
    let other_type = env
        .patch(
            &item,
            json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "countriesAndRegions": ["NO"]}),
        )
        .await;
    assert_eq!(other_type.status, StatusCode::BAD_REQUEST);
    let reply = env
        .patch(
            &item,
            json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "isTrusted": true}),
        )
        .await;
    assert_no_content(&reply);
    let after = env.get(&item).await.json();
    assert_eq!(after["isTrusted"], true);
    assert_eq!(after["ipRanges"][0]["cidrAddress"], "10.1.0.0/16");
    assert_ne!(after["modifiedDateTime"], after["createdDateTime"]);
}

#[tokio::test]
async fn created_users_round_trip_and_names_stay_unique() {
    let env = env().await;
    let body = json!({
        "accountEnabled": true,
        "displayName": "Ada Lovelace",
        "mailNickname": "ada",
        "userPrincipalName": "ada@contoso.com",
        "passwordProfile": {"password": "Analytical-Engine-1843", "forceChangePasswordNextSignIn": true},
        "jobTitle": "Analyst",
    });
    let created = env.post("/users", body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let user = created.json();
    assert_eq!(
        keys(&user).len(),
        render::USER_DEFAULT.len() + 1,
        "the default property set plus @odata.context: {user}"
    );
    assert!(user["@odata.context"]
        .as_str()
        .is_some_and(|c| c.ends_with("/v1.0/$metadata#users/$entity")));
    assert_eq!(user["jobTitle"], "Analyst");
    let id = user["id"].as_str().unwrap_or_default().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok());

    let read = env
        .get(&format!("/users/{id}?$select=displayName,createdDateTime,passwordProfile,securityIdentifier,accountEnabled"))
        .await
        .json();
    assert_eq!(read["displayName"], "Ada Lovelace");
    assert_eq!(read["accountEnabled"], true);
    assert_eq!(
        read["passwordProfile"],
        Value::Null,
        "passwords are write-only"
    );
    assert!(read["createdDateTime"].is_string());
    assert!(read["securityIdentifier"]
        .as_str()
        .is_some_and(|s| s.starts_with("S-1-12-1-")));
    assert!(!env
        .emu
        .tenant()
        .lock()
        .expect("lock")
        .get("users", &id)
        .expect("stored")
        .to_string()
        .contains("Analytical"));

    let again = env.post("/users", body.clone()).await;
    assert_error(
        &again,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        "Another object with the same value for property userPrincipalName already exists.",
    );
    let rename = env
        .patch(
            &format!("/users/{id}"),
            json!({"userPrincipalName": "Megan.Bowen@contoso.com"}),
        )
        .await;
    assert_eq!(rename.status, StatusCode::BAD_REQUEST);

    let mut incomplete = body.clone();
    incomplete["userPrincipalName"] = json!("ada2@contoso.com");
    incomplete.as_object_mut().map(|o| o.remove("mailNickname"));
    let missing = env.post("/users", incomplete).await;
    assert_error(
        &missing,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        "Property mailNickname value is required but is empty or missing.",
    );
    let with_id = env
        .post("/users", json!({"id": NOBODY, "displayName": "x"}))
        .await;
    assert_eq!(
        with_id.json()["error"]["message"],
        "Property 'id' is read-only and cannot be set."
    );

    // Ids come from a counter: the same requests give the same ids on every run.
    let other = env_with(EmulatorConfig::default()).await;
    let twin = other.post("/users", body).await.json();
    assert_eq!(twin["id"], id.as_str());
}

#[tokio::test]
async fn created_groups_apps_and_service_principals_get_server_values() {
    let env = env().await;
    let group = env
        .post(
            "/groups",
            json!({"displayName": "Book Club", "mailEnabled": true, "mailNickname": "bookclub",
                "securityEnabled": false, "groupTypes": ["Unified"]}),
        )
        .await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.text);
    let group = group.json();
    assert_eq!(group["mail"], "bookclub@contoso.com");
    assert_eq!(group["proxyAddresses"][0], "SMTP:bookclub@contoso.com");
    assert_eq!(group["visibility"], "Public");
    assert!(group["securityIdentifier"]
        .as_str()
        .is_some_and(|s| s.starts_with("S-1-12-1-")));
    assert_eq!(group["createdDateTime"], group["renewedDateTime"]);
    let no_nick = env
        .post(
            "/groups",
            json!({"displayName": "x", "mailEnabled": false, "securityEnabled": true}),
        )
        .await;
    assert_eq!(
        no_nick.json()["error"]["message"],
        "Property mailNickname value is required but is empty or missing."
    );

    let app = env
        .post("/applications", json!({"displayName": "Payroll"}))
        .await;
    assert_eq!(app.status, StatusCode::CREATED, "{}", app.text);
    let app = app.json();
    let app_id = app["appId"].as_str().unwrap_or_default().to_string();
    assert!(uuid::Uuid::parse_str(&app_id).is_ok());
    assert_ne!(app["appId"], app["id"]);
    assert_eq!(
        app["web"]["implicitGrantSettings"]["enableIdTokenIssuance"],
        false
    );
    assert_eq!(app["passwordCredentials"], json!([]));
    let secret = env
        .post(
            "/applications",
            json!({"displayName": "x", "passwordCredentials": []}),
        )
        .await;
    assert_eq!(
        secret.json()["error"]["message"],
        "Property 'passwordCredentials' is read-only and cannot be set."
    );

    let sp = env
        .post(
            "/servicePrincipals",
            json!({"appId": app_id, "tags": ["HideApp"]}),
        )
        .await;
    assert_eq!(sp.status, StatusCode::CREATED, "{}", sp.text);
    let sp = sp.json();
    assert_eq!(sp["appDisplayName"], "Payroll");
    assert_eq!(sp["displayName"], "Payroll");
    assert_eq!(sp["tags"], json!(["HideApp"]));
    assert_eq!(sp["servicePrincipalType"], "Application");
    assert_eq!(sp["appOwnerOrganizationId"], env.emu.tenant_id());
    let second = env
        .post("/servicePrincipals", json!({"appId": app_id}))
        .await;
    assert_error(
        &second,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        &format!("The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use."),
    );
    let orphan = env
        .post("/servicePrincipals", json!({"appId": NOBODY}))
        .await;
    assert_error(
        &orphan,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        &format!("The appId '{NOBODY}' of the service principal does not reference a valid application object."),
    );

    // A renamed application renames its service principal's appDisplayName.
    let app_object = app["id"].as_str().unwrap_or_default();
    env.patch(
        &format!("/applications/{app_object}"),
        json!({"displayName": "Payroll v2"}),
    )
    .await;
    let sp_id = sp["id"].as_str().unwrap_or_default();
    let renamed = env.get(&format!("/servicePrincipals/{sp_id}")).await.json();
    assert_eq!(renamed["appDisplayName"], "Payroll v2");
    assert_eq!(renamed["displayName"], "Payroll");
}

#[tokio::test]
async fn created_policies_fill_unset_values_like_graph() {
    let env = env().await;
    let path = "/identity/conditionalAccess/policies";
    let body = json!({
        "displayName": "CA100: Require MFA for everyone",
        "state": "enabledForReportingButNotEnforced",
        "conditions": {
            "applications": {"includeApplications": ["All"]},
            "users": {"includeUsers": ["All"]},
            "clientAppTypes": ["all"],
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
    });
    let created = env.post(path, body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let policy = created.json();
    assert_eq!(policy["conditions"]["users"]["excludeUsers"], json!([]));
    assert_eq!(policy["conditions"]["platforms"], Value::Null);
    assert_eq!(policy["sessionControls"], Value::Null);
    assert_eq!(policy["modifiedDateTime"], Value::Null);
    assert!(policy["createdDateTime"].is_string());
    let id = policy["id"].as_str().unwrap_or_default();
    let read = env.get(&format!("{path}/{id}")).await.json();
    assert_eq!(read["displayName"], body["displayName"]);
    assert_eq!(read["grantControls"]["builtInControls"], json!(["mfa"]));

    let mut ungranted = body.clone();
    ungranted.as_object_mut().map(|o| o.remove("grantControls"));
    let reply = env.post(path, ungranted).await;
    assert_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        "Property grantControls value is required but is empty or missing.",
    );
    let mut whoever = body.clone();
    whoever["conditions"]
        .as_object_mut()
        .map(|c| c.remove("users"));
    let reply = env.post(path, whoever).await;
    assert_eq!(
        reply.json()["error"]["message"],
        "Property conditions.users value is required but is empty or missing."
    );
    let mut bad_state = body;
    bad_state["state"] = json!("on");
    let reply = env.post(path, bad_state).await;
    assert_eq!(
        reply.json()["error"]["message"],
        "Invalid value specified for property 'state' of resource 'ConditionalAccessPolicy'."
    );
}

#[tokio::test]
async fn deleted_users_go_to_the_recycle_bin_and_come_back_with_their_links() {
    let env = env().await;
    let id = env.user_id("megan.bowen").await;
    let launch = env.group_id("🚀 Launch Team").await;
    let all_staff = env.group_id("All Staff").await;
    assert!(env
        .related_ids(&format!("/groups/{launch}/members"))
        .await
        .contains(&id));

    assert_no_content(&env.delete(&format!("/users/{id}")).await);
    assert_eq!(
        env.get(&format!("/users/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!env
        .related_ids(&format!("/groups/{launch}/members"))
        .await
        .contains(&id));
    assert!(!env
        .related_ids(&format!("/groups/{all_staff}/owners"))
        .await
        .contains(&id));
    let (users, _) = env.get_all("/users?$select=id").await;
    assert!(users.iter().all(|u| u["id"] != id.as_str()));
    assert!(env
        .emu
        .tenant()
        .lock()
        .expect("lock")
        .is_in_recycle_bin(&id));

    let no_cast = env.get("/directory/deletedItems").await;
    assert_eq!(no_cast.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_cast.error_code(), "Request_BadRequest");
    let bin = env
        .get("/directory/deletedItems/microsoft.graph.user")
        .await;
    assert_eq!(bin.status, StatusCode::OK, "{}", bin.text);
    let items = bin.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["@odata.type"], "#microsoft.graph.user");
    assert!(items[0]["deletedDateTime"].is_string());
    assert!(env
        .get("/directory/deletedItems/microsoft.graph.group")
        .await
        .items()
        .is_empty());

    let deleted = env.get(&format!("/directory/deletedItems/{id}")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    let deleted = deleted.json();
    assert_eq!(deleted["@odata.type"], "#microsoft.graph.user");
    assert_eq!(deleted["displayName"], "Megan Bowen");
    let prefix = id.replace('-', "");
    assert_eq!(
        deleted["userPrincipalName"],
        format!("{prefix}megan.bowen@contoso.com"),
        "a deleted user's name is freed"
    );

    let restored = env
        .post_empty(&format!("/directory/deletedItems/{id}/restore"))
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text);
    let restored = restored.json();
    assert_eq!(restored["@odata.type"], "#microsoft.graph.user");
    assert_eq!(restored["id"], id.as_str());
    assert_eq!(restored["userPrincipalName"], "megan.bowen@contoso.com");
    assert!(restored["@odata.context"]
        .as_str()
        .is_some_and(|c| c.ends_with("$metadata#directoryObjects/$entity")));
    assert_eq!(env.user_id("megan.bowen").await, id);
    assert!(env
        .related_ids(&format!("/groups/{launch}/members"))
        .await
        .contains(&id));
    assert!(env
        .related_ids(&format!("/groups/{all_staff}/owners"))
        .await
        .contains(&id));
    assert!(!env
        .emu
        .tenant()
        .lock()
        .expect("lock")
        .is_in_recycle_bin(&id));

    let twice = env
        .post_empty(&format!("/directory/deletedItems/{id}/restore"))
        .await;
    assert_error(
        &twice,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &not_found_message(&id),
    );
    assert_eq!(
        env.get(&format!("/directory/deletedItems/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn restored_service_principals_keep_their_assignments() {
    let env = env().await;
    let diego = env.user_id("diego.siciliani").await;
    let hr = env
        .find(
            "/servicePrincipals?$select=id,displayName",
            "displayName",
            "Contoso HR Portal",
        )
        .await;
    let app = env
        .find(
            "/applications?$select=id,displayName",
            "displayName",
            "Contoso HR Portal",
        )
        .await;
    let assigned = |items: Vec<Value>| items.iter().any(|a| a["principalId"] == diego.as_str());
    let list = format!("/servicePrincipals/{hr}/appRoleAssignedTo");
    assert!(assigned(env.get(&list).await.items()));

    assert_no_content(&env.delete(&format!("/users/{diego}")).await);
    assert!(!assigned(env.get(&list).await.items()));
    assert_no_content(&env.delete(&format!("/servicePrincipals/{hr}")).await);
    assert_no_content(&env.delete(&format!("/applications/{app}")).await);
    let apps = env
        .get("/directory/deletedItems/microsoft.graph.application")
        .await;
    assert_eq!(apps.items().len(), 1);
    let app_id = apps.items()[0]["appId"].clone();

    for id in [&app, &hr, &diego] {
        let reply = env
            .post_empty(&format!("/directory/deletedItems/{id}/restore"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
    assert_eq!(
        env.get(&format!("/applications/{app}")).await.json()["appId"],
        app_id
    );
    assert!(
        assigned(env.get(&list).await.items()),
        "the assignment returns with both ends"
    );
    assert!(!env
        .related_ids(&format!("/servicePrincipals/{hr}/owners"))
        .await
        .is_empty());
}

#[tokio::test]
async fn security_groups_are_deleted_permanently_and_m365_groups_softly() {
    let env = env().await;
    let finance = env.group_id("Finance").await;
    let launch = env.group_id("🚀 Launch Team").await;
    let patti = env.user_id("patti.fernandez").await;
    assert_no_content(&env.delete(&format!("/groups/{finance}")).await);
    assert_no_content(&env.delete(&format!("/groups/{launch}")).await);
    assert_eq!(
        env.get(&format!("/directory/deletedItems/{finance}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let groups = env
        .get("/directory/deletedItems/microsoft.graph.group")
        .await
        .items();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["id"], launch.as_str());
    let restore = env
        .post_empty(&format!("/directory/deletedItems/{finance}/restore"))
        .await;
    assert_eq!(restore.status, StatusCode::NOT_FOUND);
    let tenant = env.emu.tenant();
    let tenant = tenant.lock().expect("lock");
    assert!(!tenant.is_in_recycle_bin(&finance) && tenant.is_in_recycle_bin(&launch));
    assert!(!tenant.group_members.contains_key(&finance));
    assert!(
        tenant.user_by_key(&patti).is_some(),
        "members outlive their group"
    );
}

#[tokio::test]
async fn permanent_deletes_leave_nothing_to_restore() {
    let env = env().await;
    let id = env.user_id("alex.wilber").await;
    env.delete(&format!("/users/{id}")).await;
    assert_no_content(&env.delete(&format!("/directory/deletedItems/{id}")).await);
    let restore = env
        .post_empty(&format!("/directory/deletedItems/{id}/restore"))
        .await;
    assert_error(
        &restore,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &not_found_message(&id),
    );
    assert_eq!(
        env.delete(&format!("/directory/deletedItems/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Tests can make an object gone for good without going through the bin.
    let zoe = env
        .find("/users?$select=id,displayName", "displayName", "Zoë Müller")
        .await;
    let launch = env.group_id("🚀 Launch Team").await;
    {
        let tenant = env.emu.tenant();
        let mut tenant = tenant.lock().expect("lock");
        assert!(tenant.hard_delete("users", &zoe).is_some());
        assert!(!tenant.is_in_recycle_bin(&zoe));
        assert!(tenant
            .recycle_bin("users")
            .is_some_and(|bin| bin.is_empty()));
    }
    assert_eq!(
        env.get(&format!("/users/{zoe}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!env
        .related_ids(&format!("/groups/{launch}/members"))
        .await
        .contains(&zoe));
}

#[tokio::test]
async fn conditional_access_objects_have_their_own_recycle_bin() {
    let env = env().await;
    let (policies, _) = env.get_all("/identity/conditionalAccess/policies").await;
    let policy = &policies[0];
    let id = policy["id"].as_str().unwrap_or_default();
    let live = format!("/identity/conditionalAccess/policies/{id}");
    assert_no_content(&env.delete(&live).await);
    assert_eq!(env.get(&live).await.status, StatusCode::NOT_FOUND);
    let bin = env
        .get("/identity/conditionalAccess/deletedItems/policies")
        .await;
    assert_eq!(bin.status, StatusCode::OK, "{}", bin.text);
    assert_eq!(bin.items().len(), 1);
    assert!(bin.items()[0]["deletedDateTime"].is_string());
    let deleted = env
        .get(&format!(
            "/identity/conditionalAccess/deletedItems/policies/{id}"
        ))
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    let restored = env
        .post_empty(&format!(
            "/identity/conditionalAccess/deletedItems/policies/{id}/restore"
        ))
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text);
    assert_eq!(restored.json()["displayName"], policy["displayName"]);
    let back = env.get(&live).await.json();
    assert_eq!(back["conditions"], policy["conditions"]);
    assert_eq!(back["deletedDateTime"], Value::Null);

    let (locations, _) = env
        .get_all("/identity/conditionalAccess/namedLocations")
        .await;
    let location = locations[0]["id"].as_str().unwrap_or_default();
    env.delete(&format!(
        "/identity/conditionalAccess/namedLocations/{location}"
    ))
    .await;
    let bin = env
        .get("/identity/conditionalAccess/deletedItems/namedLocations")
        .await
        .items();
    assert_eq!(bin[0]["@odata.type"], locations[0]["@odata.type"]);
    let purged = env
        .delete(&format!(
            "/identity/conditionalAccess/deletedItems/namedLocations/{location}"
        ))
        .await;
    assert_no_content(&purged);
    let restore = env
        .post_empty(&format!(
            "/identity/conditionalAccess/deletedItems/namedLocations/{location}/restore"
        ))
        .await;
    assert_eq!(restore.status, StatusCode::NOT_FOUND);

    // Older tenants delete policies for good.
    let hard = env_with(EmulatorConfig {
        hard_delete_policies: true,
        ..EmulatorConfig::default()
    })
    .await;
    let (policies, _) = hard.get_all("/identity/conditionalAccess/policies").await;
    let id = policies[0]["id"].as_str().unwrap_or_default();
    assert_no_content(
        &hard
            .delete(&format!("/identity/conditionalAccess/policies/{id}"))
            .await,
    );
    assert!(hard
        .get("/identity/conditionalAccess/deletedItems/policies")
        .await
        .items()
        .is_empty());
}

#[tokio::test]
async fn singletons_cannot_be_deleted_or_created() {
    let env = env().await;
    for path in [
        "/policies/authorizationPolicy",
        "/policies/authenticationMethodsPolicy",
    ] {
        let reply = env.delete(path).await;
        assert_error(
            &reply,
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        );
        assert_eq!(
            env.post(path, json!({})).await.status,
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
}

#[tokio::test]
async fn members_and_owners_are_linked_by_reference() {
    let env = env().await;
    let platform = env.group_id("Platform Engineers").await;
    let alex = env.user_id("alex.wilber").await;
    let members = format!("/groups/{platform}/members");
    let add = env.post(&format!("{members}/$ref"), ref_body(&alex)).await;
    assert_no_content(&add);
    assert!(env.related_ids(&members).await.contains(&alex));

    let again = env.post(&format!("{members}/$ref"), ref_body(&alex)).await;
    assert_error(
        &again,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        "One or more added object references already exist for the following modified properties: 'members'.",
    );
    let ghost = env.post(&format!("{members}/$ref"), ref_body(NOBODY)).await;
    assert_error(
        &ghost,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &not_found_message(NOBODY),
    );
    let typed_url = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{alex}")});
    assert_eq!(
        env.post(&format!("{members}/$ref"), typed_url).await.status,
        StatusCode::BAD_REQUEST,
        "already a member, whichever URL names it"
    );
    for malformed in [
        json!({}),
        json!({"@odata.id": "alex"}),
        json!({"@odata.id": 7}),
    ] {
        let reply = env.post(&format!("{members}/$ref"), malformed).await;
        assert_error(
            &reply,
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "Unsupported referenced-object resource identifier for link property 'members'.",
        );
    }

    let remove = env.delete(&format!("{members}/{alex}/$ref")).await;
    assert_no_content(&remove);
    assert!(!env.related_ids(&members).await.contains(&alex));
    let not_member = env.delete(&format!("{members}/{alex}/$ref")).await;
    assert_error(
        &not_member,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &not_found_message(&alex),
    );

    // Owners of groups, applications and service principals work the same way.
    let app = env
        .find(
            "/applications?$select=id,displayName",
            "displayName",
            "Contoso Mobile",
        )
        .await;
    let owners = format!("/applications/{app}/owners");
    let localhost =
        json!({"@odata.id": format!("http://127.0.0.1:1/v1.0/directoryObjects/{alex}")});
    assert_no_content(&env.post(&format!("{owners}/$ref"), localhost).await);
    assert!(env.related_ids(&owners).await.contains(&alex));
    let twice = env.post(&format!("{owners}/$ref"), ref_body(&alex)).await;
    assert_eq!(
        twice.json()["error"]["message"],
        "One or more added object references already exist for the following modified properties: 'owners'."
    );
    assert_no_content(&env.delete(&format!("{owners}/{alex}/$ref")).await);
    let group_as_owner = env
        .post(
            &format!("/groups/{platform}/owners/$ref"),
            ref_body(&platform),
        )
        .await;
    assert_eq!(group_as_owner.status, StatusCode::BAD_REQUEST);
    let missing_group = env
        .post(&format!("/groups/{NOBODY}/members/$ref"), ref_body(&alex))
        .await;
    assert_eq!(missing_group.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn app_role_assignments_are_created_and_removed() {
    let env = env().await;
    let hr = env
        .find(
            "/servicePrincipals?$select=id,displayName",
            "displayName",
            "Contoso HR Portal",
        )
        .await;
    let hr_sp = env.get(&format!("/servicePrincipals/{hr}")).await.json();
    let role = hr_sp["appRoles"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let alex = env.user_id("alex.wilber").await;
    let path = format!("/servicePrincipals/{hr}/appRoleAssignedTo");
    let body = json!({"principalId": alex, "resourceId": hr, "appRoleId": role});
    let created = env.post(&path, body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let assignment = created.json();
    let id = assignment["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(id.len(), 43);
    assert!(
        uuid::Uuid::parse_str(&id).is_err(),
        "assignment ids are not GUIDs"
    );
    assert_eq!(assignment["principalType"], "User");
    assert_eq!(assignment["principalDisplayName"], "Alex Wilber");
    assert_eq!(assignment["resourceDisplayName"], "Contoso HR Portal");
    assert_eq!(assignment["resourceId"], hr.as_str());
    assert_eq!(assignment["appRoleId"], role.as_str());
    assert!(assignment["createdDateTime"].is_string());
    assert!(env
        .get(&path)
        .await
        .items()
        .iter()
        .any(|a| a["id"] == id.as_str()));
    let single = env.get(&format!("{path}/{id}")).await;
    assert_eq!(single.json()["principalId"], alex.as_str());

    let duplicate = env.post(&path, body.clone()).await;
    assert_error(
        &duplicate,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        "Permission being assigned already exists on the object",
    );
    let default_access = env
        .post(&path, json!({"principalId": alex, "resourceId": hr, "appRoleId": "00000000-0000-0000-0000-000000000000"}))
        .await;
    assert_eq!(
        default_access.status,
        StatusCode::CREATED,
        "{}",
        default_access.text
    );
    let unknown_role = env
        .post(
            &path,
            json!({"principalId": alex, "resourceId": hr, "appRoleId": NOBODY}),
        )
        .await;
    assert_eq!(unknown_role.status, StatusCode::BAD_REQUEST);
    assert!(unknown_role.json()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("Permission being assigned was not found on application")));
    let ghost = env
        .post(
            &path,
            json!({"principalId": NOBODY, "resourceId": hr, "appRoleId": role}),
        )
        .await;
    assert_error(
        &ghost,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &not_found_message(NOBODY),
    );
    let elsewhere = env
        .post(
            &path,
            json!({"principalId": alex, "resourceId": NOBODY, "appRoleId": role}),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST);
    let no_role = env
        .post(&path, json!({"principalId": alex, "resourceId": hr}))
        .await;
    assert_eq!(
        no_role.json()["error"]["message"],
        "Property appRoleId value is required but is empty or missing."
    );

    assert_no_content(&env.delete(&format!("{path}/{id}")).await);
    assert!(env
        .get(&path)
        .await
        .items()
        .iter()
        .all(|a| a["id"] != id.as_str()));
    let gone = env.delete(&format!("{path}/{id}")).await;
    assert_error(
        &gone,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &not_found_message(&id),
    );
}

#[tokio::test]
async fn writes_need_write_permissions() {
    let env = env().await;
    let id = env.user_id("megan.bowen").await;
    let platform = env.group_id("Platform Engineers").await;
    env.emu.set_permissions(seed::DEFAULT_PERMISSIONS);
    let denied = env
        .patch(&format!("/users/{id}"), json!({"city": "x"}))
        .await;
    assert_error(
        &denied,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    );
    assert_eq!(
        env.get(&format!("/users/{id}")).await.status,
        StatusCode::OK
    );
    let writes = [
        env.post("/groups", json!({})).await,
        env.delete(&format!("/users/{id}")).await,
        env.patch("/policies/authorizationPolicy", json!({})).await,
        env.patch("/policies/authenticationMethodsPolicy", json!({}))
            .await,
        env.post("/identity/conditionalAccess/policies", json!({}))
            .await,
        env.post(&format!("/groups/{platform}/members/$ref"), ref_body(&id))
            .await,
    ];
    for reply in writes {
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    }

    // Membership changes alone need only GroupMember.ReadWrite.All.
    env.emu
        .set_permissions(&["GroupMember.ReadWrite.All", "User.Read.All"]);
    assert_no_content(
        &env.post(&format!("/groups/{platform}/members/$ref"), ref_body(&id))
            .await,
    );
    assert_eq!(
        env.patch(&format!("/groups/{platform}"), json!({"description": "x"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Restoring needs the permission for the kind of object being restored.
    env.emu.set_permissions(&["User.ReadWrite.All"]);
    assert_no_content(&env.delete(&format!("/users/{id}")).await);
    env.emu.set_permissions(&["Group.ReadWrite.All"]);
    let restore = env
        .post_empty(&format!("/directory/deletedItems/{id}/restore"))
        .await;
    assert_eq!(restore.status, StatusCode::FORBIDDEN);
    assert_eq!(
        env.get(&format!("/directory/deletedItems/{id}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    env.emu.set_permissions(&["User.ReadWrite.All"]);
    let restore = env
        .post_empty(&format!("/directory/deletedItems/{id}/restore"))
        .await;
    assert_eq!(restore.status, StatusCode::OK);
}

#[tokio::test]
async fn faults_hit_write_routes_before_they_change_anything() {
    let env = env().await;
    let id = env.user_id("megan.bowen").await;
    env.emu
        .add_fault(status_fault("/v1.0/users/", 503, Some("2"), 1));
    let reply = env
        .patch(&format!("/users/{id}"), json!({"city": "Faulted"}))
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.header("retry-after"), Some("2"));
    let city = env.get(&format!("/users/{id}?$select=city")).await.json()["city"].clone();
    assert_ne!(city, "Faulted");
    assert_no_content(
        &env.patch(&format!("/users/{id}"), json!({"city": "Fine"}))
            .await,
    );
    assert_eq!(
        env.get(&format!("/users/{id}?$select=city")).await.json()["city"],
        "Fine"
    );
}

/// What a restore sends: every object the demo tenant serves, minus the properties the
/// service sets and the unset (null) ones, is a valid PATCH body for that object.
#[tokio::test]
async fn every_served_object_is_writable_back() {
    let env = env().await;
    for kind in store::Kind::ALL {
        let (items, _) = env.get_all(&format!("/{}", kind.path())).await;
        assert!(!items.is_empty(), "{}", kind.name());
        let resource = Resource::of(kind);
        for mut item in items {
            let id = item["id"].as_str().unwrap_or_default().to_string();
            if let Some(object) = item.as_object_mut() {
                object.retain(|k, v| {
                    !v.is_null()
                        && !resource.read_only().contains(&k.as_str())
                        && !resource.create_only().contains(&k.as_str())
                });
            }
            let reply = env.patch(&format!("/{}/{id}", kind.path()), item).await;
            assert_no_content(&reply);
        }
    }
    let mut policy = env.get("/policies/authorizationPolicy").await.json();
    if let Some(object) = policy.as_object_mut() {
        object.retain(|k, _| !k.starts_with('@') && k != "id" && k != "deletedDateTime");
    }
    assert_no_content(&env.patch("/policies/authorizationPolicy", policy).await);
}

#[tokio::test]
async fn recycle_bin_lists_are_paged_and_selectable() {
    let env = env().await;
    let mut deleted = Vec::new();
    for nick in ["alex.wilber", "megan.bowen", "diego.siciliani"] {
        let id = env.user_id(nick).await;
        assert_no_content(&env.delete(&format!("/users/{id}")).await);
        deleted.push(id);
    }
    deleted.sort();
    let (items, sizes) = env
        .get_all("/directory/deletedItems/microsoft.graph.user?$top=2&$select=id,deletedDateTime")
        .await;
    assert_eq!(sizes, [2, 1]);
    let ids: Vec<&str> = items.iter().filter_map(|u| u["id"].as_str()).collect();
    assert_eq!(ids, deleted);
    assert!(items
        .iter()
        .all(|u| keys(u) == ["@odata.type", "deletedDateTime", "id"]));
    let bad_select = env
        .get("/directory/deletedItems/microsoft.graph.user?$select=colour")
        .await;
    assert_eq!(bad_select.status, StatusCode::BAD_REQUEST);
}
