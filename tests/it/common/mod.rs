//! Test environment: an in-process emulator, a temporary repository and the `idgit`
//! binary run with a pinned git identity and clock, so commit IDs never vary.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use idgit::emulator::{self, EmulatorConfig, EmulatorHandle, Seed};

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub emulator: EmulatorHandle,
    pub runtime: tokio::runtime::Runtime,
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Everything the user saw, with the temporary directory, the emulator's address
    /// and timings replaced, for snapshots.
    /// Kinds are read concurrently, so their progress lines are sorted.
    pub fn normalized(&self, env: &TestEnv) -> String {
        let mut stderr: Vec<&str> = self.stderr.lines().collect();
        stderr.sort_unstable();
        let stderr: String = stderr.iter().map(|l| format!("{l}\n")).collect();
        let text = format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{stderr}",
            self.code, self.stdout
        );
        let text = text.replace(&env.dir.path().display().to_string(), "[TMP]");
        let text = text.replace(env.emulator.base_url(), "[EMULATOR]");
        text.lines()
            .map(mask_timings)
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    }
}

/// `(123 requests in 0.4s)` and `in 0.4s` vary from run to run.
fn mask_timings(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(pos) = rest.find(" in ") {
        let (head, tail) = rest.split_at(pos + 4);
        out.push_str(head);
        let number: String = tail
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        if !number.is_empty() && tail[number.len()..].starts_with('s') {
            out.push_str("[T]s");
            rest = &tail[number.len() + 1..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    match out.find(" requests in ") {
        Some(pos) => {
            let start = out[..pos].rfind('(').map_or(pos, |p| p + 1);
            format!("{}[N]{}", &out[..start], &out[pos..])
        }
        None => out,
    }
}

impl TestEnv {
    pub fn new(config: EmulatorConfig) -> TestEnv {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let emulator = runtime
            .block_on(emulator::start(config, listen))
            .expect("emulator starts");
        TestEnv {
            dir: tempfile::tempdir().unwrap(),
            emulator,
            runtime,
        }
    }

    pub fn demo() -> TestEnv {
        TestEnv::new(EmulatorConfig {
            seed: Seed::Demo,
            ..EmulatorConfig::default()
        })
    }

    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("backup")
    }

    pub fn credentials(&self) -> Vec<(String, String)> {
        emulator::demo_credentials_env(&self.emulator)
    }

    /// Runs `idgit` with the emulator's credentials in the environment.
    pub fn idgit(&self, args: &[&str]) -> Run {
        let envs = self.credentials();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.idgit_with_env(args, &envs)
    }

    /// Runs `idgit` with exactly these connection variables (plus the pinned identity).
    pub fn idgit_with_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_idgit"));
        command.args(args).current_dir(self.dir.path());
        for var in [
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_SECRET",
            "AZURE_AUTHORITY_HOST",
            "IDGIT_GRAPH_URL",
            "IDGIT_ACCESS_TOKEN",
            "AZURE_CLIENT_CERTIFICATE_PATH",
            "AZURE_CLIENT_CERTIFICATE_PASSWORD",
            "AZURE_FEDERATED_TOKEN_FILE",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "RUST_LOG",
        ] {
            command.env_remove(var);
        }
        // Never probe a real managed identity endpoint from a test (CI runners are Azure
        // VMs): port 9 on this machine refuses at once. Tests that want one set it.
        command.env("IDGIT_IMDS_ENDPOINT", "http://127.0.0.1:9");
        pin_git_environment(&mut command, self.dir.path());
        command.envs(envs.iter().copied());
        let output = command.output().expect("idgit runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn backup(&self, extra: &[&str]) -> Run {
        let repo = self.repo();
        let mut args = vec!["backup", "--repo", repo.to_str().unwrap()];
        args.extend_from_slice(extra);
        self.idgit(&args)
    }

    pub fn git(&self) -> git2::Repository {
        git2::Repository::open(self.repo()).unwrap()
    }

    pub fn head(&self) -> Option<git2::Oid> {
        git2::Repository::open(self.repo())
            .ok()?
            .head()
            .ok()?
            .target()
    }

    pub fn head_tree(&self) -> git2::Oid {
        self.git().head().unwrap().peel_to_tree().unwrap().id()
    }

    pub fn commit_count(&self) -> usize {
        let repo = self.git();
        let mut walk = repo.revwalk().unwrap();
        if walk.push_head().is_err() {
            return 0;
        }
        walk.count()
    }

    /// Every file of HEAD's tree, path to content.
    pub fn head_files(&self) -> BTreeMap<String, String> {
        tree_files(&self.git())
    }

    /// Sets one property of the first user, as an administrator's edit would.
    pub fn change_first_user(&self, property: &str, value: &str) {
        self.tenant(|tenant| {
            let users = tenant.collection_mut("users").unwrap();
            let user = users.values_mut().next().unwrap();
            user[property] = value.into();
        });
    }

    /// Mutates the emulated tenant.
    pub fn tenant<R>(&self, change: impl FnOnce(&mut emulator::Tenant) -> R) -> R {
        let tenant = self.emulator.tenant();
        let mut guard = tenant.lock().unwrap();
        change(&mut guard)
    }
}

pub fn tree_files(repo: &git2::Repository) -> BTreeMap<String, String> {
    let tree = repo.head().unwrap().peel_to_tree().unwrap();
    let mut files = BTreeMap::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            let blob = repo.find_blob(entry.id()).unwrap();
            let path = format!("{dir}{}", entry.name().unwrap());
            files.insert(path, String::from_utf8(blob.content().to_vec()).unwrap());
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
    files
}

/// `base` with the file at `path` (one directory deep at most) replaced by `content`:
/// a hand edit, as someone would push it.
pub fn tree_with_file<'r>(
    repo: &'r git2::Repository,
    base: &git2::Tree<'_>,
    path: &str,
    content: &[u8],
) -> git2::Tree<'r> {
    let blob = repo.blob(content).unwrap();
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let mut root = repo.treebuilder(Some(base)).unwrap();
    if dir.is_empty() {
        root.insert(name, blob, 0o100644).unwrap();
    } else {
        let existing = base
            .get_path(Path::new(dir))
            .ok()
            .and_then(|e| e.to_object(repo).ok())
            .and_then(|o| o.into_tree().ok());
        let mut sub = repo.treebuilder(existing.as_ref()).unwrap();
        sub.insert(name, blob, 0o100644).unwrap();
        root.insert(dir, sub.write().unwrap(), 0o040000).unwrap();
    }
    repo.find_tree(root.write().unwrap()).unwrap()
}

/// The message of HEAD's commit.
pub fn head_message(repo: &git2::Repository) -> String {
    repo.head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .message()
        .unwrap()
        .to_string()
}

/// Pins who commits and when, and keeps the developer's git config out.
pub fn pin_git_environment(command: &mut Command, home: &Path) {
    command
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_AUTHOR_DATE", "1767225600 +0000")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .env("GIT_COMMITTER_DATE", "1767225600 +0000")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", home)
        .env("CI", "true")
        .env("NO_COLOR", "1");
}

/// Files under `.git/objects` and the refs, to prove that nothing was written.
pub fn repo_state(repo: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let git = repo.join(".git");
    let mut stack = vec![git.join("objects"), git.join("refs")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let content = std::fs::read(&path).map(|c| c.len()).unwrap_or(0);
                files.push(format!(
                    "{} {content}",
                    path.strip_prefix(&git).unwrap().display()
                ));
            }
        }
    }
    files.push(std::fs::read_to_string(git.join("HEAD")).unwrap_or_default());
    files.sort();
    files
}
