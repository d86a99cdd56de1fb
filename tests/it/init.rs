//! `idgit init`: a ready-to-push tenant repository.

use crate::common::TestEnv;

fn env() -> TestEnv {
    TestEnv::new(idgit::emulator::EmulatorConfig {
        seed: idgit::emulator::Seed::Empty,
        ..Default::default()
    })
}

const FILES: [&str; 7] = [
    "idgit.yaml",
    "README.md",
    "CODEOWNERS",
    ".gitattributes",
    ".github/workflows/backup.yml",
    ".github/workflows/drift.yml",
    ".github/workflows/restore.yml",
];

#[test]
fn init_writes_a_committed_repository_and_prints_the_subjects() {
    let env = env();
    let dir = env.dir.path().join("contoso-entra");
    let run = env.idgit(&[
        "init",
        dir.to_str().unwrap(),
        "--tenant",
        "contoso.onmicrosoft.com",
        "--repo-slug",
        "contoso/entra-config",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run
        .stdout
        .contains("repo:contoso/entra-config:ref:refs/heads/main"));
    assert!(run
        .stdout
        .contains("repo:contoso/entra-config:environment:restore"));
    assert!(run.stdout.contains("api://AzureADTokenExchange"));
    assert!(!run.stdout.contains("OWNER/REPO"));

    let repo = git2::Repository::open(&dir).unwrap();
    assert_eq!(repo.head().unwrap().name().ok(), Some("refs/heads/main"));
    let files = crate::common::tree_files(&repo);
    let mut expected: Vec<&str> = FILES.to_vec();
    expected.sort();
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        expected
    );
    assert!(
        repo.statuses(None).unwrap().is_empty(),
        "everything is committed"
    );

    assert_eq!(
        files["idgit.yaml"],
        idgit::settings::default_config_text(Some("contoso.onmicrosoft.com"))
    );
    assert!(files["CODEOWNERS"].contains("* @contoso/identity-team"));
    let readme = &files["README.md"];
    for permission in [
        "User.Read.All",
        "Group.Read.All",
        "Application.Read.All",
        "Policy.Read.All",
        "AuditLog.Read.All",
        "User.ReadWrite.All",
        "Group.ReadWrite.All",
        "Application.ReadWrite.All",
        "Policy.ReadWrite.ConditionalAccess",
        "Policy.ReadWrite.AuthenticationMethod",
        "Policy.ReadWrite.Authorization",
    ] {
        assert!(readme.contains(&format!("`{permission}`")), "{permission}");
    }
    let restore = &files[".github/workflows/restore.yml"];
    assert!(restore.contains("environment: restore"));
    assert!(restore.contains("vars.IDGIT_RESTORE_CLIENT_ID"));
    assert!(restore.contains("repo:contoso/entra-config:environment:restore"));
    let backup = &files[".github/workflows/backup.yml"];
    assert!(backup.contains("id-token: write") && backup.contains("contents: write"));
    assert!(backup.contains("concurrency:"));
    let drift = &files[".github/workflows/drift.yml"];
    assert!(drift.contains("> [!WARNING]") && drift.contains("--add-label security"));
    for text in files.values() {
        assert!(!text.contains("AZURE_CLIENT_SECRET") && !text.contains("secrets."));
    }

    // The repository is valid for idgit as it is.
    let run = env.idgit(&["validate", "--repo", dir.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn without_a_repo_slug_init_prints_placeholders_and_a_hint() {
    let env = env();
    let dir = env.dir.path().join("t");
    let run = env.idgit(&["init", dir.to_str().unwrap(), "--tenant", "contoso.com"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("repo:OWNER/REPO:environment:restore"));
    assert!(run.stdout.contains("--repo-slug OWNER/REPO --force"));
    let codeowners = std::fs::read_to_string(dir.join("CODEOWNERS")).unwrap();
    assert!(codeowners.contains("* @OWNER/identity-team"));
}

#[test]
fn init_refuses_a_non_empty_directory_unless_forced() {
    let env = env();
    let dir = env.dir.path().join("busy");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine\n").unwrap();
    let args = ["init", dir.to_str().unwrap(), "--tenant", "contoso.com"];
    let run = env.idgit(&args);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.contains("is not empty; hint:") && run.stderr.contains("--force"));
    assert!(!dir.join("idgit.yaml").exists());

    let mut forced = args.to_vec();
    forced.extend(["--force", "--owners", "@contoso/entra-admins"]);
    let run = env.idgit(&forced);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine\n"
    );
    let codeowners = std::fs::read_to_string(dir.join("CODEOWNERS")).unwrap();
    assert!(codeowners.contains("* @contoso/entra-admins"));

    // Again over its own result: a second commit on top of the first.
    let run = env.idgit(&forced);
    assert_eq!(run.code, 0, "{run:?}");
    let repo = git2::Repository::open(&dir).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(head.parent_count(), 1);
}

#[test]
fn init_into_an_empty_git_repository_starts_it_on_main() {
    let env = env();
    let dir = env.dir.path().join("empty");
    let mut options = git2::RepositoryInitOptions::new();
    options.initial_head("master");
    git2::Repository::init_opts(&dir, &options).unwrap();
    let run = env.idgit(&[
        "init",
        dir.to_str().unwrap(),
        "--tenant",
        "contoso.com",
        "--force",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let repo = git2::Repository::open(&dir).unwrap();
    assert_eq!(repo.head().unwrap().name().ok(), Some("refs/heads/main"));
}

#[test]
fn init_refuses_bad_input() {
    let env = env();
    let dir = env.dir.path().join("x");
    let dir = dir.to_str().unwrap();
    for (args, message) in [
        (vec!["--tenant", ""], "--tenant is empty"),
        (
            vec!["--tenant", "contoso.com: x"],
            "neither a tenant ID nor a domain",
        ),
        (
            vec!["--tenant", "contoso.com", "--repo-slug", "contoso"],
            "not of the form OWNER/REPO",
        ),
        (
            vec!["--tenant", "contoso.com", "--owners", "identity"],
            "not a GitHub team",
        ),
    ] {
        let mut full = vec!["init", dir];
        full.extend(args);
        let run = env.idgit(&full);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(message) && run.stderr.contains("hint:"),
            "{run:?}"
        );
        assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    }
    assert!(!std::path::Path::new(dir).exists());
}

/// The first backup into a fresh `init` repository keeps the workflows and README.
#[test]
fn backup_into_an_initialised_repository_keeps_its_files() {
    let env = TestEnv::demo();
    let repo = env.repo();
    let run = env.idgit(&[
        "init",
        repo.to_str().unwrap(),
        "--tenant",
        "contoso.onmicrosoft.com",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    // The emulator's tenant is not contoso's: point idgit.yaml at it as a user would.
    let config = idgit::settings::default_config_text(None);
    std::fs::write(repo.join("idgit.yaml"), config).unwrap();
    let git = env.git();
    let mut index = git.index().unwrap();
    index.add_path(std::path::Path::new("idgit.yaml")).unwrap();
    index.write().unwrap();
    let tree = git.find_tree(index.write_tree().unwrap()).unwrap();
    let parent = git.head().unwrap().peel_to_commit().unwrap();
    let signature = git2::Signature::now("t", "t@example.com").unwrap();
    git.commit(
        Some("HEAD"),
        &signature,
        &signature,
        "tenant from the environment",
        &tree,
        &[&parent],
    )
    .unwrap();

    let run = env.backup(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    let files = env.head_files();
    for file in FILES {
        assert!(files.contains_key(file), "{file} was lost");
    }
    assert!(files.keys().any(|f| f.starts_with("users/")));
    // drift.yml tells a first backup by its schemas/ directory, which init does not write.
    assert!(files.keys().any(|f| f.starts_with("schemas/")));
    assert!(!FILES.iter().any(|f| f.starts_with("schemas/")));
    let run = env.idgit(&[
        "diff",
        "--repo",
        repo.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
}
