//! `idgit backup` end to end against the in-process emulator.

use std::time::Duration;

use idgit::emulator::{EmulatorConfig, Fault, FaultRule, Seed};

use crate::common::{repo_state, TestEnv};

fn fault(path: &str, fault: Fault, times: u32, skip: u32) -> FaultRule {
    FaultRule {
        path_contains: path.into(),
        fault,
        times,
        skip,
    }
}

#[test]
fn first_backup_writes_every_kind_in_the_layout() {
    let env = TestEnv::demo();
    let run = env.backup(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_snapshot!(run.normalized(&env));

    let files = env.head_files();
    for dir in [
        "users/",
        "groups/",
        "applications/",
        "service-principals/",
        "conditional-access-policies/",
        "named-locations/",
    ] {
        assert!(
            files
                .keys()
                .any(|p| p.starts_with(dir) && p.ends_with(".yaml")),
            "no files in {dir}"
        );
    }
    assert!(files.contains_key("policies/authentication-methods-policy.yaml"));
    assert!(files.contains_key("policies/authorization-policy.yaml"));
    assert!(files.contains_key("idgit.yaml"));

    // Every file name ends in the object's own ID.
    for (path, content) in files.iter().filter(|(p, _)| p.starts_with("users/")) {
        let value = idgit::yaml::from_yaml(content).unwrap();
        let id = value["properties"]["id"].as_str().unwrap();
        assert!(path.ends_with(&format!(".{id}.yaml")), "{path}");
    }
    // Full property sets: properties outside Graph's default user and group sets.
    let users: String = files
        .iter()
        .filter(|(p, _)| p.starts_with("users/"))
        .map(|(_, c)| c.as_str())
        .collect();
    for property in [
        "department:",
        "accountEnabled:",
        "employeeId:",
        "createdDateTime:",
    ] {
        assert!(users.contains(property), "users lack {property}");
    }
    let groups: String = files
        .iter()
        .filter(|(p, _)| p.starts_with("groups/"))
        .map(|(_, c)| c.as_str())
        .collect();
    assert!(groups.contains("members:") && groups.contains("owners:"));
    let sps: String = files
        .iter()
        .filter(|(p, _)| p.starts_with("service-principals/"))
        .map(|(_, c)| c.as_str())
        .collect();
    assert!(sps.contains("appRoleAssignedTo:"));
    // Nothing volatile, no OData noise (the schemas name what they forbid).
    let all: String = files
        .iter()
        .filter(|(p, _)| !p.starts_with("schemas/"))
        .map(|(_, c)| c.as_str())
        .collect();
    assert!(!all.contains("@odata.context"));
    assert!(!all.contains("modifiedDateTime"));
}

#[test]
fn second_backup_makes_no_commit_and_work_tree_stays_clean() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let head = env.head();
    let run = env.backup(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("No changes since the last backup; nothing committed"),
        "{}",
        run.stdout
    );
    assert_eq!(env.head(), head);
    assert_eq!(env.commit_count(), 1);

    let repo = env.git();
    let statuses = repo.statuses(None).unwrap();
    let dirty: Vec<_> = statuses
        .iter()
        .filter_map(|s| s.path().ok().map(str::to_string))
        .collect();
    assert!(
        dirty.is_empty(),
        "work tree differs from the commit: {dirty:?}"
    );
    assert!(env.repo().join("idgit.yaml").is_file());
}

#[test]
fn the_same_tenant_gives_identical_trees_whatever_the_page_size() {
    let small_pages = TestEnv::new(EmulatorConfig {
        seed: Seed::Demo,
        max_page_size: 3,
        ..EmulatorConfig::default()
    });
    let default_pages = TestEnv::demo();
    assert_eq!(small_pages.backup(&[]).code, 0);
    assert_eq!(default_pages.backup(&[]).code, 0);
    assert_eq!(small_pages.head_tree(), default_pages.head_tree());
    // Pinned identity and clock make whole commits identical, not only trees.
    assert_eq!(small_pages.head(), default_pages.head());
}

