//! `idgit diff`: a backup, the changes an incident makes, a second backup, and the
//! report a reviewer reads, in text, Markdown and JSON.

use serde_json::{json, Value};

use crate::common::TestEnv;

/// Ids of demo objects by display name.
fn id_of(env: &TestEnv, collection: &str, display_name: &str) -> String {
    env.tenant(|tenant| {
        let objects = tenant.collection_mut(collection).unwrap();
        objects
            .iter()
            .find(|(_, o)| o["displayName"] == display_name)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("no {collection} named {display_name}"))
    })
}

/// The incident of the issue: a CA policy disabled with a new exclusion, a group losing
/// a member, three users' departments overwritten, a named location renamed.
fn incident(env: &TestEnv) -> String {
    let finance = id_of(env, "groups", "Finance");
    let policy_id = env.tenant(|tenant| {
        let policies = tenant.collection_mut("conditionalAccessPolicies").unwrap();
        let (id, policy) = policies
            .iter_mut()
            .find(|(_, p)| {
                p["displayName"]
                    .as_str()
                    .unwrap()
                    .contains("Require MFA for administrators")
            })
            .unwrap();
        policy["state"] = json!("disabled");
        policy["conditions"]["users"]["excludeGroups"]
            .as_array_mut()
            .unwrap()
            .push(json!(finance));
        id.clone()
    });
    env.tenant(|tenant| {
        let members = tenant.group_members.get_mut(&finance).unwrap();
        let first = members.iter().next().unwrap().clone();
        members.remove(&first);
        let users = tenant.collection_mut("users").unwrap();
        for user in users.values_mut().take(3) {
            user["department"] = json!("Imported by HR");
        }
        let locations = tenant.collection_mut("namedLocations").unwrap();
        let location = locations
            .values_mut()
            .find(|l| l.get("ipRanges").is_some())
            .unwrap();
        location["displayName"] = json!("Head office (moved)");
    });
    policy_id
}

