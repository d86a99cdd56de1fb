//! `idgit validate` and the schemas: every file a backup writes validates, edits that
//! Graph would refuse are reported on their line, and the schemas travel with the
//! backup so that editors find them.

use std::collections::BTreeMap;

use idgit::catalog::{self, Kind};
use idgit::normalize::{self, PropertyFilter, RawRelationships};
use idgit::validate::{validate_file, Severity};
use serde_json::Value;

use crate::common::TestEnv;

fn kind_of_path(path: &str) -> Option<&'static Kind> {
    idgit::history::kind_of_path(path)
}

/// Every object file of a first demo backup starts with its schema header, validates
/// without a finding, and the schemas it names are in the repository.
#[test]
fn every_file_of_a_demo_backup_validates() {
    let env = TestEnv::demo();
    let run = env.backup(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    let files = env.head_files();
    let mut checked = 0;
    for (path, text) in &files {
        let Some(kind) = kind_of_path(path) else {
            continue;
        };
        checked += 1;
        let header = idgit::layout::schema_header(kind);
        assert!(text.starts_with(&header), "{path} lacks {header:?}");
        let findings = validate_file(kind, path, text);
        assert!(findings.is_empty(), "{path}: {findings:#?}");
    }
    assert_eq!(checked, 93);
    for kind in catalog::KINDS {
        let schema_path = idgit::layout::schema_path(kind);
        assert_eq!(
            files.get(&schema_path).map(String::as_str),
            Some(idgit::schema::schema_text(kind)),
            "{schema_path}"
        );
    }

    let repo = env.repo();
    let run = env.idgit(&["validate", "--repo", repo.to_str().unwrap()]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "93 files valid\n"),
        "{run:?}"
    );
    let run = env.idgit(&["validate", "--repo", repo.to_str().unwrap(), "--at", "HEAD"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "93 files valid\n"),
        "{run:?}"
    );
    // A bare clone has no work tree: its HEAD is checked.
    let bare = env.dir.path().join("bare.git");
    git2::build::RepoBuilder::new()
        .bare(true)
        .clone(repo.to_str().unwrap(), &bare)
        .unwrap();
    let run = env.idgit(&["validate", "--repo", bare.to_str().unwrap()]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "93 files valid\n"),
        "{run:?}"
    );
}

/// The documented Graph responses of `tests/fixtures/graph`, as the backup writes them,
/// validate, except where the documentation has a placeholder instead of an ID.
#[test]
fn documented_graph_responses_validate() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 9);
    let mut placeholders = Vec::new();
    for name in names {
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(&name)).unwrap()).unwrap();
        let stem = name.trim_end_matches(".json");
        let kind = catalog::KINDS
            .iter()
            .filter(|k| stem == k.name || stem.starts_with(&format!("{}-", k.name)))
            .max_by_key(|k| k.name.len())
            .unwrap();
        let rels: BTreeMap<String, Vec<Value>> =
            serde_json::from_value(fixture.get("relationships").cloned().unwrap_or_default())
                .unwrap_or_default();
        let mut relationships = RawRelationships::new();
        for rel in kind.relationships {
            if let Some(items) = rels.get(rel.name) {
                relationships.insert(rel.name, items.clone());
            }
        }
        let doc = normalize::normalize(
            kind,
            fixture["object"].clone(),
            relationships,
            &PropertyFilter::default(),
        )
        .unwrap();
        let path = idgit::layout::object_path(kind, &doc);
        let text = idgit::layout::object_text(kind, &doc.content);
        for finding in validate_file(kind, &path, &text) {
            // The samples' `id-value` and `appId-value` stand for IDs; the fixture notes
            // say so. Anything else is a real finding.
            let line = text.lines().nth(finding.line - 1).unwrap();
            assert!(
                finding.severity == Severity::Error
                    && finding.message == "not a GUID"
                    && line.trim_end().ends_with("-value"),
                "{finding}"
            );
            placeholders.push(finding.to_string());
        }
    }
    assert_eq!(placeholders.len(), 3, "{placeholders:#?}");
}