#[test]
fn changes_are_committed_with_a_per_kind_summary() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    env.change_first_user("department", "Changed by HR import");
    let run = env.backup(&["--message", "Nightly backup"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(env.commit_count(), 2);
    let repo = env.git();
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(
        commit.message().unwrap(),
        "Nightly backup\n\n+0 ~1 -0\n\nusers: +0 ~1 -0\n"
    );
    assert_eq!(commit.author().name().unwrap(), "Test Author");
    assert_eq!(commit.time().seconds(), 1767225600);
}

#[test]
fn kinds_limit_what_is_read_and_replaced() {
    let env = TestEnv::demo();
    let run = env.backup(&["--kinds", "users,authorization-policy"]);
    assert_eq!(run.code, 0, "{run:?}");
    let files = env.head_files();
    assert!(files.keys().all(|p| p.starts_with("users/")
        || p == "policies/authorization-policy.yaml"
        || p == "idgit.yaml"
        || p == "schemas/users.schema.json"
        || p == "schemas/authorization-policy.schema.json"));
    // A later full backup adds the rest and keeps what is there.
    let run = env.backup(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(env
        .head_files()
        .contains_key("policies/authentication-methods-policy.yaml"));
}

#[test]
fn a_failed_read_leaves_the_repository_untouched() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let before = repo_state(&env.repo());
    env.change_first_user("department", "Would be a change");
    // Groups fail on their second request, after users and others have been read.
    env.emulator.add_fault(fault(
        "/v1.0/groups",
        // Retry-After: 0 makes the client give up after its attempts without waiting.
        Fault::Status {
            status: 503,
            retry_after: Some("0".into()),
        },
        u32::MAX,
        1,
    ));
    let run = env.backup(&[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("cannot read groups"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert_eq!(repo_state(&env.repo()), before, "the repository changed");
    assert_eq!(env.commit_count(), 1);
}

#[test]
fn the_mass_deletion_guard_refuses_a_shrunken_kind() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let before = repo_state(&env.repo());
    let removed = env.tenant(|tenant| {
        let users = tenant.collection_mut("users").unwrap();
        let doomed: Vec<String> = users.keys().take(users.len() / 3).cloned().collect();
        for id in &doomed {
            users.remove(id);
        }
        doomed.len()
    });
    let run = env.backup(&[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("refusing to commit: users shrank from"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--allow-shrink"));
    assert_eq!(repo_state(&env.repo()), before);

    let run = env.backup(&["--allow-shrink"]);
    assert_eq!(run.code, 0, "{run:?}");
    let message = crate::common::head_message(&env.git());
    assert!(
        message.contains(&format!("users: +0 ~0 -{removed}")),
        "{message}"
    );
}

#[test]
fn throttling_is_waited_out() {
    let env = TestEnv::demo();
    let clean = TestEnv::demo();
    assert_eq!(clean.backup(&[]).code, 0);
    env.emulator.add_fault(fault(
        "/v1.0/users",
        Fault::Status {
            status: 429,
            retry_after: Some("0.05".into()),
        },
        3,
        0,
    ));
    // Conditional access sends no Retry-After: the client backs off on its own.
    env.emulator.add_fault(fault(
        "/v1.0/identity/conditionalAccess",
        Fault::Status {
            status: 429,
            retry_after: None,
        },
        1,
        0,
    ));
    env.emulator.add_fault(fault(
        "/v1.0/groups",
        Fault::Status {
            status: 503,
            retry_after: Some("0".into()),
        },
        2,
        0,
    ));
    env.emulator.add_fault(fault(
        "/v1.0/applications",
        Fault::Delay(Duration::from_millis(200)),
        1,
        0,
    ));
    let run = env.backup(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(env.head_tree(), clean.head_tree());
}

#[test]
fn json_summary_is_machine_readable() {
    let env = TestEnv::demo();
    let run = env.backup(&["--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let summary: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary["changed"], true);
    assert_eq!(
        summary["commit"].as_str().unwrap(),
        env.head().unwrap().to_string()
    );
    assert_eq!(summary["kinds"].as_array().unwrap().len(), 8);
    assert!(summary["totals"]["added"].as_u64().unwrap() > 50);
}

#[test]
fn secrets_and_tokens_never_reach_output_or_files() {
    let env = TestEnv::demo();
    let run = env.backup(&["-vv"]);
    assert_eq!(run.code, 0, "{run:?}");
    let secret = env.emulator.client_secret().to_string();
    assert!(!run.stdout.contains(&secret) && !run.stderr.contains(&secret));
    assert!(!run.stderr.contains("Bearer "));
    for (path, content) in env.head_files() {
        assert!(!content.contains(&secret));
        // The applications schema names secretText, to forbid it.
        assert!(path.starts_with("schemas/") || !content.contains("secretText"));
    }
}

/// A backup writes only the objects that changed: a pack of the whole tenant on every
/// run would grow the repository by its full size each night.
#[test]
fn an_incremental_backup_writes_only_what_changed() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let count = || {
        let mut objects = 0;
        env.git()
            .odb()
            .unwrap()
            .foreach(|_| {
                objects += 1;
                true
            })
            .unwrap();
        objects
    };
    let before = count();
    env.change_first_user("jobTitle", "Promoted");
    assert_eq!(env.backup(&[]).code, 0);
    // One blob, the users tree, the root tree and the commit.
    assert_eq!(count(), before + 4);
}

/// Files that are not idgit's own in a kind's directory are kept, and not counted.
#[test]
fn other_files_in_kind_directories_are_kept() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let repo = env.git();
    std::fs::write(env.repo().join("users/README.md"), "Our users.\n").unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_path(std::path::Path::new("users/README.md"))
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let signature = git2::Signature::now("Someone", "someone@example.com").unwrap();
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        "Add a README",
        &tree,
        &[&head],
    )
    .unwrap();
    env.change_first_user("jobTitle", "Changed");
    let run = env.backup(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    let message = crate::common::head_message(&env.git());
    assert!(message.contains("users: +0 ~1 -0"), "{message}");
    assert!(env.head_files().contains_key("users/README.md"));
    assert!(env.repo().join("users/README.md").is_file());
}

/// A repository without a work tree takes its settings from the committed idgit.yaml.
#[test]
fn bare_repositories_use_the_committed_config() {
    let env = TestEnv::demo();
    let bare = env.dir.path().join("bare.git");
    let mut options = git2::RepositoryInitOptions::new();
    options.bare(true).initial_head("main");
    git2::Repository::init_opts(&bare, &options).unwrap();
    let backup_users = || {
        let run = env.idgit(&[
            "backup",
            "--repo",
            bare.to_str().unwrap(),
            "--kinds",
            "users",
        ]);
        assert_eq!(run.code, 0, "{run:?}");
    };
    backup_users();
    let repo = git2::Repository::open(&bare).unwrap();
    let config = crate::common::tree_files(&repo)["idgit.yaml"].clone();
    // Deny a property in the committed config, as a pull request would.
    let narrowed = config.replace(
        "properties: {}",
        "properties:\n  users:\n    deny: [jobTitle]",
    );
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let tree = crate::common::tree_with_file(
        &repo,
        &head.tree().unwrap(),
        "idgit.yaml",
        narrowed.as_bytes(),
    );
    let signature = git2::Signature::now("Someone", "someone@example.com").unwrap();
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        "Keep job titles out",
        &tree,
        &[&head],
    )
    .unwrap();
    backup_users();
    let files = crate::common::tree_files(&repo);
    assert!(files
        .iter()
        .filter(|(p, _)| p.starts_with("users/"))
        .all(|(_, c)| !c.contains("jobTitle:")));
}