fn env_with_two_backups() -> (TestEnv, String) {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let policy = incident(&env);
    let run = env.backup(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    (env, policy)
}

#[test]
fn diff_tells_each_change_in_words_with_names() {
    let (env, _) = env_with_two_backups();
    let repo = env.repo();
    let run = env.idgit(&["diff", "--repo", repo.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_snapshot!("diff_text", run.normalized(&env));
    assert!(
        !run.stdout.contains("\x1b["),
        "no colour when not on a terminal"
    );
}

#[test]
fn diff_as_markdown() {
    let (env, _) = env_with_two_backups();
    let repo = env.repo();
    let run = env.idgit(&[
        "diff",
        "--repo",
        repo.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.len() < idgit::report::render::MARKDOWN_LIMIT);
    insta::assert_snapshot!("diff_markdown", run.stdout);
}

#[test]
fn diff_as_json_validates_against_its_schema() {
    let (env, policy) = env_with_two_backups();
    let repo = env.repo();
    let run = env.idgit(&["diff", "--repo", repo.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let schema: Value =
        serde_json::from_str(include_str!("../../schemas/diff.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let policy_report = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == policy.as_str())
        .unwrap();
    assert_eq!(policy_report["action"], "changed");
    let findings: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert!(
        findings
            .iter()
            .any(|f| f.contains("no longer enforced (state disabled)")),
        "{findings:?}"
    );
}

#[test]
fn one_revision_and_unknown_revisions() {
    let (env, _) = env_with_two_backups();
    let repo = env.repo();
    // The first backup against the latest is the same as the default.
    let default = env.idgit(&["diff", "--repo", repo.to_str().unwrap()]);
    let explicit = env.idgit(&["diff", "HEAD~1", "--repo", repo.to_str().unwrap()]);
    assert_eq!(default.stdout, explicit.stdout);
    // Nothing between a revision and itself.
    let same = env.idgit(&["diff", "HEAD", "HEAD", "--repo", repo.to_str().unwrap()]);
    assert!(same.stdout.contains("No changes."), "{}", same.stdout);
    let unknown = env.idgit(&["diff", "nightly-42", "--repo", repo.to_str().unwrap()]);
    assert_eq!(unknown.code, 1);
    assert_eq!(
        unknown.stderr.trim(),
        "error: unknown revision \"nightly-42\"; hint: name a commit, branch or tag, e.g. HEAD~1; `git log --oneline` lists the backups"
    );
}

/// A policy that points at an object in neither revision shows the ID as an unknown
/// reference: the group it names was deleted.
#[test]
fn unknown_references_are_shown_as_such() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let ghost = "5f1d6a0e-0000-4000-8000-00000000dead";
    env.tenant(|tenant| {
        let policies = tenant.collection_mut("conditionalAccessPolicies").unwrap();
        let policy = policies
            .values_mut()
            .find(|p| p["state"] == "enabled")
            .unwrap();
        policy["conditions"]["users"]["excludeGroups"]
            .as_array_mut()
            .unwrap()
            .push(json!(ghost));
    });
    assert_eq!(env.backup(&[]).code, 0);
    let repo = env.repo();
    let run = env.idgit(&["diff", "--repo", repo.to_str().unwrap()]);
    assert!(
        run.stdout
            .contains(&format!("excluded groups: + unknown reference {ghost}")),
        "{}",
        run.stdout
    );
    let json = env.idgit(&["diff", "--repo", repo.to_str().unwrap(), "--format", "json"]);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    let item = &report["objects"][0]["fields"][0]["added"][0];
    assert_eq!(item["unknownReference"], true);
}

/// `idgit drift` reads the live tenant and compares it with the latest backup: exit 2
/// and a report when they differ, 0 when they do not, and nothing written either way.
#[test]
fn drift_reports_live_changes_without_committing() {
    let env = TestEnv::demo();
    let repo = env.repo();
    let no_backup = env.idgit(&["drift", "--repo", repo.to_str().unwrap()]);
    assert_eq!(no_backup.code, 1);
    assert!(
        no_backup
            .stderr
            .contains("has no backup to compare with; hint: run `idgit backup --repo"),
        "{}",
        no_backup.stderr
    );
    assert_eq!(env.backup(&[]).code, 0);

    let clean = env.idgit(&["drift", "--repo", repo.to_str().unwrap()]);
    assert_eq!(clean.code, 0, "{clean:?}");
    assert!(clean.stdout.contains("No changes."), "{}", clean.stdout);

    let before = crate::common::repo_state(&repo);
    incident(&env);
    let drift = env.idgit(&["drift", "--repo", repo.to_str().unwrap()]);
    assert_eq!(drift.code, 2, "{drift:?}");
    assert!(
        drift.stdout.contains("Changes from HEAD"),
        "{}",
        drift.stdout
    );
    assert!(drift.stdout.contains("to live tenant"), "{}", drift.stdout);
    assert!(
        drift.stdout.contains("excluded groups: + \"Finance\""),
        "{}",
        drift.stdout
    );
    assert_eq!(
        crate::common::repo_state(&repo),
        before,
        "drift wrote to the repository"
    );

    // The same changes, backed up, are what `idgit diff` then shows.
    assert_eq!(env.backup(&[]).code, 0);
    let diff = env.idgit(&["diff", "--repo", repo.to_str().unwrap()]);
    let body = |text: &str| text.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&drift.stdout), body(&diff.stdout));
}

/// Who changed it: the audit entries since the previous backup are noted on the commit
/// that found the changes, and reports name the actor.
#[test]
fn reports_say_who_changed_it() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let policy = incident(&env);
    env.tenant(|tenant| {
        let entry = json!({
            "id": "Directory_0001",
            "category": "Policy",
            "activityDisplayName": "Update conditional access policy",
            "activityDateTime": "2026-11-27T22:14:05Z",
            "result": "success",
            "initiatedBy": {
                "user": {"id": "x", "userPrincipalName": "mallory@contoso.com", "displayName": "Mallory"},
                "app": {"displayName": "Azure Portal"}
            },
            "targetResources": [{"id": policy, "type": "Policy", "displayName": "CA001"}]
        });
        tenant.directory_audits.insert("Directory_0001".into(), entry);
    });
    assert_eq!(env.backup(&[]).code, 0);
    let repo = env.repo();
    let repo = repo.to_str().unwrap();
    let diff = env.idgit(&["diff", "--repo", repo]);
    assert!(
        diff.stdout.contains("changed by mallory@contoso.com via Azure Portal (Update conditional access policy, 2026-11-27T22:14:05Z)"),
        "{}",
        diff.stdout
    );
    let log = env.idgit(&[
        "log",
        &format!("conditional-access-policies/{policy}"),
        "--repo",
        repo,
    ]);
    assert!(
        log.stdout
            .lines()
            .next()
            .unwrap()
            .ends_with("(by mallory@contoso.com)"),
        "{}",
        log.stdout
    );
    let json = env.idgit(&["diff", "--repo", repo, "--format", "json"]);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    let object = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == policy.as_str())
        .unwrap();
    assert_eq!(object["changedBy"][0]["actor"], "mallory@contoso.com");
}

#[test]
fn without_the_audit_permission_backups_still_work_and_say_so_once() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    env.emulator.set_permissions(&[
        "User.Read.All",
        "Group.Read.All",
        "Application.Read.All",
        "Policy.Read.All",
    ]);
    incident(&env);
    let run = env.backup(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    let notes: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("who changed what is not recorded"))
        .collect();
    assert_eq!(notes.len(), 1, "{}", run.stderr);
    assert!(notes[0].contains("AuditLog.Read.All"));
}

/// App role assignments name the principal and the role.
#[test]
fn app_role_assignments_name_principal_and_role() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let (sp, role) = env.tenant(|tenant| {
        let sps = tenant.collection_mut("servicePrincipals").unwrap();
        let (id, sp) = sps
            .iter()
            .find(|(_, sp)| sp["appRoles"].as_array().is_some_and(|r| !r.is_empty()))
            .unwrap();
        let role = sp["appRoles"][0].clone();
        (id.clone(), role)
    });
    let user = id_of(&env, "users", "Adele Vance");
    env.tenant(|tenant| {
        tenant
            .app_role_assigned_to
            .entry(sp.clone())
            .or_default()
            .push(json!({
                "id": "bench-assignment-1",
                "appRoleId": role["id"],
                "principalId": user,
                "principalType": "User",
                "resourceId": sp,
            }));
    });
    assert_eq!(env.backup(&[]).code, 0);
    let repo = env.repo();
    let run = env.idgit(&["diff", "--repo", repo.to_str().unwrap()]);
    let role_name = role["value"]
        .as_str()
        .or(role["displayName"].as_str())
        .unwrap();
    assert!(
        run.stdout.contains(&format!(
            "app role assignments: + \"adele.vance@contoso.com\" (role \"{role_name}\")"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("[security: app role granted]"),
        "{}",
        run.stdout
    );
}

/// Commits idgit did not write, a hand edit and a merge, diff like any other.
#[test]
fn hand_edits_and_merges_diff_correctly() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let repo = env.git();
    let signature = git2::Signature::new(
        "Admin",
        "admin@contoso.com",
        &git2::Time::new(1767229200, 0),
    )
    .unwrap();
    let base = repo.head().unwrap().peel_to_commit().unwrap();
    // A hand edit on a branch: an administrator narrows a policy in a pull request.
    let path = crate::common::tree_files(&repo)
        .keys()
        .find(|p| p.starts_with("conditional-access-policies/ca001"))
        .unwrap()
        .clone();
    let edited = crate::common::tree_files(&repo)[&path]
        .replace("state: enabled", "state: enabledForReportingButNotEnforced");
    let edited_tree =
        crate::common::tree_with_file(&repo, &base.tree().unwrap(), &path, edited.as_bytes());
    let edit = repo
        .commit(
            None,
            &signature,
            &signature,
            "Report-only for CA001",
            &edited_tree,
            &[&base],
        )
        .unwrap();
    // A merge of that branch: two parents, the tree of the edit.
    let edit_commit = repo.find_commit(edit).unwrap();
    let merge = repo
        .commit(
            Some("HEAD"),
            &signature,
            &signature,
            "Merge pull request #1",
            &edited_tree,
            &[&base, &edit_commit],
        )
        .unwrap();
    assert_eq!(repo.find_commit(merge).unwrap().parent_count(), 2);

    let dir_path = env.repo();
    let dir_path = dir_path.to_str().unwrap();
    let run = env.idgit(&["diff", "--repo", dir_path]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("state: \"enabled\" → \"enabledForReportingButNotEnforced\""),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("no longer enforced"), "{}", run.stdout);
    let log = env.idgit(&["log", &path, "--repo", dir_path]);
    assert_eq!(
        log.stdout.lines().count(),
        3,
        "the merge, the edit and the first backup: {}",
        log.stdout
    );

    // A broken hand edit is named by file and line.
    let broken_tree = crate::common::tree_with_file(
        &repo,
        &edited_tree,
        &path,
        b"properties:\n  state: [unclosed\n",
    );
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        "Oops",
        &broken_tree,
        &[&head],
    )
    .unwrap();
    let run = env.idgit(&["diff", "--repo", dir_path]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with(&format!("error: {path}:3: ")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .trim_end()
            .ends_with("hint: fix the YAML and commit it; `idgit validate` checks every file"),
        "{}",
        run.stderr
    );
}
