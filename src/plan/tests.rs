use serde_json::json;

use super::*;

const USER: &str = "11111111-1111-1111-1111-111111111111";
const USER2: &str = "22222222-2222-2222-2222-222222222222";
const GROUP: &str = "33333333-3333-3333-3333-333333333333";
const POLICY: &str = "44444444-4444-4444-4444-444444444444";
const LOCATION: &str = "55555555-5555-5555-5555-555555555555";

fn kind(name: &str) -> &'static Kind {
    catalog::kind(name).unwrap()
}

fn version(content: Value) -> Version {
    Version {
        path: "x.yaml".into(),
        content,
    }
}

fn live(content: Value) -> LiveState {
    LiveState::Present {
        version: version(content),
        blob: "b".into(),
    }
}

fn state(kind_name: &str, id: &str, desired: Option<Value>, live: LiveState) -> ObjectState {
    ObjectState {
        kind: kind(kind_name),
        id: id.into(),
        desired: desired.map(version),
        live,
    }
}

fn user(id: &str, department: &str) -> Value {
    json!({"properties": {"id": id, "displayName": format!("User {department}"), "userPrincipalName": format!("{department}@contoso.com"), "department": department, "accountEnabled": true, "mailNickname": department, "createdDateTime": "2020-01-01T00:00:00Z"}})
}

fn group(members: &[&str]) -> Value {
    json!({"properties": {"id": GROUP, "displayName": "Sales", "mailEnabled": false, "securityEnabled": true, "mailNickname": "sales", "groupTypes": []}, "relationships": {"members": members, "owners": []}})
}

fn policy(state: &str, exclude_users: &[&str]) -> Value {
    json!({"properties": {"id": POLICY, "displayName": "Require MFA", "state": state,
        "conditions": {"users": {"includeUsers": ["All"], "excludeUsers": exclude_users}, "applications": {"includeApplications": ["All"]},
            "locations": {"includeLocations": [LOCATION]}},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}})
}

fn input(objects: Vec<ObjectState>) -> PlanInput {
    PlanInput {
        tenant: Some("contoso.onmicrosoft.com".into()),
        desired: DesiredRevision {
            name: "HEAD".into(),
            commit: "c0ffee".into(),
        },
        selection: vec![],
        objects,
        directory: lockout::Directory::default(),
        options: PlanOptions {
            graph_url: "https://graph.microsoft.com".into(),
            max_deletes: 10,
            ..PlanOptions::default()
        },
        names: BTreeMap::new(),
    }
}

#[test]
fn an_attribute_change_patches_only_that_property() {
    let plan = plan(input(vec![state(
        "users",
        USER,
        Some(user(USER, "Finance")),
        live(user(USER, "Sales")),
    )]));
    assert_eq!(plan.actions.len(), 1);
    let action = &plan.actions[0];
    assert_eq!(action.action, ActionType::Update);
    assert_eq!(action.request.method, "PATCH");
    assert_eq!(action.request.url, format!("/users/{USER}"));
    // displayName, UPN and mailNickname follow the department in this fixture.
    let body = action.request.body.as_ref().unwrap();
    assert_eq!(body["department"], "Finance");
    assert!(body.get("createdDateTime").is_none());
    assert!(body.get("id").is_none());
    assert_eq!(
        plan.preconditions,
        vec![Precondition {
            kind: "users".into(),
            id: USER.into(),
            live_blob: Some("b".into())
        }]
    );
}

#[test]
fn identical_states_give_an_empty_plan() {
    let plan = plan(input(vec![state(
        "users",
        USER,
        Some(user(USER, "Sales")),
        live(user(USER, "Sales")),
    )]));
    assert!(plan.is_empty());
    assert!(plan.preconditions.is_empty());
}

#[test]
fn a_soft_deleted_object_is_restored_with_its_id_and_its_relationships_ensured() {
    let binned = LiveState::InRecycleBin {
        version: version(
            json!({"properties": {"id": GROUP, "displayName": "Sales", "mailEnabled": false, "securityEnabled": true, "mailNickname": "sales", "groupTypes": []}}),
        ),
    };
    let plan = plan(input(vec![state(
        "groups",
        GROUP,
        Some(group(&[USER])),
        binned,
    )]));
    let verbs: Vec<(ActionType, &str, &str)> = plan
        .actions
        .iter()
        .map(|a| (a.action, a.request.method.as_str(), a.request.url.as_str()))
        .collect();
    assert_eq!(
        verbs,
        vec![
            (
                ActionType::Undelete,
                "POST",
                &*format!("/directory/deletedItems/{GROUP}/restore")
            ),
            (
                ActionType::AddRelationship,
                "POST",
                &*format!("/groups/{GROUP}/members/$ref")
            ),
        ]
    );
    assert_eq!(plan.actions[1].depends_on, vec![1]);
    assert_eq!(
        plan.actions[1].request.body,
        Some(
            json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{USER}")})
        )
    );
}

