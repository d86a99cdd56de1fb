//! `idgit plan` and `idgit apply` against the emulator: every kind's attribute changes,
//! soft and hard deletions, relationship changes, targeted restores, stale plans,
//! lockouts, hand edits and interrupted applies. Each restore must end with a fresh
//! plan that is empty, and a backup afterwards must find the tenant as it was.

use serde_json::{json, Value};

use crate::common::{tree_with_file, TestEnv};
use idgit::emulator::{Fault, FaultRule};

/// The ID of a demo object by display name.
fn id_of(env: &TestEnv, collection: &str, display_name: &str) -> String {
    env.tenant(|tenant| {
        tenant
            .collection(collection)
            .unwrap()
            .iter()
            .find(|(_, o)| o["displayName"] == display_name)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("no {collection} named {display_name}"))
    })
}

fn user_id(env: &TestEnv, nick: &str) -> String {
    env.tenant(|tenant| {
        tenant
            .collection("users")
            .unwrap()
            .iter()
            .find(|(_, o)| {
                o["userPrincipalName"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{nick}@"))
            })
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("no user {nick}"))
    })
}

fn set(t: &mut idgit::emulator::Tenant, collection: &str, id: &str, property: &str, value: Value) {
    t.collection_mut(collection).unwrap().get_mut(id).unwrap()[property] = value;
}

