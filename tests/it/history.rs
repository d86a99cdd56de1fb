//! `idgit show` and `idgit log`: one object, or the history, read back from git.

use serde_json::Value;

use crate::common::TestEnv;

fn two_backups() -> TestEnv {
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    env.tenant(|tenant| {
        let group = tenant
            .collection_mut("groups")
            .unwrap()
            .values_mut()
            .find(|g| g["displayName"] == "Finance")
            .unwrap();
        group["description"] = "Finance and controlling".into();
    });
    assert_eq!(
        env.backup(&["--message", "Finance renamed its purpose"])
            .code,
        0
    );
    env
}

#[test]
fn show_an_object_by_name_id_or_path() {
    let env = two_backups();
    let repo = env.repo();
    let repo = repo.to_str().unwrap();
    let by_name = env.idgit(&["show", "groups/finance", "--repo", repo]);
    assert_eq!(by_name.code, 0, "{by_name:?}");
    assert!(
        by_name.stdout.starts_with("# groups/finance."),
        "{}",
        by_name.stdout
    );
    assert!(
        by_name
            .stdout
            .contains("description: Finance and controlling"),
        "{}",
        by_name.stdout
    );

    let json = env.idgit(&["show", "groups/finance", "--repo", repo, "--format", "json"]);
    let shown: Value = serde_json::from_str(&json.stdout).unwrap();
    let id = shown["id"].as_str().unwrap().to_string();
    assert_eq!(shown["name"], "Finance");
    let path = shown["path"].as_str().unwrap().to_string();

    let by_id = env.idgit(&["show", &id, "--repo", repo]);
    assert_eq!(by_id.stdout, by_name.stdout);
    let by_path = env.idgit(&["show", &path, "--repo", repo]);
    assert_eq!(by_path.stdout, by_name.stdout);

    // The older revision still has the old description.
    let older = env.idgit(&["show", &id, "--at", "HEAD~1", "--repo", repo]);
    assert!(
        !older.stdout.contains("Finance and controlling"),
        "{}",
        older.stdout
    );

    let listed = env.idgit(&["show", "groups", "--repo", repo]);
    assert_eq!(listed.stdout.lines().count(), 8, "{}", listed.stdout);
}

#[test]
fn selectors_that_match_nothing_or_several() {
    let env = two_backups();
    let repo = env.repo();
    let repo = repo.to_str().unwrap();
    let nothing = env.idgit(&["show", "groups/no-such-group", "--repo", repo]);
    assert_eq!(nothing.code, 1);
    assert_eq!(
        nothing.stderr.trim(),
        "error: no object matches \"no-such-group\"; hint: use an object ID, a file path, or KIND/<name>; `idgit show KIND` lists a kind's objects"
    );
    // Duplicate display names never collide in files, but a name is then ambiguous.
    env.tenant(|tenant| {
        let twin = serde_json::json!({
            "id": "0eeb44cf-0000-4000-8000-000000000002",
            "displayName": "Finance",
            "mailEnabled": false,
            "mailNickname": "finance2",
            "securityEnabled": true,
            "groupTypes": [],
        });
        tenant.insert("groups", twin);
    });
    assert_eq!(env.backup(&[]).code, 0);
    let several = env.idgit(&["show", "groups/Finance", "--repo", repo]);
    assert_eq!(several.code, 1);
    assert!(
        several
            .stderr
            .starts_with("error: \"Finance\" matches 2 objects: groups/finance."),
        "{}",
        several.stderr
    );
    assert!(
        several
            .stderr
            .trim_end()
            .ends_with("hint: name one by its object ID or file path"),
        "{}",
        several.stderr
    );
    let missing_file = env.idgit(&["show", "users/nobody.0000.yaml", "--repo", repo]);
    assert!(
        missing_file
            .stderr
            .contains("does not exist in this revision"),
        "{}",
        missing_file.stderr
    );
}

#[test]
fn log_of_one_object_says_what_changed() {
    let env = two_backups();
    let repo = env.repo();
    let repo = repo.to_str().unwrap();
    let run = env.idgit(&["log", "groups/finance", "--repo", repo]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert!(
        lines[0].contains("Group \"Finance\": description "),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with(" → \"Finance and controlling\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with("Group \"Finance\" added"),
        "{}",
        lines[1]
    );

    let all = env.idgit(&["log", "--repo", repo]);
    let lines: Vec<&str> = all.stdout.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].ends_with("Finance renamed its purpose"),
        "{}",
        lines[0]
    );
    assert!(lines[1].contains("idgit backup: +"), "{}", lines[1]);

    let kind = env.idgit(&["log", "groups", "--repo", repo]);
    assert!(
        kind.stderr.contains("groups is a kind, not one object"),
        "{}",
        kind.stderr
    );
}