#[test]
fn a_hard_deleted_user_is_recreated_and_references_point_at_the_new_id() {
    let plan = plan(input(vec![
        state("users", USER, Some(user(USER, "Sales")), LiveState::Gone),
        state(
            "groups",
            GROUP,
            Some(group(&[USER, USER2])),
            live(group(&[USER2])),
        ),
        state(
            "conditional-access-policies",
            POLICY,
            Some(policy("enabled", &[USER])),
            live(policy("enabled", &[])),
        ),
    ]));
    let placeholder = new_id_placeholder(USER);
    let recreate = &plan.actions[0];
    assert_eq!(recreate.action, ActionType::Recreate);
    assert_eq!(recreate.request.url, "/users");
    assert_eq!(recreate.creates.as_deref(), Some(USER));
    assert!(recreate.sets_random_password);
    let body = recreate.request.body.as_ref().unwrap();
    assert!(body.get("id").is_none() && body.get("createdDateTime").is_none());
    assert!(
        body.get("passwordProfile").is_none(),
        "a password is never in a plan"
    );
    let add = plan
        .actions
        .iter()
        .find(|a| a.action == ActionType::AddRelationship)
        .unwrap();
    assert_eq!(
        add.request.body.as_ref().unwrap()["@odata.id"],
        format!("https://graph.microsoft.com/v1.0/directoryObjects/{placeholder}")
    );
    assert_eq!(add.depends_on, vec![1]);
    let ca = plan
        .actions
        .iter()
        .find(|a| a.kind == "conditional-access-policies")
        .unwrap();
    assert_eq!(
        ca.request.body.as_ref().unwrap()["conditions"]["users"]["excludeUsers"],
        json!([placeholder])
    );
    assert_eq!(ca.depends_on, vec![1]);
    assert_eq!(plan.remapped.len(), 1);
    assert_eq!(plan.remapped[0].used_by, vec![add.number, ca.number]);
    assert!(plan
        .notes
        .iter()
        .any(|n| n.text.contains("without credentials")));
}