fn backed_up() -> TestEnv {
    let env = TestEnv::demo();
    let run = env.backup(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    env
}

/// `idgit plan --format json` with extra arguments: the exit code and the plan.
fn plan(env: &TestEnv, extra: &[&str]) -> (i32, Value) {
    let repo = env.repo();
    let mut args = vec!["plan", "--repo", repo.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let run = env.idgit(&args);
    assert!(run.code == 0 || run.code == 2, "{run:?}");
    (
        run.code,
        serde_json::from_str(&run.stdout).expect("plan JSON"),
    )
}

fn apply(env: &TestEnv, extra: &[&str]) -> crate::common::Run {
    let repo = env.repo();
    let mut args = vec!["apply", "--repo", repo.to_str().unwrap(), "--yes"];
    args.extend_from_slice(extra);
    env.idgit(&args)
}

fn actions(plan: &Value) -> Vec<(String, String, String)> {
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_string(),
                a["kind"].as_str().unwrap().to_string(),
                a["objectId"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// After a restore, a backup must find exactly the state that was backed up.
fn assert_backup_finds_no_change(env: &TestEnv) {
    let before = env.head();
    let run = env.backup(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        env.head(),
        before,
        "the restored tenant differs from the backup: {}",
        run.stdout
    );
}

fn assert_applied(run: &crate::common::Run) {
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Verified: the tenant matches"),
        "{}",
        run.stdout
    );
}

#[test]
fn attribute_changes_in_every_kind_are_restored() {
    let env = backed_up();
    let megan = user_id(&env, "megan.bowen");
    let platform = id_of(&env, "groups", "Platform Engineers");
    let hr_app = id_of(&env, "applications", "Contoso HR Portal");
    let hr_sp = id_of(&env, "servicePrincipals", "Contoso HR Portal");
    let legacy = id_of(
        &env,
        "conditionalAccessPolicies",
        "CA002: Block legacy authentication",
    );
    let countries = id_of(&env, "namedLocations", "Blocked countries");
    env.tenant(|t| {
        // Plain field edits, as an administrator's portal session would make them.
        set(t, "users", &megan, "department", json!("Imported by HR"));
        set(
            t,
            "groups",
            &platform,
            "description",
            json!("Nobody owns this now"),
        );
        set(
            t,
            "applications",
            &hr_app,
            "displayName",
            json!("HR Portal (renamed)"),
        );
        set(
            t,
            "servicePrincipals",
            &hr_sp,
            "appRoleAssignmentRequired",
            json!(false),
        );
        set(
            t,
            "conditionalAccessPolicies",
            &legacy,
            "state",
            json!("disabled"),
        );
        set(
            t,
            "namedLocations",
            &countries,
            "countriesAndRegions",
            json!(["KP"]),
        );
        t.authorization_policy["allowInvitesFrom"] = json!("everyone");
        let configs = t.auth_methods_policy["authenticationMethodConfigurations"]
            .as_array_mut()
            .unwrap();
        let fido = configs.iter_mut().find(|c| c["id"] == "Fido2").unwrap();
        let flipped = if fido["state"] == "enabled" {
            "disabled"
        } else {
            "enabled"
        };
        fido["state"] = json!(flipped);
    });
    let (code, before) = plan(&env, &[]);
    assert_eq!(code, 2);
    let kinds: std::collections::BTreeSet<String> = actions(&before)
        .into_iter()
        .map(|(a, k, _)| format!("{a} {k}"))
        .collect();
    let expected: std::collections::BTreeSet<String> = [
        "update users",
        "update groups",
        "update applications",
        "update service-principals",
        "update conditional-access-policies",
        "update named-locations",
        "update authorization-policy",
        "update authentication-methods-policy",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(kinds, expected);
    let user = before["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "users")
        .unwrap();
    assert_eq!(user["request"]["method"], "PATCH");
    assert_eq!(user["request"]["url"], format!("/users/{megan}"));
    let keys: Vec<&String> = user["request"]["body"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, vec!["department"]);
    assert_applied(&apply(&env, &[]));
    assert_backup_finds_no_change(&env);
    let (code, _) = plan(&env, &[]);
    assert_eq!(code, 0);
}

#[test]
fn soft_deleted_objects_come_back_with_their_ids_and_memberships() {
    let env = backed_up();
    let megan = user_id(&env, "megan.bowen");
    let all_staff = id_of(&env, "groups", "All Staff");
    let launch_app = id_of(&env, "applications", "Launch Tracker");
    let mobile_sp = id_of(&env, "servicePrincipals", "Contoso Mobile");
    let guests = id_of(
        &env,
        "conditionalAccessPolicies",
        "CA004: Guests: MFA every 12 hours",
    );
    let countries = id_of(&env, "namedLocations", "Blocked countries");
    env.tenant(|t| {
        t.delete("users", &megan).unwrap();
        t.delete("groups", &all_staff).unwrap();
        t.delete("applications", &launch_app).unwrap();
        t.delete("servicePrincipals", &mobile_sp).unwrap();
        t.delete("conditionalAccessPolicies", &guests).unwrap();
        t.delete("namedLocations", &countries).unwrap();
    });
    let (_, before) = plan(&env, &[]);
    let undeleted: std::collections::BTreeSet<String> = actions(&before)
        .into_iter()
        .filter(|(a, _, _)| a == "undelete")
        .map(|(_, _, id)| id)
        .collect();
    let expected: std::collections::BTreeSet<String> = [
        &megan,
        &all_staff,
        &launch_app,
        &mobile_sp,
        &guests,
        &countries,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(undeleted, expected);
    assert!(actions(&before).iter().all(|(a, _, _)| a != "recreate"));
    assert_applied(&apply(&env, &[]));
    env.tenant(|t| assert!(t.get("users", &megan).is_some() && !t.is_in_recycle_bin(&megan)));
    assert_backup_finds_no_change(&env);
}

#[test]
fn hard_deleted_objects_are_recreated_and_references_follow_the_new_ids() {
    let env = backed_up();
    let svc_ops = user_id(&env, "svc-ops");
    let oncall = id_of(&env, "groups", "Ops: on-call");
    let launch_app = id_of(&env, "applications", "Launch Tracker");
    let launch_sp = id_of(&env, "servicePrincipals", "Launch Tracker");
    let countries = id_of(&env, "namedLocations", "Blocked countries");
    let untrusted = id_of(
        &env,
        "conditionalAccessPolicies",
        "CA005: Block untrusted countries",
    );
    env.tenant(|t| {
        t.hard_delete("users", &svc_ops).unwrap();
        t.hard_delete("groups", &oncall).unwrap();
        t.hard_delete("servicePrincipals", &launch_sp).unwrap();
        t.hard_delete("applications", &launch_app).unwrap();
        t.hard_delete("namedLocations", &countries).unwrap();
    });
    let (_, before) = plan(&env, &[]);
    let recreated: Vec<String> = before["remapped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["oldId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(recreated.len(), 5, "{recreated:?}");
    let ca = before["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["objectId"] == untrusted)
        .expect("the policy's references are rewritten");
    let body = ca["request"]["body"].to_string();
    assert!(body.contains(&format!("${{new-id:{oncall}}}")), "{body}");
    assert!(body.contains(&format!("${{new-id:{countries}}}")), "{body}");
    assert!(
        body.contains(&format!("${{new-appid:{launch_app}}}")),
        "{body}"
    );
    assert!(before["notes"].to_string().contains("without credentials"));

    assert_applied(&apply(&env, &[]));
    let new_oncall = id_of(&env, "groups", "Ops: on-call");
    assert_ne!(new_oncall, oncall);
    env.tenant(|t| {
        let policy = t.get("conditionalAccessPolicies", &untrusted).unwrap();
        let excluded = policy["conditions"]["users"]["excludeGroups"].to_string();
        assert!(
            excluded.contains(&new_oncall) && !excluded.contains(&oncall),
            "{excluded}"
        );
        assert!(
            !t.group_members.get(&new_oncall).unwrap().is_empty(),
            "members came back"
        );
    });
    // The journal pairs the old IDs with the new objects: planning the original backup
    // again finds nothing to do instead of re-creating everything a second time.
    let (code, again) = plan(&env, &[]);
    assert_eq!(code, 0, "{again:#}");
    let commits = env.commit_count();
    let run = env.backup(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(env.commit_count(), commits + 1, "new IDs make a new backup");
    let (code, again) = plan(&env, &["--at", "HEAD~1"]);
    assert_eq!(code, 0, "{again:#}");
}

#[test]
fn relationship_changes_are_restored() {
    let env = backed_up();
    let finance = id_of(&env, "groups", "Finance");
    let platform = id_of(&env, "groups", "Platform Engineers");
    let hr_sp = id_of(&env, "servicePrincipals", "Contoso HR Portal");
    let megan = user_id(&env, "megan.bowen");
    env.tenant(|t| {
        let members = t.group_members.get_mut(&finance).unwrap();
        let first = members.iter().next().unwrap().clone();
        members.remove(&first);
        t.group_owners
            .entry(platform.clone())
            .or_default()
            .insert(megan.clone());
        t.app_role_assigned_to
            .get_mut(&hr_sp)
            .unwrap()
            .pop()
            .unwrap();
    });
    let (_, before) = plan(&env, &[]);
    let verbs: Vec<(String, String)> = actions(&before)
        .into_iter()
        .map(|(a, _, id)| (a, id))
        .collect();
    assert_eq!(
        verbs,
        // Removals before additions, kind by kind.
        vec![
            ("removeRelationship".to_string(), platform.clone()),
            ("addRelationship".to_string(), finance.clone()),
            ("addRelationship".to_string(), hr_sp.clone()),
        ]
    );
    assert_applied(&apply(&env, &[]));
    assert_backup_finds_no_change(&env);
}

#[test]
fn only_restores_the_named_object_and_touches_nothing_else() {
    let env = backed_up();
    let megan = user_id(&env, "megan.bowen");
    let patti = user_id(&env, "patti.fernandez");
    env.tenant(|t| {
        for id in [&megan, &patti] {
            t.collection_mut("users")
                .unwrap()
                .get_mut(id.as_str())
                .unwrap()["department"] = json!("Imported by HR");
        }
    });
    let (_, only) = plan(&env, &["--only", &format!("users/{megan}")]);
    assert_eq!(
        actions(&only),
        vec![("update".to_string(), "users".to_string(), megan.clone())]
    );
    assert_applied(&apply(&env, &["--only", "users/megan.bowen@contoso.com"]));
    env.tenant(|t| {
        assert_ne!(
            t.get("users", &megan).unwrap()["department"],
            "Imported by HR"
        );
        assert_eq!(
            t.get("users", &patti).unwrap()["department"],
            "Imported by HR"
        );
    });
}

#[test]
fn a_stale_or_altered_plan_is_refused() {
    let env = backed_up();
    let megan = user_id(&env, "megan.bowen");
    let set = |value: &str| {
        env.tenant(|t| {
            t.collection_mut("users").unwrap().get_mut(&megan).unwrap()["department"] = json!(value)
        });
    };
    set("Imported by HR");
    let saved = env.dir.path().join("plan.json");
    let (code, _) = plan(&env, &["--out", saved.to_str().unwrap()]);
    assert_eq!(code, 2);
    set("Changed again");
    let run = apply(&env, &[saved.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("the plan is stale"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("users/{megan}")),
        "{}",
        run.stderr
    );
    env.tenant(|t| {
        assert_eq!(
            t.get("users", &megan).unwrap()["department"],
            "Changed again"
        )
    });

    let mut altered: Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    altered["actions"][0]["request"]["body"]["department"] = json!("Something else");
    std::fs::write(&saved, altered.to_string()).unwrap();
    let run = apply(&env, &[saved.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("the plan was changed after it was made"),
        "{}",
        run.stderr
    );

    // A plan for another tenant is refused before anything is read.
    let (_, _) = plan(&env, &["--out", saved.to_str().unwrap()]);
    let run = apply(
        &env,
        &[
            saved.to_str().unwrap(),
            "--tenant",
            "fabrikam.onmicrosoft.com",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("was made for tenant"), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "not fabrikam.onmicrosoft.com; hint: apply a plan only to the tenant it was made for"
        ),
        "{}",
        run.stderr
    );

    std::fs::write(&saved, "not json").unwrap();
    let run = apply(&env, &[saved.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .starts_with(&format!("error: {}:1: not a plan", saved.display())),
        "{}",
        run.stderr
    );
}

/// Commits a hand edit of one file in the backup repository, as a merged pull request.
fn commit_edit(env: &TestEnv, kind_dir: &str, id: &str, edit: impl FnOnce(&mut Value)) -> String {
    let repo = env.git();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let tree = head.tree().unwrap();
    let dir = tree.get_path(std::path::Path::new(kind_dir)).unwrap();
    let dir = repo.find_tree(dir.id()).unwrap();
    let entry = dir
        .iter()
        .find(|e| e.name().unwrap().ends_with(&format!(".{id}.yaml")))
        .unwrap();
    let path = format!("{kind_dir}/{}", entry.name().unwrap());
    let blob = repo.find_blob(entry.id()).unwrap();
    let mut content = idgit::yaml::from_yaml(std::str::from_utf8(blob.content()).unwrap()).unwrap();
    edit(&mut content);
    let text = idgit::yaml::to_yaml(&content);
    let new_tree = tree_with_file(&repo, &tree, &path, text.as_bytes());
    let signature = git2::Signature::new(
        "Reviewer",
        "reviewer@contoso.com",
        &git2::Time::new(1_700_000_000, 0),
    )
    .unwrap();
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        "Hand edit",
        &new_tree,
        &[&head],
    )
    .unwrap();
    // Keep the work tree in step with HEAD, as `git pull` would.
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    path
}

#[test]
fn a_hand_edit_is_planned_exactly_and_applied() {
    let env = backed_up();
    let admins = id_of(
        &env,
        "conditionalAccessPolicies",
        "CA001: Require MFA for administrators",
    );
    let finance = id_of(&env, "groups", "Finance");
    commit_edit(&env, "conditional-access-policies", &admins, |c| {
        c["properties"]["conditions"]["users"]["excludeGroups"]
            .as_array_mut()
            .unwrap()
            .push(json!(finance));
    });
    let (code, planned) = plan(&env, &[]);
    assert_eq!(code, 2);
    assert_eq!(
        actions(&planned),
        vec![(
            "update".into(),
            "conditional-access-policies".into(),
            admins.clone()
        )]
    );
    let body = &planned["actions"][0]["request"]["body"];
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["conditions"]
    );
    assert!(body["conditions"]["users"]["excludeGroups"]
        .to_string()
        .contains(&finance));
    assert_applied(&apply(&env, &[]));
    env.tenant(|t| {
        let excluded = t.get("conditionalAccessPolicies", &admins).unwrap()["conditions"]["users"]
            ["excludeGroups"]
            .to_string();
        assert!(excluded.contains(&finance), "{excluded}");
    });
}

#[test]
fn a_policy_that_locks_everyone_out_is_refused() {
    let env = backed_up();
    let legacy = id_of(
        &env,
        "conditionalAccessPolicies",
        "CA002: Block legacy authentication",
    );
    commit_edit(&env, "conditional-access-policies", &legacy, |c| {
        let users = &mut c["properties"]["conditions"]["users"];
        users.as_object_mut().unwrap().remove("excludeGroups");
        users.as_object_mut().unwrap().remove("excludeUsers");
    });
    let (_, planned) = plan(&env, &[]);
    assert_eq!(planned["blockers"][0]["allowedBy"], "--allow-lockout");
    let run = apply(&env, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("refusing to apply: conditional access policy \"CA002: Block legacy authentication\": it blocks all users and excludes no enabled account or group; hint:"),
        "{}",
        run.stderr
    );
    env.tenant(|t| {
        assert!(
            t.get("conditionalAccessPolicies", &legacy).unwrap()["conditions"]["users"]
                ["excludeGroups"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        )
    });
    assert_applied(&apply(&env, &["--allow-lockout"]));
}

#[test]
fn an_interrupted_apply_resumes_without_repeating_work() {
    let env = backed_up();
    let megan = user_id(&env, "megan.bowen");
    let finance = id_of(&env, "groups", "Finance");
    env.tenant(|t| {
        t.collection_mut("users").unwrap().get_mut(&megan).unwrap()["department"] =
            json!("Imported by HR");
        let members = t.group_members.get_mut(&finance).unwrap();
        let first = members.iter().next().unwrap().clone();
        members.remove(&first);
    });
    let saved = env.dir.path().join("plan.json");
    plan(&env, &["--out", saved.to_str().unwrap()]);
    env.emulator.add_fault(FaultRule {
        path_contains: "/members/$ref".into(),
        fault: Fault::Status {
            status: 500,
            retry_after: None,
        },
        times: 1,
        skip: 0,
    });
    let run = apply(&env, &[saved.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("FAILED"), "{}", run.stdout);
    assert!(
        run.stderr.contains("1 of 2 actions failed"),
        "{}",
        run.stderr
    );
    let run = apply(&env, &[saved.to_str().unwrap()]);
    assert_applied(&run);
    assert!(
        run.stdout.contains(
            "[1/2] update user \"megan.bowen@contoso.com\": set department: done earlier"
        ),
        "{}",
        run.stdout
    );
    assert_backup_finds_no_change(&env);
}

#[test]
fn restored_policies_can_come_back_in_report_only_mode() {
    let env = backed_up();
    let legacy = id_of(
        &env,
        "conditionalAccessPolicies",
        "CA002: Block legacy authentication",
    );
    env.tenant(|t| t.delete("conditionalAccessPolicies", &legacy).unwrap());
    assert_applied(&apply(&env, &["--ca-report-only"]));
    env.tenant(|t| {
        assert_eq!(
            t.get("conditionalAccessPolicies", &legacy).unwrap()["state"],
            "enabledForReportingButNotEnforced"
        )
    });
    // It stays so: a later plan does not enforce it behind the administrator's back.
    let (code, later) = plan(&env, &[]);
    assert_eq!(code, 0, "{later:#}");
    assert!(later["notes"]
        .to_string()
        .contains("stays in report-only mode"));
}

#[test]
fn plan_and_apply_errors_are_one_line_with_a_hint() {
    let env = backed_up();
    let repo = env.repo();
    let run = env.idgit(&[
        "plan",
        "--repo",
        repo.to_str().unwrap(),
        "--only",
        "users/nobody-by-this-name",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .starts_with("error: --only users/nobody-by-this-name: "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("; hint: "));
    let run = env.idgit(&[
        "plan",
        "--repo",
        repo.to_str().unwrap(),
        "--at",
        "no-such-rev",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("unknown revision \"no-such-rev\"; hint:"),
        "{}",
        run.stderr
    );
    let run = env.idgit(&["apply", "--repo", repo.to_str().unwrap()]);
    // Nothing to do needs no confirmation.
    assert_eq!(run.code, 0, "{run:?}");
    env.change_first_user("department", "Elsewhere");
    let run = env.idgit(&["apply", "--repo", repo.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("there is no terminal to ask; hint: review the plan and pass --yes"),
        "{}",
        run.stderr
    );
    let missing = env.dir.path().join("missing.json");
    let run = env.idgit(&[
        "apply",
        "--repo",
        repo.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cannot read the plan"),
        "{}",
        run.stderr
    );
}

/// Every object of every deletable kind gone for good: the restore re-creates them all
/// through the emulator, which answers 400 to any read-only or unknown property. So
/// every create body idgit builds is one Graph accepts.
#[test]
fn a_wiped_tenant_is_recreated_from_its_backup() {
    let env = backed_up();
    env.tenant(|t| {
        for collection in [
            "conditionalAccessPolicies",
            "servicePrincipals",
            "applications",
            "groups",
            "users",
            "namedLocations",
        ] {
            let ids: Vec<String> = t.collection(collection).unwrap().keys().cloned().collect();
            for id in ids {
                t.hard_delete(collection, &id).unwrap();
            }
        }
    });
    let (_, planned) = plan(&env, &[]);
    let all = actions(&planned);
    assert!(all
        .iter()
        .any(|(a, k, _)| a == "recreate" && k == "service-principals"));
    // The authentication methods policy's group targets follow the groups' new IDs.
    assert!(all.iter().all(|(a, k, _)| a == "recreate"
        || a == "addRelationship"
        || k == "authentication-methods-policy"));
    let run = apply(&env, &["--allow-lockout"]);
    assert_applied(&run);
    // A second restore finds nothing to do: the journal knows every new ID.
    let (code, again) = plan(&env, &[]);
    assert_eq!(code, 0, "{again:#}");
}

fn schema_errors(schema: &str, value: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(schema).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn plan_json_validates_against_its_schema() {
    let env = backed_up();
    let megan = user_id(&env, "megan.bowen");
    let oncall = id_of(&env, "groups", "Ops: on-call");
    let legacy = id_of(
        &env,
        "conditionalAccessPolicies",
        "CA002: Block legacy authentication",
    );
    env.tenant(|t| {
        t.delete("users", &megan).unwrap();
        t.hard_delete("groups", &oncall).unwrap();
        set(t, "conditionalAccessPolicies", &legacy, "state", json!("disabled"));
        t.insert(
            "users",
            json!({"id": "99999999-9999-4999-8999-999999999999", "displayName": "Extra", "userPrincipalName": "extra@contoso.com", "accountEnabled": true, "mailNickname": "extra"}),
        );
    });
    let (code, planned) = plan(&env, &[]);
    assert_eq!(code, 2);
    let kinds: std::collections::BTreeSet<String> =
        actions(&planned).into_iter().map(|(a, _, _)| a).collect();
    for expected in ["undelete", "recreate", "update", "addRelationship"] {
        assert!(kinds.contains(expected), "{kinds:?}");
    }
    assert_eq!(
        planned["kept"][0]["id"],
        "99999999-9999-4999-8999-999999999999"
    );
    let errors = schema_errors(include_str!("../../schemas/plan.schema.json"), &planned);
    assert!(errors.is_empty(), "{errors:#?}");
    let errors = schema_errors(
        include_str!("../../schemas/diff.schema.json"),
        &planned["changes"],
    );
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn a_bad_hand_edit_is_refused_with_its_line_before_planning() {
    let env = backed_up();
    let admins = id_of(
        &env,
        "conditionalAccessPolicies",
        "CA001: Require MFA for administrators",
    );
    let path = commit_edit(&env, "conditional-access-policies", &admins, |c| {
        c["properties"]["conditions"]["users"]["excludeGroups"] = json!(["finance-team"]);
    });
    let repo = env.repo();
    let run = env.idgit(&["plan", "--repo", repo.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{run:?}");
    let line = run.stderr.lines().last().unwrap();
    assert!(line.starts_with(&format!("error: {path}:")), "{line}");
    assert!(
        line.contains(
            ": conditions.users.excludeGroups[0]: not a GUID; hint: fix the file and commit it"
        ),
        "{line}"
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn a_single_object_recreated_with_only_is_not_recreated_again() {
    let env = backed_up();
    let megan = user_id(&env, "megan.bowen");
    env.tenant(|t| t.hard_delete("users", &megan).unwrap());
    let only = format!("users/{megan}");
    let (_, planned) = plan(&env, &["--only", &only]);
    assert_eq!(
        actions(&planned),
        vec![("recreate".into(), "users".into(), megan.clone())]
    );
    assert!(planned["notes"]
        .to_string()
        .contains("outside --only are not rewritten"));
    assert_applied(&apply(&env, &["--only", &only]));
    let new_id = user_id(&env, "megan.bowen");
    assert_ne!(new_id, megan);
    let (code, again) = plan(&env, &["--only", &only]);
    assert_eq!(code, 0, "{again:#}");
    set_in(&env, "users", &new_id, "department", json!("Moved"));
    let (_, again) = plan(&env, &["--only", &only]);
    assert_eq!(
        actions(&again),
        vec![("update".into(), "users".into(), new_id.clone())]
    );
}

fn set_in(env: &TestEnv, collection: &str, id: &str, property: &str, value: Value) {
    env.tenant(|t| set(t, collection, id, property, value));
}

#[test]
fn apply_reports_each_action_as_json() {
    let env = backed_up();
    let megan = user_id(&env, "megan.bowen");
    let finance = id_of(&env, "groups", "Finance");
    set_in(&env, "users", &megan, "department", json!("Imported by HR"));
    env.tenant(|t| {
        let members = t.group_members.get_mut(&finance).unwrap();
        let first = members.iter().next().unwrap().clone();
        members.remove(&first);
    });
    let run = apply(&env, &["--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let result: Value = serde_json::from_str(&run.stdout).expect("only JSON on stdout");
    assert_eq!(result["verified"], true);
    assert_eq!(
        result["results"],
        json!([{"number": 1, "status": "done"}, {"number": 2, "status": "done"}])
    );
    assert!(run.stderr.contains("[1/2] update user "), "{}", run.stderr);
    let run = apply(&env, &["--format", "json"]);
    let result: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(result["results"], json!([]));
}
