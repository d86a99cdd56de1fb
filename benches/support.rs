//! What the benchmarks share: the emulator and idgit as child processes, with their
//! wall time and peak memory.
#![allow(dead_code, clippy::print_stdout, clippy::print_stderr)]

use std::process::Command;
use std::time::{Duration, Instant};

/// `--users N` from the benchmark's arguments, or `default`.
pub fn users_arg(default: usize) -> usize {
    std::env::args()
        .skip_while(|a| a != "--users")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// Starts `idgit emulator` and reads the connection variables it prints.
pub fn start_emulator(users: usize) -> (std::process::Child, Vec<(String, String)>) {
    let generated = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_idgit"))
        .args([
            "emulator",
            "--seed",
            "large",
            "--max-page-size",
            "999",
            "--listen",
            "127.0.0.1:0",
            "--users",
        ])
        .arg(users.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let envs = idgit::commands::emulator::read_printed_env(std::io::BufReader::new(stdout));
    eprintln!(
        "emulator: {users} users generated in {:.1}s",
        generated.elapsed().as_secs_f64()
    );
    (child, envs)
}

/// Runs idgit as a child process; returns its wall time and peak RSS in KiB.
// The child is reaped with wait4, which also returns its resource usage.
#[allow(clippy::zombie_processes)]
pub fn run_idgit(args: &[&str], envs: &[(String, String)]) -> (Duration, i64) {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_idgit"))
        .args(args)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; std never reaps it because we never call wait().
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    // 2 means "changes found" for drift and plan: a result, not a failure.
    assert!(
        libc::WIFEXITED(status) && matches!(libc::WEXITSTATUS(status), 0 | 2),
        "idgit {args:?} failed"
    );
    (started.elapsed(), usage.ru_maxrss)
}

/// `idgit emulator --seed large --users N` backed up into a new bare repository in `dir`.
/// Returns the running emulator, its connection variables and the repository's path.
pub fn backed_up_large_tenant(
    users: usize,
    dir: &std::path::Path,
) -> (
    std::process::Child,
    Vec<(String, String)>,
    std::path::PathBuf,
) {
    let (emulator, envs) = start_emulator(users);
    let repo_path = dir.join("backup.git");
    let mut options = git2::RepositoryInitOptions::new();
    options.bare(true).initial_head("main");
    git2::Repository::init_opts(&repo_path, &options).unwrap();
    run_backup(&repo_path, &envs);
    (emulator, envs, repo_path)
}

/// Runs `idgit backup` into `repo`.
pub fn run_backup(repo: &std::path::Path, envs: &[(String, String)]) -> (Duration, i64) {
    run_idgit(
        &[
            "backup",
            "--quiet",
            "--repo",
            repo.to_str().expect("UTF-8 path"),
        ],
        envs,
    )
}

/// A commit on top of `base` (on no branch) in which the first `count` user files are
/// replaced by `edit` of their bytes.
pub fn commit_with_changed_users(
    repo: &git2::Repository,
    base: &git2::Commit<'_>,
    count: usize,
    edit: impl Fn(&[u8]) -> Vec<u8>,
) -> git2::Oid {
    let tree = base.tree().unwrap();
    let users = tree
        .get_path(std::path::Path::new("users"))
        .unwrap()
        .to_object(repo)
        .unwrap()
        .into_tree()
        .unwrap();
    let mut builder = repo.treebuilder(Some(&users)).unwrap();
    for entry in users.iter().take(count) {
        let blob = repo.find_blob(entry.id()).unwrap();
        let new = repo.blob(&edit(blob.content())).unwrap();
        builder
            .insert(entry.name().unwrap(), new, 0o100644)
            .unwrap();
    }
    let users_tree = builder.write().unwrap();
    let mut root = repo.treebuilder(Some(&tree)).unwrap();
    root.insert("users", users_tree, 0o040000).unwrap();
    let root = repo.find_tree(root.write().unwrap()).unwrap();
    let signature = git2::Signature::now("bench", "bench@example.com").unwrap();
    repo.commit(
        None,
        &signature,
        &signature,
        &format!("{count} users changed"),
        &root,
        &[base],
    )
    .unwrap()
}