#[test]
fn actions_run_in_dependency_order_and_deletes_last() {
    let mut i = input(vec![
        state(
            "conditional-access-policies",
            POLICY,
            Some(policy("enabled", &[USER])),
            LiveState::InRecycleBin {
                version: version(policy("enabled", &[USER])),
            },
        ),
        state(
            "named-locations",
            LOCATION,
            Some(
                json!({"properties": {"id": LOCATION, "@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "HQ"}}),
            ),
            LiveState::InRecycleBin {
                version: version(
                    json!({"properties": {"id": LOCATION, "@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "HQ"}}),
                ),
            },
        ),
        state("users", USER2, None, live(user(USER2, "Old"))),
        state(
            "users",
            USER,
            Some(user(USER, "Finance")),
            live(user(USER, "Sales")),
        ),
    ]);
    i.options.prune = true;
    let plan = plan(i);
    let order: Vec<(&str, ActionType)> = plan
        .actions
        .iter()
        .map(|a| (a.kind.as_str(), a.action))
        .collect();
    assert_eq!(
        order,
        vec![
            ("named-locations", ActionType::Undelete),
            ("users", ActionType::Update),
            ("conditional-access-policies", ActionType::Undelete),
            ("users", ActionType::Delete),
        ]
    );
    // The policy names the location: it waits for the location's restore.
    assert_eq!(plan.actions[2].depends_on, vec![1]);
}

#[test]
fn objects_only_live_are_kept_unless_pruned_or_named() {
    let extra = || state("users", USER2, None, live(user(USER2, "Old")));
    let plan1 = plan(input(vec![extra()]));
    assert!(plan1.is_empty());
    assert_eq!(plan1.kept.len(), 1);
    let mut named = input(vec![extra()]);
    named.options.named.insert(USER2.into());
    let plan2 = plan(named);
    assert_eq!(plan2.actions[0].action, ActionType::Delete);
    assert_eq!(plan2.actions[0].request.url, format!("/users/{USER2}"));
}

#[test]
fn too_many_deletes_and_lockouts_are_blockers() {
    let mut i = input(vec![
        state("users", USER, None, live(user(USER, "A"))),
        state("users", USER2, None, live(user(USER2, "B"))),
        state(
            "conditional-access-policies",
            POLICY,
            Some(policy("enabled", &[])),
            live(policy("disabled", &[])),
        ),
    ]);
    i.options.prune = true;
    i.options.max_deletes = 1;
    let plan = plan(i);
    let flags: Vec<&str> = plan
        .blockers
        .iter()
        .map(|b| b.allowed_by.as_str())
        .collect();
    assert_eq!(flags, vec!["--allow-mass-delete", "--allow-lockout"]);
    assert!(
        plan.blockers[1].text.contains("\"Require MFA\""),
        "{}",
        plan.blockers[1].text
    );
}

#[test]
fn ca_report_only_applies_to_restored_policies_only() {
    let mut i = input(vec![state(
        "conditional-access-policies",
        POLICY,
        Some(policy("enabled", &[USER])),
        LiveState::Gone,
    )]);
    i.options.ca_report_only = true;
    let restored = plan(i);
    assert_eq!(
        restored.actions[0].request.body.as_ref().unwrap()["state"],
        REPORT_ONLY
    );
    let mut i = input(vec![state(
        "conditional-access-policies",
        POLICY,
        Some(policy("enabled", &[USER])),
        live(policy("disabled", &[USER])),
    )]);
    i.options.ca_report_only = true;
    assert_eq!(plan_state(i), "enabled");

    fn plan_state(i: PlanInput) -> String {
        plan(i).actions[0].request.body.as_ref().unwrap()["state"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

#[test]
fn polymorphic_bodies_carry_their_type() {
    let location = |name: &str| json!({"properties": {"id": LOCATION, "@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": name, "createdDateTime": "2020-01-01T00:00:00Z"}});
    let plan = plan(input(vec![state(
        "named-locations",
        LOCATION,
        Some(location("HQ")),
        live(location("Old HQ")),
    )]));
    assert_eq!(
        plan.actions[0].request.body,
        Some(json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "HQ"}))
    );
}

#[test]
fn authentication_method_configurations_are_patched_one_by_one() {
    let amp = |state: &str| {
        json!({"properties": {"id": "authenticationMethodsPolicy", "policyMigrationState": "migrationComplete",
        "authenticationMethodConfigurations": [{"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "id": "Fido2", "state": state}]}})
    };
    let plan = plan(input(vec![state(
        "authentication-methods-policy",
        "authenticationMethodsPolicy",
        Some(amp("enabled")),
        live(amp("disabled")),
    )]));
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(
        plan.actions[0].request.url,
        "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2"
    );
    assert_eq!(
        plan.actions[0].request.body,
        Some(
            json!({"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "state": "enabled"})
        )
    );
}

#[test]
fn the_same_input_gives_the_same_plan() {
    let make = || {
        plan(input(vec![
            state("users", USER, Some(user(USER, "Sales")), LiveState::Gone),
            state(
                "groups",
                GROUP,
                Some(group(&[USER, USER2])),
                live(group(&[USER2])),
            ),
        ]))
    };
    let (a, b) = (make(), make());
    assert_eq!(a, b);
    assert_eq!(a.plan_id.len(), 16);
}

/// Whatever the two sides hold, no PATCH or POST body carries a property the catalog
/// lists as read-only, volatile or secret (a create may carry the create-only ones).
#[test]
fn no_body_ever_carries_a_read_only_volatile_or_secret_property() {
    for kind in catalog::KINDS {
        let listed: Vec<&str> = kind
            .read_only
            .iter()
            .chain(kind.volatile)
            .chain(kind.secrets)
            .map(|p| p.path)
            .filter(|p| !p.contains('.'))
            .collect();
        let side = |value: &str| {
            let mut props = Map::new();
            for name in &listed {
                props.insert(name.to_string(), json!(format!("{value}-{name}")));
            }
            props.insert("id".into(), json!(USER));
            props.insert("notes".into(), json!(value));
            json!({"properties": props})
        };
        let updated = plan(input(vec![ObjectState {
            kind,
            id: USER.into(),
            desired: Some(version(side("desired"))),
            live: live(side("live")),
        }]));
        let created = plan(input(vec![ObjectState {
            kind,
            id: USER.into(),
            desired: Some(version(side("desired"))),
            live: LiveState::Gone,
        }]));
        for action in updated.actions.iter().chain(&created.actions) {
            let Some(Value::Object(body)) = &action.request.body else {
                continue;
            };
            for name in &listed {
                let allowed =
                    action.action == ActionType::Recreate && kind.create_only.contains(name);
                assert!(
                    allowed || !body.contains_key(*name),
                    "{} {:?} sends {name}",
                    kind.name,
                    action.action
                );
            }
        }
        assert!(
            updated
                .actions
                .iter()
                .any(|a| a.action == ActionType::Update),
            "{}",
            kind.name
        );
        assert!(
            updated
                .notes
                .iter()
                .filter(|n| n.text.contains("not restored") || n.text.contains("rotate required"))
                .count()
                >= listed.len() - 1,
            "{}: every differing unwritable property is noted",
            kind.name
        );
    }
}
