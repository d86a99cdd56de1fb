//! Diff benchmark: `idgit diff` on a large tenant's backup when 0.1%, 1% and 10% of the
//! users changed, next to `git diff --stat` of the same two commits. The cost should
//! follow the size of the change, not of the tenant.
//!
//! ```text
//! cargo bench --bench diff -- --users 100000
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::run_idgit;

fn main() {
    let users = support::users_arg(20_000);
    let dir = tempfile::tempdir().unwrap();
    let (mut emulator, _envs, repo_path) = support::backed_up_large_tenant(users, dir.path());
    let _ = emulator.kill();
    let _ = emulator.wait();

    let repo = git2::Repository::open(&repo_path).unwrap();
    let base = repo.head().unwrap().peel_to_commit().unwrap();
    let user_files = base
        .tree()
        .unwrap()
        .get_path(Path::new("users"))
        .unwrap()
        .to_object(&repo)
        .unwrap();
    let user_count = user_files.as_tree().unwrap().len();

    println!(
        "`idgit diff` on a backup of --seed large --users {users} ({user_count} user files)\n"
    );
    println!("| users changed | idgit diff (json) | peak memory | git diff --stat | idgit / git |");
    println!("|---|---|---|---|---|");
    for permille in [1, 10, 100] {
        let changed = user_count * permille / 1000;
        let commit = change_users(&repo, &base, changed);
        let (idgit, rss) = run_idgit(
            &[
                "diff",
                &base.id().to_string(),
                &commit.to_string(),
                "--format",
                "json",
                "--repo",
                repo_path.to_str().unwrap(),
            ],
            &[],
        );
        let git = time_git_diff(&repo_path, &base.id().to_string(), &commit.to_string());
        println!(
            "| {changed} ({:.1}%) | {:.2} s | {} MB | {:.2} s | {:.1} |",
            permille as f64 / 10.0,
            idgit.as_secs_f64(),
            rss / 1024,
            git.as_secs_f64(),
            idgit.as_secs_f64() / git.as_secs_f64()
        );
    }
}

/// A commit on top of `base` in which the first `count` user files gained a property.
fn change_users(repo: &git2::Repository, base: &git2::Commit<'_>, count: usize) -> git2::Oid {
    support::commit_with_changed_users(repo, base, count, |content| {
        let mut content = content.to_vec();
        content.extend_from_slice(b"  zzBenchmark: changed\n");
        content
    })
}

fn time_git_diff(repo: &Path, from: &str, to: &str) -> Duration {
    let started = Instant::now();
    let status = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(["diff", "--stat", from, to])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    started.elapsed()
}