/// The issue that asked for validation: a hand-edited exclusion that is not a group ID
/// reached Graph as a 400. Now it is an error on its line, and the exit status is 1.
#[test]
fn a_non_guid_excluded_group_fails_validation_on_its_line() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let repo = env.repo();
    let dir = repo.join("conditional-access-policies");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("ca001-require-mfa"))
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replacen(
        "      excludeGroups:\n      - ",
        "      excludeGroups:\n      - break-glass-accounts\n      - ",
        1,
    );
    assert_ne!(edited, text);
    let edited = edited.replace("  state: enabled\n", "  state: enforced\n  stat: enabled\n");
    std::fs::write(&file, &edited).unwrap();
    let line_of = |needle: &str| edited.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let name = file.file_name().unwrap().to_str().unwrap();
    let path = format!("conditional-access-policies/{name}");

    let run = env.idgit(&["validate", "--repo", repo.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "{path}:{}: conditions.users.excludeGroups[0]: not a GUID\n\
             {path}:{}: state: must be one of: enabled, disabled, enabledForReportingButNotEnforced\n\
             {path}:{}: warning: stat: not a known property of conditionalAccessPolicy (did you mean state?); it will be sent to Graph as is\n",
            line_of("- break-glass-accounts"),
            line_of("  state: enforced"),
            line_of("  stat: enabled"),
        )
    );
    assert_eq!(
        run.stderr,
        "error: 2 errors in 1 file, 1 warning; hint: fix them and run `idgit validate` again\n"
    );

    let json = env.idgit(&[
        "validate",
        "--repo",
        repo.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(json.code, 1, "{json:?}");
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["files"], 93);
    assert_eq!(report["valid"], false);
    assert_eq!(report["errors"], 2);
    assert_eq!(report["warnings"], 1);
    assert_eq!(
        report["findings"][0],
        serde_json::json!({
            "path": path,
            "line": line_of("- break-glass-accounts"),
            "pointer": "conditions.users.excludeGroups[0]",
            "severity": "error",
            "message": "not a GUID",
        })
    );
    assert_eq!(report["findings"][2]["severity"], "warning");

    // The committed version is still valid; a warning alone does not fail.
    let at_head = env.idgit(&["validate", "--repo", repo.to_str().unwrap(), "--at", "HEAD"]);
    assert_eq!(at_head.code, 0, "{at_head:?}");
    std::fs::write(
        &file,
        text.replace("  state: enabled\n", "  state: enabled\n  stat: enabled\n"),
    )
    .unwrap();
    let warned = env.idgit(&["validate", "--repo", repo.to_str().unwrap()]);
    assert_eq!(warned.code, 0, "{warned:?}");
    assert!(
        warned.stdout.ends_with("93 files valid, 1 warning\n"),
        "{}",
        warned.stdout
    );
}

#[test]
fn secrets_syntax_errors_and_file_names_are_errors() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let repo = env.repo();
    let users = repo.join("users");
    let adele = std::fs::read_dir(&users)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("adele"))
        .unwrap();
    let text = std::fs::read_to_string(&adele).unwrap();
    let with_password = text.replacen(
        "properties:\n",
        "properties:\n  passwordProfile:\n    password: Secret123!\n",
        1,
    );
    std::fs::write(&adele, with_password).unwrap();
    std::fs::write(
        users.join("new-user.yaml"),
        "properties:\n  displayName: New\n  id: 0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10\n  userPrincipalName: new@contoso.com\n",
    )
    .unwrap();
    let policy = repo.join("policies/authorization-policy.yaml");
    let policy_text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, policy_text.replacen("\n", "\n  bad: [\n", 2)).unwrap();

    let run = env.idgit(&["validate", "--repo", repo.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{run:?}");
    let adele_path = format!("users/{}", adele.file_name().unwrap().to_str().unwrap());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines.contains(&format!(
            "{adele_path}:3: passwordProfile: passwordProfile must not be stored: holds a password when present"
        )
        .as_str()),
        "{}",
        run.stdout
    );
    assert!(
        lines.contains(
            &"users/new-user.yaml:1: the file name is not <name>.<object-id>.yaml, so idgit does not read this file"
        ),
        "{}",
        run.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("policies/authorization-policy.yaml:4: not valid YAML: ")),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stderr,
        "error: 3 errors in 3 files; hint: fix them and run `idgit validate` again\n"
    );
}

#[test]
fn validate_needs_a_backup_repository() {
    let env = TestEnv::new(idgit::emulator::EmulatorConfig {
        seed: idgit::emulator::Seed::Empty,
        ..Default::default()
    });
    let empty = env.dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let run = env.idgit(&["validate", "--repo", empty.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.starts_with("error: no backup files in "),
        "{}",
        run.stderr
    );
    let run = env.idgit(&[
        "validate",
        "--repo",
        empty.to_str().unwrap(),
        "--at",
        "HEAD",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("is not a git repository"),
        "{}",
        run.stderr
    );
}

/// The schemas are written with the first backup and refreshed by a later backup that
/// commits; a backup of an unchanged tenant still makes no commit, even when the
/// repository's schemas are outdated.
#[test]
fn schemas_are_refreshed_only_by_backups_that_commit() {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let repo = env.git();
    let users_schema = idgit::layout::schema_path(catalog::kind("users").unwrap());

    // An older idgit wrote another schema.
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let tree = crate::common::tree_with_file(&repo, &head.tree().unwrap(), &users_schema, b"{}\n");
    let signature = git2::Signature::now("Someone", "someone@example.com").unwrap();
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        "older schema",
        &tree,
        &[&head],
    )
    .unwrap();
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    let before = env.commit_count();

    let run = env.backup(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(env.commit_count(), before, "no tenant change, no commit");
    assert_eq!(env.head_files()[&users_schema], "{}\n");

    env.change_first_user("jobTitle", "Chief Schema Officer");
    let run = env.backup(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(env.commit_count(), before + 1);
    let users = catalog::kind("users").unwrap();
    assert_eq!(
        env.head_files()[&users_schema],
        idgit::schema::schema_text(users)
    );
    assert_eq!(
        std::fs::read_to_string(env.repo().join(&users_schema)).unwrap(),
        idgit::schema::schema_text(users),
        "the work tree follows the commit"
    );
    let git = env.git();
    let statuses = git.statuses(None).unwrap();
    assert!(statuses.is_empty(), "work tree is clean");
}
